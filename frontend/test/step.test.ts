import assert from "node:assert/strict";
import { test } from "node:test";
import { BlobCache, blobUrl, framesUrl, reviveNonFinite } from "../src/api";
import { className, indexForStep, isWrong } from "../src/step";

test("class ids show as names when the log gave names, else as ids", () => {
  assert.equal(className(1, ["cat", "dog"]), "dog");
  assert.equal(className(5, ["cat", "dog"]), "5");
  assert.equal(className(0, []), "0");
  assert.equal(className(undefined, ["cat"]), null);
});

test("a prediction is wrong only when label and prediction are both known and differ", () => {
  assert.equal(isWrong({ label: 1, prediction: 2 }), true);
  assert.equal(isWrong({ label: 1, prediction: 1 }), false);
  assert.equal(isWrong({ prediction: 1 }), false);
  assert.equal(isWrong({ label: 0 }), false);
});

test("indexForStep picks the same step, else the latest before it", () => {
  const frames = [{ step: 0 }, { step: 10 }, { step: 30 }];
  assert.equal(indexForStep(frames, 10), 1);
  assert.equal(indexForStep(frames, 29), 1);
  assert.equal(indexForStep(frames, 1000), 2);
  assert.equal(indexForStep(frames, -5), 0);
});

test("URLs are relative and encode untrusted names", () => {
  assert.equal(framesUrl("a b&c", "x/y?z"), "./frames?run=a%20b%26c&tag=x%2Fy%3Fz");
  assert.equal(blobUrl("k+=/", 1795660800.5), "./blob?key=k%2B%3D%2F&wall_time=1795660800.5");
});

test("non-finite floats come back from TensorBoard's JSON strings", () => {
  const parsed = JSON.parse('{"a": "NaN", "b": ["Infinity", "-Infinity", 1], "c": "text"}', reviveNonFinite);
  assert.ok(Number.isNaN(parsed.a));
  assert.deepEqual(parsed.b, [Infinity, -Infinity, 1]);
  assert.equal(parsed.c, "text");
});

test("a blob is fetched once however often it is asked for; a failure is retried", async () => {
  const calls: string[] = [];
  let fail = true;
  const cache = new BlobCache(async (url) => {
    calls.push(url);
    if (url.includes("bad") && fail) throw new Error("boom");
    return new ArrayBuffer(4);
  });
  await Promise.all([cache.get("k", 1), cache.get("k", 1), cache.get("k", 1)]);
  await cache.get("k", 1);
  assert.deepEqual(calls, ["./blob?key=k&wall_time=1"]);
  await assert.rejects(cache.get("bad", 1));
  fail = false;
  await cache.get("bad", 1);
  assert.equal(calls.filter((c) => c.includes("bad")).length, 2);
});

test("a rewritten run's blob (same key, new wall time) is fetched anew, not served from the cache", async () => {
  const calls: string[] = [];
  const cache = new BlobCache(async (url) => {
    calls.push(url);
    return new Uint8Array([url.endsWith("=2") ? 2 : 1]).buffer;
  });
  const before = new Uint8Array(await cache.get("k", 1));
  const after = new Uint8Array(await cache.get("k", 2));
  assert.deepEqual([before[0], after[0]], [1, 2]);
  assert.deepEqual(calls, ["./blob?key=k&wall_time=1", "./blob?key=k&wall_time=2"]);
});

test("sameFrame: a re-read step list keeps a drawn step when its blobs and wall time are unchanged", async () => {
  const { sameFrame } = await import("../src/components/card");
  const a = { step: 5, wall_time: 1, images: { blobs: ["i0"] }, maps: [{ blob: "m" }] } as never;
  const b = { step: 5, wall_time: 1, images: { blobs: ["i0"] }, maps: [{ blob: "m" }] } as never;
  const c = { step: 5, wall_time: 1, images: { blobs: ["i0"] }, maps: [{ blob: "other" }] } as never;
  // The run was deleted and written again: the same keys now name new bytes.
  const rewritten = { step: 5, wall_time: 2, images: { blobs: ["i0"] }, maps: [{ blob: "m" }] } as never;
  assert.equal(sameFrame(a, b), true);
  assert.equal(sameFrame(a, c), false);
  assert.equal(sameFrame(a, rewritten), false);
  assert.equal(sameFrame(a, { step: 6, wall_time: 1 } as never), false);
  assert.equal(sameFrame(a, { step: 5, wall_time: 1, error: "x" } as never), false);
});
