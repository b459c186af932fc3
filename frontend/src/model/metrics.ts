// What the logged metrics mean and how the dashboard uses them, without any DOM: short and full
// names, which direction is better, the options worth saying, per-sample values of a map, samples
// sorted and filtered by a metric, the means over steps that the charts plot, and the deletion and
// insertion curves of one sample. Metric names and options come from the logs: everything here is
// plain data, rendered as text by the components.

import type { Metric, StepEntry } from "../api";

/** Which way is better: a lower value, a higher one, or unknown (a metric this version does not know). */
export type Direction = "lower" | "higher" | null;

export interface MetricMeta {
  name: string;
  /** A few characters for the row under a tile. */
  short: string;
  /** The full name, for tooltips, chart titles and screen readers. */
  full: string;
  direction: Direction;
  /** The range the metric lives in, when it has one (charts use it as their y range). */
  bounds: [number, number] | null;
  /** 1 = hit, 0 = miss (shown as ✓ and ✗). */
  hit: boolean;
  /** One line saying what it measures. */
  about: string;
  /** What a chart of its mean over samples plots (the y axis). */
  axis: string;
}

const KNOWN: Record<string, Omit<MetricMeta, "name">> = {
  deletion: {
    short: "del",
    full: "deletion AUC",
    direction: "lower",
    bounds: null,
    hit: false,
    about: "area under the score as the most salient pixels are removed first",
    axis: "mean AUC",
  },
  insertion: {
    short: "ins",
    full: "insertion AUC",
    direction: "higher",
    bounds: null,
    hit: false,
    about: "area under the score as the most salient pixels are put back first",
    axis: "mean AUC",
  },
  pointing_game: {
    short: "pg",
    full: "pointing game",
    direction: "higher",
    bounds: [0, 1],
    hit: true,
    about: "a hit when the map's maximum lies on the object",
    axis: "hit rate",
  },
  energy_pointing_game: {
    short: "energy",
    full: "energy pointing game",
    direction: "higher",
    bounds: [0, 1],
    hit: false,
    about: "share of the map's positive mass that lies on the object",
    axis: "mean share",
  },
  spearman: {
    short: "ρ",
    full: "Spearman ρ with the original map",
    direction: "lower",
    bounds: [-1, 1],
    hit: false,
    about: "rank correlation of this stage's map with the original model's; low passes the sanity check",
    axis: "mean ρ",
  },
};

/** The metrics the sidebar always offers, in this order; any other name a log holds comes after. */
export const KNOWN_MAP_METRICS = ["deletion", "insertion", "pointing_game", "energy_pointing_game"] as const;

export function metricMeta(name: string): MetricMeta {
  const known = Object.prototype.hasOwnProperty.call(KNOWN, name) ? KNOWN[name] : null;
  if (known) return { name, ...known };
  return { name, short: name.length > 8 ? `${name.slice(0, 7)}…` : name, full: name, direction: null, bounds: null, hit: false, about: "", axis: "mean" };
}

export function directionText(d: Direction): string {
  return d === "lower" ? "lower is better" : d === "higher" ? "higher is better" : "direction unknown";
}

/** A metric value in a few characters: ✓/✗ for hits, two decimals in the usual range, else 3 significant digits. */
export function formatMetric(meta: MetricMeta, v: number | null | undefined): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "–";
  if (meta.hit) return v >= 0.5 ? "✓" : "✗";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 0.01 && a < 1000) return v.toFixed(2).replace(/^-0\.00$/, "0.00");
  return v.toPrecision(3);
}

/** A value with more digits, for tooltips. */
export function formatMetricLong(meta: MetricMeta, v: number | null | undefined): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "not logged";
  if (meta.hit) return v >= 0.5 ? "hit" : "miss";
  return Number(v.toPrecision(4)).toString();
}

function optionValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * The options of a metric worth saying, in words ("relative to the clean input's probability, 10
 * steps, baseline zeros"): the ones a user chooses, not the internals the metric records.
 */
export function metricOptionsText(name: string, options: Record<string, unknown> | undefined | null): string {
  const o = options ?? {};
  const parts: string[] = [];
  if (name === "deletion" || name === "insertion") {
    const raw = o.score === "raw";
    if (o.relative === true) parts.push(raw ? "relative to the clean input's score" : "relative: the probability divided by the clean input's");
    else parts.push(raw ? "the raw target score" : "the target class's probability");
    if (typeof o.steps === "number") parts.push(`${o.steps} steps`);
    if (o.baseline !== undefined) parts.push(`baseline ${optionValue(o.baseline)}`);
    if (o.blur_sigma !== undefined && o.blur_sigma !== null) parts.push(`blur σ ${optionValue(o.blur_sigma)}`);
  } else if (name === "pointing_game") {
    if (o.tolerance !== undefined) parts.push(`tolerance ${optionValue(o.tolerance)} px`);
    if (o.region !== undefined) parts.push(`object from ${optionValue(o.region)}`);
  } else if (name === "energy_pointing_game") {
    if (o.region !== undefined) parts.push(`object from ${optionValue(o.region)}`);
  } else if (name === "spearman") {
    if (o.absolute === true) parts.push("of |map|");
    if (typeof o.order === "string") parts.push(`${o.order} order`);
  } else {
    for (const [k, v] of Object.entries(o).slice(0, 6)) parts.push(`${k} ${optionValue(v)}`);
  }
  return parts.join(", ");
}

/** Tooltip lines for one metric of one sample: name, value, direction, then options. */
export function describeMetric(name: string, value: number | null | undefined, options?: Record<string, unknown> | null): string[] {
  const meta = metricMeta(name);
  const lines = [`${meta.full}: ${formatMetricLong(meta, value)} (${directionText(meta.direction)})`];
  const opts = metricOptionsText(name, options);
  if (meta.about || opts) lines.push(`  ${[meta.about, opts].filter(Boolean).join("; ")}`);
  return lines;
}

/** The value of a logged metric for sample `i`, or null when missing or not a finite number. */
export function sampleValue(metric: Metric | undefined | null, i: number): number | null {
  const v = metric?.values?.[i];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Anything that has a map key and metrics (a /frame map, or a decoded column's info). */
export interface HasMetrics {
  info: { key: string; stage?: string; metrics?: Record<string, Metric> };
}

/** The column whose `metric` to use: the one keyed `key`, or ("" for key) the first that logs it. */
export function metricColumn<T extends HasMetrics>(maps: readonly T[], metric: string, key: string): T | null {
  for (const m of maps) {
    if (m.info.stage) continue;
    if (key && m.info.key !== key) continue;
    if (m.info.metrics && Object.prototype.hasOwnProperty.call(m.info.metrics, metric)) return m;
  }
  return null;
}

export type SortOrder = "worst" | "best";

export interface MetricArrangement {
  /** The metric to order samples by ("" for sample order). */
  metric: string;
  order: SortOrder;
  /** The map key whose metric counts; "" for the first map that logs it. */
  map: string;
  /** Only samples that missed the pointing game (of that map). */
  onlyMissed: boolean;
  /** Whether other steps of the tag log metrics: then a step without any says why nothing is sorted. */
  tagLogsMetrics?: boolean;
}

/** Whether the worst of `meta` is its highest value (unknown directions: highest first as "worst"). */
function worstIsHigh(meta: MetricMeta): boolean {
  return meta.direction !== "higher";
}

/** How a sort reads: "worst deletion AUC first (highest)". */
export function sortLabel(metric: string, order: SortOrder): string {
  const meta = metricMeta(metric);
  if (meta.hit) return order === "worst" ? `${meta.full} misses first` : `${meta.full} hits first`;
  if (meta.direction === null) return `${meta.full}, ${order === "worst" ? "highest" : "lowest"} first`;
  const high = worstIsHigh(meta) === (order === "worst");
  return `${order} ${meta.full} first (${high ? "highest" : "lowest"})`;
}

/** The sort as a menu item: "Worst deletion first", "Pointing-game misses first". */
export function sortOption(metric: string, order: SortOrder): string {
  const meta = metricMeta(metric);
  const name = metric === "deletion" || metric === "insertion" ? metric : metric === "energy_pointing_game" ? "energy" : meta.full;
  if (meta.hit) return `${name[0].toUpperCase()}${name.slice(1).replace(/ /g, "-")} ${order === "worst" ? "misses" : "hits"} first`;
  if (meta.direction === null) return `${name}, ${order === "worst" ? "highest" : "lowest"} first`;
  return `${order === "worst" ? "Worst" : "Best"} ${name} first`;
}

/**
 * `samples` ordered by a per-sample value: worst first or best first by the metric's direction,
 * samples without a value last, ties in sample order (a stable sort).
 */
export function orderSamples(samples: readonly number[], value: (i: number) => number | null, metric: string, order: SortOrder): number[] {
  const meta = metricMeta(metric);
  const descending = worstIsHigh(meta) === (order === "worst");
  const keyed = samples.map((s, at) => ({ s, at, v: value(s) }));
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) return a.v === null && b.v === null ? a.at - b.at : a.v === null ? 1 : -1;
    const d = descending ? b.v - a.v : a.v - b.v;
    return d !== 0 ? d : a.at - b.at;
  });
  return keyed.map((k) => k.s);
}

/** The sample ↑ (d = -1) or ↓ (d = 1) moves to: the neighbour in the card's order while the sample is
 * in it, else the neighbouring index; it stops at either end. */
export function nextSample(sample: number, d: number, numSamples: number, order: readonly number[] | null): number {
  const at = order ? order.indexOf(sample) : -1;
  if (order && at >= 0) return order[Math.max(0, Math.min(order.length - 1, at + d))];
  return Math.max(0, Math.min(numSamples - 1, sample + d));
}

/**
 * The samples a card shows once a metric sorts or filters them, and a line saying what was done
 * (or why nothing could be: no map of the step logs the metric). `base` is what the sample picker
 * and "only wrong predictions" left.
 */
export function arrangeSamples<T extends HasMetrics>(base: readonly number[], maps: readonly T[], a: MetricArrangement): { samples: number[]; note: string | null } {
  let samples = base.slice();
  // A step without any metric has nothing to sort or filter by. In a tag that never logs one that goes
  // without saying; in one that logs them at other steps, the card says so.
  if (!maps.some((m) => !m.info.stage && Object.keys(m.info.metrics ?? {}).length > 0)) {
    const asked = a.onlyMissed || a.metric !== "";
    return { samples, note: asked && a.tagLogsMetrics ? "This step logs no metrics: every sample shown, in order." : null };
  }
  const notes: string[] = [];
  const name = (m: T) => (a.map ? a.map : m.info.key);
  if (a.onlyMissed) {
    const col = metricColumn(maps, "pointing_game", a.map);
    if (!col) {
      notes.push(`No map${a.map ? ` ${a.map}` : ""} of this step logs the pointing game: every sample shown`);
    } else {
      const pg = col.info.metrics!.pointing_game;
      samples = samples.filter((i) => {
        const v = sampleValue(pg, i);
        return v !== null && v < 0.5;
      });
      notes.push(`Only samples whose ${name(col)} map missed the pointing game (${samples.length} of ${base.length})`);
    }
  }
  if (a.metric) {
    const col = metricColumn(maps, a.metric, a.map);
    const meta = metricMeta(a.metric);
    if (!col) {
      notes.push(`No map${a.map ? ` ${a.map}` : ""} of this step logs the ${meta.full}: samples in their order`);
    } else {
      const metric = col.info.metrics![a.metric];
      samples = orderSamples(samples, (i) => sampleValue(metric, i), a.metric, a.order);
      notes.push(`Sorted by ${name(col)}'s ${sortLabel(a.metric, a.order)}`);
    }
  }
  return { samples, note: notes.length ? `${notes.join(" · ")}.` : null };
}

// ---- over steps ---------------------------------------------------------------------------------

export interface StepPoint {
  /** The step. */
  x: number;
  /** The mean over samples at that step. */
  y: number;
  /** The index of the step in the card's step list. */
  index: number;
}

export interface StepLine {
  key: string;
  points: StepPoint[];
}

export interface MetricOverSteps {
  metric: string;
  /** Randomisation stages that log it ("" alone for plain saliency tags), in the order first seen. */
  stages: string[];
  /** Per stage, one line per map key, keys in the order first seen. */
  lines: Map<string, StepLine[]>;
}

/**
 * The metrics of a step list as lines over steps, from each step's index (the mean over samples of
 * each metric of each map; "spearman" per randomisation stage). Steps without an index are skipped,
 * and a repeated step counts once, as its first entry; no header is read. Metrics in the order first seen.
 */
export function metricsOverSteps(steps: readonly StepEntry[]): MetricOverSteps[] {
  const out = new Map<string, { stages: string[]; lines: Map<string, Map<string, StepLine>> }>();
  const seen = new Map<StepLine, Set<number>>();
  steps.forEach((entry, index) => {
    for (const array of entry.index?.arrays ?? []) {
      if (!array.metrics) continue;
      for (const [metric, y] of Object.entries(array.metrics)) {
        if (typeof y !== "number" || !Number.isFinite(y)) continue;
        let m = out.get(metric);
        if (!m) out.set(metric, (m = { stages: [], lines: new Map() }));
        const stage = array.stage ?? "";
        let byKey = m.lines.get(stage);
        if (!byKey) {
          m.stages.push(stage);
          m.lines.set(stage, (byKey = new Map()));
        }
        let line = byKey.get(array.key);
        if (!line) byKey.set(array.key, (line = { key: array.key, points: [] }));
        // A step written twice (a resumed run, under the Python loader) is served as its first frame:
        // one point per step, that frame's.
        let steps = seen.get(line);
        if (!steps) seen.set(line, (steps = new Set()));
        if (steps.has(entry.step)) continue;
        steps.add(entry.step);
        line.points.push({ x: entry.step, y, index });
      }
    }
  });
  return [...out.entries()].map(([metric, m]) => ({
    metric,
    stages: m.stages,
    lines: new Map([...m.lines.entries()].map(([stage, byKey]) => [stage, [...byKey.values()]])),
  }));
}

// ---- deletion and insertion curves ---------------------------------------------------------------

export interface CurvePoint {
  /** k / steps: the fraction of pixels removed (deletion) or put back (insertion). */
  x: number;
  y: number;
}

/** A curve as points over k/steps ∈ [0, 1] (steps = points - 1); empty for fewer than two points or a non-finite value. */
export function curvePoints(curve: readonly number[] | null | undefined): CurvePoint[] {
  if (!Array.isArray(curve) || curve.length < 2) return [];
  const steps = curve.length - 1;
  if (curve.some((v) => typeof v !== "number" || !Number.isFinite(v))) return [];
  return curve.map((y, k) => ({ x: k / steps, y }));
}

/** The trapezoidal area under points (what the logged AUC is, over k/steps). */
export function trapezoid(points: readonly CurvePoint[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) area += ((points[i].x - points[i - 1].x) * (points[i].y + points[i - 1].y)) / 2;
  return area;
}

/** What the y axis of a deletion or insertion curve holds, from the metric's options. */
export function curveAxisLabel(options: Record<string, unknown> | undefined | null): string {
  const raw = options?.score === "raw";
  if (options?.relative === true) return raw ? "score ÷ clean input's score" : "probability ÷ clean input's";
  return raw ? "target score (raw)" : "probability of the target";
}

export interface SampleCurve {
  /** The map's column name. */
  name: string;
  key: string;
  /** Index of the map in the step's columns. */
  column: number;
  auc: number | null;
  points: CurvePoint[];
  options: Record<string, unknown>;
}

/** The curve metrics of a step's maps (names with a curve in some map), in the order first seen. */
export function curveMetrics(maps: readonly { info: { metrics?: Record<string, Metric> } }[]): string[] {
  const names: string[] = [];
  for (const m of maps) for (const [name, metric] of Object.entries(m.info.metrics ?? {})) if (Array.isArray(metric.curve) && !names.includes(name)) names.push(name);
  const rank = (n: string) => (n === "deletion" ? 0 : n === "insertion" ? 1 : 2);
  return names.sort((a, b) => rank(a) - rank(b));
}

/** Sample `i`'s curve of `metric` in every map that logged one. */
export function sampleCurves(maps: readonly { name: string; info: { key: string; metrics?: Record<string, Metric> } }[], metric: string, i: number): SampleCurve[] {
  const out: SampleCurve[] = [];
  maps.forEach((m, column) => {
    const logged = m.info.metrics?.[metric];
    if (!logged || !Array.isArray(logged.curve)) return;
    const points = curvePoints(logged.curve[i]);
    if (!points.length) return;
    out.push({ name: m.name, key: m.info.key, column, auc: sampleValue(logged, i), points, options: logged.options ?? {} });
  });
  return out;
}
