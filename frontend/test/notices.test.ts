import assert from "node:assert/strict";
import { test } from "node:test";
import { stepNotices, type Notice } from "../src/model/notices";

const FLAG = "--samples_per_plugin=saliency=0";
const text = (n: Notice) => n.runs.map((r) => ("code" in r ? `[${r.code}]` : r.text)).join("");

test("sampling that dropped steps names the flag that keeps them", () => {
  const [n, ...rest] = stepNotices({ written: { frames: 31, steps: 31 }, sampling: { limit: 10, stored: 10 } }, FLAG);
  assert.equal(rest.length, 0);
  assert.equal(n.kind, "sampling");
  assert.equal(text(n), `Showing 10 of 31 logged steps: TensorBoard keeps 10 steps of each saliency tag. Start it with [${FLAG}] to keep them all.`);
});

test("a resumed run that logged its steps again is not sampling: no flag, and it says what happened", () => {
  // 6 frames at 4 distinct steps, all 4 stored: nothing was dropped.
  const notices = stepNotices({ written: { frames: 6, steps: 4 }, sampling: { limit: 10, stored: 4 } }, FLAG);
  assert.deepEqual(notices.map((n) => n.kind), ["relogged"]);
  assert.ok(!text(notices[0]).includes(FLAG));
  assert.match(text(notices[0]), /^2 frames logged a step that was already logged \(a run resumed/);
  assert.match(text(notices[0]), /each step shows its newest frame/);
});

test("with every step kept (no limit) the flag is never advised, even when fewer steps are loaded yet", () => {
  const notices = stepNotices({ written: { frames: 12, steps: 12 }, sampling: { limit: null, stored: 9 } }, FLAG);
  assert.deepEqual(notices.map((n) => n.kind), ["loading"]);
  assert.ok(!text(notices[0]).includes(FLAG));
  assert.deepEqual(stepNotices({ written: { frames: 5, steps: 5 }, sampling: { limit: null, stored: 5 } }, FLAG), []);
});

test("both: sampling dropped steps of a run that also re-logged some", () => {
  const notices = stepNotices({ written: { frames: 40, steps: 31 }, sampling: { limit: 10, stored: 10 } }, FLAG);
  assert.deepEqual(notices.map((n) => n.kind), ["sampling", "relogged"]);
  assert.match(text(notices[0]), /Showing 10 of 31 logged steps/);
  assert.match(text(notices[1]), /^9 frames logged/);
});
