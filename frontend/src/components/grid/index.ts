// The grid of one stored step inside a card. A layout of the step's kind (maps.ts, activations.ts,
// cascade.ts; tokens.ts and signals.ts draw their inputs themselves) builds the table: labels and one
// empty, focusable box per tile. This grid draws every picture on ONE canvas behind the table, at each
// box's place, and reads the tiles back on hover. A browser composites each canvas as a layer of its
// own, and hundreds of them made every frame spend tens of milliseconds laying layers out; one canvas
// per card does not. A display change recolours each map layer once and redraws the card's canvas; it
// builds no DOM, and a new step with the same columns and samples reuses every element.

import type { StepData } from "../../data/step_data";
import { h } from "../../dom";
import { groupRanges, spanOf, TilePainter } from "../../render/pipeline";
import { formatValue } from "../../render/pixels";
import { drawTile, paintColorbar, rangeSettings, rangeText, tileSettings, type Rect, type TileView } from "../tiles";
import { ActivationsLayout } from "./activations";
import { TileBoard, type FrameLayout, type GridHost, type MapTile, type Shown } from "./board";
import { CascadeLayout } from "./cascade";
import { MapsLayout } from "./maps";
import { SignalsLayout } from "./signals";
import { TokensLayout } from "./tokens";

export type { GridHost } from "./board";

/** The layout of a step's kind: activations, the randomisation figure (when it has maps), text, signals or maps. */
function layoutFor(data: StepData, host: GridHost): FrameLayout {
  if (data.activations) return new ActivationsLayout(host);
  if (data.tokens && data.maps.length > 0) return new TokensLayout(host);
  if (data.signals && data.maps.length > 0) return new SignalsLayout(host);
  if (data.frame.kind === "randomisation" && data.maps.length > 0) return new CascadeLayout(host);
  return new MapsLayout(host);
}

export class GridView {
  readonly el: HTMLElement;
  /** The one canvas every tile of the grid is drawn on. */
  readonly canvas: HTMLCanvasElement;
  private readonly layout: FrameLayout;
  private readonly board: TileBoard;
  private rects: Map<HTMLElement, Rect> | null = null;
  private resizeObserver: ResizeObserver | null = null;
  private repaintQueued = false;
  private readonly structure: string;
  private data: StepData;
  /** The samples shown, in the order shown (sorted or filtered by a metric). */
  samples: number[];

  constructor(
    data: StepData,
    private readonly host: GridHost,
  ) {
    this.data = data;
    this.layout = layoutFor(data, host);
    const shown = this.layout.shown(data);
    this.samples = shown.samples;
    this.structure = GridView.structureOf(data, host, shown);
    this.canvas = h("canvas", { className: "tbs-grid-canvas", attrs: { "aria-hidden": "true" } });
    this.board = new TileBoard(host, this.canvas);
    this.el = this.layout.build(data, shown, this.board);
    for (const tile of this.board.tiles) this.fillMetrics(tile);
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
    this.layout.dispose?.();
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
      data.tokens ? [data.tokens.tokens, s.mergeWords] : data.signals ? [data.signals.info.channels, data.signals.info.length] : null,
    ]);
  }

  /** Shows `data` in this grid's elements when its structure is the same; false when a new grid is needed. */
  update(data: StepData): boolean {
    const shown = this.layout.shown(data);
    if (GridView.structureOf(data, this.host, shown) !== this.structure) return false;
    this.data = data;
    this.samples = shown.samples;
    this.layout.refresh(data, shown);
    const groups = this.layout.groups(data);
    for (const tile of this.board.tiles) {
      tile.painter = new TilePainter(groups[tile.group].group.blocks[tile.index], data.images[tile.sample] ?? null);
      this.fillMetrics(tile);
    }
    return true;
  }

  /** Whether settings changed what the grid is made of (then the card builds a new one). */
  stale(): boolean {
    return GridView.structureOf(this.data, this.host, this.layout.shown(this.data)) !== this.structure;
  }

  private fillMetrics(tile: MapTile): void {
    tile.metrics?.replaceChildren(...(this.layout.metricCells?.(this.data, tile) ?? []));
  }

  // ---- painting ---------------------------------------------------------------------------------

  /** Recolours every map layer under the current settings; builds nothing. */
  paint(): void {
    const s = this.host.settings();
    const ts = tileSettings(s);
    const rs = rangeSettings(s);
    const table = this.el.querySelector("table");
    const classes = this.board.gridClasses(this.layout.tableClass);
    if (table && table.className !== classes) table.className = classes;
    const ranges = this.layout.groups(this.data).map(({ group, key, stage }) => groupRanges(group, rs, s.scope === "tag" ? this.host.extrema(key, stage) : null));
    const perMap = s.scope === "map";
    const perTile = perMap || this.layout.ownRanges;
    // Text and signal layouts draw no tile on the grid's canvas: it stays empty, and unsized.
    const ctx = this.board.tiles.length || this.board.inputs.length ? this.prepareCanvas() : null;
    this.layout.paintInputs?.(ranges);
    const view: TileView = { view: s.view, opacity: s.opacity / 100, smooth: s.upsampling === "bilinear" };
    if (ctx) {
      for (const input of this.board.inputs) {
        const picture = this.data.images[input.sample];
        const r = this.rects!.get(input.box);
        if (picture && r) drawTile(ctx, r, picture, null, null, { ...view, view: "heatmap" }, ts);
      }
    }
    for (const tile of this.board.tiles) {
      const range = ranges[tile.group][tile.index];
      tile.range = range;
      const r = this.rects?.get(tile.box);
      if (ctx && r) drawTile(ctx, r, this.data.images[tile.sample] ?? null, tile.painter, range, view, ts);
      if (tile.rangeLabel) {
        tile.rangeLabel.hidden = !perTile;
        if (perTile) tile.rangeLabel.textContent = rangeText(range);
      }
    }
    for (const head of this.board.heads) {
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
    }
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
      for (const t of this.board.tiles) measure(t.box);
      for (const i of this.board.inputs) measure(i.box);
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

  // ---- hover ------------------------------------------------------------------------------------

  private onHover(e: MouseEvent): void {
    if (this.layout.hover?.(e)) return;
    const target = e.target as Element;
    const metricsEl = target.closest?.(".tbs-tile-metrics") as HTMLElement | null;
    if (metricsEl) {
      const tile = this.board.tiles[Number(metricsEl.dataset.tile)];
      const lines = tile ? (this.layout.metricLines?.(this.data, tile) ?? []) : [];
      if (lines.length) this.host.tooltip.show(lines, e.clientX, e.clientY);
      else this.host.tooltip.hide();
      return;
    }
    const tileEl = target.closest?.("[data-tile]") as HTMLElement | null;
    const tile = tileEl ? this.board.tiles[Number(tileEl.dataset.tile)] : undefined;
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

  /** Map tiles (or channel tiles) drawn by this grid. */
  get tileCount(): number {
    return this.board.tiles.length;
  }
}
