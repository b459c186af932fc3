// From raw attribution values to positions in [0, 1] on a colormap: sign mode, clipping and the range a
// normalisation scope shares. Ranges are doubles in raw units; values come as sorted stored values and
// their unit (see data/block.ts), so no range is ever computed in float32.

import type { SortClass, SortedValues } from "../data/block";

export type SignMode = "positive" | "negative" | "absolute" | "signed";
export type ClipMode = "none" | "percentile" | "mass";
export type Scope = "map" | "card" | "tag";

export interface ClipSettings {
  mode: ClipMode;
  /** Percentile clipping keeps values up to this percentile (e.g. 99). */
  percentile: number;
  /** Mass clipping drops the largest values that hold this percent of the total (captum's outlier_perc). */
  massPercent: number;
}

/**
 * The raw values that map to the colormap's ends. For signed maps it is symmetric around zero
 * (lo = -hi) so that zero sits at a diverging colormap's neutral middle.
 */
export interface DisplayRange {
  lo: number;
  hi: number;
  signed: boolean;
}

/** Which sorted values a sign mode reads: positive and negative parts come from the raw order. */
export function sortClassOf(sign: SignMode): SortClass {
  return sign === "positive" || sign === "negative" ? "raw" : "abs";
}

/** A sign mode applied to one value. */
export function signed(v: number, sign: SignMode): number {
  const x = Number.isFinite(v) ? v : 0;
  if (sign === "positive") return x > 0 ? x : 0;
  if (sign === "negative") return x < 0 ? -x : 0;
  if (sign === "absolute") return Math.abs(x);
  return x;
}

/**
 * The k-th smallest sign-transformed value (k from 0), in the sorted values' unit. Positive and
 * negative parts are monotone in the raw value, so one raw order serves both; magnitudes have theirs.
 */
export function kth(s: SortedValues, sign: SignMode, k: number): number {
  const v = s.values;
  if (sign === "positive") return Math.max(v[k], 0);
  if (sign === "negative") return Math.max(-v[v.length - 1 - k], 0);
  return v[k];
}

/** numpy.percentile's default (linear) definition over sign-transformed values, p in [0, 100]. */
export function percentileOf(s: SortedValues, sign: SignMode, p: number): number {
  const n = s.values.length;
  if (n === 0) return 0;
  const pos = (Math.min(Math.max(p, 0), 100) / 100) * (n - 1);
  const i = Math.floor(pos);
  const a = kth(s, sign, i);
  return i + 1 < n ? a + (kth(s, sign, i + 1) - a) * (pos - i) : a;
}

/**
 * captum's `_cumulative_sum_threshold` over sign-transformed values (all >= 0): the smallest sorted
 * value at which the running sum reaches `p` percent of the total. An all-zero map gives 0.
 */
export function massThresholdOf(s: SortedValues, sign: SignMode, p: number): number {
  const n = s.values.length;
  if (n === 0) return 0;
  let total = 0;
  for (let k = 0; k < n; k++) total += kth(s, sign, k);
  const goal = (total * Math.min(Math.max(p, 0), 100)) / 100;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const v = kth(s, sign, k);
    sum += v;
    if (sum >= goal) return v;
  }
  return kth(s, sign, n - 1);
}

/** The clip value (in the sorted values' unit), or null when clipping is off. */
export function clipValueOf(s: SortedValues, sign: SignMode, clip: ClipSettings): number | null {
  if (clip.mode === "percentile") return percentileOf(s, sign, clip.percentile);
  if (clip.mode === "mass") return massThresholdOf(s, sign, 100 - clip.massPercent);
  return null;
}

/** The display range of sorted values under a sign mode and clipping, in raw units. */
export function rangeOfSorted(s: SortedValues, sign: SignMode, clip: ClipSettings): DisplayRange {
  const n = s.values.length;
  if (n === 0) return { lo: 0, hi: 0, signed: sign === "signed" };
  const clipped = clipValueOf(s, sign, clip);
  if (sign === "signed") {
    let hi = kth(s, sign, n - 1);
    if (clipped !== null) hi = Math.min(hi, clipped);
    return { lo: -hi * s.unit, hi: hi * s.unit, signed: true };
  }
  const lo = kth(s, sign, 0);
  let hi = kth(s, sign, n - 1);
  if (clipped !== null) hi = Math.max(lo, Math.min(hi, clipped));
  return { lo: lo * s.unit, hi: hi * s.unit, signed: false };
}

/** The range of sign-transformed values, known only from the raw minimum and maximum. */
export function signedExtent(min: number, max: number, sign: SignMode): [number, number] {
  const mn = Number.isFinite(min) ? min : 0;
  const mx = Number.isFinite(max) ? max : 0;
  if (sign === "positive") return [Math.max(mn, 0), Math.max(mx, 0)];
  if (sign === "negative") return [Math.max(-mx, 0), Math.max(-mn, 0)];
  if (sign === "absolute") {
    const lo = mn >= 0 ? mn : mx <= 0 ? -mx : 0;
    return [lo, Math.max(Math.abs(mn), Math.abs(mx))];
  }
  return [mn, mx];
}

/**
 * The display range of a whole tag from the raw minima and maxima its steps' index lists, so the
 * scope needs no extra fetch. Clipping needs the values themselves, which are known only for the
 * step on screen: its clip value's share of its own range (`clipShare`) carries over to the tag's.
 */
export function rangeFromExtrema(mins: readonly number[], maxs: readonly number[], sign: SignMode, clipShare = 1): DisplayRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < Math.min(mins.length, maxs.length); i++) {
    const [a, b] = signedExtent(mins[i], maxs[i], sign);
    if (a < lo) lo = a;
    if (b > hi) hi = b;
  }
  if (!(lo <= hi)) return { lo: 0, hi: 0, signed: sign === "signed" };
  if (sign === "signed") {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) * clipShare;
    return { lo: -m, hi: m, signed: true };
  }
  return { lo, hi: lo + (hi - lo) * clipShare, signed: false };
}

/** Where clipping put the top of `range`, as a share of the unclipped range of the same values. */
export function clipShareOf(clipped: DisplayRange, unclipped: DisplayRange): number {
  const full = unclipped.hi - unclipped.lo;
  if (!(full > 0)) return 1;
  return Math.min(1, Math.max(0, (clipped.hi - clipped.lo) / full));
}

/**
 * The affine map from a sign-transformed stored value v (raw = v × unit) to its colormap position,
 * t = v × a + b before clamping to [0, 1]; computed in doubles so units of 1e-50 or 1e300 are exact.
 * A flat range puts every value at the low end (or the neutral middle for signed maps).
 */
export function positionMap(range: DisplayRange, unit: number): { a: number; b: number } {
  if (range.signed) {
    if (!(range.hi > 0) || !Number.isFinite(range.hi)) return { a: 0, b: 0.5 };
    return { a: unit / range.hi / 2, b: 0.5 };
  }
  const span = range.hi - range.lo;
  if (!(span > 0) || !Number.isFinite(span)) return { a: 0, b: 0 };
  return { a: unit / span, b: -range.lo / span };
}

/** A raw sign-transformed value's place on the colormap, in [0, 1]. Never NaN. */
export function normaliseValue(v: number, range: DisplayRange): number {
  const { a, b } = positionMap(range, 1);
  const t = v * a + b;
  return t > 0 ? (t < 1 ? t : 1) : 0;
}

/** How much of the input a masked view lets through: the normalised magnitude, in [0, 1]. */
export function maskWeight(t: number, range: DisplayRange): number {
  return range.signed ? Math.abs(2 * t - 1) : t;
}
