// Drawing tiles, shared by the card grid and the enlarged view. A tile is the input and the colour
// layer of one map, computed once per pixel (TilePainter) and kept on an off-page canvas with the
// settings that made it. The card grid draws every tile on its one canvas (drawTile: the browser
// blends the layer over the input, with globalAlpha for the overlay and "multiply" for the masked
// view). The enlarged view's few larger tiles are an input canvas and a layer canvas in the page,
// blended by CSS on an ancestor (.tbs-view-overlay at var(--tbs-opacity), -masked, -heatmap, -side).

import type { Picture } from "../data/blobs";
import { h, putPixels, scratchImage } from "../dom";
import type { DisplayRange } from "../render/normalise";
import type { TilePainter, TileSettings } from "../render/pipeline";
import { colormapTable, type ColormapName } from "../render/colormaps";
import { formatValue, type View } from "../render/pixels";
import type { Settings } from "../settings";

export interface TileParts {
  el: HTMLElement;
  /** The input under (or beside) the layer; null without an input image. */
  under: HTMLCanvasElement | null;
  layer: HTMLCanvasElement;
}

export function viewClass(view: View): string {
  return `tbs-view-${view}`;
}

/** Draws a decoded input at its own size (CSS scales it, in whole pixels). */
export function drawPicture(canvas: HTMLCanvasElement, picture: Picture): void {
  canvas.width = picture.width;
  canvas.height = picture.height;
  const ctx = canvas.getContext("2d");
  if (ctx && picture.image) ctx.drawImage(picture.image, 0, 0);
}

export function inputCanvas(picture: Picture, zoom: number | null): HTMLCanvasElement {
  const canvas = h("canvas", { className: "tbs-under", attrs: { "aria-hidden": "true" } });
  drawPicture(canvas, picture);
  if (zoom) canvas.style.width = `${picture.width * zoom}px`;
  return canvas;
}

/** The elements of a map tile; paint the layer with paintLayer. `zoom` is px per input pixel, or null to fit. */
export function mapTileParts(painter: TilePainter, picture: Picture | null, zoom: number | null): TileParts {
  const layer = h("canvas", { className: "tbs-layer", attrs: { width: painter.width, height: painter.height, "aria-hidden": "true" } });
  const under = picture ? inputCanvas(picture, zoom) : null;
  if (zoom) layer.style.width = `${painter.width * zoom}px`;
  const el = h("div", { className: `tbs-tile${under ? " tbs-has-input" : ""}` }, under, layer);
  return { el, under, layer };
}

/** How many colour layers were computed (instrumentation: each tile once per display change). */
export const counters = { layers: 0 };

/** Colours a painter's layer into its canvas. */
export function paintLayer(painter: TilePainter, canvas: HTMLCanvasElement, range: DisplayRange, s: TileSettings): void {
  const image = scratchImage(painter.width, painter.height);
  painter.paint(new Uint32Array(image.data.buffer, image.data.byteOffset, painter.width * painter.height), range, s);
  counters.layers++;
  putPixels(canvas, image.data, painter.width, painter.height);
}

export function tileSettings(s: Settings): TileSettings {
  return { view: s.view, colormap: s.colormap, sign: s.sign, upsampling: s.upsampling };
}

export function rangeSettings(s: Settings) {
  return { sign: s.sign, clip: { mode: s.clip, percentile: s.percentile, massPercent: s.massPercent }, scope: s.scope };
}

export function rangeText(r: DisplayRange): string {
  return `${formatValue(r.lo)} … ${formatValue(r.hi)}`;
}

/** A colour bar: a strip whose background is the colormap (CSS, no canvas). */
export function colorbarStrip(): HTMLElement {
  return h("span", { className: "tbs-cb", attrs: { "aria-hidden": "true" } });
}

const gradients = new Map<ColormapName, string>();

/** The colormap as a CSS gradient of 17 stops. */
export function colormapGradient(name: ColormapName): string {
  let g = gradients.get(name);
  if (!g) {
    const lut = colormapTable(name);
    const stops: string[] = [];
    for (let k = 0; k <= 16; k++) {
      const i = Math.min(255, Math.round((k / 16) * 255));
      stops.push(`rgb(${lut[3 * i]}, ${lut[3 * i + 1]}, ${lut[3 * i + 2]}) ${((k / 16) * 100).toFixed(2)}%`);
    }
    g = `linear-gradient(to right, ${stops.join(", ")})`;
    gradients.set(name, g);
  }
  return g;
}

export function paintColorbar(strip: HTMLElement, s: Settings): void {
  const g = colormapGradient(s.colormap);
  if (strip.style.backgroundImage !== g) strip.style.backgroundImage = g;
}

export interface TileView {
  view: View;
  /** Overlay opacity in [0, 1]. */
  opacity: number;
  /** Bilinear upsampling draws the layer smoothly; nearest draws its cells. */
  smooth: boolean;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const layers = new WeakMap<TilePainter, HTMLCanvasElement>();

/**
 * A painter's layer on an off-page canvas of its own (never on the page, so the browser does not
 * composite it), kept while the painter lives: an opacity change, or a view that keeps the same
 * colours, draws it again without colouring a pixel.
 */
function layerCanvas(painter: TilePainter, range: DisplayRange, s: TileSettings): HTMLCanvasElement {
  let canvas = layers.get(painter);
  if (!canvas) {
    canvas = document.createElement("canvas");
    layers.set(painter, canvas);
    painter.paintedKey = "";
  }
  const key = painter.layerKey(range, s);
  if (painter.paintedKey !== key) {
    paintLayer(painter, canvas, range, s);
    painter.paintedKey = key;
  }
  return canvas;
}

/**
 * Draws one tile at `r` on a shared canvas as its view shows it: the input alone (no painter), the
 * heatmap, the heatmap over the input at the overlay's opacity, the input multiplied by the masked
 * view's grey layer, or the input and the heatmap side by side. The browser blends (globalAlpha,
 * "multiply"); the layer's pixels were each computed once.
 */
export function drawTile(ctx: CanvasRenderingContext2D, r: Rect, picture: Picture | null, painter: TilePainter | null, range: DisplayRange | null, v: TileView, s: TileSettings): void {
  const x = Math.round(r.x);
  const y = Math.round(r.y);
  const w = Math.round(r.x + r.w) - x;
  const hh = Math.round(r.y + r.h) - y;
  const image = picture?.image ?? null;
  ctx.imageSmoothingEnabled = false;
  if (!painter || !range) {
    if (image) ctx.drawImage(image, x, y, w, hh);
    return;
  }
  const layer = layerCanvas(painter, range, s);
  if (picture && v.view === "side") {
    const gap = Math.max(1, Math.round(w / 128));
    const half = Math.floor((w - gap) / 2);
    if (image) ctx.drawImage(image, x, y, half, hh);
    ctx.imageSmoothingEnabled = v.smooth;
    ctx.drawImage(layer, x + w - half, y, half, hh);
    return;
  }
  if (picture && (v.view === "overlay" || v.view === "masked")) {
    if (image) ctx.drawImage(image, x, y, w, hh);
    if (v.view === "overlay") ctx.globalAlpha = v.opacity;
    else ctx.globalCompositeOperation = "multiply";
  }
  ctx.imageSmoothingEnabled = v.smooth;
  ctx.drawImage(layer, x, y, w, hh);
  ctx.globalAlpha = 1;
  ctx.globalCompositeOperation = "source-over";
}

/**
 * One picture of a tile as the view shows it, for downloads: the browser's own compositing
 * (globalAlpha for the overlay, "multiply" for the masked view) on a canvas.
 */
export function compositeCanvas(under: HTMLCanvasElement | null, layer: HTMLCanvasElement, view: View, opacity: number): HTMLCanvasElement {
  const out = document.createElement("canvas");
  out.width = layer.width;
  out.height = layer.height;
  const ctx = out.getContext("2d")!;
  ctx.imageSmoothingEnabled = false;
  if (under && view !== "heatmap" && view !== "side") {
    ctx.drawImage(under, 0, 0, out.width, out.height);
    ctx.globalAlpha = view === "overlay" ? opacity : 1;
    ctx.globalCompositeOperation = view === "masked" ? "multiply" : "source-over";
  }
  ctx.drawImage(layer, 0, 0);
  return out;
}
