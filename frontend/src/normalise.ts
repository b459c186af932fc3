// From raw attribution values to numbers in [0, 1] that index a colormap: sign mode, clipping and the
// range a normalisation scope shares. Pure functions on arrays, so every display choice is testable.

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
 * The range that maps to the colormap's ends. For signed maps it is symmetric around zero
 * (lo = -hi) so that zero sits at a diverging colormap's neutral middle.
 */
export interface DisplayRange {
  lo: number;
  hi: number;
  signed: boolean;
}

export function applySign(values: ArrayLike<number>, sign: SignMode): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // Non-finite values would poison every range they enter; the writer never stores them.
    const x = Number.isFinite(v) ? v : 0;
    if (sign === "positive") out[i] = x > 0 ? x : 0;
    else if (sign === "negative") out[i] = x < 0 ? -x : 0;
    else if (sign === "absolute") out[i] = Math.abs(x);
    else out[i] = x;
  }
  return out;
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

/** numpy.percentile's default (linear) definition, p in [0, 100]. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const q = Math.min(Math.max(p, 0), 100) / 100;
  const pos = q * (n - 1);
  const i = Math.floor(pos);
  const frac = pos - i;
  return i + 1 < n ? sorted[i] + (sorted[i + 1] - sorted[i]) * frac : sorted[n - 1];
}

/**
 * captum's `_cumulative_sum_threshold`: the smallest sorted value at which the running sum reaches
 * `p` percent of the total. It is a share of attribution mass, not of the number of values, so on
 * heavy-tailed maps it lands well above the same-numbered percentile. Values must be >= 0.
 * An all-zero map gives 0 (captum asserts there; see captum#959).
 */
export function massThreshold(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (let i = 0; i < n; i++) total += sorted[i];
  const goal = (total * Math.min(Math.max(p, 0), 100)) / 100;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += sorted[i];
    if (sum >= goal) return sorted[i];
  }
  return sorted[n - 1];
}

function concat(arrays: readonly ArrayLike<number>[]): Float32Array {
  let size = 0;
  for (const a of arrays) size += a.length;
  const out = new Float32Array(size);
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** The clip value of non-negative values, or null when clipping is off. */
export function clipValue(values: ArrayLike<number>, clip: ClipSettings): number | null {
  if (clip.mode === "percentile") return percentile(values, clip.percentile);
  if (clip.mode === "mass") return massThreshold(values, 100 - clip.massPercent);
  return null;
}

/**
 * The display range shared by `arrays`, which are already sign-transformed (see applySign): all the
 * maps of one scope (one map, one card column, ...).
 */
export function rangeOf(arrays: readonly ArrayLike<number>[], sign: SignMode, clip: ClipSettings): DisplayRange {
  const all = arrays.length === 1 ? arrays[0] : concat(arrays);
  if (sign === "signed") {
    const abs = applySign(all, "absolute");
    let hi = 0;
    for (let i = 0; i < abs.length; i++) if (abs[i] > hi) hi = abs[i];
    const clipped = clipValue(abs, clip);
    if (clipped !== null) hi = Math.min(hi, clipped);
    return { lo: -hi, hi, signed: true };
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < all.length; i++) {
    if (all[i] < lo) lo = all[i];
    if (all[i] > hi) hi = all[i];
  }
  if (!(lo <= hi)) return { lo: 0, hi: 0, signed: false };
  const clipped = clipValue(all, clip);
  if (clipped !== null) hi = Math.max(lo, Math.min(hi, clipped));
  return { lo, hi, signed: false };
}

/**
 * The display range of a whole tag from the per-sample raw minima and maxima that /frames lists for
 * every stored step, so that scope needs no extra fetch. Clipping needs the values themselves, which
 * are known only for the steps on screen: their clip value's share of their own range (`clipShare`)
 * is carried over to the tag's range.
 */
export function rangeFromExtrema(
  mins: readonly number[],
  maxs: readonly number[],
  sign: SignMode,
  clipShare = 1,
): DisplayRange {
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

/** A sign-transformed value's place on the colormap, in [0, 1]. Never NaN. */
export function normaliseValue(v: number, range: DisplayRange): number {
  if (range.signed) {
    if (!(range.hi > 0)) return 0.5;
    const n = Math.min(1, Math.max(-1, v / range.hi));
    return Number.isFinite(n) ? (n + 1) / 2 : 0.5;
  }
  const span = range.hi - range.lo;
  if (!(span > 0)) return 0;
  const t = (v - range.lo) / span;
  return t > 0 ? (t < 1 ? t : 1) : 0;
}

/** How much of the input a masked view lets through: the normalised magnitude, in [0, 1]. */
export function maskWeight(t: number, range: DisplayRange): number {
  return range.signed ? Math.abs(2 * t - 1) : t;
}
