import assert from "node:assert/strict";
import { test } from "node:test";
import { Block, BlockGroup, sortedTogether } from "../src/data/block";
import type { ClipSettings } from "../src/render/normalise";
import { TilePainter, baseSize, groupRanges, spanOf } from "../src/render/pipeline";
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

test("ranges are kept per sign and clip: a repaint reuses them, another clip computes its own", () => {
  const values = Array.from({ length: 101 }, (_, i) => i);
  const fresh = () => new BlockGroup([blockOf(values), blockOf(values.map((v) => 2 * v))]);
  const group = fresh();
  for (const scope of ["map", "card", "tag"] as const) {
    for (const clip of [{ mode: "mass", percentile: 99, massPercent: 2 }, { mode: "percentile", percentile: 50, massPercent: 2 },
                        { mode: "percentile", percentile: 90, massPercent: 2 }, NONE] as ClipSettings[]) {
      for (const sign of ["absolute", "signed"] as const) {
        const s = { sign, clip, scope };
        const extrema = { mins: [0, 0], maxs: [100, 400] };
        const first = groupRanges(group, s, extrema);
        assert.deepEqual(groupRanges(group, s, extrema), first, "the same ranges again");
        assert.deepEqual(groupRanges(fresh(), s, extrema), first, "as a group that never cached any");
      }
    }
  }
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

test("the painter colours a map at the input's size, each pixel once, and reads raw values back", () => {
  const block = new Block(new Float32Array([0, 0.5, 1, -1]), 1e-50, 2, 2);
  const painter = new TilePainter(block, { width: 8, height: 8 });
  assert.deepEqual([painter.width, painter.height], [8, 8]);
  const cell = painter.cellAt(0.99, 0.99);
  assert.deepEqual([cell.x, cell.y, cell.cx, cell.cy], [7, 7, 1, 1]);
  assert.equal(cell.value, -1e-50);
  const out = new Uint32Array(64);
  const bytes = new Uint8Array(out.buffer);
  const range = { lo: 0, hi: 1e-50, signed: false };
  painter.paint(out, range, { view: "heatmap", colormap: "gray", sign: "positive", upsampling: "nearest" });
  // Top-right cell holds 0.5 × 1e-50 of a 0…1e-50 range: mid grey. Bottom-left: 1 → white.
  assert.deepEqual(Array.from(bytes.slice(4 * 7, 4 * 8)), [128, 128, 128, 255]);
  assert.deepEqual(Array.from(bytes.slice(4 * 56, 4 * 57)), [255, 255, 255, 255]);
  // The masked view's layer is the grey weight the browser multiplies the input by.
  painter.paint(out, range, { view: "masked", colormap: "viridis", sign: "positive", upsampling: "nearest" });
  assert.deepEqual(Array.from(bytes.slice(4 * 7, 4 * 8)), [128, 128, 128, 255]);
  // Without an input there is nothing to mask: the heatmap.
  const alone = new TilePainter(block, null);
  assert.deepEqual([alone.width, alone.height], [64, 64]);
});

test("base sizes: the input's, or a small multiple of a map without one", () => {
  assert.deepEqual(baseSize({ height: 7, width: 7 }, { height: 224, width: 224 }), [224, 224]);
  assert.deepEqual(baseSize({ height: 7, width: 7 }, null), [70, 70]);
});

test("values of several blocks sort together in the largest unit, merged from each block's order", () => {
  const blocks = [blockOf([3, -1, 2]), blockOf([0.5, 10, -20]), blockOf([7])];
  const raw = sortedTogether(blocks, "raw");
  assert.equal(raw.unit, 20);
  assert.deepEqual(Array.from(raw.values, (v) => Math.round(v * raw.unit * 1e4) / 1e4), [-20, -1, 0.5, 2, 3, 7, 10]);
  const abs = sortedTogether(blocks, "abs");
  assert.deepEqual(Array.from(abs.values, (v) => Math.round(v * abs.unit * 1e4) / 1e4), [0.5, 1, 2, 3, 7, 10, 20]);
});
