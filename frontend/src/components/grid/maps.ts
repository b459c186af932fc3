// The layout of a saliency step: samples in rows (sorted and filtered by a metric when asked), the
// input and then one column per map, each tile with its evolution button, its own range and its
// metric values under it.

import type { MapColumn, StepData } from "../../data/step_data";
import { h } from "../../dom";
import { arrangeSamples, describeMetric, directionText, formatMetric, KNOWN_MAP_METRICS, metricMeta, sampleValue } from "../../model/metrics";
import { TilePainter } from "../../render/pipeline";
import { mapGroups, pickedSamples, zoomOf, type FrameLayout, type GridHost, type MapTile, type RangedGroup, type Shown, type TileBoard } from "./board";

export class MapsLayout implements FrameLayout {
  readonly tableClass = "";
  readonly ownRanges = false;
  private el: HTMLElement | null = null;
  private board: TileBoard | null = null;

  constructor(private readonly host: GridHost) {}

  shown(data: StepData): Shown {
    return metricShown(data, this.host);
  }

  build(data: StepData, shown: Shown, board: TileBoard): HTMLElement {
    this.board = board;
    this.el = this.table(data, shown, board);
    return this.el;
  }

  private table(data: StepData, shown: Shown, board: TileBoard): HTMLElement {
    const s = this.host.settings();
    if (data.maps.length === 0) return h("div", { className: "tbs-loading", text: `Step ${data.frame.step} holds no maps.` });
    const side = s.view === "side";
    const hasImages = data.images.some((x) => x !== null);
    const showInput = hasImages && !side;
    const heads = data.maps.map((m, j) => {
      const head = board.columnHead([j]);
      const sub = [m.info.method && m.info.method !== m.info.key ? m.info.method : "", m.info.layer && !m.info.key.includes(m.info.layer) ? `@ ${m.info.layer}` : "", storageText(m.info.dtype)]
        .filter(Boolean)
        .join(" ");
      return h(
        "th",
        { attrs: { scope: "col" }, title: [storageNote(m.info.dtype), optionsText(m.info.options)].filter(Boolean).join("\n") || undefined },
        h("span", { className: "tbs-col-key", text: m.name }),
        sub ? h("span", { className: "tbs-col-sub", text: sub }) : null,
        head.box,
      );
    });
    const body = h("tbody");
    const zoom = zoomOf(s);
    for (const i of shown.samples) {
      const picture = data.images[i] ?? null;
      const cells: HTMLElement[] = [];
      if (showInput) cells.push(h("td", null, picture ? board.inputTile(i, picture, zoom) : null));
      data.maps.forEach((m, j) => {
        const at = { sample: i, column: j, group: j, index: i };
        cells.push(h("td", null, board.mapTile(at, m.name, new TilePainter(m.blocks[i], picture), picture, zoom, { evolution: true, metrics: hasMetrics(m) })));
      });
      body.appendChild(board.sampleRow(data, i, ...cells));
    }
    const head = h("tr", null, h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "sample" })), showInput ? h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: "input" })) : null, ...heads);
    return h("div", { className: "tbs-grid-wrap" }, board.sortNote(shown), board.canvas, h("table", { className: board.gridClasses() }, h("thead", null, head), body), board.emptyNote(shown, data.numSamples));
  }

  refresh(data: StepData): void {
    if (this.el && this.board) this.board.relabelRows(this.el, data);
  }

  groups(data: StepData): RangedGroup[] {
    return mapGroups(data);
  }

  metricCells(data: StepData, tile: MapTile): HTMLElement[] {
    return sampleMetricCells(data.maps[tile.column], tile.sample);
  }

  metricLines(data: StepData, tile: MapTile): string[] {
    return sampleMetricLines(data.maps[tile.column], tile.sample, tile.name);
  }
}

/** The samples shown, sorted and filtered by a metric as the sidebar asks (maps, text and signals). */
export function metricShown(data: StepData, host: GridHost): Shown {
  const s = host.settings();
  return arrangeSamples(pickedSamples(data, host), data.maps, {
    metric: s.sortMetric, order: s.sortOrder, map: s.metricMap, onlyMissed: s.onlyMissed,
    tagLogsMetrics: host.tagLogsMetrics(),
  });
}

/**
 * A sample's metric values under map `m`: short labels ("del 0.21 · pg ✓") for the eye, the full
 * names, values and directions for screen readers; the hover read-out adds what each measures and
 * its options.
 */
export function sampleMetricCells(m: MapColumn | undefined, sample: number): HTMLElement[] {
  if (!m) return [];
  const parts: HTMLElement[] = [];
  metricNames(m.info.metrics).forEach((name, k) => {
    const meta = metricMeta(name);
    const v = sampleValue(m.info.metrics[name], sample);
    const miss = meta.hit && v !== null && v < 0.5;
    if (k) parts.push(h("span", { className: "tbs-sep", attrs: { "aria-hidden": "true" }, text: " · " }));
    // Short on screen; in full for screen readers (a labelled image of text, so that nothing hidden
    // lies in the page for the card's PNG to draw).
    const spoken = `${meta.full} ${meta.hit ? (v === null ? "not logged" : v >= 0.5 ? "hit" : "missed") : v === null ? "not logged" : String(v)}${meta.direction ? `, ${directionText(meta.direction)}` : ""}`;
    parts.push(h("span", { className: `tbs-metric${miss ? " tbs-miss" : ""}`, attrs: { "data-metric": name, role: "img", "aria-label": spoken }, text: `${meta.short} ${formatMetric(meta, v)}` }));
  });
  return parts;
}

/** The hover read-out of a sample's metric values under map `m`, headed by the sample and `name`. */
export function sampleMetricLines(m: MapColumn | undefined, sample: number, name: string): string[] {
  if (!m) return [];
  const lines = [`sample ${sample} · ${name}`];
  for (const key of metricNames(m.info.metrics)) {
    const metric = m.info.metrics[key];
    lines.push(...describeMetric(key, sampleValue(metric, sample), metric.options));
  }
  return lines;
}

function hasMetrics(m: MapColumn): boolean {
  return Object.keys(m.info.metrics ?? {}).length > 0;
}

/** A map's metric names: the known ones in their usual order, then any other. */
function metricNames(metrics: Record<string, unknown> | undefined): string[] {
  const names = Object.keys(metrics ?? {});
  const known: readonly string[] = KNOWN_MAP_METRICS;
  const rank = (n: string) => (known.includes(n) ? known.indexOf(n) : known.length);
  return names.sort((a, b) => rank(a) - rank(b));
}

/** "8-bit" for maps stored as 256 levels of each sample's range (dtype uint8), beside the column's options. */
export function storageText(dtype: string): string {
  return dtype === "uint8" ? "8-bit" : "";
}

/** What 8-bit storage means for the values shown, for the column head's title. */
export function storageNote(dtype: string): string {
  return dtype === "uint8" ? "8-bit: stored as 256 levels of each sample's [min, max], within (max − min) / 510 of each value" : "";
}

/** A map's options as the column head's title. */
export function optionsText(options: Record<string, unknown> | undefined): string {
  if (!options || Object.keys(options).length === 0) return "";
  try {
    return `options: ${JSON.stringify(options)}`;
  } catch {
    return "";
  }
}
