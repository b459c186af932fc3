// The grid of one stored step inside a card: samples in rows, the input and then one column per map
// (or, for activations, each sample's channels). It owns its canvases and tile painters; a display
// change repaints the map tiles in place (each pixel coloured once) and builds no DOM, and a new step
// with the same columns and samples reuses every element.

import type { Block } from "../data/block";
import type { Pixels } from "../data/blobs";
import { className, columnName, isWrong, type StepData } from "../data/step_data";
import { h, icon, putPixels, scratchImage } from "../dom";
import { shownSamples } from "../model/layout";
import type { DisplayRange } from "../render/normalise";
import { groupRanges, spanOf, TilePainter, type BlockGroup, type Extrema, type TileSettings } from "../render/pipeline";
import { colorbarPixels, formatValue, paintImage } from "../render/pixels";
import type { Settings } from "../settings";
import type { Tooltip } from "./tooltip";

export interface GridHost {
  settings(): Settings;
  /** The samples the picker names (null: all). */
  pickedSamples(): Set<number> | null;
  classNames(): readonly string[];
  tooltip: Tooltip;
  /** Raw extrema of an array over the tag's stored steps (the "per tag" scope). */
  extrema(key: string, stage: string): Extrema;
  /** Canvas pixels a fitted tile aims at (compact or wide card). */
  tileTarget(): number | null;
  openTile(sample: number, column: number): void;
  openEvolution(sample: number, column: number): void;
}

interface MapTile {
  sample: number;
  /** Map column (or channel) index; -1 for the input. */
  column: number;
  painter: TilePainter;
  canvas: HTMLCanvasElement;
  /** The tile's own range, shown under it when each map has its own. */
  rangeLabel: HTMLElement | null;
  name: string;
  range: DisplayRange | null;
}

interface ColumnHead {
  bar: HTMLCanvasElement;
  lo: HTMLElement;
  hi: HTMLElement;
  box: HTMLElement;
}

/** Paint settings of a tile from the display settings. */
export function tileSettings(s: Settings): TileSettings {
  return { view: s.view, colormap: s.colormap, opacity: s.opacity, sign: s.sign, upsampling: s.upsampling };
}

export function rangeSettings(s: Settings) {
  return { sign: s.sign, clip: { mode: s.clip, percentile: s.percentile, massPercent: s.massPercent }, scope: s.scope };
}

/** Draws one painter into its canvas. */
export function paintTile(painter: TilePainter, canvas: HTMLCanvasElement, range: DisplayRange, s: TileSettings): void {
  const w = painter.outputWidth(s.view);
  const image = scratchImage(w, painter.height);
  painter.paint(image.data, range, s);
  putPixels(canvas, image.data, w, painter.height);
}

/** Draws an input image at `factor` canvas pixels per image pixel. */
export function paintInput(canvas: HTMLCanvasElement, image: Pixels, factor: number): void {
  const w = image.width * factor;
  const hh = image.height * factor;
  const out = scratchImage(w, hh);
  paintImage(image, factor, { data: out.data, stride: w, x0: 0 });
  putPixels(canvas, out.data, w, hh);
}

export function colorbarCanvas(): HTMLCanvasElement {
  return h("canvas", { className: "tbs-cb", attrs: { width: 128, height: 1, "aria-hidden": "true" } });
}

export function paintColorbar(canvas: HTMLCanvasElement, s: Settings): void {
  putPixels(canvas, colorbarPixels(s.colormap, 128), 128, 1);
}

export function rangeText(r: DisplayRange): string {
  return `${formatValue(r.lo)} … ${formatValue(r.hi)}`;
}

export class GridView {
  readonly el: HTMLElement;
  private tiles: MapTile[] = [];
  private heads: ColumnHead[] = [];
  private readonly structure: string;
  private data: StepData;
  private samples: number[];

  constructor(
    data: StepData,
    private readonly host: GridHost,
  ) {
    this.data = data;
    this.samples = this.pickSamples(data);
    this.structure = GridView.structureOf(data, host, this.samples);
    this.el = data.activations ? this.buildActivations() : this.buildMaps();
    this.el.addEventListener("mousemove", (e) => this.onHover(e));
    this.el.addEventListener("mouseleave", () => host.tooltip.hide());
    this.paint();
  }

  /** What decides the grid's elements: a new step with the same structure reuses them. */
  static structureOf(data: StepData, host: GridHost, samples: number[]): string {
    const s = host.settings();
    return JSON.stringify([
      data.maps.map((m) => [m.name, m.info.height, m.info.width]),
      data.activations ? [data.activations.info.channels, data.activations.info.height, data.activations.info.width] : null,
      data.images.map((im) => (im ? [im.width, im.height] : null)),
      samples,
      s.view === "side",
      s.zoom,
      host.tileTarget(),
    ]);
  }

  private pickSamples(data: StepData): number[] {
    const s = this.host.settings();
    return shownSamples(data.numSamples, this.host.pickedSamples(), s.onlyWrong, (i) => isWrong(data.frame.samples[i]));
  }

  /** Shows `data` in this grid's elements when its structure is the same; false when a new grid is needed. */
  update(data: StepData): boolean {
    const samples = this.pickSamples(data);
    if (GridView.structureOf(data, this.host, samples) !== this.structure) return false;
    this.data = data;
    this.samples = samples;
    const target = this.host.tileTarget();
    for (const tile of this.tiles) {
      const image = data.images[tile.sample] ?? null;
      const block = tile.column < 0 ? null : this.blockOf(tile.sample, tile.column);
      if (block) tile.painter = new TilePainter(block, image, target);
      else if (image) paintInput(tile.canvas, image, tile.painter.factor);
    }
    for (const row of this.el.querySelectorAll<HTMLElement>("tbody > tr")) {
      const i = Number(row.dataset.sample);
      row.replaceChild(this.rowLabel(i), row.firstElementChild!);
      row.classList.toggle("tbs-wrong", isWrong(data.frame.samples[i]));
    }
    this.paint();
    return true;
  }

  /** Whether settings changed what the grid is made of (then the card builds a new one). */
  stale(): boolean {
    return GridView.structureOf(this.data, this.host, this.pickSamples(this.data)) !== this.structure;
  }

  private blockOf(sample: number, column: number): Block | null {
    if (this.data.activations) return this.data.activations.blocks[sample]?.[column] ?? null;
    return this.data.maps[column]?.blocks[sample] ?? null;
  }

  // ---- building ---------------------------------------------------------------------------------

  private emptyNote(): HTMLElement | null {
    if (this.samples.length) return null;
    const s = this.host.settings();
    const why = s.onlyWrong ? "No sample of this step has a wrong prediction" : "No sample of this step is among the samples picked";
    return h("div", { className: "tbs-loading tbs-nosamples", text: `${why} (${this.data.numSamples} samples).` });
  }

  private buildMaps(): HTMLElement {
    const data = this.data;
    const s = this.host.settings();
    if (data.maps.length === 0) return h("div", { className: "tbs-loading", text: `Step ${data.frame.step} holds no maps.` });
    const side = s.view === "side";
    const hasImages = data.images.some((x) => x !== null);
    const showInput = hasImages && !side;
    const heads = data.maps.map((m) => {
      const head = this.columnHead();
      this.heads.push(head);
      const sub = [m.info.method && m.info.method !== m.info.key ? m.info.method : "", m.info.layer && !m.info.key.includes(m.info.layer) ? `@ ${m.info.layer}` : ""]
        .filter(Boolean)
        .join(" ");
      return h(
        "th",
        { attrs: { scope: "col" }, title: optionsText(m.info.options) || undefined },
        h("span", { className: "tbs-col-key", text: m.name }),
        sub ? h("span", { className: "tbs-col-sub", text: sub }) : null,
        head.box,
      );
    });
    const body = h("tbody");
    const target = this.host.tileTarget();
    for (const i of this.samples) {
      const image = data.images[i] ?? null;
      const cells: HTMLElement[] = [];
      if (showInput) cells.push(h("td", null, image ? this.inputTile(i, image, target) : null));
      data.maps.forEach((m, j) => {
        const painter = new TilePainter(m.blocks[i], image, target);
        cells.push(h("td", null, this.mapTile(i, j, m.name, painter, true)));
      });
      body.appendChild(h("tr", { className: isWrong(data.frame.samples[i]) ? "tbs-wrong" : "", attrs: { "data-sample": i } }, this.rowLabel(i), ...cells));
    }
    const zoom = s.zoom === "fit" ? "tbs-fit" : "tbs-native";
    return h(
      "div",
      { className: "tbs-grid-wrap" },
      h(
        "table",
        { className: `tbs-grid ${zoom}${side ? " tbs-side" : ""}`, attrs: { "data-columns": data.maps.length + (showInput ? 1 : 0) } },
        h("thead", null, h("tr", null, h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "sample" })), showInput ? h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: "input" })) : null, ...heads)),
        body,
      ),
      this.emptyNote(),
    );
  }

  private buildActivations(): HTMLElement {
    const data = this.data;
    const act = data.activations!;
    const info = act.info;
    const head = this.columnHead();
    this.heads.push(head);
    const hasImages = data.images.some((x) => x !== null);
    const body = h("tbody");
    const target = this.host.tileTarget();
    for (const i of this.samples) {
      const image = data.images[i] ?? null;
      const tiles = h("div", { className: "tbs-channels" });
      act.blocks[i].forEach((block, c) => {
        const painter = new TilePainter(block, null, target ? Math.min(target, 64) : null);
        const index = info.channel_index[i]?.[c];
        const tile = this.mapTile(i, c, `channel ${index}`, painter, false);
        tile.classList.add("tbs-channel");
        tile.title = `channel ${index}, mean activation ${formatValue(info.channel_mean[i]?.[c] ?? NaN)}`;
        tile.appendChild(h("span", { className: "tbs-channel-index", text: `#${index}` }));
        tiles.appendChild(tile);
      });
      body.appendChild(
        h(
          "tr",
          { className: isWrong(data.frame.samples[i]) ? "tbs-wrong" : "", attrs: { "data-sample": i } },
          this.rowLabel(i),
          hasImages ? h("td", { className: "tbs-input-cell" }, image ? this.inputTile(i, image, target) : null) : null,
          h("td", null, tiles),
        ),
      );
    }
    const s = this.host.settings();
    return h(
      "div",
      { className: "tbs-grid-wrap" },
      h(
        "table",
        { className: `tbs-grid tbs-activations ${s.zoom === "fit" ? "tbs-fit" : "tbs-native"}` },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "sample" })),
            hasImages ? h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: "input" })) : null,
            h(
              "th",
              { attrs: { scope: "col" } },
              h("span", { className: "tbs-col-key", text: `channels of ${info.layer || "layer"}` }),
              h("span", { className: "tbs-col-sub", text: `${info.channels} of ${info.total_channels}, most active first` }),
              head.box,
            ),
          ),
        ),
        body,
      ),
      this.emptyNote(),
    );
  }

  private columnHead(): ColumnHead {
    const bar = colorbarCanvas();
    const lo = h("span", { className: "tbs-cb-lo" });
    const hi = h("span", { className: "tbs-cb-hi" });
    return { bar, lo, hi, box: h("div", { className: "tbs-colorbar" }, lo, bar, hi) };
  }

  private inputTile(sample: number, image: Pixels, target: number | null): HTMLElement {
    const canvas = h("canvas", { attrs: { "aria-hidden": "true" } });
    const factor = Math.max(1, target ? Math.floor(target / Math.max(image.width, image.height, 1)) : 1);
    paintInput(canvas, image, factor);
    this.sizeCanvas(canvas, image.width, image.height);
    return h(
      "div",
      {
        className: "tbs-tile tbs-input",
        attrs: { tabindex: 0, role: "button", "aria-label": `Enlarge sample ${sample}, input`, "data-sample": sample, "data-column": -1 },
        on: this.openHandlers(sample, -1),
      },
      canvas,
    );
  }

  private mapTile(sample: number, column: number, name: string, painter: TilePainter, withEvolution: boolean): HTMLElement {
    const canvas = h("canvas", { attrs: { "aria-hidden": "true" } });
    const tileIndex = this.tiles.length;
    const s = this.host.settings();
    const rangeLabel = withEvolution ? h("div", { className: "tbs-tile-range" }) : null;
    this.tiles.push({ sample, column, painter, canvas, rangeLabel, name, range: null });
    const base = painter.width / painter.factor;
    this.sizeCanvas(canvas, s.view === "side" && painter.input ? 2 * base : base, painter.height / painter.factor);
    const tile = h(
      "div",
      {
        className: "tbs-tile",
        attrs: { tabindex: 0, role: "button", "aria-label": `Enlarge sample ${sample}, ${name}`, "data-sample": sample, "data-column": column, "data-tile": tileIndex },
        on: this.openHandlers(sample, column),
      },
      canvas,
    );
    if (withEvolution) {
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
      return h("div", { className: "tbs-tile-box" }, tile, rangeLabel);
    }
    return tile;
  }

  private sizeCanvas(canvas: HTMLCanvasElement, baseWidth: number, baseHeight: number): void {
    const s = this.host.settings();
    if (s.zoom !== "fit") {
      const z = Number(s.zoom);
      canvas.style.width = `${baseWidth * z}px`;
      canvas.style.height = `${baseHeight * z}px`;
    } else {
      canvas.style.aspectRatio = `${baseWidth} / ${baseHeight}`;
    }
  }

  private openHandlers(sample: number, column: number) {
    const open = () => this.host.openTile(sample, column);
    return {
      click: open,
      keydown: (e: KeyboardEvent) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          open();
        }
      },
    };
  }

  private rowLabel(i: number): HTMLElement {
    const sample = this.data.frame.samples[i] ?? {};
    const classes = this.host.classNames();
    const th = h("th", { className: "tbs-rowlabel", attrs: { scope: "row" } }, h("b", { text: `#${i}` }));
    const line = (name: string, value: string | null) => (value === null ? null : h("div", null, `${name} `, h("span", { className: "tbs-v", text: value })));
    th.append(
      ...[
        line("label", className(sample.label, classes)),
        line("target", sample.target !== sample.label ? className(sample.target, classes) : null),
        line("pred", className(sample.prediction, classes)),
        line("score", typeof sample.score === "number" ? formatValue(sample.score) : null),
      ].filter((x): x is HTMLDivElement => x !== null),
    );
    if (typeof sample.target_score === "number") th.title = `attributed score f_target(x) = ${formatValue(sample.target_score)}`;
    if (isWrong(sample)) th.appendChild(h("div", { className: "tbs-wrongmark", text: "✗ wrong" }));
    return th;
  }

  // ---- painting ---------------------------------------------------------------------------------

  /** Recolours every map tile under the current settings; builds nothing. */
  paint(): void {
    const s = this.host.settings();
    const ts = tileSettings(s);
    const rs = rangeSettings(s);
    const groups: { group: BlockGroup; extrema: () => Extrema }[] = this.data.activations
      ? [{ group: this.data.activations.group, extrema: () => this.host.extrema("activations", "") }]
      : this.data.maps.map((m) => ({ group: m.group, extrema: () => this.host.extrema(m.info.key, m.info.stage ?? "") }));
    const ranges = groups.map(({ group, extrema }) => groupRanges(group, rs, s.scope === "tag" ? extrema() : null));
    const perMap = s.scope === "map";
    for (const tile of this.tiles) {
      const range = this.data.activations ? ranges[0][tile.sample * this.data.activations.info.channels + tile.column] : ranges[tile.column][tile.sample];
      tile.range = range;
      paintTile(tile.painter, tile.canvas, range, ts);
      if (tile.rangeLabel) {
        tile.rangeLabel.hidden = !perMap;
        if (perMap) tile.rangeLabel.textContent = rangeText(range);
      }
    }
    this.heads.forEach((head, j) => {
      paintColorbar(head.bar, s);
      const columnRanges = ranges[j] ?? [];
      if (perMap && columnRanges.length > 1) {
        head.lo.textContent = "";
        head.hi.textContent = "";
        head.box.title = "Each map is scaled to its own range, written under it; hover a map for raw values.";
        head.box.classList.add("tbs-cb-permap");
      } else {
        const span = spanOf(columnRanges);
        head.lo.textContent = formatValue(span.lo);
        head.hi.textContent = formatValue(span.hi);
        head.box.title = perMap ? "The range of this map." : `Colour range shared by this column (${s.scope === "tag" ? "every stored step of the tag" : "this step"}).`;
        head.box.classList.remove("tbs-cb-permap");
      }
    });
  }

  /** The tiles' ranges, for tests and the card PNG: per tile, [sample, column, lo, hi]. */
  ranges(): [number, number, number, number][] {
    return this.tiles.map((t) => [t.sample, t.column, t.range?.lo ?? NaN, t.range?.hi ?? NaN]);
  }

  private onHover(e: MouseEvent): void {
    const target = (e.target as Element).closest?.("[data-tile]") as HTMLElement | null;
    if (!target) {
      this.host.tooltip.hide();
      return;
    }
    const tile = this.tiles[Number(target.dataset.tile)];
    if (!tile) return;
    const rect = tile.canvas.getBoundingClientRect();
    let fx = (e.clientX - rect.left) / Math.max(1, rect.width);
    const fy = (e.clientY - rect.top) / Math.max(1, rect.height);
    const s = this.host.settings();
    if (s.view === "side" && tile.painter.input) fx = fx < 0.5 ? fx * 2 : (fx - 0.5) * 2;
    if (fx < 0 || fx >= 1 || fy < 0 || fy >= 1) {
      this.host.tooltip.hide();
      return;
    }
    const c = tile.painter.cellAt(fx, fy);
    const lines = [
      `sample ${tile.sample} · ${tile.name}`,
      `pixel (${c.x}, ${c.y}) · cell (${c.cx}, ${c.cy})`,
      `value ${formatValue(c.value)}`,
    ];
    if (tile.range) lines.push(`colour range ${rangeText(tile.range)}`);
    this.host.tooltip.show(lines, e.clientX, e.clientY);
  }

  /** The samples shown, in order. */
  get shownSamples(): readonly number[] {
    return this.samples;
  }

  get step(): StepData {
    return this.data;
  }
}

export function optionsText(options: Record<string, unknown> | undefined): string {
  if (!options || Object.keys(options).length === 0) return "";
  try {
    return `options: ${JSON.stringify(options)}`;
  } catch {
    return "";
  }
}

export { columnName };
