import assert from "node:assert/strict";
import { test } from "node:test";
import type { Frame } from "../src/api";
import { extremaOf, renderFactor, renderTile, scopedRanges, signedColumn, targetSize } from "../src/pipeline";
import type { ClipSettings } from "../src/normalise";

const NONE: ClipSettings = { mode: "none", percentile: 99, massPercent: 2 };

test("normalisation scopes: per map, per card, per tag", () => {
  const signed = signedColumn([new Float32Array([0, 1]), new Float32Array([0, 4])], "absolute");
  assert.deepEqual(scopedRanges(signed, "map", "absolute", NONE, null).map((r) => r.hi), [1, 4]);
  assert.deepEqual(scopedRanges(signed, "card", "absolute", NONE, null).map((r) => r.hi), [4, 4]);
  // The tag's other steps reached 10, so this step's maps look weaker under the tag scope.
  const tag = scopedRanges(signed, "tag", "absolute", NONE, { mins: [0, 0, -10], maxs: [1, 4, 2] });
  assert.deepEqual(tag.map((r) => [r.lo, r.hi]), [[0, 10], [0, 10]]);
});

test("tag scope carries the visible step's clip share over to the tag's range", () => {
  const values = new Float32Array(101).map((_, i) => i); // 0..100
  const clip: ClipSettings = { mode: "percentile", percentile: 50, massPercent: 2 };
  const [r] = scopedRanges([values], "tag", "positive", clip, { mins: [0, 0], maxs: [100, 200] });
  assert.equal(r.lo, 0);
  assert.equal(r.hi, 100); // 200 × (50 / 100)
});

test("extremaOf gathers one map key, or one activation layer, over every stored frame", () => {
  const frames = [
    { step: 0, wall_time: 0, maps: [{ key: "a", min: [0, 1], max: [2, 3] }, { key: "b", min: [-9], max: [9] }] },
    { step: 1, wall_time: 0, error: "damaged" },
    { step: 2, wall_time: 0, maps: [{ key: "a", min: [-1], max: [5] }] },
  ] as unknown as Frame[];
  assert.deepEqual(extremaOf(frames, (f) => f.maps?.find((m) => m.key === "a")), { mins: [0, 1, -1], maxs: [2, 3, 5] });
  assert.deepEqual(extremaOf(frames, (f) => f.maps?.find((m) => m.key === "missing")), { mins: [], maxs: [] });
  const layers = [
    { step: 0, wall_time: 0, activations: { layer: "conv", min: [0], max: [4] } },
    { step: 1, wall_time: 0, activations: { layer: "other", min: [-7], max: [7] } },
    { step: 2, wall_time: 0, activations: null },
  ] as unknown as Frame[];
  assert.deepEqual(extremaOf(layers, (f) => (f.activations?.layer === "conv" ? f.activations : null)), { mins: [0], maxs: [4] });
});

test("tiles take the input's size, whole-number enlarged to fit", () => {
  assert.deepEqual(targetSize({ height: 7, width: 7 }, { height: 224, width: 224 }), [224, 224]);
  assert.deepEqual(targetSize({ height: 8, width: 4 }, null), [64, 32]);
  assert.equal(renderFactor(16, 16, 128), 8);
  assert.equal(renderFactor(224, 224, 128), 1);
  assert.equal(renderFactor(50, 30, null), 1);
});

test("renderTile: overlay of a 2×2 map over a 2×2 input, and the heatmap", () => {
  const input = { data: new Uint8ClampedArray(16).fill(200), width: 2, height: 2 };
  const settings = { colormap: "gray" as const, opacity: 50, upsampling: "nearest" as const };
  const range = { lo: 0, hi: 1, signed: false };
  const tile = renderTile(new Float32Array([0, 1, 1, 0]), { height: 2, width: 2 }, range, input, "overlay", settings, 4);
  assert.equal(tile.factor, 2);
  assert.equal(tile.width, 4);
  assert.deepEqual(Array.from(tile.pixels.slice(0, 4)), [100, 100, 100, 255]);
  assert.deepEqual(Array.from(tile.pixels.slice(8, 12)), [228, 228, 228, 255]);
  assert.deepEqual(Array.from(tile.heat.slice(8, 12)), [255, 255, 255, 255]);
  const masked = renderTile(new Float32Array([0, 1, 1, 0]), { height: 2, width: 2 }, range, input, "masked", settings);
  assert.deepEqual(Array.from(masked.pixels), [0, 0, 0, 255, 200, 200, 200, 255, 200, 200, 200, 255, 0, 0, 0, 255]);
});
