import assert from "node:assert/strict";
import { test } from "node:test";
import { blobUrl, exportUrl, frameUrl, reviveNonFinite, stepsUrl, type FrameResponse, type MapBlock } from "../src/api";
import { BlobStore, isPng, PNG_SIGNATURE } from "../src/data/blobs";
import { Lru } from "../src/data/lru";
import { frameProblem, loadStep, mapColumn } from "../src/data/step_data";
import { className, factPairs, isWrong } from "../src/model/samples";
import { f16Bytes } from "./helpers";

test("URLs are relative and encode untrusted names", () => {
  assert.equal(stepsUrl("a b&c", "x/y?z"), "./steps?run=a%20b%26c&tag=x%2Fy%3Fz");
  assert.equal(stepsUrl("r", "t", "12:9f"), "./steps?run=r&tag=t&token=12%3A9f");
  assert.equal(frameUrl("r", "t", 300), "./frame?run=r&tag=t&step=300");
  assert.equal(exportUrl("r#", "t", 3), "./export?run=r%23&tag=t&step=3");
  assert.equal(blobUrl("k+=/", 1795660800.5), "./blob?key=k%2B%3D%2F&wall_time=1795660800.5");
});

test("non-finite floats come back from TensorBoard's JSON strings", () => {
  const parsed = JSON.parse('{"a": "NaN", "b": ["Infinity", "-Infinity", 1], "c": "text"}', reviveNonFinite);
  assert.ok(Number.isNaN(parsed.a));
  assert.deepEqual(parsed.b, [Infinity, -Infinity, 1]);
});

test("the LRU keeps its budget, evicting the least recently used", () => {
  const evicted: string[] = [];
  const lru = new Lru<number>(10, (k) => evicted.push(k));
  lru.set("a", 1, 4);
  lru.set("b", 2, 4);
  lru.get("a");
  lru.set("c", 3, 4);
  assert.deepEqual(evicted, ["b"]);
  assert.equal(lru.total, 8);
  lru.resize("c", 9);
  assert.deepEqual(evicted, ["b", "a"]);
  assert.equal(lru.total, 9);
  assert.equal(lru.get("c"), 3, "the entry just resized stays");
});

const PNG = new Uint8Array([...PNG_SIGNATURE, 1, 2, 3]).buffer;

test("a blob is fetched once however often it is asked for; a failure is retried; a rewritten run's is new", async () => {
  const calls: string[] = [];
  let fail = true;
  const store = new BlobStore(async (key, t) => {
    calls.push(`${key}@${t}`);
    if (key === "bad" && fail) throw new Error("boom");
    return new ArrayBuffer(4);
  });
  await Promise.all([store.get("k", 1), store.get("k", 1), store.get("k", 1)]);
  assert.deepEqual(calls, ["k@1"]);
  await store.get("k", 2);
  assert.deepEqual(calls, ["k@1", "k@2"], "same key, new wall time: fetched anew");
  await assert.rejects(store.get("bad", 1));
  fail = false;
  await store.get("bad", 1);
  assert.equal(calls.filter((c) => c.startsWith("bad")).length, 2);
});

test("an input image must be a PNG that decodes: anything else is an error message", async () => {
  const store = new BlobStore(
    async (key) => (key === "png" || key === "broken" ? PNG : new TextEncoder().encode("GIF89a...").buffer),
    async (bytes) => {
      if (new Uint8Array(bytes)[8] === 1 && bytes.byteLength === 11) return { width: 1, height: 1, image: null };
      throw new Error("bad data");
    },
  );
  assert.ok(isPng(PNG));
  assert.deepEqual((await store.image("png", 0)).width, 1);
  await assert.rejects(store.image("gif", 0), /its blob is not a PNG \(9 bytes, starting 47 49 46 38\)/);
});

function mapBlock(extra: Partial<MapBlock> = {}): MapBlock {
  return {
    key: "gradcam", method: "gradcam", layer: "l", stage: "", dtype: "float16", height: 1, width: 2,
    min: [0, 0], max: [2, 1], scale: [2, 1], options: {}, statistics: {}, metrics: {}, blob: "m", ...extra,
  };
}

function frame(extra: Partial<FrameResponse> = {}): FrameResponse {
  return {
    run: "r", tag: "t", step: 3, wall_time: 10, kind: "saliency", num_samples: 2,
    samples: [{ label: 0, prediction: 0 }, { label: 1, prediction: 2 }],
    images: null, maps: [mapBlock()], activations: null, randomisation: null,
    index: { num_samples: 2, frames_written: 1, steps_written: 1, wrong_predictions: 1, arrays: [] }, ...extra,
  };
}

test("frameProblem: what the backend could send that would draw a wrong picture", () => {
  assert.equal(frameProblem(frame(), "saliency"), null);
  assert.match(frameProblem(frame({ kind: "activations" }), "saliency")!, /says it holds activations data, but the tag holds saliency/);
  assert.match(frameProblem(frame({ maps: [mapBlock(), mapBlock()] }), "saliency")!, /two maps named "gradcam"/);
  assert.equal(frameProblem(frame({ maps: [mapBlock(), mapBlock({ stage: "fc" })] }), "randomisation" as never), `this step's header says it holds saliency data, but the tag holds randomisation data`);
  assert.match(frameProblem(frame({ maps: [mapBlock({ height: 0, width: 0 })] }), "saliency")!, /map "gradcam" has an empty shape \(0 × 0; height is 0\)/);
  assert.match(frameProblem(frame({ maps: [mapBlock({ scale: [1] })] }), "saliency")!, /scale lists 1 values for 2 samples/);
  assert.match(frameProblem(frame({ maps: [mapBlock({ scale: [1, 0] })] }), "saliency")!, /scale holds 0, not a positive number/);
  assert.match(frameProblem(frame({ samples: [{}] }), "saliency")!, /lists 1 samples but says it has 2/);
  const images = { width: 4, height: 4, channels: 3, display_transform: "none", blobs: ["a"], wall_time: 1 };
  assert.match(frameProblem(frame({ images }), "saliency")!, /1 input images for 2 samples/);
});

test("a map blob decodes to raw = stored × scale per sample; extra bytes are an error", async () => {
  const col = await mapColumn(mapBlock(), f16Bytes([0x3c00, 0x3800, 0xbc00, 0x3400]), 2);
  assert.deepEqual(col.blocks.map((b) => [b.raw(0, 0), b.raw(1, 0)]), [[2, 1], [-1, 0.25]]);
  await assert.rejects(mapColumn(mapBlock(), f16Bytes([0x3c00, 0x3800, 0xbc00, 0x3400, 0]), 2), /the blob of map "gradcam" holds 10 bytes, 2 bytes more than the 8/);
});

test("loadStep: decoded maps, and an input that is not a PNG becomes a message while the maps still draw", async () => {
  const store = new BlobStore(
    async (key) => (key === "m" ? f16Bytes([0x3c00, 0x3800, 0xbc00, 0x3400]) : key === "img0" ? PNG : new Uint8Array([1, 2, 3]).buffer),
    async () => ({ width: 4, height: 4, image: null }),
  );
  const images = { width: 4, height: 4, channels: 3, display_transform: "none", blobs: ["img0", "img1"], wall_time: 1 };
  const data = await loadStep(frame({ images }), "saliency", store);
  assert.equal(data.maps[0].blocks[0].raw(0, 0), 2);
  assert.notEqual(data.images[0], null);
  assert.equal(data.images[1], null);
  assert.deepEqual(data.problems, ["Sample 1's input image cannot be shown: its blob is not a PNG (3 bytes, starting 01 02 03)"]);
  await assert.rejects(loadStep(frame({ kind: "activations" }), "saliency", store), /the tag holds saliency data/);
});

test("class names and wrong predictions", () => {
  assert.equal(className(1, ["cat", "dog"]), "dog");
  assert.equal(className(5, ["cat", "dog"]), "5");
  assert.equal(className(undefined, ["cat"]), null);
  assert.equal(isWrong({ label: 1, prediction: 2 }), true);
  assert.equal(isWrong({ prediction: 1 }), false);
});

test("a sample's facts: the names asked for, in that order, those it has, class ids by name", () => {
  const sample = { label: 1, target: 0, prediction: 5, score: 0.25 };
  assert.deepEqual(factPairs(sample, ["cat", "dog"], ["label", "target", "pred", "score"]),
                   [["label", "dog"], ["target", "cat"], ["pred", "5"], ["score", "0.25"]]);
  assert.deepEqual(factPairs({ prediction: 0 }, ["cat"], ["label", "pred", "score"]), [["pred", "cat"]]);
  assert.deepEqual(factPairs(undefined, [], ["pred", "score"]), []);
});
