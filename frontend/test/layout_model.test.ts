import assert from "node:assert/strict";
import { test } from "node:test";
import { buildGroups, cardKey, groupOf, pageOf, parseSamples, shownSamples } from "../src/model/layout";
import { MethodColors, RunColors, TB_PALETTE, distinctSlots } from "../src/model/run_colors";

test("tag groups are TensorBoard's: the prefix before the first '/'", () => {
  assert.equal(groupOf("train/probe/gradcam"), "train");
  assert.equal(groupOf("probe"), "probe");
  assert.equal(groupOf("/odd"), "/odd");
});

test("cards group by tag prefix, sorted by tag then run order; pinned cards leave their group", () => {
  const tags: Record<string, string[]> = { b: ["val/x", "train/y", "solo"], a: ["train/y", "val/x"] };
  const { pinned, groups } = buildGroups(["b", "a"], (r) => tags[r], () => true, [cardKey("a", "val/x")]);
  assert.deepEqual(pinned.map((c) => [c.run, c.tag]), [["a", "val/x"]]);
  assert.deepEqual(groups.map((g) => g.name), ["solo", "train", "val"]);
  assert.deepEqual(groups[1].cards.map((c) => c.run), ["b", "a"], "run order, not alphabetical");
  assert.deepEqual(groups[2].cards.map((c) => c.run), ["b"]);
  const filtered = buildGroups(["b", "a"], (r) => tags[r], (t) => t.startsWith("train"), []);
  assert.deepEqual(filtered.groups.map((g) => g.name), ["train"]);
  assert.notEqual(cardKey("a\u0000b", "c"), cardKey("a", "\u0000bc"), "keys never collide");
});

test("pages of a group", () => {
  const items = Array.from({ length: 25 }, (_, i) => i);
  assert.deepEqual(pageOf(items, 0, 12), { items: items.slice(0, 12), page: 0, pages: 3, first: 0 });
  assert.deepEqual(pageOf(items, 2, 12).items, [24]);
  assert.equal(pageOf(items, 9, 12).page, 2, "clamped to the last page");
  assert.equal(pageOf([], 0, 12).pages, 1);
});

test("the sample picker reads indices and ranges, and says what it cannot read", () => {
  assert.deepEqual(parseSamples(""), { samples: null, error: null });
  assert.deepEqual([...parseSamples(" 0, 2-4 ,7").samples!], [0, 2, 3, 4, 7]);
  assert.match(parseSamples("1, x").error!, /"x" is not a sample number/);
  assert.match(parseSamples("5-2").error!, /runs backwards/);
  const wrong = (i: number) => i % 2 === 1;
  assert.deepEqual(shownSamples(6, null, false, wrong), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(shownSamples(6, new Set([1, 2, 9]), false, wrong), [1, 2]);
  assert.deepEqual(shownSamples(6, new Set([1, 2]), true, wrong), [1]);
});

test("run colours: TensorBoard's palette in its run order, light or dark, stable as runs appear", () => {
  const colors = new RunColors();
  colors.assign(["b-run", "a-run", "c-run"]); // /data/runs order: by start time, then name
  assert.equal(colors.color("b-run", false), "#425066");
  assert.equal(colors.color("a-run", false), "#12b5cb");
  assert.equal(colors.color("c-run", false), "#e52592");
  assert.equal(colors.color("b-run", true), "#8e98a3", "Slate has a dark variant");
  colors.assign(["new", "b-run", "a-run", "c-run"]);
  assert.equal(colors.color("b-run", false), "#425066", "a run keeps its colour");
  assert.equal(colors.id("new"), 3);
  for (let i = 0; i < 10; i++) colors.id(`r${i}`);
  assert.equal(colors.color("r4", false), TB_PALETTE[(4 + 4) % 7].light, "the palette wraps around");
});

test("one chart never draws two keys in one colour while palette slots remain", () => {
  const methods = new MethodColors();
  const keys = Array.from({ length: 12 }, (_, i) => `method${i}`);
  methods.assign(keys);
  // method0 and method10 share slot 0 across the experiment; a chart of both moves the later one.
  const slots = distinctSlots(["method0", "method10", "method1"], (k) => methods.color(k));
  assert.deepEqual([...slots.entries()], [["method0", 0], ["method10", 2], ["method1", 1]]);
  // Keys that do not collide keep their own slots, so a key looks the same in every chart.
  assert.deepEqual([...distinctSlots(["method3", "method1"], (k) => methods.color(k)).values()], [3, 1]);
});
