// Arrays to pixels: upsampling, colouring and the views. Pure array code writing into buffers the
// caller owns, so a redraw allocates nothing.

import { colormapTable, greyTable, lutIndex, packedTable, type ColormapName } from "./colormaps";
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

/**
 * What a tile's colour layer shows. The input is not blended here: the layer lies over it and the
 * browser composites (CSS opacity for the overlay, mix-blend-mode: multiply for the masked view), so
 * an opacity change repaints nothing and each pixel of a layer is computed once, in one write.
 */
export type LayerMode = "heat" | "mask";

/**
 * Colours `values` into `out` (one packed RGBA pixel each): t = v × a + b clamped to [0, 1], then
 * the colormap at t ("heat"), or the grey of the masked view's weight ("mask": t for unsigned
 * ranges, |2t − 1| for signed ones).
 */
export function colourLayer(values: Float32Array, out: Uint32Array, a: number, b: number, mode: LayerMode, colormap: ColormapName, signedRange: boolean): void {
  const n = values.length;
  if (mode === "heat") {
    const lut = packedTable(colormap);
    for (let i = 0; i < n; i++) {
      let t = values[i] * a + b;
      t = t > 0 ? (t < 1 ? t : 1) : 0;
      out[i] = lut[(t * 255 + 0.5) | 0];
    }
    return;
  }
  const grey = greyTable();
  for (let i = 0; i < n; i++) {
    let t = values[i] * a + b;
    t = t > 0 ? (t < 1 ? t : 1) : 0;
    const m = signedRange ? Math.abs(2 * t - 1) : t;
    out[i] = grey[(m * 255 + 0.5) | 0];
  }
}

/**
 * The composite a view shows of one pixel: what the browser's blending (globalAlpha, "multiply")
 * computes from the input and the layer, written down so that tests can check the views' formulas.
 */
export function composite(input: ArrayLike<number>, layer: ArrayLike<number>, view: View, opacity: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) {
    if (view === "overlay") out.push(Math.round((1 - opacity) * input[c] + opacity * layer[c]));
    else if (view === "masked") out.push(Math.round((input[c] * layer[c]) / 255));
    else out.push(layer[c]);
  }
  return out;
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
