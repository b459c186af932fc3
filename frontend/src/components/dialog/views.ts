// The builders of the enlarged view's tabs. Each draws tiles through the same pipeline as the card
// grid (render/pipeline.ts), and each tile gets exactly the range it has in its own card at its own
// step, so a map looks the same here as in its card.

import type { Kind } from "../../api";
import type { Picture } from "../../data/blobs";
import type { Extrema } from "../../data/block";
import type { MapColumn, StepData } from "../../data/step_data";
import type { StepStore } from "../../data/step_store";
import { download, fileSafe, h } from "../../dom";
import { indexForStep } from "../../model/cursor";
import type { DisplayRange } from "../../render/normalise";
import { groupRanges, TilePainter } from "../../render/pipeline";
import { formatValue, type View } from "../../render/pixels";
import type { Settings } from "../../settings";
import { niceDomain, niceTicks } from "../../model/chart";
import { curveAxisLabel, curveMetrics, describeMetric, directionText, formatMetricLong, metricMeta, metricOptionsText, sampleCurves, sampleValue } from "../../model/metrics";
import { distinctSlots } from "../../model/run_colors";
import { factPairs, isWrong } from "../../model/samples";
import { legend, LineChart } from "../chart";
import { compositeCanvas, inputCanvas as underCanvas, mapTileParts, paintLayer, rangeSettings, rangeText, tileSettings, viewClass, type TileParts } from "../tiles";
import type { Tooltip } from "../tooltip";
import { sequenceStrip } from "./sequence_strip";

/** What the views ask of the dashboard: its settings and runs. Steps come from the step store. */
export interface ViewHost {
  settings(): Settings;
  tooltip: Tooltip;
  runColor(run: string): string;
  /** Runs on screen (selected, matching the filter) that log `tag`, in run order. */
  shownRuns(tag: string): string[];
  /** The palette index of a map key, as in the cards' charts. */
  seriesColor(key: string): number;
}

export interface Place {
  run: string;
  tag: string;
  kind: Kind;
  sample: number;
  /** Map column index; -1 for the input. */
  column: number;
  step: number;
}

/** The range a tile has in its card: its column's group ranges under the settings, at its sample. */
export function tileRange(column: MapColumn, sample: number, s: Settings, extrema: Extrema | null): DisplayRange {
  return groupRanges(column.group, rangeSettings(s), s.scope === "tag" ? extrema : null)[sample];
}

/** One map tile drawn in `view` at `size` CSS pixels wide, with the hover read-out. */
export function mapView(column: MapColumn, sample: number, picture: Picture | null, range: DisplayRange, s: Settings, size: number, tooltip: Tooltip, view: View = s.view): { el: HTMLElement; parts: TileParts } {
  const painter = new TilePainter(column.blocks[sample], picture);
  const parts = mapTileParts(painter, picture, null);
  paintLayer(painter, parts.layer, range, { ...tileSettings(s), view });
  const side = view === "side" && picture !== null;
  const el = h("div", { className: `tbs-big ${viewClass(view)}${s.upsampling === "nearest" ? " tbs-nearest" : ""}`, attrs: { "data-sample": sample, "data-key": column.name }, style: { width: `${side ? 2 * size : size}px` } }, parts.el);
  el.addEventListener("mousemove", (e) => {
    const target = e.target instanceof HTMLCanvasElement ? e.target : parts.layer;
    const r = target.getBoundingClientRect();
    const c = painter.cellAt((e.clientX - r.left) / Math.max(1, r.width), (e.clientY - r.top) / Math.max(1, r.height));
    tooltip.show([`sample ${sample} · ${column.name}`, `pixel (${c.x}, ${c.y}) · cell (${c.cx}, ${c.cy})`, `value ${formatValue(c.value)}`, `colour range ${rangeText(range)}`], e.clientX, e.clientY);
  });
  el.addEventListener("mouseleave", () => tooltip.hide());
  return { el, parts };
}

export function inputView(picture: Picture, size: number): { el: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = underCanvas(picture, null);
  return { el: h("div", { className: "tbs-big tbs-tile tbs-input" , style: { width: `${size}px` } }, canvas), canvas };
}

function downloadButton(picture: () => HTMLCanvasElement, name: string, label: string): HTMLElement {
  return h("button", {
    className: "tbs-button",
    text: "Download PNG",
    attrs: { type: "button", "aria-label": `Download ${label} as PNG` },
    on: { click: () => picture().toBlob((blob) => blob && download(blob, name), "image/png") },
  });
}

function figure(el: HTMLElement, picture: () => HTMLCanvasElement, caption: string, file?: string): HTMLElement {
  return h("figure", { className: "tbs-figure" }, el, h("figcaption", { text: caption }), file ? downloadButton(picture, file, caption) : null);
}

export function sampleFacts(data: StepData, sample: number, classes: readonly string[]): string {
  return factPairs(data.frame.samples[sample], classes, ["label", "target", "pred", "score"])
    .map(([name, value]) => `${name} ${value}`)
    .join(" · ");
}

/** Enlarged: the input, the map, the overlay and the masked input of one sample and map, at 320 px. */
export function enlargedView(place: Place, data: StepData, extrema: Extrema | null, classes: readonly string[], host: ViewHost): HTMLElement {
  const s = host.settings();
  const size = 320;
  const input = data.images[place.sample] ?? null;
  const base = `${fileSafe(place.run)}_${fileSafe(place.tag)}_step${data.frame.step}_sample${place.sample}`;
  const figures: HTMLElement[] = [];
  if (input) {
    const v = inputView(input, size);
    figures.push(figure(v.el, () => v.canvas, "input", `${base}_input.png`));
  }
  const column = data.maps[place.column] ?? data.maps[0];
  if (column) {
    const range = tileRange(column, place.sample, s, extrema);
    const key = fileSafe(column.name);
    const views: [View, string, string][] = [["heatmap", `${column.name} (${rangeText(range)})`, "map"]];
    if (input) views.push(["overlay", `overlay, opacity ${s.opacity}%`, "overlay"], ["masked", "masked input", "masked"]);
    for (const [view, caption, suffix] of views) {
      const v = mapView(column, place.sample, input, range, s, size, host.tooltip, view);
      figures.push(figure(v.el, () => compositeCanvas(v.parts.under, v.parts.layer, view, s.opacity / 100), caption, `${base}_${key}_${suffix}.png`));
    }
  }
  const facts = sampleFacts(data, place.sample, classes);
  const metrics = column ? Object.entries(column.info.metrics ?? {}) : [];
  return h(
    "div",
    { className: "tbs-enlarged" },
    h("p", { className: "tbs-muted", text: [`sample ${place.sample}`, column ? column.name : "", `step ${data.frame.step}`, facts].filter(Boolean).join(" · ") }),
    metrics.length
      ? h("ul", { className: "tbs-metric-list", attrs: { "aria-label": "Metrics of this map" } }, ...metrics.map(([name, m]) => h("li", { attrs: { "data-metric": name }, text: describeMetric(name, sampleValue(m, place.sample), m.options).map((l) => l.trim()).join(" — ") })))
      : null,
    h("div", { className: "tbs-figures" }, ...figures),
  );
}

function rowHead(main: HTMLElement | string, facts: string, wrong: boolean): HTMLElement {
  return h("th", { className: "tbs-rowlabel", attrs: { scope: "row" } }, typeof main === "string" ? h("b", { text: main }) : main, facts ? h("div", { className: "tbs-v", text: facts }) : null, wrong ? h("div", { className: "tbs-wrongmark", text: "✗ wrong" }) : null);
}

function columnHeads(names: readonly string[], current: number, withInput: boolean): HTMLElement {
  return h(
    "thead",
    null,
    h(
      "tr",
      null,
      h("th", { attrs: { scope: "col" } }),
      withInput ? h("th", { attrs: { scope: "col" }, text: "input" }) : null,
      ...names.map((n, j) => h("th", { className: j === current ? "tbs-current" : "", attrs: { scope: "col" }, text: n })),
    ),
  );
}

const SMALL = 112;

/**
 * Evolution: one sample over every stored step of the card: rows are steps (oldest first), columns
 * the maps, each row with the step's prediction and score. Rows fill in as their steps load.
 */
export async function evolutionView(place: Place, host: ViewHost, store: StepStore, isCurrent: () => boolean): Promise<HTMLElement> {
  const s = host.settings();
  const { steps, extrema, classNames } = await store.stepList(place.run, place.tag);
  const body = h("tbody");
  const first = steps.length ? await store.step(place.run, place.tag, steps[steps.length - 1], place.kind).catch(() => null) : null;
  const names = first ? first.maps.map((m) => m.name) : [];
  const withInput = !!first && first.images.some((x) => x !== null) && s.view !== "side";
  const table = h("table", { className: "tbs-grid tbs-evolution", attrs: { "data-sample": place.sample } }, columnHeads(names, place.column, withInput), body);
  const rows = steps.map((entry) => {
    const row = h("tr", { attrs: { "data-step": entry.step } }, rowHead(`step ${entry.step}`, "", false), h("td", { attrs: { colspan: names.length + (withInput ? 1 : 0) }, className: "tbs-loading", text: "Loading…" }));
    body.appendChild(row);
    return row;
  });
  // Steps load a few at a time, oldest first, and each row is drawn as soon as its step is ready.
  let next = 0;
  const worker = async () => {
    while (next < steps.length && isCurrent()) {
      const k = next++;
      const entry = steps[k];
      let data: StepData;
      try {
        data = await store.step(place.run, place.tag, entry, place.kind);
      } catch (e) {
        rows[k].replaceChildren(rowHead(`step ${entry.step}`, "", false), h("td", { className: "tbs-error", attrs: { colspan: names.length + 1 }, text: e instanceof Error ? e.message : String(e) }));
        continue;
      }
      if (!isCurrent()) return;
      const sample = data.frame.samples[place.sample];
      const image = data.images[place.sample] ?? null;
      const cells = names.map((name) => {
        const column = data.maps.find((m) => m.name === name);
        if (!column || place.sample >= data.numSamples) return h("td", { className: "tbs-muted", text: "—" });
        const range = tileRange(column, place.sample, s, extrema(column.info.key, column.info.stage ?? ""));
        // Text and signal steps: a token × step (or time × step) strip per step.
        if (data.tokens || data.signals) return h("td", null, sequenceStrip(column, place.sample, data, range, s, host.tooltip));
        return h("td", null, mapView(column, place.sample, image, range, s, SMALL, host.tooltip).el);
      });
      const facts = factPairs(sample, classNames, ["pred", "score"]).map(([name, value]) => `${name} ${value}`).join(" · ");
      rows[k].classList.toggle("tbs-wrong", isWrong(sample));
      rows[k].replaceChildren(...[rowHead(`step ${entry.step}`, facts, isWrong(sample)), withInput ? h("td", null, image ? inputView(image, SMALL).el : null) : null, ...cells].filter((x): x is HTMLElement => x !== null));
    }
  };
  void Promise.all([worker(), worker(), worker()]);
  const facts = first ? sampleFacts(first, place.sample, classNames) : "";
  return h(
    "div",
    { className: "tbs-evolution-view" },
    h("p", { className: "tbs-muted", text: `Sample ${place.sample}${facts ? ` (${facts} at the newest step)` : ""}: every stored step, oldest first; rows are steps, columns maps.` }),
    h("div", { className: "tbs-scroll" }, table),
  );
}

/**
 * Compare runs: one sample at one step in every shown run that logs the tag: rows are runs, columns
 * every map, each run at its stored step at or before the step asked for.
 */
export async function compareView(place: Place, names: readonly string[], host: ViewHost, store: StepStore): Promise<HTMLElement> {
  const s = host.settings();
  const runs = host.shownRuns(place.tag);
  const body = h("tbody");
  const withInput = s.view !== "side";
  const results = await Promise.all(
    runs.map(async (run) => {
      try {
        const { steps, extrema, classNames } = await store.stepList(run, place.tag);
        const i = indexForStep(steps, place.step);
        if (i < 0) return { run, note: "no stored steps" };
        const data = await store.step(run, place.tag, steps[i], place.kind);
        return { run, data, extrema, classNames, exact: steps[i].step === place.step };
      } catch (e) {
        return { run, note: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  for (const r of results) {
    const swatch = h("span", { className: "tbs-swatch", style: { background: host.runColor(r.run) }, attrs: { "aria-hidden": "true" } });
    const runLabel = h("div", { className: "tbs-card-run" }, swatch, h("span", { className: "tbs-run", text: r.run }));
    if (!("data" in r) || !r.data) {
      body.appendChild(h("tr", { attrs: { "data-run": r.run } }, rowHead(runLabel, "", false), h("td", { className: "tbs-muted", attrs: { colspan: names.length + 1 }, text: r.note ?? "" })));
      continue;
    }
    const data = r.data;
    const sample = data.frame.samples[place.sample];
    const image = data.images[place.sample] ?? null;
    const cells = names.map((name) => {
      const column = data.maps.find((m) => m.name === name);
      if (!column || place.sample >= data.numSamples) return h("td", { className: "tbs-muted", text: `no ${name}` });
      const range = tileRange(column, place.sample, s, r.extrema(column.info.key, column.info.stage ?? ""));
      return h("td", null, mapView(column, place.sample, image, range, s, SMALL, host.tooltip).el);
    });
    const facts = [
      `step ${data.frame.step}${r.exact ? "" : " (nearest earlier)"}`,
      ...factPairs(sample, r.classNames, ["pred", "score"]).map(([name, value]) => `${name} ${value}`),
    ].join(" · ");
    body.appendChild(h("tr", { className: isWrong(sample) ? "tbs-wrong" : "", attrs: { "data-run": r.run } }, rowHead(runLabel, facts, isWrong(sample)), withInput ? h("td", null, image ? inputView(image, SMALL).el : null) : null, ...cells));
  }
  return h(
    "div",
    { className: "tbs-compare-view" },
    h("p", { className: "tbs-muted", text: `Sample ${place.sample} at step ${place.step} in each shown run; rows are runs, columns every map.` }),
    h("div", { className: "tbs-scroll" }, h("table", { className: "tbs-grid tbs-compare" }, columnHeads(names, place.column, withInput), body)),
  );
}

/** What the x axis of a curve counts. */
function curveXLabel(metric: string): string {
  if (metric === "deletion") return "fraction of pixels removed (k / steps)";
  if (metric === "insertion") return "fraction of pixels inserted (k / steps)";
  return "k / steps";
}

/**
 * Deletion and insertion: one sample's curves at one step, one chart per metric, one line per map
 * that logged it (the map chosen drawn thicker, first in the legend), each map's AUC in the legend.
 * The y axis is what was logged: the target's probability, or that divided by the clean input's
 * (relative=True), or the raw score.
 */
export function curvesView(place: Place, data: StepData, classes: readonly string[], host: ViewHost): HTMLElement {
  const facts = sampleFacts(data, place.sample, classes);
  const intro = h("p", { className: "tbs-muted", text: [`sample ${place.sample}`, `step ${data.frame.step}`, facts].filter(Boolean).join(" · ") });
  const metrics = curveMetrics(data.maps);
  if (!metrics.length) {
    return h(
      "div",
      { className: "tbs-curves-view" },
      intro,
      h("div", { className: "tbs-loading tbs-nocurves", text: 'No deletion or insertion curve was logged with this step: log_saliency(..., metrics=["deletion", "insertion"]) logs them.' }),
    );
  }
  const figures = metrics.map((metric) => {
    const meta = metricMeta(metric);
    const curves = sampleCurves(data.maps, metric, place.sample);
    const colors = distinctSlots(curves.map((c) => c.key), (key) => host.seriesColor(key));
    const chosen = curves.find((c) => c.column === place.column) ?? null;
    const options = (chosen ?? curves[0])?.options ?? {};
    let lo = 0;
    let hi = 0;
    for (const c of curves) for (const p of c.points) (lo = Math.min(lo, p.y)), (hi = Math.max(hi, p.y));
    const yDomain = niceDomain(lo, hi, [0, 1]);
    const moved = metric === "insertion" ? "inserted" : "removed";
    const chart = new LineChart({
      ariaLabel: `${meta.full} curves of sample ${place.sample}: ${curves.map((c) => `${c.name} AUC ${formatMetricLong(meta, c.auc)}`).join(", ")}`,
      xLabel: curveXLabel(metric),
      yLabel: curveAxisLabel(options),
      series: curves.map((c) => ({ key: c.name, label: c.name, color: colors.get(c.key)!, points: c.points, emphasis: c.column === place.column })),
      xDomain: [0, 1],
      yDomain,
      xTicks: niceTicks(0, 1, 5),
      yTicks: niceTicks(yDomain[0], yDomain[1], 4),
      formatX: (x) => `${Number((x * 100).toFixed(1))} % of pixels ${moved}`,
      formatY: (y) => Number(y.toPrecision(4)).toString(),
      tooltip: host.tooltip,
      width: 420,
      height: 250,
    });
    const ordered = chosen ? [chosen, ...curves.filter((c) => c !== chosen)] : curves;
    const optionText = metricOptionsText(metric, options);
    return h(
      "figure",
      { className: "tbs-chart-box", attrs: { "data-metric": metric } },
      h("figcaption", { className: "tbs-chart-title" }, h("b", { text: meta.full }), h("span", { className: "tbs-muted", text: ` · ${directionText(meta.direction)}${optionText ? ` · ${optionText}` : ""}` })),
      chart.el,
      legend(ordered.map((c) => ({ key: c.name, label: `${c.name} · AUC ${formatMetricLong(meta, c.auc)}`, color: colors.get(c.key)!, emphasis: c === chosen }))),
    );
  });
  return h("div", { className: "tbs-curves-view" }, intro, h("div", { className: "tbs-curves" }, ...figures));
}
