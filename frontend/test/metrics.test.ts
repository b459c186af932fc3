// The DOM-free side of the metrics in the tab: labels and directions, sorting and filtering samples
// by a metric, the means over steps the charts plot, and the curves of the enlarged view; the
// randomisation figure's rows and columns; the charts' scales. The golden fixtures (written by
// Python) feed the step list and frame parts.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { FrameResponse, Metric, StepsResponse } from "../src/api";
import { cascadeLayout } from "../src/model/cascade";
import { integerTicks, nearestIndex, niceDomain, niceTicks, Scale, stepDomain, tickText } from "../src/model/chart";
import {
  arrangeSamples,
  curveAxisLabel,
  curveMetrics,
  curvePoints,
  describeMetric,
  formatMetric,
  metricColumn,
  metricMeta,
  metricOptionsText,
  metricsOverSteps,
  nextSample,
  orderSamples,
  sampleCurves,
  sortLabel,
  sortOption,
  trapezoid,
} from "../src/model/metrics";

const DIR = path.resolve("test/fixtures/responses");
const body = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(DIR, name), "utf8")).body as T;

function metric(name: string, values: number[], curve: number[][] | null = null, options: Record<string, unknown> = {}): Metric {
  return { name, values, curve, options };
}

function column(key: string, metrics: Record<string, Metric>, stage = "") {
  return { name: stage ? `${key} @ ${stage}` : key, info: { key, stage, metrics } };
}

test("metrics are named in full with their direction; unknown ones still show", () => {
  assert.equal(metricMeta("deletion").direction, "lower");
  assert.equal(metricMeta("insertion").direction, "higher");
  assert.equal(metricMeta("pointing_game").hit, true);
  assert.deepEqual(metricMeta("energy_pointing_game").bounds, [0, 1]);
  assert.equal(metricMeta("spearman").direction, "lower", "low correlation passes the sanity check");
  const other = metricMeta("a_metric_from_a_newer_writer");
  assert.equal(other.direction, null);
  assert.ok(other.short.length <= 8);
  assert.equal(metricMeta("constructor").full, "constructor", "no prototype lookups");
});

test("short values under a tile: two decimals, ✓ and ✗ for the pointing game", () => {
  assert.equal(formatMetric(metricMeta("deletion"), 0.21345), "0.21");
  assert.equal(formatMetric(metricMeta("deletion"), 1.5), "1.50");
  assert.equal(formatMetric(metricMeta("deletion"), 0.0012345), "0.00123");
  assert.equal(formatMetric(metricMeta("deletion"), 0), "0");
  assert.equal(formatMetric(metricMeta("deletion"), NaN), "–");
  assert.equal(formatMetric(metricMeta("pointing_game"), 1), "✓");
  assert.equal(formatMetric(metricMeta("pointing_game"), 0), "✗");
});

test("tooltips say the direction and the options a user chose, not the internals", () => {
  const options = { relative: true, steps: 10, baseline: "zeros", score: "probability", memory_limit: 67108864, copies_per_pass: 10 };
  const text = metricOptionsText("deletion", options);
  assert.match(text, /relative/);
  assert.match(text, /10 steps/);
  assert.match(text, /baseline zeros/);
  assert.doesNotMatch(text, /memory|copies/);
  assert.match(metricOptionsText("deletion", { steps: 20 }), /probability/);
  assert.equal(metricOptionsText("pointing_game", { tolerance: 2, region: "masks" }), "tolerance 2 px, object from masks");
  const lines = describeMetric("deletion", 0.41446, options);
  assert.equal(lines[0], "deletion AUC: 0.4145 (lower is better)");
  assert.match(lines[1], /relative/);
  assert.equal(describeMetric("pointing_game", 0, {})[0], "pointing game: miss (higher is better)");
  assert.equal(describeMetric("insertion", null)[0], "insertion AUC: not logged (higher is better)");
});

test("samples sort worst first by each metric's direction, missing values last, ties stable", () => {
  const del = [0.3, 0.9, 0.1, NaN, 0.9];
  const value = (i: number) => (Number.isFinite(del[i]) ? del[i] : null);
  assert.deepEqual(orderSamples([0, 1, 2, 3, 4], value, "deletion", "worst"), [1, 4, 0, 2, 3], "deletion: highest AUC is worst");
  assert.deepEqual(orderSamples([0, 1, 2, 3, 4], value, "deletion", "best"), [2, 0, 1, 4, 3]);
  assert.deepEqual(orderSamples([0, 1, 2, 3, 4], value, "insertion", "worst"), [2, 0, 1, 4, 3], "insertion: lowest AUC is worst");
  const pg = [1, 0, 1, 0];
  assert.deepEqual(orderSamples([0, 1, 2, 3], (i) => pg[i], "pointing_game", "worst"), [1, 3, 0, 2], "misses first");
  assert.equal(sortLabel("deletion", "worst"), "worst deletion AUC first (highest)");
  assert.equal(sortLabel("insertion", "worst"), "worst insertion AUC first (lowest)");
  assert.equal(sortLabel("pointing_game", "worst"), "pointing game misses first");
  assert.equal(sortOption("deletion", "worst"), "Worst deletion first");
  assert.equal(sortOption("pointing_game", "worst"), "Pointing-game misses first");
  assert.equal(sortOption("energy_pointing_game", "best"), "Best energy first");
});

test("sorting and filtering pick the chosen map's metric, or the first map that logs it", () => {
  const maps = [
    column("gradient", { deletion: metric("deletion", [0.5, 0.2, 0.8, 0.4]) }),
    column("gradcam", { deletion: metric("deletion", [0.1, 0.9, 0.3, 0.6]), pointing_game: metric("pointing_game", [1, 0, 0, 1]) }),
  ];
  assert.equal(metricColumn(maps, "deletion", "")?.info.key, "gradient");
  assert.equal(metricColumn(maps, "pointing_game", "")?.info.key, "gradcam");
  assert.equal(metricColumn(maps, "deletion", "gradcam")?.info.key, "gradcam");
  assert.equal(metricColumn(maps, "deletion", "absent"), null);
  const base = { metric: "", order: "worst" as const, map: "", onlyMissed: false };
  assert.deepEqual(arrangeSamples([0, 1, 2, 3], maps, base), { samples: [0, 1, 2, 3], note: null });
  const worst = arrangeSamples([0, 1, 2, 3], maps, { ...base, metric: "deletion", map: "gradcam" });
  assert.deepEqual(worst.samples, [1, 3, 2, 0]);
  assert.match(worst.note!, /gradcam's worst deletion AUC first/);
  // With the other filters: only the samples they left are sorted.
  assert.deepEqual(arrangeSamples([0, 2, 3], maps, { ...base, metric: "deletion" }).samples, [2, 0, 3]);
  const missed = arrangeSamples([0, 1, 2, 3], maps, { ...base, onlyMissed: true, metric: "deletion", map: "gradcam" });
  assert.deepEqual(missed.samples, [1, 2]);
  assert.match(missed.note!, /missed the pointing game \(2 of 4\)/);
  const none = arrangeSamples([0, 1], maps, { ...base, onlyMissed: true, map: "gradient" });
  assert.deepEqual(none.samples, [0, 1], "a map without the pointing game filters nothing");
  assert.match(none.note!, /No map gradient of this step logs the pointing game/);
  assert.match(arrangeSamples([0], maps, { ...base, metric: "insertion" }).note!, /logs the insertion AUC: samples in their order/);
  // A step without any metric says nothing (its tiles have no metric row either).
  assert.deepEqual(arrangeSamples([1, 0], [column("gradient", {})], { ...base, metric: "deletion", onlyMissed: true }), { samples: [1, 0], note: null });
  // Unless other steps of its tag log metrics: then it says why nothing is sorted or filtered.
  assert.deepEqual(arrangeSamples([1, 0], [column("gradient", {})], { ...base, onlyMissed: true, tagLogsMetrics: true }),
                   { samples: [1, 0], note: "This step logs no metrics: every sample shown, in order." });
  assert.equal(arrangeSamples([1, 0], [column("gradient", {})], { ...base, tagLogsMetrics: true }).note, null,
               "nothing asked, nothing said");
  // Randomised stages are not the map of the card.
  assert.equal(metricColumn([column("gradcam", { deletion: metric("deletion", [1]) }, "head")], "deletion", ""), null);
});

test("means over steps from the step list's index: one line per map key, steps without an index skipped", () => {
  const steps = body<StepsResponse>("steps_metrics.json").steps;
  const series = metricsOverSteps(steps);
  assert.deepEqual(series.map((s) => s.metric), ["deletion", "pointing_game"]);
  const deletion = series[0].lines.get("")!;
  assert.deepEqual(deletion.map((l) => l.key), ["integrated_gradients"]);
  assert.deepEqual(deletion[0].points, [
    { x: 5, y: 0.375, index: 0 },
    { x: 15, y: 1.375, index: 1 },
  ]);
  const gapped = metricsOverSteps([{ ...steps[0], index: null }, steps[1]]);
  assert.deepEqual(gapped[0].lines.get("")![0].points.map((p) => [p.x, p.index]), [[15, 1]]);
  // A step written twice (a resumed run, Python loader) is one point: its first entry's, the frame served.
  const resumed = metricsOverSteps([steps[0], steps[1], { ...steps[0], index: steps[1].index }]);
  assert.deepEqual(resumed[0].lines.get("")![0].points, [
    { x: 5, y: 0.375, index: 0 },
    { x: 15, y: 1.375, index: 1 },
  ]);
});

test("a randomisation tag's step list gives one Spearman line per stage", () => {
  const series = metricsOverSteps(body<StepsResponse>("steps_randomisation.json").steps);
  assert.deepEqual(series.map((s) => s.metric), ["spearman"]);
  assert.deepEqual(series[0].stages, ["head", "features"]);
  assert.deepEqual(series[0].lines.get("features")![0].points.map((p) => p.y), [-0.0625, -0.0625]);
});

test("deletion and insertion curves: x is k/steps, the trapezoid of the points is the AUC", () => {
  const frame = body<FrameResponse>("frame_metrics.json");
  const maps = frame.maps.map((m) => ({ name: m.key, info: m }));
  assert.deepEqual(curveMetrics(maps), ["deletion"], "the pointing game has no curve");
  const [c] = sampleCurves(maps, "deletion", 1);
  assert.equal(c.key, "integrated_gradients");
  assert.deepEqual(c.points, [
    { x: 0, y: 0.75 },
    { x: 0.5, y: 0.5 },
    { x: 1, y: 0 },
  ]);
  assert.equal(c.auc, 1.5, "the AUC as logged (the fixture's are made up)");
  assert.equal(trapezoid(c.points), 0.4375);
  // The demo's deletion curves: 11 points, and their trapezoid is the logged AUC.
  const curve = [1, 0.9, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2, 0.1, 0.05, 0];
  const pts = curvePoints(curve);
  assert.equal(pts.length, 11);
  assert.equal(pts[10].x, 1);
  assert.ok(Math.abs(trapezoid(pts) - 0.39) < 1e-12);
  assert.deepEqual(curvePoints([1]), [], "one point is no curve");
  assert.deepEqual(curvePoints([1, NaN]), []);
  assert.equal(curveAxisLabel({ relative: true }), "probability ÷ clean input's");
  assert.equal(curveAxisLabel({}), "probability of the target");
  assert.equal(curveAxisLabel({ score: "raw" }), "target score (raw)");
});

test("the randomisation figure: the original model, then each stage in the test's order; ρ per cell", () => {
  const frame = body<FrameResponse>("frame_randomisation.json");
  const layout = cascadeLayout(frame.maps, frame.randomisation);
  assert.deepEqual(layout.keys, ["gradcam"]);
  assert.deepEqual(layout.stages.map((s) => s.stage), ["", "head", "features"]);
  assert.equal(layout.stages[0].label, "original model");
  assert.match(layout.stages[2].detail, /with the 1 layer above it/, "cascading: cumulative");
  assert.equal(layout.cell("gradcam", "features"), 2);
  assert.equal(layout.cell("gradcam", "absent"), -1);
  assert.equal(layout.rho("gradcam", "features", 1), -0.25);
  assert.equal(layout.rho("gradcam", "", 0), null, "the original has no correlation with itself logged");
  const independent = cascadeLayout(frame.maps, { ...frame.randomisation!, order: "independent" });
  assert.equal(independent.stages[2].detail, "re-initialised alone");
  // Stages the maps name but the test does not list still get a row, after the listed ones.
  const odd = cascadeLayout([...frame.maps, { key: "gradcam", stage: "extra" }], frame.randomisation);
  assert.deepEqual(odd.stages.map((s) => s.stage), ["", "head", "features", "extra"]);
});

test("chart scales: round ticks, bounded metrics keep their bounds, steps stay integers", () => {
  assert.deepEqual(niceTicks(0, 1, 4), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.13, 0.87, 4), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceDomain(0.13, 0.87), [0, 1]);
  assert.deepEqual(niceDomain(0.3, 0.9, [0, 1]), [0, 1], "a share stays in [0, 1]");
  assert.deepEqual(niceDomain(0.42, 0.42), [0.21, 0.63], "a single value gets room");
  assert.deepEqual(niceDomain(0.26, 1.38), [0.2, 1.4]);
  assert.deepEqual(integerTicks(0, 300, 4), [0, 100, 200, 300]);
  assert.deepEqual(integerTicks(1, 5, 4), [1, 2, 3, 4, 5]);
  assert.deepEqual(integerTicks(299, 301, 4), [299, 300, 301]);
  assert.deepEqual(stepDomain([300]), [299, 301]);
  assert.deepEqual(stepDomain([1, 30, 300]), [1, 300]);
  const x = new Scale(0, 300, 40, 280);
  assert.equal(x.map(150), 160);
  assert.equal(x.invert(160), 150);
  const y = new Scale(0, 1, 120, 10);
  assert.equal(y.map(1), 10, "y grows upwards");
  assert.equal(nearestIndex([1, 30, 60, 90], 44), 1);
  assert.equal(nearestIndex([1, 30, 60, 90], 46), 2);
  assert.equal(nearestIndex([], 3), -1);
  assert.equal(tickText(0.2, [0, 0.2, 0.4]), "0.2");
  assert.equal(tickText(0.25, [0, 0.25, 0.5]), "0.25");
  assert.equal(tickText(300, [0, 100]), "300");
  assert.equal(tickText(1, [0.8, 1]), "1.0", "one number of decimals on an axis");
  assert.equal(tickText(0, [0, 0.5, 1]), "0.0");
});

test("tick labels in exponent form stay distinct: steps in the millions, a metric that barely moves", () => {
  for (const ticks of [niceTicks(2_500_000, 2_600_000), niceTicks(999_000, 1_001_000), niceTicks(0.21, 0.21015),
                       niceTicks(1e-5, 3e-5)]) {
    const labels = ticks.map((v) => tickText(v, ticks));
    assert.equal(new Set(labels).size, labels.length, labels.join(" "));
  }
  assert.equal(tickText(2_550_000, [2_500_000, 2_550_000]), "2.55e+6");
  assert.equal(tickText(2e-5, [1e-5, 2e-5]), "2.0e-5");
});

test("↑ ↓ in the enlarged view follow the card's order of samples, and indices outside it", () => {
  const order = [3, 0, 2]; // worst deletion first, sample 1 filtered out
  assert.equal(nextSample(3, 1, 4, order), 0);
  assert.equal(nextSample(0, 1, 4, order), 2);
  assert.equal(nextSample(2, 1, 4, order), 2, "stops at the end of the card's order");
  assert.equal(nextSample(3, -1, 4, order), 3, "and at its start");
  assert.equal(nextSample(1, 1, 4, order), 2, "a sample the card does not show moves by index");
  assert.equal(nextSample(0, 1, 4, null), 1);
  assert.equal(nextSample(3, 1, 4, null), 3);
});
