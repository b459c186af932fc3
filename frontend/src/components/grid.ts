// The grid of one stored step inside a card: samples in rows, the input and then one column per map
// (or, for activations, each sample's channels). The table holds the labels and one empty, focusable
// box per tile; every picture is drawn on ONE canvas behind the table, at each box's place. A
// browser composites each canvas as a layer of its own, and hundreds of them made every frame spend
// tens of milliseconds laying layers out; one canvas per card does not. A display change recolours
// each map layer once and redraws the card's canvas; it builds no DOM, and a new step with the same
// columns and samples reuses every element.

import type { Block, BlockGroup, Extrema } from "../data/block";
import type { Picture } from "../data/blobs";
import type { StepData } from "../data/step_data";
import { factPairs, isWrong } from "../model/samples";
import { h, icon, uid } from "../dom";
import { cascadeLayout, type CascadeLayout } from "../model/cascade";
import { shownSamples } from "../model/layout";
import { arrangeSamples, describeMetric, directionText, formatMetric, KNOWN_MAP_METRICS, metricMeta, sampleValue } from "../model/metrics";
import type { DisplayRange } from "../render/normalise";
import { groupRanges, spanOf, TilePainter } from "../render/pipeline";
import { formatValue } from "../render/pixels";
import type { Settings } from "../settings";
import { colorbarStrip, drawTile, paintColorbar, rangeSettings, rangeText, tileSettings, viewClass, type TileView } from "./tiles";
import type { Tooltip } from "./tooltip";

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

interface MapTile {
  sample: number;
  /** Map column (or channel) index. */
  column: number;
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

interface ColumnHead {
  bar: HTMLElement;
  lo: HTMLElement;
  hi: HTMLElement;
  box: HTMLElement;
  /** The map columns (indices of the step's maps) whose ranges the bar spans. */
  columns: number[];
}

/** Which samples a grid shows, in which order, and what a metric sort or filter did to them. */
interface Shown {
  samples: number[];
  note: string | null;
}

function zoomOf(s: Settings): number | null {
  return s.zoom === "fit" ? null : Number(s.zoom);
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export class GridView {
  readonly el: HTMLElement;
  /** The one canvas every tile of the grid is drawn on. */
  readonly canvas: HTMLCanvasElement;
  private tiles: MapTile[] = [];
  private inputs: { sample: number; box: HTMLElement }[] = [];
  private heads: ColumnHead[] = [];
  private rects: Map<HTMLElement, Rect> | null = null;
  private resizeObserver: ResizeObserver | null = null;
  private repaintQueued = false;
  private readonly structure: string;
  private data: StepData;
  /** The samples shown, in the order shown (sorted or filtered by a metric). */
  samples: number[];
  private note: string | null;
  /** The randomisation figure's rows and columns; null for other grids. */
  private cascade: CascadeLayout | null = null;
  /** What the randomisation figure's sample bar says of the sample shown. */
  private cascadeFacts: HTMLElement | null = null;

  constructor(
    data: StepData,
    private readonly host: GridHost,
  ) {
    this.data = data;
    const shown = this.pickSamples(data);
    this.samples = shown.samples;
    this.note = shown.note;
    this.structure = GridView.structureOf(data, host, shown);
    this.canvas = h("canvas", { className: "tbs-grid-canvas", attrs: { "aria-hidden": "true" } });
    this.el = data.activations ? this.buildActivations() : isCascade(data) ? this.buildCascade() : this.buildMaps();
    this.el.addEventListener("mousemove", (e) => this.onHover(e));
    this.el.addEventListener("mouseleave", () => host.tooltip.hide());
    if (typeof ResizeObserver !== "undefined") {
      // A new width moves every box: measure again and redraw, once per frame.
      this.resizeObserver = new ResizeObserver(() => {
        this.rects = null;
        if (this.repaintQueued || !this.el.isConnected) return;
        this.repaintQueued = true;
        requestAnimationFrame(() => {
          this.repaintQueued = false;
          if (this.el.isConnected) this.paint();
        });
      });
      this.resizeObserver.observe(this.el);
    }
  }

  /** Stops watching the grid's size (the card dropped it). */
  dispose(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    this.canvas.width = this.canvas.height = 0;
  }

  /** What decides the grid's elements: a new step with the same structure reuses them. */
  static structureOf(data: StepData, host: GridHost, shown: Shown): string {
    const s = host.settings();
    return JSON.stringify([
      data.frame.kind,
      data.maps.map((m) => [m.name, m.info.height, m.info.width, Object.keys(m.info.metrics ?? {})]),
      data.activations ? [data.activations.info.channels, data.activations.info.height, data.activations.info.width] : null,
      data.images.map((im) => (im ? [im.width, im.height] : null)),
      shown.samples,
      shown.note,
      s.view === "side",
      s.zoom,
    ]);
  }

  /**
   * The samples to show: those the picker and "only wrong predictions" leave, then sorted and
   * filtered by a metric (map grids); the randomisation figure shows one of them.
   */
  private pickSamples(data: StepData): Shown {
    const s = this.host.settings();
    const base = shownSamples(data.numSamples, this.host.pickedSamples(), s.onlyWrong, (i) => isWrong(data.frame.samples[i]));
    if (data.activations) return { samples: base, note: null };
    if (isCascade(data)) {
      const chosen = this.host.cascadeSample();
      return { samples: base.length ? [chosen !== null && base.includes(chosen) ? chosen : base[0]] : [], note: null };
    }
    return arrangeSamples(base, data.maps, {
      metric: s.sortMetric, order: s.sortOrder, map: s.metricMap, onlyMissed: s.onlyMissed,
      tagLogsMetrics: this.host.tagLogsMetrics(),
    });
  }

  /** Shows `data` in this grid's elements when its structure is the same; false when a new grid is needed. */
  update(data: StepData): boolean {
    const shown = this.pickSamples(data);
    if (GridView.structureOf(data, this.host, shown) !== this.structure) return false;
    this.data = data;
    this.samples = shown.samples;
    if (this.cascade) this.cascade = cascadeLayout(data.frame.maps, data.frame.randomisation);
    for (const tile of this.tiles) {
      tile.painter = new TilePainter(this.blockOf(tile.sample, tile.column)!, data.images[tile.sample] ?? null);
      this.fillMetrics(tile);
    }
    for (const row of this.el.querySelectorAll<HTMLElement>("tbody > tr[data-sample]")) {
      const i = Number(row.dataset.sample);
      row.replaceChild(this.rowLabel(i), row.firstElementChild!);
      row.classList.toggle("tbs-wrong", isWrong(data.frame.samples[i]));
    }
    if (this.cascadeFacts && this.samples.length) this.cascadeFacts.replaceChildren(...this.sampleFacts(this.samples[0]));
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
    const why =
      s.onlyMissed && this.note && !this.note.startsWith("No map")
        ? "No sample shown missed the pointing game"
        : s.onlyWrong
          ? "No sample of this step has a wrong prediction"
          : "No sample of this step is among the samples picked";
    return h("div", { className: "tbs-loading tbs-nosamples", text: `${why} (${this.data.numSamples} samples).` });
  }

  /** What a metric sort or filter did to the rows, above them. */
  private sortNote(): HTMLElement | null {
    return this.note ? h("div", { className: "tbs-sortnote", attrs: { role: "note" }, text: this.note }) : null;
  }

  private gridClasses(extra = ""): string {
    const s = this.host.settings();
    return `tbs-grid ${s.zoom === "fit" ? "tbs-fit" : "tbs-native"} ${viewClass(s.view)}${s.upsampling === "nearest" ? " tbs-nearest" : ""}${extra}`;
  }

  private buildMaps(): HTMLElement {
    const data = this.data;
    const s = this.host.settings();
    if (data.maps.length === 0) return h("div", { className: "tbs-loading", text: `Step ${data.frame.step} holds no maps.` });
    const side = s.view === "side";
    const hasImages = data.images.some((x) => x !== null);
    const showInput = hasImages && !side;
    const heads = data.maps.map((m, j) => {
      const head = this.columnHead([j]);
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
    const zoom = zoomOf(s);
    for (const i of this.samples) {
      const picture = data.images[i] ?? null;
      const cells: HTMLElement[] = [];
      if (showInput) cells.push(h("td", null, picture ? this.inputTile(i, picture, zoom) : null));
      data.maps.forEach((m, j) => {
        cells.push(h("td", null, this.mapTile(i, j, m.name, new TilePainter(m.blocks[i], picture), picture, zoom, { evolution: true, metrics: hasMetrics(m) })));
      });
      body.appendChild(h("tr", { className: isWrong(data.frame.samples[i]) ? "tbs-wrong" : "", attrs: { "data-sample": i } }, this.rowLabel(i), ...cells));
    }
    const head = h("tr", null, h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "sample" })), showInput ? h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: "input" })) : null, ...heads);
    return h("div", { className: "tbs-grid-wrap" }, this.sortNote(), this.canvas, h("table", { className: this.gridClasses() }, h("thead", null, head), body), this.emptyNote());
  }

  /**
   * The randomisation test as in Adebayo et al.'s Figure 2, for one sample: rows are the original
   * model and each stage (layers re-initialised from the output back), columns the methods; each
   * cell is that stage's map under the display settings, with its Spearman ρ to the original's.
   */
  private buildCascade(): HTMLElement {
    const data = this.data;
    const s = this.host.settings();
    const layout = cascadeLayout(data.frame.maps, data.frame.randomisation);
    this.cascade = layout;
    const zoom = zoomOf(s);
    const side = s.view === "side";
    const i = this.samples[0];
    const bar = this.cascadeBar();
    if (i === undefined) return h("div", { className: "tbs-grid-wrap tbs-cascade-wrap" }, bar, this.emptyNote());
    const picture = data.images[i] ?? null;
    const showInput = picture !== null && !side;
    const heads = layout.keys.map((key) => {
      const head = this.columnHead(layout.stages.map((st) => layout.cell(key, st.stage)).filter((c) => c >= 0));
      this.heads.push(head);
      return h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: key }), head.box);
    });
    const body = h("tbody");
    layout.stages.forEach((stage, row) => {
      const label = h(
        "th",
        { className: "tbs-rowlabel", attrs: { scope: "row" } },
        h("b", { text: stage.label }),
        h("div", { className: "tbs-col-sub", text: stage.detail }),
      );
      const cells: HTMLElement[] = [];
      if (showInput) cells.push(h("td", null, row === 0 ? this.inputTile(i, picture!, zoom) : null));
      for (const key of layout.keys) {
        const j = layout.cell(key, stage.stage);
        const m = data.maps[j];
        if (!m) {
          cells.push(h("td", { className: "tbs-muted tbs-small", text: "not logged" }));
          continue;
        }
        cells.push(h("td", null, this.mapTile(i, j, m.name, new TilePainter(m.blocks[i], picture), picture, zoom, { evolution: false, metrics: true })));
      }
      body.appendChild(h("tr", { attrs: { "data-stage": stage.stage } }, label, ...cells));
    });
    const head = h("tr", null, h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "model" })), showInput ? h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: "input" })) : null, ...heads);
    const order = layout.order === "cascading" ? "cascading: each row re-initialises one more layer, from the output back" : layout.order === "independent" ? "independent: each row re-initialises one layer alone" : "";
    const caption = h("div", { className: "tbs-cascade-caption" }, `ρ: Spearman rank correlation of each map with the original model's${order ? ` (${order})` : ""}. Maps that stay alike once the weights are random (high ρ) fail the sanity check.`);
    return h("div", { className: "tbs-grid-wrap tbs-cascade-wrap" }, bar, this.canvas, h("table", { className: this.gridClasses(" tbs-cascade"), attrs: { "data-sample": i } }, h("thead", null, head), body), caption);
  }

  /** The randomisation figure's sample picker and the facts of the sample shown. */
  private cascadeBar(): HTMLElement {
    const data = this.data;
    const s = this.host.settings();
    const base = shownSamples(data.numSamples, this.host.pickedSamples(), s.onlyWrong, (k) => isWrong(data.frame.samples[k]));
    const id = uid("cascade-sample");
    const select = h("select", {
      className: "tbs-cascade-sample",
      attrs: { id, "aria-label": "Sample of the randomisation figure" },
      on: { change: () => this.host.setCascadeSample(Number(select.value)) },
    });
    for (const k of base) select.appendChild(h("option", { attrs: { value: k }, text: `#${k}` }));
    if (this.samples.length) select.value = String(this.samples[0]);
    select.disabled = base.length < 2;
    this.cascadeFacts = h("span", { className: "tbs-cascade-facts" }, ...(this.samples.length ? this.sampleFacts(this.samples[0]) : []));
    return h("div", { className: "tbs-cascade-bar" }, h("label", { attrs: { for: id }, text: "Sample" }), select, this.cascadeFacts);
  }

  /** One sample's label, prediction and score as text pieces (class names from the logs as text). */
  private sampleFacts(i: number): (HTMLElement | string)[] {
    const sample = this.data.frame.samples[i] ?? {};
    const classes = this.host.classNames();
    const out: (HTMLElement | string)[] = [];
    const put = (name: string, value: string | null) => {
      if (value === null) return;
      if (out.length) out.push(" · ");
      out.push(`${name} `, h("span", { className: "tbs-v", text: value }));
    };
    for (const [name, value] of factPairs(sample, classes, ["label", "pred", "score"])) put(name, value);
    if (isWrong(sample)) out.push(" ", h("span", { className: "tbs-wrongmark", text: "✗ wrong" }));
    return out;
  }

  private buildActivations(): HTMLElement {
    const data = this.data;
    const act = data.activations!;
    const info = act.info;
    const head = this.columnHead([0]);
    this.heads.push(head);
    const hasImages = data.images.some((x) => x !== null);
    const body = h("tbody");
    const zoom = zoomOf(this.host.settings());
    for (const i of this.samples) {
      const picture = data.images[i] ?? null;
      const tiles = h("div", { className: "tbs-channels" });
      act.blocks[i].forEach((block, c) => {
        const index = info.channel_index[i]?.[c];
        const tile = this.mapTile(i, c, `channel ${index}`, new TilePainter(block, null), null, zoom, { evolution: false, metrics: false });
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
          hasImages ? h("td", { className: "tbs-input-cell" }, picture ? this.inputTile(i, picture, zoom) : null) : null,
          h("td", null, tiles),
        ),
      );
    }
    const columns = h(
      "th",
      { attrs: { scope: "col" } },
      h("span", { className: "tbs-col-key", text: `channels of ${info.layer || "layer"}` }),
      h("span", { className: "tbs-col-sub", text: `${info.channels} of ${info.total_channels}, most active first` }),
      head.box,
    );
    const headRow = h("tr", null, h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "sample" })), hasImages ? h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: "input" })) : null, columns);
    return h("div", { className: "tbs-grid-wrap" }, this.canvas, h("table", { className: this.gridClasses(" tbs-activations") }, h("thead", null, headRow), body), this.emptyNote());
  }

  private columnHead(columns: number[]): ColumnHead {
    const bar = colorbarStrip();
    const lo = h("span", { className: "tbs-cb-lo" });
    const hi = h("span", { className: "tbs-cb-hi" });
    return { bar, lo, hi, box: h("div", { className: "tbs-colorbar" }, lo, bar, hi), columns };
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

  private inputTile(sample: number, picture: Picture, zoom: number | null): HTMLElement {
    const box = this.box("tbs-tile tbs-input", picture.width, picture.height, zoom, false);
    box.tabIndex = 0;
    box.setAttribute("role", "button");
    box.setAttribute("aria-label", `Enlarge sample ${sample}, input`);
    box.dataset.sample = String(sample);
    box.dataset.column = "-1";
    const open = this.openHandlers(sample, -1);
    box.addEventListener("click", open.click);
    box.addEventListener("keydown", open.keydown);
    this.inputs.push({ sample, box });
    return box;
  }

  /**
   * A map tile's box. In map grids (`evolution`) it has the evolution button and the tile's own
   * range under it; with `metrics`, the metric values under that (ρ in the randomisation figure).
   */
  private mapTile(sample: number, column: number, name: string, painter: TilePainter, picture: Picture | null, zoom: number | null, opts: { evolution: boolean; metrics: boolean }): HTMLElement {
    const pair = this.host.settings().view === "side" && picture !== null;
    const tile = this.box(`tbs-tile${picture ? " tbs-has-input" : ""}${pair ? " tbs-pair" : ""}`, painter.width, painter.height, zoom, pair);
    const tileIndex = this.tiles.length;
    const boxed = opts.evolution || opts.metrics;
    const rangeLabel = boxed ? h("div", { className: "tbs-tile-range" }) : null;
    const metrics = opts.metrics ? h("div", { className: "tbs-tile-metrics", attrs: { "data-tile": tileIndex } }) : null;
    const entry: MapTile = { sample, column, painter, box: tile, rangeLabel, name, range: null, metrics };
    this.tiles.push(entry);
    this.fillMetrics(entry);
    tile.tabIndex = 0;
    tile.setAttribute("role", "button");
    tile.setAttribute("aria-label", `Enlarge sample ${sample}, ${name}`);
    tile.dataset.sample = String(sample);
    tile.dataset.column = String(column);
    tile.dataset.tile = String(tileIndex);
    const open = this.openHandlers(sample, column);
    tile.addEventListener("click", open.click);
    tile.addEventListener("keydown", open.keydown);
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

  /**
   * Writes a tile's metric values under it: short labels ("del 0.21 · pg ✓") for the eye, the full
   * names, values and directions for screen readers; the hover read-out adds what each measures and its options. In the
   * randomisation figure, the cell's Spearman ρ (or "original").
   */
  private fillMetrics(tile: MapTile): void {
    const el = tile.metrics;
    if (!el) return;
    const m = this.data.maps[tile.column];
    if (this.cascade) {
      const stage = m?.info.stage ?? "";
      if (!stage) {
        el.replaceChildren(h("span", { className: "tbs-muted", text: "original" }));
        return;
      }
      const rho = this.cascade.rho(m.info.key, stage, tile.sample);
      const meta = metricMeta("spearman");
      el.replaceChildren(
        h("span", { className: "tbs-metric", attrs: { "data-metric": "spearman", role: "img", "aria-label": `${meta.full} ${rho === null ? "not logged" : String(rho)}` }, text: `ρ ${formatMetric(meta, rho)}` }),
      );
      return;
    }
    const names = metricNames(m?.info.metrics);
    const parts: HTMLElement[] = [];
    names.forEach((name, k) => {
      const meta = metricMeta(name);
      const v = sampleValue(m.info.metrics[name], tile.sample);
      const miss = meta.hit && v !== null && v < 0.5;
      if (k) parts.push(h("span", { className: "tbs-sep", attrs: { "aria-hidden": "true" }, text: " · " }));
      // Short on screen; in full for screen readers (a labelled image of text, so that nothing hidden
      // lies in the page for the card's PNG to draw).
      const spoken = `${meta.full} ${meta.hit ? (v === null ? "not logged" : v >= 0.5 ? "hit" : "missed") : v === null ? "not logged" : String(v)}${meta.direction ? `, ${directionText(meta.direction)}` : ""}`;
      parts.push(h("span", { className: `tbs-metric${miss ? " tbs-miss" : ""}`, attrs: { "data-metric": name, role: "img", "aria-label": spoken }, text: `${meta.short} ${formatMetric(meta, v)}` }));
    });
    el.replaceChildren(...parts);
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
    const names = sample.target !== sample.label ? (["label", "target", "pred", "score"] as const) : (["label", "pred", "score"] as const);
    th.append(...factPairs(sample, classes, names).map(([name, value]) => h("div", null, `${name} `, h("span", { className: "tbs-v", text: value }))));
    if (typeof sample.target_score === "number") th.title = `attributed score f_target(x) = ${formatValue(sample.target_score)}`;
    if (isWrong(sample)) th.appendChild(h("div", { className: "tbs-wrongmark", text: "✗ wrong" }));
    return th;
  }

  // ---- painting ---------------------------------------------------------------------------------

  /** Recolours every map layer under the current settings; builds nothing. */
  paint(): void {
    const s = this.host.settings();
    const ts = tileSettings(s);
    const rs = rangeSettings(s);
    const table = this.el.querySelector("table");
    const classes = this.gridClasses(this.data.activations ? " tbs-activations" : this.cascade ? " tbs-cascade" : "");
    if (table && table.className !== classes) table.className = classes;
    const groups: { group: BlockGroup; extrema: () => Extrema }[] = this.data.activations
      ? [{ group: this.data.activations.group, extrema: () => this.host.extrema("activations", "") }]
      : this.data.maps.map((m) => ({ group: m.group, extrema: () => this.host.extrema(m.info.key, m.info.stage ?? "") }));
    const ranges = groups.map(({ group, extrema }) => groupRanges(group, rs, s.scope === "tag" ? extrema() : null));
    const perMap = s.scope === "map";
    // In the randomisation figure each stage has its own range whatever the scope: every tile says its own.
    const perTile = perMap || this.cascade !== null;
    const k = this.data.activations?.info.channels ?? 0;
    const ctx = this.prepareCanvas();
    const view: TileView = { view: s.view, opacity: s.opacity / 100, smooth: s.upsampling === "bilinear" };
    if (ctx) {
      for (const input of this.inputs) {
        const picture = this.data.images[input.sample];
        const r = this.rects!.get(input.box);
        if (picture && r) drawTile(ctx, r, picture, null, null, { ...view, view: "heatmap" }, ts);
      }
    }
    for (const tile of this.tiles) {
      const range = this.data.activations ? ranges[0][tile.sample * k + tile.column] : ranges[tile.column][tile.sample];
      tile.range = range;
      const r = this.rects?.get(tile.box);
      if (ctx && r) drawTile(ctx, r, this.data.images[tile.sample] ?? null, tile.painter, range, view, ts);
      if (tile.rangeLabel) {
        tile.rangeLabel.hidden = !perTile;
        if (perTile) tile.rangeLabel.textContent = rangeText(range);
      }
    }
    this.heads.forEach((head) => {
      paintColorbar(head.bar, s);
      const columnRanges = head.columns.flatMap((c) => ranges[c] ?? []);
      if (perTile && columnRanges.length > 1) {
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

  /**
   * Sizes the canvas to the grid (at the screen's pixel ratio), measures every box once per layout,
   * clears it and returns its context; null while the grid is not on the page.
   */
  private prepareCanvas(): CanvasRenderingContext2D | null {
    if (!this.el.isConnected) return null;
    // The boxes are measured once per layout (the resize observer forgets them), so a display
    // change reads no layout.
    if (!this.rects) {
      const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
      const width = Math.ceil(this.el.scrollWidth * dpr);
      const height = Math.ceil(this.el.scrollHeight * dpr);
      const origin = this.el.getBoundingClientRect();
      const scrollLeft = this.el.scrollLeft;
      const rects = new Map<HTMLElement, Rect>();
      const measure = (box: HTMLElement) => {
        const r = box.getBoundingClientRect();
        rects.set(box, { x: (r.left - origin.left + scrollLeft) * dpr, y: (r.top - origin.top) * dpr, w: r.width * dpr, h: r.height * dpr });
      };
      for (const t of this.tiles) measure(t.box);
      for (const i of this.inputs) measure(i.box);
      this.rects = rects;
      if (this.canvas.width !== width) this.canvas.width = width;
      if (this.canvas.height !== height) this.canvas.height = height;
      this.canvas.style.width = `${width / dpr}px`;
      this.canvas.style.height = `${height / dpr}px`;
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return null;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.globalCompositeOperation = "source-over";
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    return ctx;
  }

  private onHover(e: MouseEvent): void {
    const target = e.target as Element;
    const metricsEl = target.closest?.(".tbs-tile-metrics") as HTMLElement | null;
    if (metricsEl) {
      const tile = this.tiles[Number(metricsEl.dataset.tile)];
      const lines = tile ? this.metricLines(tile) : [];
      if (lines.length) this.host.tooltip.show(lines, e.clientX, e.clientY);
      else this.host.tooltip.hide();
      return;
    }
    const tileEl = target.closest?.("[data-tile]") as HTMLElement | null;
    const tile = tileEl ? this.tiles[Number(tileEl.dataset.tile)] : undefined;
    if (!tile) {
      this.host.tooltip.hide();
      return;
    }
    const rect = tile.box.getBoundingClientRect();
    let fx = (e.clientX - rect.left) / Math.max(1, rect.width);
    const fy = (e.clientY - rect.top) / Math.max(1, rect.height);
    // Side by side: either half points at the same cell.
    if (tile.box.classList.contains("tbs-pair")) fx = fx < 0.5 ? fx * 2 : (fx - 0.5) * 2;
    if (fx < 0 || fx >= 1 || fy < 0 || fy >= 1) {
      this.host.tooltip.hide();
      return;
    }
    const c = tile.painter.cellAt(fx, fy);
    const lines = [`sample ${tile.sample} · ${tile.name}`, `pixel (${c.x}, ${c.y}) · cell (${c.cx}, ${c.cy})`, `value ${formatValue(c.value)}`];
    if (tile.range) lines.push(`colour range ${rangeText(tile.range)}`);
    this.host.tooltip.show(lines, e.clientX, e.clientY);
  }

  /** The read-out of a tile's metrics: each in full, its value, direction and options. */
  private metricLines(tile: MapTile): string[] {
    const m = this.data.maps[tile.column];
    if (!m) return [];
    const lines = [`sample ${tile.sample} · ${tile.name}`];
    if (this.cascade) {
      if (!m.info.stage) return [...lines, "the original model's map: each ρ below compares with it"];
      const r = this.data.frame.randomisation;
      return [...lines, ...describeMetric("spearman", this.cascade.rho(m.info.key, m.info.stage, tile.sample), { ...(r?.options ?? {}), order: r?.order })];
    }
    for (const name of metricNames(m.info.metrics)) {
      const metric = m.info.metrics[name];
      lines.push(...describeMetric(name, sampleValue(metric, tile.sample), metric.options));
    }
    return lines;
  }

  /** Map tiles (or channel tiles) drawn by this grid. */
  get tileCount(): number {
    return this.tiles.length;
  }
}

function isCascade(data: StepData): boolean {
  return data.frame.kind === "randomisation" && !data.activations && data.maps.length > 0;
}

function hasMetrics(m: { info: { metrics?: Record<string, unknown> } }): boolean {
  return Object.keys(m.info.metrics ?? {}).length > 0;
}

/** A map's metric names: the known ones in their usual order, then any other. */
function metricNames(metrics: Record<string, unknown> | undefined): string[] {
  const names = Object.keys(metrics ?? {});
  const known: readonly string[] = KNOWN_MAP_METRICS;
  const rank = (n: string) => (known.includes(n) ? known.indexOf(n) : known.length);
  return names.sort((a, b) => rank(a) - rank(b));
}

export function optionsText(options: Record<string, unknown> | undefined): string {
  if (!options || Object.keys(options).length === 0) return "";
  try {
    return `options: ${JSON.stringify(options)}`;
  } catch {
    return "";
  }
}
