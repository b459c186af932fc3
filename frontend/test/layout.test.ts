import assert from "node:assert/strict";
import { test } from "node:test";
import { float16Table, float16ToNumber } from "../src/data/float16";
import { ACTIVATION_AXES, MAP_AXES, bytesPerValue, decodeStored, expectedBytes, layout } from "../src/data/layout";
import zlib from "node:zlib";
import { inflateStored, unshuffle } from "../src/data/inflate";
import { f16Bytes, f32Bytes } from "./helpers";

test("the layout comes from tb_saliency/proto/layout.json, the file the Python side reads", () => {
  assert.equal(layout.byte_order, "little");
  assert.deepEqual(MAP_AXES, ["sample", "row", "column"]);
  assert.deepEqual(ACTIVATION_AXES, ["sample", "channel", "row", "column"]);
  assert.equal(bytesPerValue("float16"), layout.dtypes.float16.bytes);
  assert.equal(bytesPerValue("float32"), layout.dtypes.float32.bytes);
  assert.throws(() => bytesPerValue("int8"), /unknown array dtype "int8"/);
  assert.throws(() => bytesPerValue("toString"), /unknown array dtype/);
});

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
  assert.equal(float16Table()[0x3c00], 1);
});

test("decodeStored splits a blob into blocks, float16 and float32", () => {
  const f16 = decodeStored(f16Bytes([0x3c00, 0x3800, 0xbc00, 0x3400]), "float16", 2, 2);
  assert.deepEqual(f16.map((b) => Array.from(b)), [[1, 0.5], [-1, 0.25]]);
  const f32 = decodeStored(f32Bytes([1.5, -0.25, 3, 4, 5, 6]), "float32", 3, 2);
  assert.deepEqual(f32.map((b) => Array.from(b)), [[1.5, -0.25], [3, 4], [5, 6]]);
});

test("a blob must hold exactly the bytes its shape needs: short, or with extra bytes, it is an error", () => {
  assert.throws(() => decodeStored(f16Bytes([0x3c00]), "float16", 1, 2, "map x"), /map x holds 2 bytes, 2 bytes fewer than the 4/);
  assert.throws(() => decodeStored(f16Bytes([0x3c00, 0, 0]), "float16", 1, 2, "map x"), /map x holds 6 bytes, 2 bytes more than the 4/);
  assert.throws(() => decodeStored(new ArrayBuffer(9), "float32", 1, 2), /1 bytes more than the 8/);
  assert.equal(expectedBytes("float16", [2, 3, 4]), 48);
  assert.throws(() => expectedBytes("float16", [2, 0, 0]), /empty or invalid shape/);
});

test("uint8 levels span each block's [lo, hi] in 255 steps; a blob without ranges is an error", () => {
  const [a, b] = decodeStored(new Uint8Array([0, 255, 51, 0, 255, 0]).buffer, "uint8", 2, 3, "map u", { lo: [-1, 0.5], hi: [0.5, 0.5] });
  assert.deepEqual([...a], [-1, 0.5, -0.7].map(Math.fround));
  assert.deepEqual([...b], [0.5, 0.5, 0.5]);
  assert.throws(() => decodeStored(new ArrayBuffer(3), "uint8", 1, 3, "map u"), /map u holds uint8 levels, but no range/);
});

test("shuffled, deflated blobs inflate back to their values; one inflating beyond its shape is an error", async () => {
  const values = new Uint8Array(f16Bytes([0x3c00, 0x3800, 0xbc00, 0x3400]));
  const shuffled = new Uint8Array(8);
  for (let i = 0; i < 4; i++) for (let k = 0; k < 2; k++) shuffled[k * 4 + i] = values[i * 2 + k];
  assert.deepEqual(unshuffle(shuffled, 2), values);
  const deflated = zlib.deflateSync(shuffled);
  const bytes = deflated.buffer.slice(deflated.byteOffset, deflated.byteOffset + deflated.byteLength) as ArrayBuffer;
  assert.deepEqual(new Uint8Array(await inflateStored(bytes, "shuffle_deflate", 2, 8, "map m")), values);
  assert.equal(await inflateStored(bytes, "none", 2, 8, "map m"), bytes);
  await assert.rejects(inflateStored(bytes, "shuffle_deflate", 2, 6, "map m"), /map m inflates to more than the 6 bytes/);
  await assert.rejects(inflateStored(bytes, "shuffle_deflate", 2, 10, "map m"), /map m inflates to 8 bytes, 2 bytes fewer than the 10/);
  await assert.rejects(inflateStored(new Uint8Array([1, 2, 3]).buffer, "shuffle_deflate", 2, 8, "map m"), /map m cannot be inflated/);
  await assert.rejects(inflateStored(bytes, "lz4" as never, 2, 8, "map m"), /unknown compression "lz4"/);
});
