// The one range-and-colour pipeline every view uses (card grids, the enlarged view, evolution,
// comparison): which range each tile is drawn with under a normalisation scope, and a painter that
// turns one block into pixels, keeping its upsampled values so a display change only recolours.

import type { Block, BlockGroup, Extrema } from "../data/block";
import {
  clipShareOf,
  positionMap,
  rangeFromExtrema,
  rangeOfSorted,
  sortClassOf,
  type ClipSettings,
  type DisplayRange,
  type Scope,
  type SignMode,
} from "./normalise";
import { colourLayer, upsample, type Upsampling, type View } from "./pixels";
import type { ColormapName } from "./colormaps";

export interface RangeSettings {
  sign: SignMode;
  clip: ClipSettings;
  scope: Scope;
}

interface CachedRanges {
  own?: DisplayRange[];
  card?: DisplayRange;
  share?: number;
}

/**
 * Ranges per group and (sign, clip): mass clipping passes over every value, and a repaint (opacity,
 * colormap, view) must not pay that again. Only the latest few settings are kept per group, and a
 * group's entry goes with the group (the step cache drops it).
 */
const rangeCache = new WeakMap<BlockGroup, Map<string, CachedRanges>>();

function cachedRanges(group: BlockGroup, sign: SignMode, clip: ClipSettings): CachedRanges {
  let byKey = rangeCache.get(group);
  if (!byKey) {
    byKey = new Map();
    rangeCache.set(group, byKey);
  }
  const key = `${sign} ${clip.mode} ${clip.percentile} ${clip.massPercent}`;
  let entry = byKey.get(key);
  if (!entry) {
    if (byKey.size >= 8) byKey.delete(byKey.keys().next().value!);
    entry = {};
    byKey.set(key, entry);
  }
  return entry;
}

/**
 * One display range per block of `group`: its own (scope "map"), one for the group ("card"), or one
 * over every stored step of the tag ("tag", from the raw extrema the step list gives), which carries
 * the group's clip share over.
 */
export function groupRanges(group: BlockGroup, s: RangeSettings, tagExtrema: Extrema | null): DisplayRange[] {
  const { sign, clip, scope } = s;
  const blocks = group.blocks;
  const cached = cachedRanges(group, sign, clip);
  if (scope === "map") {
    cached.own ??= blocks.map((b) => rangeOfSorted({ values: b.sorted(sortClassOf(sign)), unit: b.unit, cls: sortClassOf(sign) }, sign, clip));
    return cached.own.slice();
  }
  const card = (cached.card ??= rangeOfSorted(group.together(sortClassOf(sign)), sign, clip));
  if (scope === "card" || !tagExtrema || tagExtrema.mins.length === 0) return blocks.map(() => card);
  cached.share ??= clip.mode === "none" ? 1 : clipShareOf(card, rangeOfSorted(group.together(sortClassOf(sign)), sign, { ...clip, mode: "none" }));
  const tag = rangeFromExtrema(tagExtrema.mins, tagExtrema.maxs, sign, cached.share);
  return blocks.map(() => tag);
}

/** The range that spans `ranges` (what a shared colour bar labels). */
export function spanOf(ranges: readonly DisplayRange[]): DisplayRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of ranges) {
    lo = Math.min(lo, r.lo);
    hi = Math.max(hi, r.hi);
  }
  if (!(lo <= hi)) return { lo: 0, hi: 0, signed: false };
  return { lo, hi, signed: ranges[0]?.signed ?? false };
}

/** The size a map is drawn at: the input's, or for maps without an input a small integer multiple. */
export function baseSize(map: { height: number; width: number }, image: { height: number; width: number } | null): [number, number] {
  if (image && image.width > 0 && image.height > 0) return [image.height, image.width];
  const k = Math.max(1, Math.ceil(64 / Math.max(map.height, map.width, 1)));
  return [map.height * k, map.width * k];
}

export interface Size {
  width: number;
  height: number;
}

export interface TileSettings {
  view: View;
  colormap: ColormapName;
  sign: SignMode;
  upsampling: Upsampling;
}

/**
 * One map of one sample: its colour layer at the input's resolution (the browser scales it on
 * screen, smoothly or in cells, and composites it over the input). It keeps the upsampled,
 * sign-transformed values, so that a change of colormap, clipping or scope colours each pixel once
 * and upsamples nothing; an opacity change repaints nothing at all.
 */
export class TilePainter {
  readonly width: number;
  readonly height: number;
  /** Upsampled, sign-transformed values, per (sign, upsampling): a sign toggled back costs nothing. */
  private readonly values = new Map<string, Float32Array>();
  /** What the last painted layer was painted with; the same key needs no new colours. */
  paintedKey = "";

  constructor(
    readonly block: Block,
    readonly input: Size | null,
  ) {
    const [h0, w0] = baseSize(block, input);
    this.height = h0;
    this.width = w0;
  }

  private upsampled(sign: SignMode, mode: Upsampling): Float32Array {
    const key = `${sign} ${mode}`;
    let values = this.values.get(key);
    if (!values) {
      const b = this.block;
      if (this.values.size >= 4) this.values.clear();
      values = upsample(b.stored, b.height, b.width, this.height, this.width, mode, sign);
      this.values.set(key, values);
    }
    return values;
  }

  /** What decides the layer's pixels: a layer painted with the same key is still right. */
  layerKey(range: DisplayRange, s: TileSettings): string {
    return `${range.lo} ${range.hi} ${range.signed} ${s.sign} ${s.upsampling} ${s.colormap} ${s.view === "masked" && this.input ? "mask" : "heat"}`;
  }

  /** Colours the layer into `out` (width × height packed RGBA pixels) with `range`. */
  paint(out: Uint32Array, range: DisplayRange, s: TileSettings): void {
    const values = this.upsampled(s.sign, s.upsampling);
    const { a, b } = positionMap(range, this.block.unit);
    colourLayer(values, out, a, b, s.view === "masked" && this.input ? "mask" : "heat", s.colormap, range.signed);
  }

  /** The cell under tile-relative position (fx, fy) in [0, 1), and its raw value. */
  cellAt(fx: number, fy: number): { x: number; y: number; cx: number; cy: number; value: number } {
    const b = this.block;
    const x = Math.min(this.width - 1, Math.max(0, Math.floor(fx * this.width)));
    const y = Math.min(this.height - 1, Math.max(0, Math.floor(fy * this.height)));
    const cx = Math.min(b.width - 1, Math.floor((x * b.width) / this.width));
    const cy = Math.min(b.height - 1, Math.floor((y * b.height) / this.height));
    return { x, y, cx, cy, value: b.raw(cx, cy) };
  }
}
