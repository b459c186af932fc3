import assert from "node:assert/strict";
import { test } from "node:test";
import { colorbarPixels, formatValue, heatmapPixels, maskedPixels, overlayPixels, scaleNearest, upsample } from "../src/render";

const GRID = [0, 1, 2, 3, 4, 5]; // 2 × 3

function closeAll(actual: ArrayLike<number>, expected: number[], eps = 1e-5) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= eps, `[${i}] ${actual[i]} != ${expected[i]}`);
}

test("bilinear upsampling equals torch interpolate(align_corners=False)", () => {
  // torch.nn.functional.interpolate(x, size=(4, 6), mode="bilinear", align_corners=False)
  closeAll(upsample(GRID, 2, 3, 4, 6, "bilinear"), [
    0.0, 0.25, 0.75, 1.25, 1.75, 2.0,
    0.75, 1.0, 1.5, 2.0, 2.5, 2.75,
    2.25, 2.5, 3.0, 3.5, 4.0, 4.25,
    3.0, 3.25, 3.75, 4.25, 4.75, 5.0,
  ]);
  // A non-integer factor, (5, 7).
  const out = upsample(GRID, 2, 3, 5, 7, "bilinear");
  closeAll(out.slice(0, 7), [0.0, 0.142857, 0.571429, 1.0, 1.428572, 1.857143, 2.0]);
  closeAll(out.slice(14, 21), [1.5, 1.642857, 2.071428, 2.5, 2.928572, 3.357143, 3.5]);
});

test("nearest upsampling equals torch interpolate(mode='nearest')", () => {
  closeAll(upsample(GRID, 2, 3, 4, 6, "nearest"), [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5]);
  const out = upsample(GRID, 2, 3, 5, 7, "nearest");
  closeAll(out.slice(0, 7), [0, 0, 0, 1, 1, 2, 2]);
  closeAll(out.slice(21, 28), [3, 3, 3, 4, 4, 5, 5]);
});

test("upsampling to the same size copies", () => {
  closeAll(upsample(GRID, 2, 3, 2, 3, "bilinear"), GRID);
});

test("heatmap, overlay and masked pixels", () => {
  // Values in between land on the table row lutIndex gives (0.5 → row 128); past the range they clamp.
  const mid = heatmapPixels({ values: new Float32Array([0.5, 9, -9]), range: { lo: 0, hi: 1, signed: false } }, "gray");
  assert.deepEqual(Array.from(mid), [128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255]);
  const layer = { values: new Float32Array([0, 1]), range: { lo: 0, hi: 1, signed: false } };
  const heat = heatmapPixels(layer, "gray");
  assert.deepEqual(Array.from(heat), [0, 0, 0, 255, 255, 255, 255, 255]);
  const input = [100, 100, 100, 255, 200, 0, 50, 255];
  assert.deepEqual(Array.from(overlayPixels(input, layer, "gray", 0.5)), [50, 50, 50, 255, 228, 128, 152, 255]);
  assert.deepEqual(Array.from(overlayPixels(input, layer, "gray", 0)), input);
  assert.deepEqual(Array.from(overlayPixels(input, layer, "gray", 1)), Array.from(heat));
  assert.deepEqual(Array.from(maskedPixels(input, layer)), [0, 0, 0, 255, 200, 0, 50, 255]);
});

test("scaleNearest repeats each pixel as a block", () => {
  const px = [1, 2, 3, 4, 5, 6, 7, 8]; // 2 × 1
  const out = scaleNearest(px, 2, 1, 2);
  assert.equal(out.length, 32);
  assert.deepEqual(Array.from(out.slice(0, 16)), [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(out.slice(16)), [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8]);
});

test("colour bar runs from the colormap's start to its end", () => {
  const bar = colorbarPixels("gray", 3);
  assert.deepEqual(Array.from(bar), [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
});

test("formatValue", () => {
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(2.5), "2.5");
  assert.equal(formatValue(0.123456), "0.123");
  assert.equal(formatValue(1e-7), "1.00e-7");
  assert.equal(formatValue(123456), "1.23e+5");
  assert.equal(formatValue(NaN), "NaN");
});
