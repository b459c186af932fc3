// The byte layout of map and activation blobs, read from the same file the Python side reads
// (tb_saliency/proto/layout.json), so the layout is written down once. A blob must hold exactly the
// bytes its header announces: a short one or one with bytes left over is an error, not a picture.

import LAYOUT from "../../../tb_saliency/proto/layout.json";
import { float16Table } from "./float16";

interface DTypeSpec {
  bytes: number;
  /** Floats; absent for uint8, whose byte is one of `levels` levels of the sample's range. */
  ieee754?: string;
  levels?: number;
}

interface LayoutSpec {
  byte_order: string;
  dtypes: Record<string, DTypeSpec>;
  compressions: Record<string, unknown>;
  maps: { axes: string[]; raw_value: string };
  activations: { axes: string[]; raw_value: string };
}

export const layout: LayoutSpec = LAYOUT as LayoutSpec;

/** What an array blob's axes are, outermost first (from layout.json). */
export const MAP_AXES: readonly string[] = layout.maps.axes;
export const ACTIVATION_AXES: readonly string[] = layout.activations.axes;

const LITTLE_ENDIAN = layout.byte_order === "little";

export function bytesPerValue(dtype: string): number {
  const spec = Object.prototype.hasOwnProperty.call(layout.dtypes, dtype) ? layout.dtypes[dtype] : undefined;
  if (!spec) throw new Error(`unknown array dtype ${JSON.stringify(dtype)} (layout.json knows ${Object.keys(layout.dtypes).join(", ")})`);
  return spec.bytes;
}

/** The bytes a blob of `shape` (every axis of layout.json) must hold, exactly. */
export function expectedBytes(dtype: string, shape: readonly number[]): number {
  let count = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) throw new Error(`array has an empty or invalid shape ${JSON.stringify(shape)}`);
    count *= d;
  }
  return count * bytesPerValue(dtype);
}

/** Each block's [min, max] divided by its scale: what a uint8 blob's 256 levels span. */
export interface StoredRanges {
  lo: readonly number[];
  hi: readonly number[];
}

/**
 * Decodes the stored values of a blob (inflated already): `blocks` arrays of `per` values each (one
 * per sample, or one per sample and channel), as float32 (stored values are at most 1 in magnitude:
 * each sample was divided by its peak, or since format version 3 by the power of two just above it,
 * see http_api.md). uint8 levels need each block's `ranges`.
 * Fails unless the blob holds exactly blocks × per values.
 */
export function decodeStored(buffer: ArrayBuffer, dtype: string, blocks: number, per: number, what = "array blob", ranges?: StoredRanges): Float32Array[] {
  const size = bytesPerValue(dtype);
  const expected = expectedBytes(dtype, [blocks, per]);
  if (buffer.byteLength !== expected) {
    const how = buffer.byteLength > expected ? `${buffer.byteLength - expected} bytes more than` : `${expected - buffer.byteLength} bytes fewer than`;
    throw new Error(`${what} holds ${buffer.byteLength} bytes, ${how} the ${expected} its shape needs (${blocks} × ${per} ${dtype})`);
  }
  const all = new Float32Array(blocks * per);
  const view = new DataView(buffer);
  if (size === 1) {
    if (!ranges || ranges.lo.length !== blocks || ranges.hi.length !== blocks) throw new Error(`${what} holds ${dtype} levels, but no range for each of its ${blocks} blocks`);
    const bytes = new Uint8Array(buffer);
    const steps = (layout.dtypes[dtype].levels ?? 256) - 1;
    for (let b = 0; b < blocks; b++) {
      const lo = ranges.lo[b];
      const step = (ranges.hi[b] - lo) / steps;
      for (let i = b * per; i < (b + 1) * per; i++) all[i] = lo + bytes[i] * step;
    }
  } else if (size === 2) {
    const lut = float16Table();
    for (let i = 0; i < all.length; i++) all[i] = lut[view.getUint16(2 * i, LITTLE_ENDIAN)];
  } else if (size === 4) {
    if (LITTLE_ENDIAN && isLittleEndianHost()) all.set(new Float32Array(buffer));
    else for (let i = 0; i < all.length; i++) all[i] = view.getFloat32(4 * i, LITTLE_ENDIAN);
  } else {
    throw new Error(`array dtype ${dtype} has ${size}-byte values, which the dashboard cannot read`);
  }
  const out: Float32Array[] = [];
  for (let b = 0; b < blocks; b++) out.push(all.subarray(b * per, (b + 1) * per));
  return out;
}

let hostLittle: boolean | null = null;
function isLittleEndianHost(): boolean {
  if (hostLittle === null) hostLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  return hostLittle;
}
