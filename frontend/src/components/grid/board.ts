// What every grid layout is made of, and the one interface a layout offers the grid. A layout (maps,
// activations, the randomisation figure) builds a table of labels and empty, focusable boxes on a
// TileBoard, which keeps each box with what the grid draws under it; the grid (index.ts) then only
// paints the board's tiles on its canvas and reads them back on hover.

import type { BlockGroup, Extrema } from "../../data/block";
import type { Picture } from "../../data/blobs";
import type { StepData } from "../../data/step_data";
import { h, icon } from "../../dom";
import { shownSamples } from "../../model/layout";
import { factPairs, isWrong } from "../../model/samples";
import type { DisplayRange } from "../../render/normalise";
import type { TilePainter } from "../../render/pipeline";
import { formatValue } from "../../render/pixels";
import type { Settings } from "../../settings";
import { colorbarStrip, viewClass } from "../tiles";
import type { Tooltip } from "../tooltip";

export interface GridHost {
  settings(): Settings;
  /** The samples the picker names (null: all). */
  pickedSamples(): Set<number> | null;
  classNames(): readonly string[];
  tooltip: Tooltip;
  /** Raw extrema of an array over the tag's stored steps (the "per tag" scope). */
  extrema(key: string, stage: string): Extrema;
  openTile(sample: number, column: number): void;
  openEvolution(sample: number, column: number): void;
  /** The sample a randomisation card shows (its own choice; null: the first shown). */
  cascadeSample(): number | null;
  setCascadeSample(sample: number): void;
  /** Whether any stored step of the tag logs metrics of its maps. */
  tagLogsMetrics(): boolean;
}

/** Which samples a grid shows, in which order, and what a metric sort or filter did to them. */
export interface Shown {
  samples: number[];
  note: string | null;
}

/** Blocks ranged as one (a map column, or every channel), and the array whose per-tag extrema they take. */
export interface RangedGroup {
  group: BlockGroup;
  key: string;
  stage: string;
}

export interface MapTile {
  sample: number;
  /** Map column (or channel) index, as the enlarged view and the labels know it. */
  column: number;
  /** Where the tile's block sits: its range is ranges[group][index] of the layout's groups. */
  group: number;
  index: number;
  painter: TilePainter;
  /** The box on the table that the tile is drawn under. */
  box: HTMLElement;
  /** The tile's own range, shown under it when each map has its own. */
  rangeLabel: HTMLElement | null;
  name: string;
  range: DisplayRange | null;
  /** The metric values under the tile (ρ in the randomisation figure); null when none are logged. */
  metrics: HTMLElement | null;
}

export interface ColumnHead {
  bar: HTMLElement;
  lo: HTMLElement;
  hi: HTMLElement;
  box: HTMLElement;
  /** The groups (indices into the layout's groups) whose ranges the bar spans. */
  columns: number[];
}

/**
 * How one frame kind lays a step out. The grid picks one when it is built (a step of another kind
 * has another structure, so it gets a new grid) and asks it nothing else about the kind.
 */
export interface FrameLayout {
  /** The table's class besides the display's ("tbs-activations", "tbs-cascade", or none). */
  readonly tableClass: string;
  /** Every tile says its own range whatever the scope (the randomisation figure's stages). */
  readonly ownRanges: boolean;
  /** The samples shown, in the order shown. */
  shown(data: StepData): Shown;
  /** The grid's elements, with every tile, input and colour bar put on `board`. */
  build(data: StepData, shown: Shown, board: TileBoard): HTMLElement;
  /** A new step with the same structure: the labels it changes (tiles are the grid's). */
  refresh(data: StepData, shown: Shown): void;
  /** The step's blocks in the groups that share a range. */
  groups(data: StepData): RangedGroup[];
  /** The metric values written under a tile (absent: none, as for activations, text and signals). */
  metricCells?(data: StepData, tile: MapTile): HTMLElement[];
  /** The hover read-out of a tile's metrics (empty or absent: none). */
  metricLines?(data: StepData, tile: MapTile): string[];
  /**
   * Layouts that draw their inputs themselves (text, signals: no tiles on the board) colour them
   * here with the step's ranges, `ranges[group][sample]`, on every paint.
   */
  paintInputs?(ranges: DisplayRange[][]): void;
  /** Their own hover read-out: true when it handled the event. */
  hover?(e: MouseEvent): boolean;
  /** Their own clean-up when the grid goes (object URLs, listeners). */
  dispose?(): void;
}

/** The samples that the picker and "only wrong predictions" leave, in index order. */
export function pickedSamples(data: StepData, host: GridHost): number[] {
  return shownSamples(data.numSamples, host.pickedSamples(), host.settings().onlyWrong, (i) => isWrong(data.frame.samples[i]));
}

/** One range group per map column, over the column's samples: the groups of maps, text and signals. */
export function mapGroups(data: StepData): RangedGroup[] {
  return data.maps.map((m) => ({ group: m.group, key: m.info.key, stage: m.info.stage ?? "" }));
}

export function zoomOf(s: Settings): number | null {
  return s.zoom === "fit" ? null : Number(s.zoom);
}

/** The elements a layout builds, with what the grid draws under each. */
export class TileBoard {
  readonly tiles: MapTile[] = [];
  readonly inputs: { sample: number; box: HTMLElement }[] = [];
  readonly heads: ColumnHead[] = [];

  constructor(
    readonly host: GridHost,
    /** The one canvas the grid draws every tile on, for the layout to put behind its table. */
    readonly canvas: HTMLCanvasElement,
  ) {}

  gridClasses(extra = ""): string {
    const s = this.host.settings();
    return `tbs-grid ${s.zoom === "fit" ? "tbs-fit" : "tbs-native"} ${viewClass(s.view)}${s.upsampling === "nearest" ? " tbs-nearest" : ""}${extra}`;
  }

  /** Why no sample shows, when none does. */
  emptyNote(shown: Shown, numSamples: number): HTMLElement | null {
    if (shown.samples.length) return null;
    const s = this.host.settings();
    const why =
      s.onlyMissed && shown.note && !shown.note.startsWith("No map")
        ? "No sample shown missed the pointing game"
        : s.onlyWrong
          ? "No sample of this step has a wrong prediction"
          : "No sample of this step is among the samples picked";
    return h("div", { className: "tbs-loading tbs-nosamples", text: `${why} (${numSamples} samples).` });
  }

  /** What a metric sort or filter did to the rows, above them. */
  sortNote(shown: Shown): HTMLElement | null {
    return shown.note ? h("div", { className: "tbs-sortnote", attrs: { role: "note" }, text: shown.note }) : null;
  }

  /** A colour bar over the groups `columns`, kept for the grid to label. */
  columnHead(columns: number[]): ColumnHead {
    const bar = colorbarStrip();
    const lo = h("span", { className: "tbs-cb-lo" });
    const hi = h("span", { className: "tbs-cb-hi" });
    const head = { bar, lo, hi, box: h("div", { className: "tbs-colorbar" }, lo, bar, hi), columns };
    this.heads.push(head);
    return head;
  }

  /** A box the size of a picture of `width` × `height` pixels (twice as wide side by side). */
  private box(className: string, width: number, height: number, zoom: number | null, pair: boolean): HTMLElement {
    const box = h("div", { className });
    const w = pair ? 2 * width : width;
    if (zoom) {
      box.style.width = `${w * zoom + (pair ? 2 : 0)}px`;
      box.style.height = `${height * zoom}px`;
    } else {
      box.style.aspectRatio = `${w} / ${height}`;
    }
    return box;
  }

  inputTile(sample: number, picture: Picture, zoom: number | null): HTMLElement {
    const box = this.box("tbs-tile tbs-input", picture.width, picture.height, zoom, false);
    box.tabIndex = 0;
    box.setAttribute("role", "button");
    box.setAttribute("aria-label", `Enlarge sample ${sample}, input`);
    box.dataset.sample = String(sample);
    box.dataset.column = "-1";
    this.opensOnActivate(box, sample, -1);
    this.inputs.push({ sample, box });
    return box;
  }

  /**
   * A map tile's box. In map grids (`evolution`) it has the evolution button and the tile's own
   * range under it; with `metrics`, an element for the metric values under that (ρ in the
   * randomisation figure), which the grid fills.
   */
  mapTile(
    at: { sample: number; column: number; group: number; index: number },
    name: string,
    painter: TilePainter,
    picture: Picture | null,
    zoom: number | null,
    opts: { evolution: boolean; metrics: boolean },
  ): HTMLElement {
    const { sample, column } = at;
    const pair = this.host.settings().view === "side" && picture !== null;
    const tile = this.box(`tbs-tile${picture ? " tbs-has-input" : ""}${pair ? " tbs-pair" : ""}`, painter.width, painter.height, zoom, pair);
    const tileIndex = this.tiles.length;
    const boxed = opts.evolution || opts.metrics;
    const rangeLabel = boxed ? h("div", { className: "tbs-tile-range" }) : null;
    const metrics = opts.metrics ? h("div", { className: "tbs-tile-metrics", attrs: { "data-tile": tileIndex } }) : null;
    this.tiles.push({ ...at, painter, box: tile, rangeLabel, name, range: null, metrics });
    tile.tabIndex = 0;
    tile.setAttribute("role", "button");
    tile.setAttribute("aria-label", `Enlarge sample ${sample}, ${name}`);
    tile.dataset.sample = String(sample);
    tile.dataset.column = String(column);
    tile.dataset.tile = String(tileIndex);
    this.opensOnActivate(tile, sample, column);
    if (!boxed) return tile;
    if (opts.evolution) {
      const evo = h("button", {
        className: "tbs-evo",
        title: `Evolution of sample ${sample} over every stored step`,
        attrs: { type: "button", "aria-label": `Evolution of sample ${sample} over the steps, ${name}` },
        on: {
          click: (e) => {
            e.stopPropagation();
            this.host.openEvolution(sample, column);
          },
          keydown: (e) => e.stopPropagation(),
        },
      });
      evo.appendChild(icon("evolution"));
      tile.appendChild(evo);
    }
    return h("div", { className: "tbs-tile-box" }, tile, rangeLabel, metrics);
  }

  /** Click, Enter or Space on `box` opens the enlarged view of (sample, column). */
  private opensOnActivate(box: HTMLElement, sample: number, column: number): void {
    const open = () => this.host.openTile(sample, column);
    box.addEventListener("click", open);
    box.addEventListener("keydown", (e: KeyboardEvent) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        open();
      }
    });
  }

  /** A sample row's label: its index, label, target, prediction and score, and a mark when wrong. */
  rowLabel(data: StepData, i: number): HTMLElement {
    const sample = data.frame.samples[i] ?? {};
    const classes = this.host.classNames();
    const th = h("th", { className: "tbs-rowlabel", attrs: { scope: "row" } }, h("b", { text: `#${i}` }));
    const names = sample.target !== sample.label ? (["label", "target", "pred", "score"] as const) : (["label", "pred", "score"] as const);
    th.append(...factPairs(sample, classes, names).map(([name, value]) => h("div", null, `${name} `, h("span", { className: "tbs-v", text: value }))));
    if (typeof sample.target_score === "number") th.title = `attributed score f_target(x) = ${formatValue(sample.target_score)}`;
    if (isWrong(sample)) th.appendChild(h("div", { className: "tbs-wrongmark", text: "✗ wrong" }));
    return th;
  }

  /** A sample row: its label, then `cells`; marked when the prediction was wrong. */
  sampleRow(data: StepData, i: number, ...cells: (HTMLElement | null)[]): HTMLElement {
    return h("tr", { className: isWrong(data.frame.samples[i]) ? "tbs-wrong" : "", attrs: { "data-sample": i } }, this.rowLabel(data, i), ...cells);
  }

  /** Relabels the sample rows of `el` for a new step of the same samples. */
  relabelRows(el: HTMLElement, data: StepData): void {
    for (const row of el.querySelectorAll<HTMLElement>("tbody > tr[data-sample]")) {
      const i = Number(row.dataset.sample);
      row.replaceChild(this.rowLabel(data, i), row.firstElementChild!);
      row.classList.toggle("tbs-wrong", isWrong(data.frame.samples[i]));
    }
  }
}
