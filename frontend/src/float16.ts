// Decoding of the stored maps: little-endian IEEE 754 binary16 or binary32 (http_api.md).
// Float16Array is too new to rely on, so binary16 goes through a 65536-entry table.

import type { DType } from "./api";

let table: Float32Array | null = null;

/** The value of one binary16 bit pattern. */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function float16Table(): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = float16ToNumber(i);
  }
  return table;
}

export function bytesPerValue(dtype: DType): number {
  if (dtype === "float16") return 2;
  if (dtype === "float32") return 4;
  throw new Error(`unknown map dtype ${JSON.stringify(dtype)}`);
}

/** `count` values of `dtype` starting at byte `offset` of `buffer`. */
export function decodeValues(buffer: ArrayBuffer, dtype: DType, count: number, offset = 0): Float32Array {
  const size = bytesPerValue(dtype);
  if (offset + count * size > buffer.byteLength) {
    throw new Error(`map blob holds ${buffer.byteLength} bytes, expected at least ${offset + count * size}`);
  }
  const view = new DataView(buffer, offset, count * size);
  const out = new Float32Array(count);
  if (dtype === "float16") {
    const lut = float16Table();
    for (let i = 0; i < count; i++) out[i] = lut[view.getUint16(2 * i, true)];
  } else {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  }
  return out;
}

/**
 * Splits an N×(per) blob into N arrays of `per` raw values each: block i's stored values times
 * `scale[i]`.
 */
export function decodeBlocks(buffer: ArrayBuffer, dtype: DType, n: number, per: number, scale: readonly number[]): Float32Array[] {
  const all = decodeValues(buffer, dtype, n * per);
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const block = all.subarray(i * per, (i + 1) * per);
    scaleInPlace(block, scale[i]);
    out.push(block);
  }
  return out;
}

/**
 * Multiplies stored values by their sample's scale. A missing or non-finite scale is an error, not
 * 1: guessing would draw float16 maps at the wrong magnitude without a sign that anything is off.
 */
export function scaleInPlace(values: Float32Array, scale: number | undefined): Float32Array {
  if (typeof scale !== "number" || !Number.isFinite(scale)) {
    throw new Error(`map blob has no usable scale (${String(scale)})`);
  }
  if (scale !== 1) {
    for (let k = 0; k < values.length; k++) values[k] *= scale;
  }
  return values;
}
