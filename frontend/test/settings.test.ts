import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULTS, STORAGE_KEY, compileFilter, loadSettings, sanitize, saveSettings, withSign } from "../src/settings";

function memoryStore() {
  const data = new Map<string, string>();
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), data };
}

// Clipping at the 99th percentile by default: raw gradients have a few extreme pixels that would
// otherwise set the top of the colour scale and leave the rest of the map dark.
test("defaults: overlay, viridis, 50 % opacity, per-map scale clipped at the 99th percentile, bilinear", () => {
  const s = sanitize(undefined);
  assert.equal(s.view, "overlay");
  assert.equal(s.colormap, "viridis");
  assert.equal(s.opacity, 50);
  assert.equal(s.scope, "map");
  assert.equal(s.clip, "percentile");
  assert.equal(s.percentile, 99);
  assert.equal(s.upsampling, "bilinear");
});

test("settings persist and come back", () => {
  const store = memoryStore();
  const s = { ...DEFAULTS, view: "masked" as const, opacity: 80, hiddenRuns: ["a"], runFilter: "x.*" };
  saveSettings(store, s);
  assert.ok(store.data.has(STORAGE_KEY));
  assert.deepEqual(loadSettings(store), s);
});

test("stored garbage falls back to defaults field by field", () => {
  const store = memoryStore();
  store.setItem(STORAGE_KEY, JSON.stringify({ view: "<img>", colormap: "nope", opacity: 400, sign: "signed", hiddenRuns: [1, "r"] }));
  const s = loadSettings(store);
  assert.equal(s.view, "overlay");
  assert.equal(s.colormap, "viridis");
  assert.equal(s.opacity, 100);
  assert.equal(s.sign, "signed");
  assert.deepEqual(s.hiddenRuns, ["r"]);
  store.setItem(STORAGE_KEY, "{not json");
  assert.deepEqual(loadSettings(store), sanitize({}));
  const broken = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("full"); } };
  assert.deepEqual(loadSettings(broken), sanitize({}));
  saveSettings(broken, DEFAULTS); // does not throw
});

test("signed maps switch to a diverging colormap and back", () => {
  const signed = withSign({ ...DEFAULTS }, "signed");
  assert.equal(signed.colormap, "coolwarm");
  assert.equal(withSign({ ...DEFAULTS, colormap: "RdBu" }, "signed").colormap, "RdBu");
  assert.equal(withSign(signed, "absolute").colormap, "viridis");
  assert.equal(withSign({ ...DEFAULTS, colormap: "magma" }, "positive").colormap, "magma");
});

test("an invalid regex is reported, not thrown", () => {
  assert.deepEqual(compileFilter(""), { regex: null, error: null });
  assert.ok(compileFilter("run[12]").regex?.test("RUN1"), "case-insensitive");
  const bad = compileFilter("(unclosed");
  assert.equal(bad.regex, null);
  assert.match(bad.error ?? "", /.+/);
});

test("layout settings: pins, wide cards, collapsed groups, page size and sample filters validate", () => {
  const s = sanitize({ pinned: ["a", 3, "a", "b"], wide: "x", collapsed: ["train"], pageSize: 1000, samples: 7, onlyWrong: "yes" });
  assert.deepEqual(s.pinned, ["a", "b"], "strings only, once each, in order");
  assert.deepEqual(s.wide, []);
  assert.deepEqual(s.collapsed, ["train"]);
  assert.equal(s.pageSize, 100, "clamped");
  assert.equal(sanitize({ pageSize: 2.6 }).pageSize, 3);
  assert.equal(s.samples, "");
  assert.equal(s.onlyWrong, false);
  assert.equal(DEFAULTS.pageSize, 12, "TensorBoard's own page size");
});

test("metric settings: sort, order, map, pointing-game misses and charts validate and persist", () => {
  const d = sanitize({});
  assert.deepEqual([d.sortMetric, d.sortOrder, d.metricMap, d.onlyMissed, d.charts], ["", "worst", "", false, true], "sample order, charts on");
  const bad = sanitize({ sortMetric: 3, sortOrder: "sideways", metricMap: null, onlyMissed: "yes", charts: 0 });
  assert.deepEqual([bad.sortMetric, bad.sortOrder, bad.metricMap, bad.onlyMissed, bad.charts], ["", "worst", "", false, true]);
  const store = memoryStore();
  saveSettings(store, { ...DEFAULTS, sortMetric: "deletion", sortOrder: "best", metricMap: "gradcam", onlyMissed: true, charts: false });
  const back = loadSettings(store);
  assert.deepEqual([back.sortMetric, back.sortOrder, back.metricMap, back.onlyMissed, back.charts], ["deletion", "best", "gradcam", true, false]);
});
