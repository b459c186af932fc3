import assert from "node:assert/strict";
import { test } from "node:test";
import { Block } from "../src/data/block";
import type { ClipSettings } from "../src/render/normalise";
import { BlockGroup, TilePainter, baseSize, groupRanges, renderFactor, spanOf } from "../src/render/pipeline";
import { blockOf, close } from "./helpers";

const NONE: ClipSettings = { mode: "none", percentile: 99, massPercent: 2 };

test("normalisation scopes: per map, per card, per tag", () => {
  const group = new BlockGroup([blockOf([0, 1]), blockOf([0, 4])]);
  const s = { sign: "absolute" as const, clip: NONE, scope: "map" as const };
  assert.deepEqual(groupRanges(group, s, null).map((r) => r.hi), [1, 4]);
  assert.deepEqual(groupRanges(group, { ...s, scope: "card" }, null).map((r) => r.hi), [4, 4]);
  // The tag's other steps reached 10, so this step's maps look weaker under the tag scope.
  const tag = groupRanges(group, { ...s, scope: "tag" }, { mins: [0, 0, -10], maxs: [1, 4, 2] });
  assert.deepEqual(tag.map((r) => [r.lo, r.hi]), [[0, 10], [0, 10]]);
});

test("tag scope carries the visible step's clip share over to the tag's range", () => {
  const values = Array.from({ length: 101 }, (_, i) => i); // 0..100
  const clip: ClipSettings = { mode: "percentile", percentile: 50, massPercent: 2 };
  const [r] = groupRanges(new BlockGroup([blockOf(values)]), { sign: "positive", clip, scope: "tag" }, { mins: [0, 0], maxs: [100, 200] });
  assert.equal(r.lo, 0);
  close(r.hi, 100); // 200 × (50 / 100)
});

test("a card range spans samples whose scales differ by 1e100: each keeps its magnitude", () => {
  // Sample 0 peaks at 1e-50, sample 1 at 1e50: as float32 raw values both would be lost.
  const group = new BlockGroup([blockOf([0, 1e-50]), blockOf([0, 0.5e50, 1e50])]);
  const [a, b] = groupRanges(group, { sign: "positive", clip: NONE, scope: "card" }, null);
  assert.deepEqual(a, b);
  close(a.hi, 1e50);
  const perMap = groupRanges(group, { sign: "positive", clip: NONE, scope: "map" }, null);
  close(perMap[0].hi, 1e-50);
  close(perMap[1].hi, 1e50);
  assert.deepEqual(spanOf(perMap).hi, perMap[1].hi);
});

test("the painter draws a map at the input's size, in whole input pixels, and reads raw values back", () => {
  const block = new Block(new Float32Array([0, 0.5, 1, -1]), 1e-50, 2, 2);
  const input = { data: new Uint8ClampedArray(4 * 8 * 8).fill(100), width: 8, height: 8 };
  const painter = new TilePainter(block, input, 32);
  assert.deepEqual([painter.width, painter.height, painter.factor], [32, 32, 4]);
  assert.equal(painter.outputWidth("side"), 64);
  const cell = painter.cellAt(0.99, 0.99);
  assert.deepEqual([cell.x, cell.y, cell.cx, cell.cy], [7, 7, 1, 1]);
  assert.equal(cell.value, -1e-50);
  const out = new Uint8ClampedArray(4 * 32 * 32);
  painter.paint(out, { lo: 0, hi: 1e-50, signed: false }, { view: "heatmap", colormap: "gray", opacity: 50, sign: "positive", upsampling: "nearest" });
  // Top-right cell holds 0.5 × 1e-50 of a 0…1e-50 range: mid grey. Bottom-left: 1 → white.
  assert.deepEqual(Array.from(out.slice(4 * 31, 4 * 32)), [128, 128, 128, 255]);
  assert.deepEqual(Array.from(out.slice(4 * 32 * 31, 4 * 32 * 31 + 4)), [255, 255, 255, 255]);
  // Side by side: the input on the left, the heatmap on the right.
  const side = new Uint8ClampedArray(4 * 64 * 32);
  painter.paint(side, { lo: 0, hi: 1e-50, signed: false }, { view: "side", colormap: "gray", opacity: 50, sign: "positive", upsampling: "nearest" });
  assert.deepEqual(Array.from(side.slice(0, 4)), [100, 100, 100, 100]);
  assert.deepEqual(Array.from(side.slice(4 * 63, 4 * 64)), [128, 128, 128, 255]);
});

test("sizes: the input's, or a small multiple of a map without one", () => {
  assert.deepEqual(baseSize({ height: 7, width: 7 }, { height: 224, width: 224 }), [224, 224]);
  assert.deepEqual(baseSize({ height: 7, width: 7 }, null), [70, 70]);
  assert.equal(renderFactor(48, 48, 128), 2);
  assert.equal(renderFactor(224, 224, 128), 1);
  assert.equal(renderFactor(48, 48, null), 1);
});
