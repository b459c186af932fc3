// Maps to pixels: upsampling to the input's size, colouring, and the four views. Pure array code;
// components wrap the results in ImageData.

import { colormapTable, lutIndex, type ColormapName } from "./colormaps";
import { maskWeight, normaliseValue, type DisplayRange } from "./normalise";

export type Upsampling = "bilinear" | "nearest";
export type View = "overlay" | "heatmap" | "masked" | "side";

/**
 * Resizes an h×w grid to H×W. Bilinear uses half-pixel centres with clamped edges, the convention
 * of cv2.resize and torch's interpolate(align_corners=False), which pytorch-grad-cam and captum
 * users already know. Nearest picks floor(x * w / W), as torch's "nearest" does.
 */
export function upsample(values: ArrayLike<number>, h: number, w: number, H: number, W: number, mode: Upsampling): Float32Array {
  const out = new Float32Array(H * W);
  if (h === H && w === W) {
    out.set(values);
    return out;
  }
  if (mode === "nearest") {
    const cols = new Int32Array(W);
    for (let x = 0; x < W; x++) cols[x] = Math.min(w - 1, Math.floor((x * w) / W));
    for (let y = 0; y < H; y++) {
      const row = Math.min(h - 1, Math.floor((y * h) / H)) * w;
      for (let x = 0; x < W; x++) out[y * W + x] = values[row + cols[x]];
    }
    return out;
  }
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
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let x = 0; x < W; x++) {
      const a = values[y0 * w + x0[x]];
      const b = values[y0 * w + x1[x]];
      const c = values[y1 * w + x0[x]];
      const d = values[y1 * w + x1[x]];
      const top = a + (b - a) * fx[x];
      const bottom = c + (d - c) * fx[x];
      out[y * W + x] = top + (bottom - top) * fy;
    }
  }
  return out;
}

export interface Layer {
  /** Sign-transformed values at the output size. */
  values: Float32Array;
  range: DisplayRange;
}

/** RGBA pixels scaled up by a whole factor, each pixel a k×k block (pixel-exact enlargement). */
export function scaleNearest(data: ArrayLike<number>, width: number, height: number, k: number): Uint8ClampedArray {
  const W = width * k;
  const out = new Uint8ClampedArray(4 * W * height * k);
  for (let y = 0; y < height * k; y++) {
    const sy = Math.floor(y / k);
    for (let x = 0; x < W; x++) {
      const from = 4 * (sy * width + Math.floor(x / k));
      const to = 4 * (y * W + x);
      out[to] = data[from];
      out[to + 1] = data[from + 1];
      out[to + 2] = data[from + 2];
      out[to + 3] = data[from + 3];
    }
  }
  return out;
}

/** RGBA pixels of the heatmap alone. */
export function heatmapPixels(layer: Layer, colormap: ColormapName): Uint8ClampedArray {
  const lut = colormapTable(colormap);
  const n = layer.values.length;
  const out = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    const j = 3 * lutIndex(normaliseValue(layer.values[i], layer.range));
    out[4 * i] = lut[j];
    out[4 * i + 1] = lut[j + 1];
    out[4 * i + 2] = lut[j + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}

/** The colormap over the input: (1 − α)·input + α·colour, α = opacity in [0, 1]. */
export function overlayPixels(input: ArrayLike<number>, layer: Layer, colormap: ColormapName, opacity: number): Uint8ClampedArray {
  const heat = heatmapPixels(layer, colormap);
  const a = Math.min(Math.max(opacity, 0), 1);
  for (let i = 0; i < heat.length; i += 4) {
    for (let c = 0; c < 3; c++) heat[i + c] = (1 - a) * input[i + c] + a * heat[i + c];
  }
  return heat;
}

/** The input times the normalised magnitude, on black: what the map lets through. */
export function maskedPixels(input: ArrayLike<number>, layer: Layer): Uint8ClampedArray {
  const n = layer.values.length;
  const out = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    const m = maskWeight(normaliseValue(layer.values[i], layer.range), layer.range);
    out[4 * i] = input[4 * i] * m;
    out[4 * i + 1] = input[4 * i + 1] * m;
    out[4 * i + 2] = input[4 * i + 2] * m;
    out[4 * i + 3] = 255;
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

/** Short, stable number labels for ranges and hover read-outs. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}
