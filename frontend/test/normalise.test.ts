import assert from "node:assert/strict";
import { test } from "node:test";
import { sortedTogether, type SortedValues } from "../src/data/block";
import {
  clipShareOf,
  kth,
  maskWeight,
  massThresholdOf,
  normaliseValue,
  percentileOf,
  positionMap,
  rangeFromExtrema,
  rangeOfSorted,
  signed,
  signedExtent,
  sortClassOf,
  type ClipSettings,
  type SignMode,
} from "../src/render/normalise";
import { blockOf, close, gaussian } from "./helpers";

const NONE: ClipSettings = { mode: "none", percentile: 99, massPercent: 2 };
const X = [0.5, -3, 2, 7, 0.1, -0.2, 4, 1, 9, -6];

function sortedOf(values: ArrayLike<number>, sign: SignMode): SortedValues {
  return sortedTogether([blockOf(values)], sortClassOf(sign));
}

test("sign modes", () => {
  const v = [-2, -0.5, 0, 1.5];
  assert.deepEqual(v.map((x) => signed(x, "positive")), [0, 0, 0, 1.5]);
  assert.deepEqual(v.map((x) => signed(x, "negative")), [2, 0.5, 0, 0]);
  assert.deepEqual(v.map((x) => signed(x, "absolute")), [2, 0.5, 0, 1.5]);
  assert.deepEqual(v.map((x) => signed(x, "signed")), [-2, -0.5, 0, 1.5]);
  assert.deepEqual([NaN, Infinity].map((x) => signed(x, "signed")), [0, 0], "non-finite values count as 0");
});

test("one raw order serves the positive and the negative part; magnitudes have their own", () => {
  for (const sign of ["positive", "negative", "absolute"] as const) {
    const s = sortedOf(X, sign);
    const got = Array.from({ length: X.length }, (_, k) => kth(s, sign, k) * s.unit);
    const want = X.map((x) => signed(x, sign)).sort((a, b) => a - b);
    got.forEach((g, i) => close(g, want[i], 1e-6, `${sign}[${i}]`));
  }
});

test("signedExtent maps a raw range through each sign mode", () => {
  assert.deepEqual(signedExtent(-2, 3, "positive"), [0, 3]);
  assert.deepEqual(signedExtent(-2, 3, "negative"), [0, 2]);
  assert.deepEqual(signedExtent(-2, 3, "absolute"), [0, 3]);
  assert.deepEqual(signedExtent(1, 3, "absolute"), [1, 3]);
  assert.deepEqual(signedExtent(-5, -1, "absolute"), [1, 5]);
  assert.deepEqual(signedExtent(-2, 3, "signed"), [-2, 3]);
});

test("percentile follows numpy's linear definition", () => {
  const s = sortedOf(X, "positive");
  const abs = sortedOf(X, "signed");
  close(percentileOf(abs, "signed", 99) * abs.unit, 8.82); // np.percentile(np.abs(x), 99)
  // np.percentile(np.maximum(x, 0), 90) = 7.2
  close(percentileOf(s, "positive", 90) * s.unit, 7.2);
  close(percentileOf(s, "positive", 50) * s.unit, 0.75);
  assert.equal(percentileOf({ values: new Float32Array(0), unit: 1, cls: "raw" }, "positive", 50), 0);
});

test("mass threshold follows captum's cumulative-sum threshold", () => {
  // References from captum's _cumulative_sum_threshold(np.abs(x), p).
  const s = sortedOf(X, "absolute");
  close(massThresholdOf(s, "absolute", 98) * s.unit, 9);
  close(massThresholdOf(s, "absolute", 90) * s.unit, 9);
  close(massThresholdOf(s, "absolute", 50) * s.unit, 6);
});

test("on Gaussian data mass clipping lands well above the same-numbered percentile", () => {
  // For |N(0, 1)|, 98 % of the mass lies below sqrt(2 ln 50) = 2.797, while the 98th percentile of
  // |x| is 2.326: mass clipping is not a percentile.
  const s = sortedOf(gaussian(200_000), "absolute");
  const mass = massThresholdOf(s, "absolute", 98) * s.unit;
  const pct = percentileOf(s, "absolute", 98) * s.unit;
  close(mass, Math.sqrt(2 * Math.log(50)), 0.03);
  close(pct, 2.326, 0.03);
  assert.ok(mass - pct > 0.4, `mass ${mass} vs percentile ${pct}`);
  close(rangeOfSorted(s, "absolute", { mode: "mass", percentile: 98, massPercent: 2 }).hi, mass);
  close(rangeOfSorted(s, "absolute", { mode: "percentile", percentile: 98, massPercent: 2 }).hi, pct);
});

test("min-max range, clipped range, and signed symmetric range, in raw units", () => {
  const r = rangeOfSorted(sortedOf([1, 3, 2], "absolute"), "absolute", NONE);
  close(r.lo, 1); // 1/3 stored as float32, times 3: exact to float32's precision
  assert.deepEqual([r.hi, r.signed], [3, false]);
  assert.deepEqual(rangeOfSorted(sortedOf([-4, 1, 2], "signed"), "signed", NONE), { lo: -4, hi: 4, signed: true });
  const clipped = rangeOfSorted(sortedOf([0, 1, 2, 3, 100], "positive"), "positive", { mode: "percentile", percentile: 75, massPercent: 2 });
  assert.equal(clipped.lo, 0);
  close(clipped.hi, 3);
  const negative = rangeOfSorted(sortedOf([-8, -2, 1, 5], "negative"), "negative", NONE);
  assert.deepEqual([negative.lo, negative.hi], [0, 8]);
});

test("ranges keep magnitudes float32 cannot hold: 1e-50 and 1e300", () => {
  for (const unit of [1e-50, 1e300]) {
    const s = sortedOf([0, 0.25 * unit, unit], "positive");
    const r = rangeOfSorted(s, "positive", NONE);
    close(r.hi, unit, 1e-7);
    const { a, b } = positionMap(r, s.unit);
    close(0.25 * a + b, 0.25, 1e-7, "a stored 0.25 sits a quarter up the colormap");
    assert.ok(Number.isFinite(a));
  }
});

test("close() compares tiny values to their own digits, not to an absolute 1e-6", () => {
  close(1e-50 * (1 + 1e-7), 1e-50);
  assert.throws(() => close(1.01e-50, 1e-50), /relative tolerance/, "1 % off at 1e-50 fails");
  assert.throws(() => close(2e-50, 1e-50), /relative tolerance/);
  assert.throws(() => close(0, 1e-300), /relative tolerance/, "zero is not a tiny value");
  assert.throws(() => close(1e-300, 0), /relative tolerance/, "b = 0 asks for exactly 0");
});

test("an all-zero map renders as zeros: no NaN, no crash", () => {
  const zeros = new Float32Array(16);
  for (const sign of ["positive", "negative", "absolute", "signed"] as const) {
    for (const mode of ["none", "percentile", "mass"] as const) {
      const range = rangeOfSorted(sortedOf(zeros, sign), sign, { mode, percentile: 99, massPercent: 2 });
      const t = Array.from(zeros, (v) => normaliseValue(v, range));
      const expected = sign === "signed" ? 0.5 : 0;
      assert.ok(t.every((x) => x === expected), `${sign}/${mode}: ${t}`);
      assert.equal(maskWeight(t[0], range), 0);
    }
  }
});

test("normaliseValue places values on the colormap", () => {
  const r = { lo: 1, hi: 3, signed: false };
  assert.equal(normaliseValue(1, r), 0);
  assert.equal(normaliseValue(2, r), 0.5);
  assert.equal(normaliseValue(9, r), 1, "values above a clipped top saturate");
  const s = { lo: -2, hi: 2, signed: true };
  assert.equal(normaliseValue(0, s), 0.5);
  assert.equal(normaliseValue(-2, s), 0);
  assert.equal(normaliseValue(1, s), 0.75);
  assert.equal(maskWeight(0.25, s), 0.5);
});

test("tag range from per-step extrema, with a clip share carried over", () => {
  const mins = [-1, 0.5, -3];
  const maxs = [2, 4, 1];
  assert.deepEqual(rangeFromExtrema(mins, maxs, "positive"), { lo: 0, hi: 4, signed: false });
  assert.deepEqual(rangeFromExtrema(mins, maxs, "absolute"), { lo: 0, hi: 4, signed: false });
  assert.deepEqual(rangeFromExtrema(mins, maxs, "negative"), { lo: 0, hi: 3, signed: false });
  assert.deepEqual(rangeFromExtrema(mins, maxs, "signed"), { lo: -4, hi: 4, signed: true });
  assert.deepEqual(rangeFromExtrema(mins, maxs, "positive", 0.5), { lo: 0, hi: 2, signed: false });
  assert.deepEqual(rangeFromExtrema([], [], "positive"), { lo: 0, hi: 0, signed: false });
  assert.equal(clipShareOf({ lo: 0, hi: 2, signed: false }, { lo: 0, hi: 8, signed: false }), 0.25);
  assert.equal(clipShareOf({ lo: 0, hi: 0, signed: false }, { lo: 0, hi: 0, signed: false }), 1);
});
