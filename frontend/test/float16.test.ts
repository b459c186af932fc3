import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesPerValue, decodeBlocks, decodeValues, float16ToNumber } from "../src/float16";

function f16Bytes(bits: number[]): ArrayBuffer {
  const buf = new ArrayBuffer(bits.length * 2);
  const view = new DataView(buf);
  bits.forEach((b, i) => view.setUint16(2 * i, b, true));
  return buf;
}

test("float16 bit patterns decode to their IEEE 754 values", () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504], // largest finite
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, value] of cases) assert.equal(float16ToNumber(bits), value, `0x${bits.toString(16)}`);
  assert.ok(Object.is(float16ToNumber(0x8000), -0), "negative zero keeps its sign");
  assert.ok(Number.isNaN(float16ToNumber(0x7e00)));
  assert.ok(Number.isNaN(float16ToNumber(0xfc01)));
});

test("decodeValues reads little-endian float16 through the table", () => {
  const values = decodeValues(f16Bytes([0x3c00, 0xc000, 0x0001, 0x7bff]), "float16", 4);
  assert.deepEqual(Array.from(values), [1, -2, 2 ** -24, 65504]);
});

test("decodeValues reads little-endian float32 at an offset", () => {
  const buf = new ArrayBuffer(12);
  const view = new DataView(buf);
  view.setFloat32(0, 9, true);
  view.setFloat32(4, 1.5, true);
  view.setFloat32(8, -0.25, true);
  assert.deepEqual(Array.from(decodeValues(buf, "float32", 2, 4)), [1.5, -0.25]);
});

test("decodeBlocks splits samples and multiplies each by its scale", () => {
  // Two samples of two values: stored [1, 0.5] and [-1, 0.25], scales 4 and 2.
  const blocks = decodeBlocks(f16Bytes([0x3c00, 0x3800, 0xbc00, 0x3400]), "float16", 2, 2, [4, 2]);
  assert.deepEqual(blocks.map((b) => Array.from(b)), [[4, 2], [-2, 0.5]]);
  const unscaled = decodeBlocks(f16Bytes([0x3c00, 0x3800]), "float16", 1, 2, [1]);
  assert.deepEqual(Array.from(unscaled[0]), [1, 0.5]);
});

test("a missing or non-finite scale is an error, not a silent 1", () => {
  const two = f16Bytes([0x3c00, 0x3800]);
  assert.throws(() => decodeBlocks(two, "float16", 2, 1, [1]), /no usable scale \(undefined\)/);
  assert.throws(() => decodeBlocks(two, "float16", 1, 2, [NaN]), /no usable scale \(NaN\)/);
});

test("a blob shorter than its header says is an error, not garbage", () => {
  assert.throws(() => decodeValues(f16Bytes([0x3c00]), "float16", 2), /expected at least 4/);
  assert.throws(() => bytesPerValue("int8" as never), /unknown map dtype/);
});
