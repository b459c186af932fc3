import assert from "node:assert/strict";
import { test } from "node:test";
import type { StepEntry, StepsResponse } from "../src/api";
import { extremaOf, StepStore } from "../src/data/step_store";
import { StepCursor, indexForStep, keyMove } from "../src/model/cursor";

function entry(step: number, min = 0, max = step): StepEntry {
  return {
    step,
    wall_time: 1000 + step,
    index: { num_samples: 2, frames_written: 1, steps_written: 1, wrong_predictions: 0, arrays: [{ key: "gradcam", stage: "", min, max, metrics: {} }] },
  };
}

function response(steps: number[], extra: Partial<StepsResponse> = {}): StepsResponse {
  return {
    run: "r",
    tag: "t",
    kind: "saliency",
    class_names: [],
    token: `tok${steps.join(",")}`,
    append: false,
    steps: steps.map((s) => entry(s)),
    written: { frames: steps.length, steps: steps.length },
    sampling: { limit: null, stored: steps.length },
    ranges: [],
    ...extra,
  };
}

test("a card opens on the newest step and follows new ones", () => {
  const c = new StepCursor();
  assert.equal(c.index, -1);
  c.apply(response([0, 10, 20]));
  assert.equal(c.current?.step, 20);
  c.apply(response([0, 10, 20, 30]));
  assert.equal(c.current?.step, 30, "on the newest step, it follows");
});

test("a card the user moved back keeps its step when new steps arrive, or the latest before it", () => {
  const c = new StepCursor();
  c.apply(response([0, 10, 20]));
  assert.equal(c.move("first"), true);
  assert.equal(c.move("first"), false, "no change, no reload");
  c.move("next");
  assert.equal(c.current?.step, 10);
  c.apply(response([0, 10, 20, 30]));
  assert.equal(c.current?.step, 10);
  // Sampling dropped step 10: the card shows the latest stored step before it.
  c.apply(response([0, 20, 30]));
  assert.equal(c.current?.step, 0);
});

test("a /steps answer with append adds only the new steps to those the token named", () => {
  const c = new StepCursor();
  c.apply(response([0, 10]));
  assert.equal(c.token, "tok0,10");
  c.apply({ ...response([20, 30]), append: true });
  assert.deepEqual(c.steps.map((s) => s.step), [0, 10, 20, 30]);
  assert.equal(c.current?.step, 30);
  // A full answer (append false) replaces the list.
  c.apply(response([5]));
  assert.deepEqual(c.steps.map((s) => s.step), [5]);
});

test("the newest step /tags names is drawn before /steps answers, then replaced by the list", () => {
  const c = new StepCursor();
  c.provisional(20, 1020);
  assert.equal(c.current?.step, 20);
  assert.equal(c.known, false);
  c.apply(response([0, 10, 20]));
  assert.equal(c.current?.step, 20);
  assert.equal(c.count, 3);
  c.provisional(99, 1);
  assert.equal(c.count, 3, "ignored once steps are known");
});

test("linked steps: a step asked for before the list is known is kept until it is", () => {
  const c = new StepCursor();
  assert.equal(c.showStep(10), false);
  c.apply(response([0, 10, 20]));
  assert.equal(c.current?.step, 10);
  assert.equal(c.showStep(15), false, "the latest stored step at or before 15 is 10: no change");
  assert.equal(c.showStep(25), true);
  assert.equal(c.current?.step, 20);
});

test("per-tag extrema come from the index of every stored step that has one", () => {
  const c = new StepCursor();
  const r = response([0, 10]);
  r.steps[0] = entry(0, -1, 2);
  r.steps[1] = { step: 10, wall_time: 1, index: null };
  c.apply(r);
  assert.deepEqual(c.extrema("gradcam"), { mins: [-1], maxs: [2] });
  assert.deepEqual(c.extrema("other"), { mins: [], maxs: [] });
  // The step list's own ranges win: they cover every stored step, appended ones too.
  c.apply({ ...r, ranges: [{ key: "gradcam", stage: "", min: -5, max: 9 }] });
  assert.deepEqual(c.extrema("gradcam"), { mins: [-5], maxs: [9] });
});

test("keys and indexForStep", () => {
  assert.equal(keyMove("ArrowLeft"), "prev");
  assert.equal(keyMove("ArrowUp"), "next");
  assert.equal(keyMove("End"), "last");
  assert.equal(keyMove("a"), null);
  const steps = [{ step: 0 }, { step: 10 }, { step: 30 }];
  assert.equal(indexForStep(steps, 10), 1);
  assert.equal(indexForStep(steps, 29), 1);
  assert.equal(indexForStep(steps, 1000), 2);
  assert.equal(indexForStep(steps, -5), 0);
  assert.equal(indexForStep([], 3), -1);
});

test("the step store hands the enlarged view a card's step list while the card knows it", async () => {
  const store = new StepStore();
  const c = new StepCursor();
  c.apply(response([1, 2], { class_names: ["cat", "dog"], ranges: [{ key: "gradcam", stage: "", min: -3, max: 4 }] }));
  store.follow("r", "t", c);
  const list = await store.stepList("r", "t");
  assert.deepEqual(list.steps.map((s) => s.step), [1, 2]);
  assert.deepEqual(list.classNames, ["cat", "dog"]);
  assert.deepEqual(list.extrema("gradcam", ""), { mins: [-3], maxs: [4] });
  // A card that has not read its list yet is not asked: the store reads /steps itself (no server here).
  store.follow("r", "u", new StepCursor());
  await assert.rejects(store.stepList("r", "u"));
});

test("extremaOf: the step list's ranges when it has them, else every step's index", () => {
  const steps = [entry(1, -1, 2), entry(2, 0, 5)];
  assert.deepEqual(extremaOf(steps, [], "gradcam"), { mins: [-1, 0], maxs: [2, 5] });
  assert.deepEqual(extremaOf(steps, [{ key: "gradcam", stage: "", min: -9, max: 9 }], "gradcam"), { mins: [-9], maxs: [9] });
  assert.deepEqual(extremaOf(steps, undefined, "gradcam", "logits"), { mins: [], maxs: [] });
});
