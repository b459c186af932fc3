// Arrays to pixels: upsampling, colouring and the views. Pure array code writing into buffers the
// caller owns, so a redraw allocates nothing.

import { colormapTable, lutIndex, type ColormapName } from "./colormaps";
import { signed, type SignMode } from "./normalise";

export type Upsampling = "bilinear" | "nearest";
export type View = "overlay" | "heatmap" | "masked" | "side";

/**
 * Resizes an h×w grid to H×W, applying a sign mode first (a map's sign belongs to its cells, so
 * "absolute" shows |cell| smoothly rather than dark seams where the sign flips). Bilinear uses
 * half-pixel centres with clamped edges, as cv2.resize and torch's interpolate(align_corners=False)
 * do; nearest picks floor(x · w / W), as torch's "nearest" does.
 */
export function upsample(
  values: ArrayLike<number>,
  h: number,
  w: number,
  H: number,
  W: number,
  mode: Upsampling,
  sign: SignMode = "signed",
  out: Float32Array = new Float32Array(H * W),
): Float32Array {
  const t = (v: number) => signed(v, sign);
  if (h === H && w === W) {
    for (let i = 0; i < H * W; i++) out[i] = t(values[i]);
    return out;
  }
  if (mode === "nearest") {
    const cols = new Int32Array(W);
    for (let x = 0; x < W; x++) cols[x] = Math.min(w - 1, Math.floor((x * w) / W));
    for (let y = 0; y < H; y++) {
      const row = Math.min(h - 1, Math.floor((y * h) / H)) * w;
      for (let x = 0; x < W; x++) out[y * W + x] = t(values[row + cols[x]]);
    }
    return out;
  }
  // Transform the h×w cells once, then interpolate.
  const src = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) src[i] = t(values[i]);
  const x0 = new Int32Array(W);
  const x1 = new Int32Array(W);
  const fx = new Float32Array(W);
  for (let x = 0; x < W; x++) {
    const sx = Math.min(Math.max(((x + 0.5) * w) / W - 0.5, 0), w - 1);
    x0[x] = Math.floor(sx);
    x1[x] = Math.min(x0[x] + 1, w - 1);
    fx[x] = sx - x0[x];
  }
  for (let y = 0; y < H; y++) {
    const sy = Math.min(Math.max(((y + 0.5) * h) / H - 0.5, 0), h - 1);
    const y0 = Math.floor(sy) * w;
    const y1 = Math.min(Math.floor(sy) + 1, h - 1) * w;
    const fy = sy - Math.floor(sy);
    for (let x = 0; x < W; x++) {
      const a = src[y0 + x0[x]];
      const b = src[y0 + x1[x]];
      const c = src[y1 + x0[x]];
      const d = src[y1 + x1[x]];
      const top = a + (b - a) * fx[x];
      const bottom = c + (d - c) * fx[x];
      out[y * W + x] = top + (bottom - top) * fy;
    }
  }
  return out;
}

/** Where a tile's pixels land in an RGBA buffer: `width` × `height` at column `x0` of rows `stride` pixels wide. */
export interface Target {
  data: Uint8ClampedArray;
  stride: number;
  x0: number;
}

export interface PaintOptions {
  view: "overlay" | "heatmap" | "masked";
  colormap: ColormapName;
  /** Overlay opacity in [0, 1]. */
  opacity: number;
  /** Colormap position t = v × a + b of a value v, clamped to [0, 1]. */
  a: number;
  b: number;
  /** Signed ranges mask by distance from the middle. */
  signedRange: boolean;
}

/**
 * Colours `values` (W×H) into `target`, each pixel once: the heatmap, the heatmap over the input, or
 * the input times the normalised magnitude. `input` is RGBA of the input image, `factor` tile pixels
 * per input pixel (pixel-exact blocks), or null for no input.
 */
export function paintValues(
  values: Float32Array,
  W: number,
  H: number,
  target: Target,
  o: PaintOptions,
  input: { data: ArrayLike<number>; width: number } | null,
  factor: number,
): void {
  const lut = colormapTable(o.colormap);
  const { data, stride, x0 } = target;
  const a = o.a;
  const b = o.b;
  const view = input ? o.view : "heatmap";
  const alpha = Math.min(Math.max(o.opacity, 0), 1);
  const keep = 1 - alpha;
  for (let y = 0; y < H; y++) {
    let to = 4 * (y * stride + x0);
    const from = y * W;
    const inRow = input ? Math.floor(y / factor) * input.width : 0;
    for (let x = 0; x < W; x++, to += 4) {
      let t = values[from + x] * a + b;
      t = t > 0 ? (t < 1 ? t : 1) : 0;
      if (view === "heatmap") {
        const j = 3 * Math.round(t * 255);
        data[to] = lut[j];
        data[to + 1] = lut[j + 1];
        data[to + 2] = lut[j + 2];
      } else {
        const i = 4 * (inRow + Math.floor(x / factor));
        const src = input!.data;
        if (view === "overlay") {
          const j = 3 * Math.round(t * 255);
          data[to] = keep * src[i] + alpha * lut[j];
          data[to + 1] = keep * src[i + 1] + alpha * lut[j + 1];
          data[to + 2] = keep * src[i + 2] + alpha * lut[j + 2];
        } else {
          const m = o.signedRange ? Math.abs(2 * t - 1) : t;
          data[to] = src[i] * m;
          data[to + 1] = src[i + 1] * m;
          data[to + 2] = src[i + 2] * m;
        }
      }
      data[to + 3] = 255;
    }
  }
}

/** Copies an RGBA image into `target` at `factor` tile pixels per image pixel. */
export function paintImage(image: { data: ArrayLike<number>; width: number; height: number }, factor: number, target: Target): void {
  const W = image.width * factor;
  const H = image.height * factor;
  const { data, stride, x0 } = target;
  for (let y = 0; y < H; y++) {
    const row = Math.floor(y / factor) * image.width;
    let to = 4 * (y * stride + x0);
    for (let x = 0; x < W; x++, to += 4) {
      const i = 4 * (row + Math.floor(x / factor));
      data[to] = image.data[i];
      data[to + 1] = image.data[i + 1];
      data[to + 2] = image.data[i + 2];
      data[to + 3] = image.data[i + 3];
    }
  }
}

/** A horizontal colour bar, `width` pixels wide and one pixel high. */
export function colorbarPixels(colormap: ColormapName, width: number): Uint8ClampedArray {
  const lut = colormapTable(colormap);
  const out = new Uint8ClampedArray(4 * width);
  for (let x = 0; x < width; x++) {
    const j = 3 * lutIndex(width > 1 ? x / (width - 1) : 0);
    out.set([lut[j], lut[j + 1], lut[j + 2], 255], 4 * x);
  }
  return out;
}

/** Short, stable number labels for ranges and hover read-outs; doubles of any magnitude. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}
