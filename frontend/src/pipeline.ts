// Turns one step's decoded data into the pictures of its tiles under the current settings. Pure:
// everything it needs is passed in, and it returns pixel arrays.

import type { ArrayBlockInfo, Frame } from "./api";
import {
  applySign,
  clipShareOf,
  rangeFromExtrema,
  rangeOf,
  type ClipSettings,
  type DisplayRange,
  type Scope,
  type SignMode,
} from "./normalise";
import { heatmapPixels, maskedPixels, overlayPixels, scaleNearest, upsample, type Layer, type Upsampling, type View } from "./render";
import type { Settings } from "./settings";

export interface Extrema {
  mins: number[];
  maxs: number[];
}

export function clipOf(settings: Settings): ClipSettings {
  return { mode: settings.clip, percentile: settings.percentile, massPercent: settings.massPercent };
}

/**
 * One display range per map in `signed` (sign-transformed values of the maps that share a column):
 * its own (scope "map"), one for the column ("card"), or one for the column over every stored step of
 * the tag ("tag", from `tagExtrema`, the raw per-sample minima and maxima /frames lists).
 */
export function scopedRanges(
  signed: readonly Float32Array[],
  scope: Scope,
  sign: SignMode,
  clip: ClipSettings,
  tagExtrema: Extrema | null,
): DisplayRange[] {
  if (scope === "map") return signed.map((values) => rangeOf([values], sign, clip));
  const card = rangeOf(signed, sign, clip);
  if (scope === "card" || !tagExtrema || tagExtrema.mins.length === 0) return signed.map(() => card);
  const share = clip.mode === "none" ? 1 : clipShareOf(card, rangeOf(signed, sign, { ...clip, mode: "none" }));
  const tag = rangeFromExtrema(tagExtrema.mins, tagExtrema.maxs, sign, share);
  return signed.map(() => tag);
}

/**
 * The per-sample raw extrema of one block (a map key, an activation layer) over every stored step:
 * `pick` finds the block in a frame, or nothing when that frame lacks it or could not be decoded.
 */
export function extremaOf(frames: readonly Frame[], pick: (frame: Frame) => ArrayBlockInfo | null | undefined): Extrema {
  const mins: number[] = [];
  const maxs: number[] = [];
  for (const frame of frames) {
    const block = pick(frame);
    if (!block) continue;
    mins.push(...block.min);
    maxs.push(...block.max);
  }
  return { mins, maxs };
}

/** The size a map is drawn at: the input's, or for maps without an input a small integer multiple. */
export function targetSize(map: { height: number; width: number }, image: { height: number; width: number } | null): [number, number] {
  if (image && image.width > 0 && image.height > 0) return [image.height, image.width];
  const k = Math.max(1, Math.ceil(64 / Math.max(map.height, map.width, 1)));
  return [map.height * k, map.width * k];
}

export interface Tile {
  /** The tile as shown in the map column. */
  pixels: Uint8ClampedArray;
  /** The heatmap alone (side-by-side view, enlarged view). */
  heat: Uint8ClampedArray;
  /** The input at the tile's size (pixel-exact blocks), or null. */
  input: Uint8ClampedArray | null;
  height: number;
  width: number;
  /** Tile pixels per input pixel. */
  factor: number;
  range: DisplayRange;
}

/**
 * How many tile pixels to draw per input pixel. A small input shown at 128 px would otherwise be
 * blurred by the browser's scaling; drawing it in whole blocks keeps its pixels sharp while the map
 * over it is still upsampled smoothly (or in cells) at the shown resolution.
 */
export function renderFactor(width: number, height: number, fitSize: number | null): number {
  if (!fitSize) return 1;
  return Math.max(1, Math.floor(fitSize / Math.max(width, height, 1)));
}

export function renderTile(
  signedValues: Float32Array,
  map: { height: number; width: number },
  range: DisplayRange,
  input: ImageLike | null,
  view: View,
  settings: Pick<Settings, "colormap" | "opacity" | "upsampling">,
  fitSize: number | null = null,
): Tile {
  const [h0, w0] = targetSize(map, input);
  const factor = renderFactor(w0, h0, fitSize);
  const H = h0 * factor;
  const W = w0 * factor;
  const layer: Layer = { values: upsample(signedValues, map.height, map.width, H, W, settings.upsampling as Upsampling), range };
  const heat = heatmapPixels(layer, settings.colormap);
  const inputPixels = input ? (factor === 1 ? Uint8ClampedArray.from(input.data) : scaleNearest(input.data, input.width, input.height, factor)) : null;
  let pixels = heat;
  if (inputPixels && view === "overlay") pixels = overlayPixels(inputPixels, layer, settings.colormap, settings.opacity / 100);
  else if (inputPixels && view === "masked") pixels = maskedPixels(inputPixels, layer);
  return { pixels, heat, input: inputPixels, height: H, width: W, factor, range };
}

export interface ImageLike {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/** Sign-transformed values of each sample of one map column. */
export function signedColumn(raw: readonly Float32Array[], sign: SignMode): Float32Array[] {
  return raw.map((values) => applySign(values, sign));
}
