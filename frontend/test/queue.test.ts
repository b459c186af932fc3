import assert from "node:assert/strict";
import { test } from "node:test";
import { RequestQueue } from "../src/data/queue";

test("requests run at most `limit` at a time, the most urgent first, in order within a priority", async () => {
  const q = new RequestQueue(2);
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const task = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      gates.set(name, () => resolve(name));
    });
  const all = [q.run(1, task("near-a")), q.run(1, task("near-b")), q.run(1, task("near-c")), q.run(0, task("screen-a")), q.run(0, task("screen-b"))];
  assert.deepEqual(started, ["near-a", "near-b"]);
  gates.get("near-a")!();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, ["near-a", "near-b", "screen-a"]);
  gates.get("near-b")!();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started.slice(3), ["screen-b"]);
  for (const name of ["screen-a", "screen-b"]) gates.get(name)!();
  await new Promise((r) => setTimeout(r, 0));
  gates.get("near-c")!();
  assert.deepEqual(await Promise.all(all), ["near-a", "near-b", "near-c", "screen-a", "screen-b"]);
  assert.equal(q.pending, 0);
});

test("a failed request frees its place", async () => {
  const q = new RequestQueue(1);
  await assert.rejects(q.run(0, () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await q.run(0, async () => 3), 3);
});

test("less urgent requests leave connections free for what is on screen", async () => {
  const q = new RequestQueue(3, 1);
  const started: string[] = [];
  const release: (() => void)[] = [];
  const task = (name: string) => () => new Promise<void>((resolve) => (started.push(name), release.push(resolve)));
  void q.run(1, task("near-a"));
  void q.run(1, task("near-b"));
  void q.run(0, task("screen-a"));
  void q.run(0, task("screen-b"));
  assert.deepEqual(started, ["near-a", "screen-a", "screen-b"], "one connection for the near cards, the rest for the screen");
  release[0]();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, ["near-a", "screen-a", "screen-b", "near-b"]);
});
