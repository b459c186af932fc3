import assert from "node:assert/strict";
import { test } from "node:test";
import { colorbarPixels, colourLayer, composite, formatValue, upsample, type LayerMode } from "../src/render/pixels";

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

test("the sign applies to the cells before upsampling, and a same-size copy only transforms", () => {
  closeAll(upsample([-1, 1], 1, 2, 1, 2, "bilinear", "absolute"), [1, 1]);
  // |−1|, |1| interpolated stays 1 everywhere: no dark seam where the sign flips.
  closeAll(upsample([-1, 1], 1, 2, 1, 4, "bilinear", "absolute"), [1, 1, 1, 1]);
  closeAll(upsample([-1, 1], 1, 2, 1, 4, "bilinear", "signed"), [-1, -0.5, 0.5, 1]);
  closeAll(upsample([-1, 1], 1, 2, 1, 2, "nearest", "positive"), [0, 1]);
});

function layer(values: number[], mode: LayerMode, signedRange = false, colormap: "gray" | "viridis" = "gray"): number[] {
  const out = new Uint32Array(values.length);
  colourLayer(Float32Array.from(values), out, 1, 0, mode, colormap, signedRange);
  return Array.from(new Uint8Array(out.buffer));
}

test("the colour layer: the colormap at t = v·a + b, clamped; the masked view's grey weight", () => {
  assert.deepEqual(layer([0.5, 9, -9, NaN], "heat"), [128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
  assert.deepEqual(layer([0, 1], "heat", false, "viridis"), [0x44, 0x01, 0x54, 255, 0xfd, 0xe7, 0x25, 255]);
  assert.deepEqual(layer([0.25, 1], "mask"), [64, 64, 64, 255, 255, 255, 255, 255]);
  // A signed range masks by the distance from its neutral middle.
  assert.deepEqual(layer([0.5, 0, 1], "mask", true), [0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
  const out = new Uint32Array(1);
  colourLayer(new Float32Array([3]), out, 0.5, -1, "heat", "gray", false); // t = 3 · 0.5 − 1 = 0.5
  assert.deepEqual(Array.from(new Uint8Array(out.buffer)), [128, 128, 128, 255]);
});

test("what the browser composites for each view", () => {
  const input = [100, 200, 0];
  assert.deepEqual(composite(input, [255, 255, 255], "overlay", 0.5), [178, 228, 128]);
  assert.deepEqual(composite(input, [255, 255, 255], "overlay", 0), input);
  assert.deepEqual(composite(input, [128, 128, 128], "masked", 1), [50, 100, 0]);
  assert.deepEqual(composite(input, [1, 2, 3], "heatmap", 0.5), [1, 2, 3]);
});

test("colour bar runs from the colormap's start to its end", () => {
  assert.deepEqual(Array.from(colorbarPixels("gray", 3)), [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
});

test("formatValue: short labels at any magnitude a double holds", () => {
  assert.equal(formatValue(0), "0");
  assert.equal(formatValue(2.5), "2.5");
  assert.equal(formatValue(0.123456), "0.123");
  assert.equal(formatValue(1e-7), "1.00e-7");
  assert.equal(formatValue(123456), "1.23e+5");
  assert.equal(formatValue(1e-50), "1.00e-50");
  assert.equal(formatValue(-2.5e300), "-2.50e+300");
  assert.equal(formatValue(NaN), "NaN");
});
