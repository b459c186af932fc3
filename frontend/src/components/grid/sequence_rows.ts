// What the text and signal layouts share: one row per sample, one line per method inside it (the
// methods stacked), colour bars per method in the head, metric values under each line, and the
// colour of one raw value under the display settings.

import type { StepData } from "../../data/step_data";
import { h, icon } from "../../dom";
import { colormapTable, lutIndex } from "../../render/colormaps";
import { maskWeight, normaliseValue, signed, type DisplayRange } from "../../render/normalise";
import type { Settings } from "../../settings";
import { rangeText } from "../tiles";
import { metricShown, optionsText, sampleMetricCells, sampleMetricLines } from "./maps";
import { mapGroups, type GridHost, type RangedGroup, type Shown, type TileBoard } from "./board";

/** One raw value's colour under the sign mode, range and colormap; `weight` in [0, 1] is how strongly it shows. */
export function valueColour(raw: number, range: DisplayRange, s: Settings): { r: number; g: number; b: number; weight: number } {
  const t = normaliseValue(signed(raw, s.sign), range);
  const lut = colormapTable(s.colormap);
  const i = 3 * lutIndex(t);
  return { r: lut[i], g: lut[i + 1], b: lut[i + 2], weight: maskWeight(t, range) };
}

/** One line of a sample's row: one method over the sample's tokens or signal. */
export interface SequenceLine {
  sample: number;
  column: number;
  el: HTMLElement;
  metrics: HTMLElement;
}

/** What the pointer is on in a line (a token, a time step): its sample, column and read-out. */
export interface LineReadout {
  sample: number;
  column: number;
  lines: string[];
}

/** The rows, heads and metric cells of a text or signal step; each layout fills the lines' bodies. */
export class SequenceRows {
  readonly lines: SequenceLine[] = [];
  private el: HTMLElement | null = null;
  private board: TileBoard | null = null;

  constructor(private readonly host: GridHost) {}

  shown(data: StepData): Shown {
    return metricShown(data, this.host);
  }

  /** The grid: `body(sample, column)` is a line's content. */
  build(data: StepData, shown: Shown, board: TileBoard, tableClass: string, body: (sample: number, column: number) => HTMLElement): HTMLElement {
    this.board = board;
    const heads = data.maps.map((m, j) =>
      h("div", { className: "tbs-seq-head", title: optionsText(m.info.options) || undefined }, h("span", { className: "tbs-col-key", text: m.name }), board.columnHead([j]).box),
    );
    const rows = h("tbody");
    for (const i of shown.samples) {
      const lines = data.maps.map((m, j) => {
        const metrics = h("div", { className: "tbs-seq-metrics", attrs: { "data-sample": i, "data-column": j } });
        const evo = h("button", {
          className: "tbs-evo tbs-seq-evo",
          title: `Evolution of sample ${i} over every stored step`,
          attrs: { type: "button", "aria-label": `Evolution of sample ${i} over the steps, ${m.name}` },
          on: { click: () => this.host.openEvolution(i, j) },
        });
        evo.appendChild(icon("evolution"));
        const el = h(
          "div",
          { className: "tbs-seq-line", attrs: { "data-sample": i, "data-column": j } },
          h("div", { className: "tbs-seq-method" }, h("span", { text: m.name }), evo),
          body(i, j),
          metrics,
        );
        this.lines.push({ sample: i, column: j, el, metrics });
        return el;
      });
      rows.appendChild(board.sampleRow(data, i, h("td", { className: "tbs-seq-cell" }, ...lines)));
    }
    const head = h("tr", null, h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "sample" })), h("th", { attrs: { scope: "col" } }, h("div", { className: "tbs-seq-heads" }, ...heads)));
    this.el = h(
      "div",
      { className: "tbs-grid-wrap" },
      board.sortNote(shown),
      h("table", { className: board.gridClasses(tableClass) }, h("thead", null, head), rows),
      board.emptyNote(shown, data.numSamples),
    );
    this.fillMetrics(data);
    return this.el;
  }

  refresh(data: StepData): void {
    if (this.el && this.board) this.board.relabelRows(this.el, data);
    this.fillMetrics(data);
  }

  groups(data: StepData): RangedGroup[] {
    return mapGroups(data);
  }

  private fillMetrics(data: StepData): void {
    for (const line of this.lines) line.metrics.replaceChildren(...sampleMetricCells(data.maps[line.column], line.sample));
  }

  /**
   * The hover read-out of a text or signal grid: a line's metric values when the pointer is on them,
   * else what `readout` says of the element it points at (null: nothing there), ended by that
   * line's colour range. It handles every event.
   */
  hover(e: MouseEvent, data: StepData | null, ranges: DisplayRange[][], readout: (data: StepData, target: Element) => LineReadout | null): true {
    const target = e.target as Element;
    const lines = data ? (this.metricLines(data, target) ?? this.readoutLines(readout(data, target), ranges)) : [];
    if (lines.length) this.host.tooltip.show(lines, e.clientX, e.clientY);
    else this.host.tooltip.hide();
    return true;
  }

  private readoutLines(read: LineReadout | null, ranges: DisplayRange[][]): string[] {
    if (!read) return [];
    const range = ranges[read.column]?.[read.sample];
    return range ? [...read.lines, `colour range ${rangeText(range)}`] : read.lines;
  }

  /** The hover read-out of a line's metric values, or null when the pointer is not on them. */
  private metricLines(data: StepData, target: Element): string[] | null {
    const el = target.closest?.(".tbs-seq-metrics") as HTMLElement | null;
    if (!el) return null;
    const line = this.lines.find((l) => l.metrics === el);
    return line ? sampleMetricLines(data.maps[line.column], line.sample, data.maps[line.column]?.name ?? "") : [];
  }
}
