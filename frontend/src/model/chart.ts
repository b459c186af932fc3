// The arithmetic of the small line charts, without any DOM: "nice" tick values and domains, linear
// scales between data and pixels, and the nearest x to a pointer.

/** Tick values covering [lo, hi] at a round spacing (1, 2 or 5 × 10^k), about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const step = niceStep((hi - lo) / Math.max(1, count));
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const out: number[] = [];
  for (let k = first; k <= last && out.length < 50; k++) out.push(clean(k * step));
  return out;
}

/** A round spacing near `raw`: 1, 2 or 5 × 10^k. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  // d3's thresholds: the round spacing nearest in ratio.
  return (f >= Math.SQRT2 * 5 ? 10 : f >= Math.sqrt(10) ? 5 : f >= Math.SQRT2 ? 2 : 1) * p;
}

/** Floating-point dust off a tick value (0.30000000000000004 → 0.3). */
function clean(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(12));
}

/**
 * A domain for values in [lo, hi]: the metric's own bounds when it has them (and the data lies in
 * them), else the data's range widened to round ticks; a single value gets room on both sides.
 */
export function niceDomain(lo: number, hi: number, bounds: [number, number] | null = null, count = 4): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return bounds ?? [0, 1];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (bounds && lo >= bounds[0] && hi <= bounds[1]) return [bounds[0], bounds[1]];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    return [lo - pad, hi + pad];
  }
  const step = niceStep((hi - lo) / Math.max(1, count));
  return [clean(Math.floor(lo / step + 1e-9) * step), clean(Math.ceil(hi / step - 1e-9) * step)];
}

/** Integer ticks (steps) over [lo, hi] at a round spacing of at least 1. */
export function integerTicks(lo: number, hi: number, count = 4): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const step = Math.max(1, niceStep((hi - lo) / Math.max(1, count)));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 && out.length < 50; v += step) out.push(clean(v));
  return out;
}

/** The x domain of steps: their range, or a step on each side of a single one. */
export function stepDomain(xs: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  return [lo, hi];
}

/** A linear map from [d0, d1] onto [r0, r1] (pixels), and back. */
export class Scale {
  constructor(
    readonly d0: number,
    readonly d1: number,
    readonly r0: number,
    readonly r1: number,
  ) {}

  map(v: number): number {
    if (this.d1 === this.d0) return (this.r0 + this.r1) / 2;
    return this.r0 + ((v - this.d0) / (this.d1 - this.d0)) * (this.r1 - this.r0);
  }

  invert(px: number): number {
    if (this.r1 === this.r0) return this.d0;
    return this.d0 + ((px - this.r0) / (this.r1 - this.r0)) * (this.d1 - this.d0);
  }
}

/** The index of the value in `xs` nearest to `x` (the first on ties); -1 when empty. */
export function nearestIndex(xs: readonly number[], x: number): number {
  let best = -1;
  let dist = Infinity;
  for (let i = 0; i < xs.length; i++) {
    const d = Math.abs(xs[i] - x);
    if (d < dist) {
      dist = d;
      best = i;
    }
  }
  return best;
}

/** A tick label with the decimals the spacing of the ticks needs (0.2 0.4 … 1.0; 100 200 300), so
 * that neighbouring ticks never read the same, in exponent form too (2.55e+6 2.56e+6). */
export function tickText(v: number, ticks: readonly number[]): string {
  const spacing = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(v) || 1;
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3 || spacing < 1e-4)) {
    // The mantissa's decimals: as many as the ticks' spacing is below the value's magnitude.
    const digits = Math.ceil(Math.log10(a / spacing) - 1e-9);
    return v.toExponential(Math.min(12, Math.max(1, digits)));
  }
  let decimals = 0;
  while (decimals < 6 && Math.abs(Math.round(spacing * 10 ** decimals) - spacing * 10 ** decimals) > 1e-6) decimals++;
  return v.toFixed(decimals);
}
