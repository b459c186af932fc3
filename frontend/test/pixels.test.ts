import assert from "node:assert/strict";
import { test } from "node:test";
import { colorbarPixels, formatValue, paintImage, paintValues, upsample, type PaintOptions } from "../src/render/pixels";

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

function opts(view: PaintOptions["view"], opacity = 0.5, signedRange = false): PaintOptions {
  // t = v: a = 1, b = 0.
  return { view, colormap: "gray", opacity, a: 1, b: 0, signedRange };
}

function paint(values: number[], view: PaintOptions["view"], input: number[] | null, opacity = 0.5, signedRange = false): number[] {
  const data = new Uint8ClampedArray(4 * values.length);
  paintValues(Float32Array.from(values), values.length, 1, { data, stride: values.length, x0: 0 }, opts(view, opacity, signedRange), input ? { data: input, width: values.length } : null, 1);
  return Array.from(data);
}

test("heatmap, overlay and masked pixels, each pixel coloured once", () => {
  assert.deepEqual(paint([0.5, 9, -9], "heatmap", null), [128, 128, 128, 255, 255, 255, 255, 255, 0, 0, 0, 255]);
  const input = [100, 100, 100, 255, 200, 0, 50, 255];
  assert.deepEqual(paint([0, 1], "overlay", input, 0.5), [50, 50, 50, 255, 228, 128, 152, 255]);
  assert.deepEqual(paint([0, 1], "overlay", input, 0), [100, 100, 100, 255, 200, 0, 50, 255]);
  assert.deepEqual(paint([0, 1], "overlay", input, 1), [0, 0, 0, 255, 255, 255, 255, 255]);
  assert.deepEqual(paint([0, 1], "masked", input), [0, 0, 0, 255, 200, 0, 50, 255]);
  // A signed range masks by the distance from its neutral middle.
  assert.deepEqual(paint([0.5, 0], "masked", input, 0.5, true), [0, 0, 0, 255, 200, 0, 50, 255]);
  // Without an input every view is the heatmap.
  assert.deepEqual(paint([1], "overlay", null), [255, 255, 255, 255]);
});

test("paintValues writes into a wider row at an offset, with input blocks of `factor` pixels", () => {
  const data = new Uint8ClampedArray(4 * 4 * 2);
  const input = { data: [10, 20, 30, 255], width: 1 };
  paintValues(new Float32Array([0, 0, 0, 0]), 2, 2, { data, stride: 4, x0: 2 }, opts("overlay", 0), input, 2);
  assert.deepEqual(Array.from(data.slice(0, 8)), [0, 0, 0, 0, 0, 0, 0, 0], "left half untouched");
  assert.deepEqual(Array.from(data.slice(8, 16)), [10, 20, 30, 255, 10, 20, 30, 255]);
  const img = new Uint8ClampedArray(4 * 4);
  paintImage({ data: [1, 2, 3, 4], width: 1, height: 1 }, 2, { data: img, stride: 2, x0: 0 });
  assert.deepEqual(Array.from(img), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
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
