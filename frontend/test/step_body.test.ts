// /step_data bodies written by Python's encoder (frontend/test/fixtures/step_data, `python -m
// tests.support.fixtures`): parsed here with layout.json's constants, they must give the JSON and
// the exact blob bytes Python put in, decode to the values the blob fixtures hold, and go through
// loadStep; a body that is not exactly one layout is an error naming what is wrong.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { isFrameError, readStepData, type FrameResponse, type MapBlock } from "../src/api";
import { BlobStore } from "../src/data/blobs";
import { parseStepBody } from "../src/data/step_body";
import { loadStep, mapColumn } from "../src/data/step_data";

const DIR = path.resolve("test/fixtures");

interface StepDataCase {
  name: string;
  file: string;
  request: string;
  json: { frame: FrameResponse & { error?: string }; unreadable: Record<string, string> };
  blobs: { key: string; bytes: number; sha256: string; same_as: string | null }[];
}

function bytesOf(file: string): ArrayBuffer {
  const b = fs.readFileSync(path.join(DIR, file));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

const CASES: StepDataCase[] = JSON.parse(fs.readFileSync(path.join(DIR, "step_data.json"), "utf8"));

test("the step_data fixtures cover shared and inline images, activations, randomisation and a damaged step", () => {
  assert.deepEqual(CASES.map((c) => c.name).sort(), [
    "activations", "error_damaged", "map_float32_signed", "randomisation", "saliency_inline_images", "saliency_shared_images",
  ]);
});

for (const c of CASES) {
  test(`step_data ${c.name}: the JSON and every blob's bytes are what Python framed`, () => {
    const body = readStepData(bytesOf(c.file));
    assert.deepEqual(body.frame, c.json.frame);
    assert.deepEqual(body.unreadable, c.json.unreadable);
    assert.deepEqual([...body.blobs.keys()], c.blobs.map((b) => b.key));
    for (const want of c.blobs) {
      const got = body.blobs.get(want.key)!;
      assert.equal(got.byteLength, want.bytes);
      assert.equal(createHash("sha256").update(new Uint8Array(got)).digest("hex"), want.sha256);
      if (want.same_as) assert.deepEqual(new Uint8Array(got), new Uint8Array(bytesOf(want.same_as)));
    }
  });
}

test("every blob a step_data frame names is in its body, and none other", () => {
  for (const c of CASES) {
    const frame = c.json.frame;
    if (isFrameError(frame)) {
      assert.equal(c.blobs.length, 0, c.name);
      continue;
    }
    const named = [...(frame.images?.blobs ?? []), ...(frame.maps ?? []).map((m) => m.blob), ...(frame.activations ? [frame.activations.blob] : [])];
    assert.deepEqual(new Set(c.blobs.map((b) => b.key)), new Set(named), c.name);
  }
});

test("a float32 map in a step_data body decodes to the values of its blob fixture", async () => {
  const c = CASES.find((x) => x.name === "map_float32_signed")!;
  const body = readStepData(bytesOf(c.file));
  const frame = body.frame as FrameResponse;
  const info = frame.maps[0] as MapBlock;
  const column = await mapColumn(info, body.blobs.get(info.blob)!, frame.num_samples);
  const expected: number[][][] = JSON.parse(fs.readFileSync(path.join(DIR, "blobs.json"), "utf8")).find((b: { name: string }) => b.name === "float32_signed").expected;
  column.blocks.forEach((block, i) => {
    for (let y = 0; y < info.height; y++) for (let x = 0; x < info.width; x++) assert.equal(block.raw(x, y), expected[i][y][x]);
  });
});

test("a step_data body loads into a step: images, maps and activations from the body alone", async () => {
  for (const name of ["saliency_shared_images", "activations", "randomisation"]) {
    const c = CASES.find((x) => x.name === name)!;
    const body = readStepData(bytesOf(c.file));
    const frame = body.frame as FrameResponse;
    const fromBody = new BlobStore(
      async (key) => {
        const bytes = body.blobs.get(key);
        if (!bytes) throw new Error(`not in the body: ${key}`);
        return bytes;
      },
      async (bytes) => {
        const v = new DataView(bytes);
        return { width: v.getUint32(16), height: v.getUint32(20), image: null };
      },
    );
    const data = await loadStep(frame, frame.kind, fromBody);
    assert.deepEqual(data.problems, [], name);
    assert.equal(data.images.filter((im) => im !== null).length, frame.images ? frame.num_samples : 0, name);
    assert.equal(data.maps.length, frame.maps.length, name);
    assert.equal(data.activations !== null, frame.activations !== null, name);
  }
});

function body(parts: (number[] | string)[]): ArrayBuffer {
  const bytes: number[] = [];
  for (const p of parts) {
    if (typeof p === "string") bytes.push(...new TextEncoder().encode(p));
    else bytes.push(...p);
  }
  return new Uint8Array(bytes).buffer;
}

const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const pad = (n: number): number[] => new Array((8 - (n % 8)) % 8).fill(0);

test("a body that is not exactly one step_data layout is an error naming what is wrong", () => {
  const good = body(["TBSD", u32(1), u32(2), u32(1), "{}", pad(2), u32(1), u32(3), "k", pad(1), [1, 2, 3], pad(3)]);
  assert.deepEqual([...parseStepBody(good).blobs.keys()], ["k"]);
  assert.deepEqual(new Uint8Array(parseStepBody(good).blobs.get("k")!), new Uint8Array([1, 2, 3]));
  assert.throws(() => parseStepBody(new ArrayBuffer(3)), /holds 3 bytes, fewer than its 16-byte head/);
  assert.throws(() => parseStepBody(body(["PNG!", u32(1), u32(0), u32(0)])), /starts with "PNG!", not "TBSD"/);
  assert.throws(() => parseStepBody(body(["TBSD", u32(2), u32(0), u32(0)])), /version 2; this dashboard reads version 1/);
  assert.throws(() => parseStepBody(good.slice(0, good.byteLength - 8)), /ends inside blob 0/);
  assert.throws(() => parseStepBody(body(["TBSD", u32(1), u32(2), u32(2), "{}", pad(2), u32(1), u32(3), "k", pad(1), [1, 2, 3], pad(3)])), /ends before blob 1 of 2/);
  assert.throws(() => parseStepBody(body(["TBSD", u32(1), u32(1000), u32(0), "{}", pad(2)])), /ends inside its JSON/);
  assert.throws(() => parseStepBody(body(["TBSD", u32(1), u32(2), u32(0), "{}", pad(2), [0, 0, 0, 0, 0, 0, 0, 0]])), /8 bytes after its last blob/);
  const twice = ["k", pad(1), [1], pad(1)];
  assert.throws(() => parseStepBody(body(["TBSD", u32(1), u32(2), u32(2), "{}", pad(2), u32(1), u32(1), ...twice, u32(1), u32(1), ...twice])), /holds blob "k" twice/);
  assert.throws(() => parseStepBody(body(["TBSD", u32(1), u32(2), u32(1), "{}", pad(2), u32(1), u32(0), [0xff], pad(1)])), /key of blob 0 in the step's data is not UTF-8/);
  assert.throws(() => readStepData(body(["TBSD", u32(1), u32(2), u32(0), "[]", pad(2)])), /holds no frame/);
});
