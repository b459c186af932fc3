import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applySign,
  clipShareOf,
  maskWeight,
  massThreshold,
  normaliseValue,
  percentile,
  rangeFromExtrema,
  rangeOf,
  signedExtent,
  type ClipSettings,
} from "../src/normalise";

const NONE: ClipSettings = { mode: "none", percentile: 99, massPercent: 2 };
const X = [0.5, -3, 2, 7, 0.1, -0.2, 4, 1, 9, -6];

function close(a: number, b: number, eps = 1e-6) {
  assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);
}

/** A seeded standard normal sample (mulberry32 + Box–Muller), the same on every machine. */
function gaussian(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

test("sign modes", () => {
  const v = [-2, -0.5, 0, 1.5];
  assert.deepEqual(Array.from(applySign(v, "positive")), [0, 0, 0, 1.5]);
  assert.deepEqual(Array.from(applySign(v, "negative")), [2, 0.5, 0, 0]);
  assert.deepEqual(Array.from(applySign(v, "absolute")), [2, 0.5, 0, 1.5]);
  assert.deepEqual(Array.from(applySign(v, "signed")), [-2, -0.5, 0, 1.5]);
  assert.deepEqual(Array.from(applySign([NaN, Infinity], "signed")), [0, 0], "non-finite values count as 0");
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
  close(percentile(X, 90), 7.2); // np.percentile(x, 90)
  close(percentile(X, 50), 0.75);
  close(percentile(applySign(X, "absolute"), 99), 8.82);
  assert.equal(percentile([], 50), 0);
});

test("mass threshold follows captum's cumulative-sum threshold", () => {
  // References from captum's _cumulative_sum_threshold(np.abs(x), p).
  const abs = applySign(X, "absolute");
  assert.equal(massThreshold(abs, 98), 9);
  assert.equal(massThreshold(abs, 90), 9);
  assert.equal(massThreshold(abs, 50), 6);
});

test("on Gaussian data mass clipping lands well above the same-numbered percentile", () => {
  // For |N(0, 1)|, 98 % of the mass lies below sqrt(2 ln 50) = 2.797, while the 98th percentile
  // of |x| is 2.326: mass clipping is not a percentile.
  const abs = applySign(gaussian(200_000), "absolute");
  const mass = massThreshold(abs, 98);
  const pct = percentile(abs, 98);
  close(mass, Math.sqrt(2 * Math.log(50)), 0.03);
  close(pct, 2.326, 0.03);
  assert.ok(mass - pct > 0.4, `mass ${mass} vs percentile ${pct}`);
  const clippedMass = rangeOf([abs], "absolute", { mode: "mass", percentile: 98, massPercent: 2 });
  const clippedPct = rangeOf([abs], "absolute", { mode: "percentile", percentile: 98, massPercent: 2 });
  close(clippedMass.hi, mass);
  close(clippedPct.hi, pct);
});

test("min-max range, clipped range, and signed symmetric range", () => {
  assert.deepEqual(rangeOf([new Float32Array([1, 3, 2])], "absolute", NONE), { lo: 1, hi: 3, signed: false });
  const signed = rangeOf([applySign([-4, 1, 2], "signed")], "signed", NONE);
  assert.deepEqual(signed, { lo: -4, hi: 4, signed: true });
  const several = rangeOf([new Float32Array([1, 2]), new Float32Array([0.5, 5])], "positive", NONE);
  assert.deepEqual(several, { lo: 0.5, hi: 5, signed: false });
  const clipped = rangeOf([new Float32Array([0, 1, 2, 3, 100])], "positive", { mode: "percentile", percentile: 75, massPercent: 2 });
  assert.deepEqual(clipped, { lo: 0, hi: 3, signed: false });
});

test("an all-zero map renders as zeros: no NaN, no crash", () => {
  const zeros = new Float32Array(16);
  for (const sign of ["positive", "negative", "absolute", "signed"] as const) {
    for (const mode of ["none", "percentile", "mass"] as const) {
      const range = rangeOf([applySign(zeros, sign)], sign, { mode, percentile: 99, massPercent: 2 });
      const t = Array.from(zeros, (v) => normaliseValue(v, range));
      const expected = sign === "signed" ? 0.5 : 0;
      assert.ok(t.every((x) => x === expected), `${sign}/${mode}: ${Array.from(t)}`);
      assert.equal(maskWeight(t[0], range), 0);
    }
  }
  assert.equal(massThreshold(zeros, 98), 0);
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

test("tag range from per-sample extrema, with a clip share carried over", () => {
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
