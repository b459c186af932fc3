// The step store asks one /step_data per step (header and blobs together), caches the decoded step,
// remembers a step that cannot be shown (as the backend said or as decoding found), and lets a prefetched step jump the queue when asked for.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { StepEntry } from "../src/api";
import { RequestQueue } from "../src/data/queue";
import { StepStore } from "../src/data/step_store";

const DIR = path.resolve("test/fixtures");

function body(name: string): ArrayBuffer {
  const b = fs.readFileSync(path.join(DIR, "step_data", `${name}.bin`));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

test("a step is one /step_data request, decoded once; a step that cannot be shown is asked once", async () => {
  const asked: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = (async (url: string) => {
    asked.push(url);
    const name = url.includes("tag=damaged") ? "error_damaged" : "activations";
    return new Response(body(name), { status: 200 });
  }) as typeof fetch;
  try {
    const store = new StepStore();
    const entry: StepEntry = { step: 0, wall_time: 1, index: null };
    const [a, b] = await Promise.all([store.step("demo", "probe/activations", entry, "activations"), store.step("demo", "probe/activations", entry, "activations")]);
    assert.equal(a, b);
    assert.ok(a.activations && a.activations.blocks.length === a.numSamples);
    assert.deepEqual(asked, ["./step_data?run=demo&tag=probe%2Factivations&step=0"]);
    for (let i = 0; i < 2; i++) await assert.rejects(store.step("broken", "damaged", entry, "saliency"), /this frame cannot be shown/);
    assert.equal(asked.filter((u) => u.includes("damaged")).length, 1);
    assert.equal(store.stepFetches, 2);
    assert.equal(store.blobs.fetches, 0, "no /blob request");
  } finally {
    globalThis.fetch = original;
  }
});

test("a step the dashboard itself cannot decode is asked once: asking again gives the same error at once", async () => {
  let asked = 0;
  const original = globalThis.fetch;
  globalThis.fetch = (async () => {
    asked++;
    return new Response(body("activations"), { status: 200 });
  }) as typeof fetch;
  try {
    const store = new StepStore();
    const entry: StepEntry = { step: 0, wall_time: 1, index: null };
    // The tag says saliency, the step's header activations: loadStep refuses it, not the backend.
    for (let i = 0; i < 2; i++) {
      await assert.rejects(store.step("demo", "probe/activations", entry, "saliency"), /header says it holds activations data, but the tag holds saliency data/);
    }
    assert.equal(asked, 1);
    assert.equal(store.stepFetches, 1);
  } finally {
    globalThis.fetch = original;
  }
});

test("a waiting request made more urgent runs before those it now outranks", async () => {
  const queue = new RequestQueue(1, 1);
  const order: string[] = [];
  let release = (): void => undefined;
  const first = queue.run(0, () => new Promise<void>((r) => (release = r)));
  const later = queue.runPromotable(2, async () => void order.push("prefetch"));
  const near = queue.run(1, async () => void order.push("near"));
  later.promote(0);
  release();
  await Promise.all([first, later.promise, near]);
  assert.deepEqual(order, ["prefetch", "near"]);
});
