// One (run, tag) card: a step slider and the grid of one stored step. It fetches only once it has been
// on screen, keeps the user's place when new steps arrive, and redraws from decoded data (no fetch)
// when a display setting changes.

import { ApiError, type BlobCache, type Frame, type FramesResponse, type TagInfo, type TagsResponse } from "../api";
import { h, pixelCanvas, replaceChildren, uid } from "../dom";
import { colorbarPixels, formatValue, scaleNearest } from "../render";
import type { DisplayRange } from "../normalise";
import {
  clipOf,
  extremaOf,
  renderFactor,
  renderTile,
  scopedRanges,
  signedColumn,
} from "../pipeline";
import type { Settings } from "../settings";
import { className, indexForStep, isWrong, loadStep, type StepData } from "../step";

export interface CardHost {
  settings(): Settings;
  blobs: BlobCache;
  frames(run: string, tag: string, refresh: boolean): Promise<FramesResponse>;
  sampling(): TagsResponse["sampling"] | null;
  runColor(run: string): string;
  /** The user moved this card to `step` (slider or keyboard); linked cards follow. */
  userStep(card: Card, step: number): void;
  openTile(card: Card, sample: number, column: number): void;
}

export class Card {
  readonly el: HTMLElement;
  frames: FramesResponse | null = null;
  index = 0;
  data: StepData | null = null;
  /** A card on the newest step follows new steps; one the user moved back stays where it is. */
  private followLatest = true;
  private pendingStep: number | null = null;
  private activated = false;
  private loadToken = 0;
  private readonly slider: HTMLInputElement;
  private readonly stepText: HTMLElement;
  private readonly timeText: HTMLElement;
  private readonly notices: HTMLElement;
  private readonly body: HTMLElement;
  private readonly readout: HTMLElement;

  constructor(
    readonly run: string,
    readonly tag: string,
    public info: TagInfo,
    private readonly host: CardHost,
  ) {
    const sliderId = uid("step");
    this.slider = h("input", {
      attrs: { type: "range", min: 0, max: 0, step: 1, value: 0, id: sliderId, disabled: true, "aria-label": `Step of ${run}, ${tag}` },
      on: { input: () => this.userMove(Number(this.slider.value)) },
    });
    this.stepText = h("strong", { text: "–" });
    this.timeText = h("span", { className: "tbs-walltime" });
    this.notices = h("div");
    this.body = h("div", { className: "tbs-body" }, h("div", { className: "tbs-loading", text: "Waiting to scroll into view…" }));
    this.readout = h("div", { className: "tbs-readout", attrs: { "aria-hidden": "true" } });
    const title = info.display_name && info.display_name !== tag ? info.display_name : tag;
    this.el = h(
      "article",
      {
        className: "tbs-card",
        attrs: { tabindex: 0, "aria-label": `${run}, ${tag}`, "data-run": run, "data-tag": tag },
        on: { keydown: (e) => this.onKey(e) },
      },
      h(
        "div",
        { className: "tbs-card-head" },
        h("span", { className: "tbs-swatch", style: { background: host.runColor(run) }, attrs: { "aria-hidden": "true" } }),
        h("span", { className: "tbs-card-title tbs-run", text: run }),
      ),
      h("div", { className: "tbs-card-sub tbs-tag", text: title }),
      info.description ? h("div", { className: "tbs-card-sub", text: info.description }) : null,
      h(
        "div",
        { className: "tbs-step" },
        h("label", { attrs: { for: sliderId }, text: "Step" }),
        this.stepText,
        this.slider,
        this.timeText,
      ),
      this.notices,
      this.body,
      this.readout,
    );
  }

  get step(): number | null {
    const f = this.frames?.frames[this.index];
    return f ? f.step : null;
  }

  get isActive(): boolean {
    return this.activated;
  }

  /** Called when the card first scrolls into view. */
  activate(): void {
    if (this.activated) return;
    this.activated = true;
    void this.refresh(false);
  }

  private tagError(): string | null {
    const error = this.info.error ?? this.frames?.error;
    return error ? `This tag cannot be shown: ${error}` : null;
  }

  /** Re-reads the step list (new steps while training runs) without losing the user's place. */
  async refresh(force = true): Promise<void> {
    if (!this.activated) return;
    let frames: FramesResponse;
    try {
      frames = await this.host.frames(this.run, this.tag, force);
    } catch (e) {
      if (!this.frames) this.showError(`Could not load this card: ${message(e)}`);
      return;
    }
    const previousStep = this.step;
    this.frames = frames;
    const tagError = this.tagError();
    if (tagError && frames.frames.every((f) => f.error)) {
      this.updateSlider();
      this.showError(tagError);
      return;
    }
    const n = frames.frames.length;
    if (this.pendingStep !== null) {
      this.index = indexForStep(frames.frames, this.pendingStep);
      this.pendingStep = null;
      this.followLatest = this.index === n - 1;
    } else if (this.followLatest || previousStep === null) {
      this.index = Math.max(0, n - 1);
    } else {
      this.index = indexForStep(frames.frames, previousStep);
    }
    this.updateSlider();
    this.renderNotices();
    const current = frames.frames[this.index];
    if (this.data && sameFrame(this.data.frame, current)) {
      // Same step, same blobs: keep the drawn grid (and the keyboard focus inside it).
      this.data.frame = current;
      // A per-tag range spans every stored step, so new steps can change it.
      if (this.host.settings().scope === "tag") this.redraw();
      return;
    }
    await this.loadCurrent();
  }

  /** Moves to the stored step nearest at or before `step` (from "link steps"). */
  showStep(step: number): void {
    if (!this.frames) {
      this.pendingStep = step;
      return;
    }
    const i = indexForStep(this.frames.frames, step);
    this.followLatest = i === this.frames.frames.length - 1;
    if (i !== this.index) {
      this.index = i;
      this.updateSlider();
      void this.loadCurrent();
    }
  }

  private userMove(i: number): void {
    if (!this.frames || this.frames.frames.length === 0) return;
    const n = this.frames.frames.length;
    const index = Math.max(0, Math.min(n - 1, i));
    this.followLatest = index === n - 1;
    if (index !== this.index) {
      this.index = index;
      this.updateSlider();
      void this.loadCurrent();
    }
    const step = this.step;
    if (step !== null) this.host.userStep(this, step);
  }

  private onKey(e: KeyboardEvent): void {
    // The slider handles its own arrows; elsewhere in the card the arrows move its step too.
    if (e.target === this.slider || (e.target instanceof HTMLElement && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName))) return;
    const n = this.frames?.frames.length ?? 0;
    if (!n) return;
    let next = this.index;
    if (e.key === "ArrowLeft" || e.key === "ArrowDown") next--;
    else if (e.key === "ArrowRight" || e.key === "ArrowUp") next++;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = n - 1;
    else return;
    e.preventDefault();
    this.userMove(next);
  }

  private updateSlider(): void {
    const frames = this.frames?.frames ?? [];
    const f = frames[this.index];
    this.slider.max = String(Math.max(0, frames.length - 1));
    this.slider.value = String(this.index);
    this.slider.disabled = frames.length < 2;
    this.stepText.textContent = f ? String(f.step) : "–";
    this.slider.setAttribute("aria-valuetext", f ? `step ${f.step}` : "no steps");
    this.timeText.textContent = f ? formatWallTime(f.wall_time) : "";
    this.timeText.title = f ? `wall time ${f.wall_time}` : "";
  }

  private renderNotices(): void {
    const frames = this.frames;
    if (!frames) return;
    const stored = frames.frames.length;
    if (frames.frames_written > stored) {
      const flag = this.host.sampling()?.flag || "--samples_per_plugin=saliency=0";
      replaceChildren(
        this.notices,
        h(
          "div",
          { className: "tbs-notice tbs-sampling", attrs: { role: "note" } },
          `Showing ${stored} of ${frames.frames_written} logged steps: TensorBoard samples saliency steps. `,
          "Start it with ",
          h("code", { text: flag }),
          " to keep them all.",
        ),
      );
    } else {
      replaceChildren(this.notices);
    }
  }

  private async loadCurrent(): Promise<void> {
    const frame = this.frames?.frames[this.index];
    const token = ++this.loadToken;
    if (!frame) {
      this.data = null;
      replaceChildren(this.body, h("div", { className: "tbs-loading", text: "No steps stored for this tag." }));
      return;
    }
    if (frame.error) {
      this.data = null;
      this.showError(`Step ${frame.step} cannot be shown: ${frame.error}`);
      return;
    }
    // The previous step stays on screen until the new one is ready, so the slider never flickers.
    if (!this.data) replaceChildren(this.body, h("div", { className: "tbs-loading", text: "Loading…" }));
    try {
      const data = await loadStep(frame, this.host.blobs);
      if (token !== this.loadToken) return;
      this.data = data;
      this.redraw();
    } catch (e) {
      if (token !== this.loadToken) return;
      this.data = null;
      this.showError(`Step ${frame.step} cannot be shown: ${message(e)}`);
    }
  }

  private showError(text: string): void {
    replaceChildren(this.body, h("div", { className: "tbs-error", attrs: { role: "alert" }, text }));
  }

  /** Redraws the grid from the decoded step under the current settings. */
  redraw(): void {
    const data = this.data;
    if (!data) return;
    // A redraw replaces the tiles; keep keyboard users inside this card rather than dropping them on <body>.
    const hadFocus = this.body.contains(document.activeElement);
    try {
      const grid = data.activations ? this.activationGrid(data) : this.saliencyGrid(data);
      replaceChildren(this.body, grid);
      if (hadFocus) this.el.focus({ preventScroll: true });
    } catch (e) {
      this.showError(`Step ${data.frame.step} cannot be drawn: ${message(e)}`);
    }
  }

  private zoomClass(s: Settings): string {
    return s.zoom === "fit" ? "tbs-fit" : "tbs-pixelated";
  }

  private inputCanvas(input: ImageData, s: Settings): HTMLCanvasElement {
    const k = renderFactor(input.width, input.height, fitSize(s));
    const pixels = k === 1 ? input.data : scaleNearest(input.data, input.width, input.height, k);
    return this.sizeCanvas(pixelCanvas(pixels, input.width * k, input.height * k), s);
  }

  private sizeCanvas(canvas: HTMLCanvasElement, s: Settings): HTMLCanvasElement {
    if (s.zoom !== "fit") {
      const z = Number(s.zoom);
      canvas.style.width = `${canvas.width * z}px`;
      canvas.style.height = `${canvas.height * z}px`;
    }
    return canvas;
  }

  private saliencyGrid(data: StepData): HTMLElement {
    if (data.maps.length === 0) {
      return h("div", null, h("div", { className: "tbs-loading", text: `Step ${data.frame.step} holds no maps.` }));
    }
    const s = this.host.settings();
    const allFrames = this.frames?.frames ?? [];
    const hasImages = data.images.some((x) => x !== null);
    const columns = data.maps.map((column) => {
      const key = column.info.key;
      const signed = signedColumn(column.raw, s.sign);
      const extrema = s.scope === "tag" ? extremaOf(allFrames, (f) => f.maps?.find((m) => m.key === key)) : null;
      const ranges = scopedRanges(signed, s.scope, s.sign, clipOf(s), extrema);
      return { column, signed, ranges };
    });

    const head = headRow(
      hasImages,
      columns.map(({ column: { info }, ranges }) => {
        const sub = [info.method && info.method !== info.key ? info.method : "", info.layer && !info.key.includes(info.layer) ? `@ ${info.layer}` : ""]
          .filter(Boolean)
          .join(" ");
        return columnHeader(info.key, sub, colorbar(s, ranges), optionsText(info.options));
      }),
    );

    const body = h("tbody");
    for (let i = 0; i < data.numSamples; i++) {
      const input = data.images[i] ?? null;
      const cells = columns.map(({ column, signed, ranges }, j) => {
        const info = column.info;
        const tile = renderTile(signed[i], info, ranges[i], input, s.view, s, fitSize(s));
        const canvases = [this.sizeCanvas(pixelCanvas(tile.pixels, tile.width, tile.height), s)];
        if (s.view === "side" && input) {
          canvases.unshift(this.sizeCanvas(pixelCanvas(tile.input!, tile.width, tile.height), s));
        }
        const el = this.tile(canvases, i, j, info.key);
        const stats = Object.entries(info.statistics ?? {})
          .filter(([, v]) => Array.isArray(v) && typeof v[i] === "number")
          .map(([k, v]) => `${k}: ${formatValue(v[i])}`);
        el.title = [`${info.key}, sample ${i}`, `range ${formatValue(info.min[i])} … ${formatValue(info.max[i])}`, ...stats].join("\n");
        const mapCanvas = canvases[canvases.length - 1];
        mapCanvas.addEventListener("mousemove", (e) => {
          // Pixel coordinates are the input's (the tile may draw each input pixel as a block).
          const w = tile.width / tile.factor;
          const hh = tile.height / tile.factor;
          const x = Math.min(w - 1, Math.max(0, Math.floor((e.offsetX * w) / Math.max(1, mapCanvas.clientWidth))));
          const y = Math.min(hh - 1, Math.max(0, Math.floor((e.offsetY * hh) / Math.max(1, mapCanvas.clientHeight))));
          const cx = Math.min(info.width - 1, Math.floor((x * info.width) / w));
          const cy = Math.min(info.height - 1, Math.floor((y * info.height) / hh));
          const raw = column.raw[i][cy * info.width + cx];
          this.readout.textContent = `sample ${i} · ${info.key} · pixel (${x}, ${y}) · cell (${cx}, ${cy}) · value ${formatValue(raw)}`;
        });
        mapCanvas.addEventListener("mouseleave", () => (this.readout.textContent = ""));
        return h("td", null, el);
      });
      body.appendChild(this.sampleRow(data, i, hasImages, s, cells));
    }
    return h("table", { className: `tbs-grid ${this.zoomClass(s)}` }, h("thead", null, head), body);
  }

  private activationGrid(data: StepData): HTMLElement {
    const s = this.host.settings();
    const act = data.activations!;
    const info = act.info;
    const flatSigned = signedColumn(act.raw.flat(), s.sign);
    const extrema = s.scope === "tag" ? extremaOf(this.frames?.frames ?? [], (f) => (f.activations?.layer === info.layer ? f.activations : null)) : null;
    const ranges = scopedRanges(flatSigned, s.scope, s.sign, clipOf(s), extrema);
    const hasImages = data.images.some((x) => x !== null);
    const head = headRow(hasImages, [
      columnHeader(`channels of ${info.layer || "layer"}`, `${info.channels} of ${info.total_channels}, most active first`, colorbar(s, ranges)),
    ]);
    const body = h("tbody");
    for (let i = 0; i < data.numSamples; i++) {
      const tiles = h("div", { className: "tbs-channels" });
      for (let c = 0; c < info.channels; c++) {
        const k = i * info.channels + c;
        const tile = renderTile(flatSigned[k], info, ranges[k], null, "heatmap", s);
        const canvas = pixelCanvas(tile.heat, tile.width, tile.height);
        if (s.upsampling === "nearest") canvas.classList.add("tbs-pixelated");
        const index = info.channel_index[i]?.[c];
        const mean = info.channel_mean[i]?.[c];
        const raw = act.raw[i][c];
        canvas.addEventListener("mousemove", (e) => {
          const cx = Math.min(info.width - 1, Math.floor((e.offsetX * info.width) / Math.max(1, canvas.clientWidth)));
          const cy = Math.min(info.height - 1, Math.floor((e.offsetY * info.height) / Math.max(1, canvas.clientHeight)));
          this.readout.textContent = `sample ${i} · channel ${index} · cell (${cx}, ${cy}) · value ${formatValue(raw[cy * info.width + cx])}`;
        });
        canvas.addEventListener("mouseleave", () => (this.readout.textContent = ""));
        tiles.appendChild(
          h(
            "div",
            { className: "tbs-channel", title: `channel ${index}, mean activation ${mean === undefined ? "?" : formatValue(mean)}` },
            canvas,
            h("span", { text: `#${index}` }),
          ),
        );
      }
      body.appendChild(this.sampleRow(data, i, hasImages, s, [h("td", null, tiles)]));
    }
    return h("table", { className: `tbs-grid ${this.zoomClass(s)}` }, h("thead", null, head), body);
  }

  /** One sample's row: its label cell, its input (when the step has inputs), then `cells`. */
  private sampleRow(data: StepData, i: number, hasImages: boolean, s: Settings, cells: HTMLElement[]): HTMLElement {
    const sample = data.frame.samples?.[i] ?? {};
    const input = data.images[i] ?? null;
    const classes = this.frames?.class_names ?? this.info.class_names ?? [];
    return h(
      "tr",
      { className: isWrong(sample) ? "tbs-wrong" : "" },
      rowLabel(i, sample, classes),
      hasImages ? h("td", null, input ? this.tile(this.inputCanvas(input, s), i, -1, "input") : null) : null,
      ...cells,
    );
  }

  private tile(canvases: HTMLCanvasElement | HTMLCanvasElement[], sample: number, column: number, name: string): HTMLElement {
    const list = Array.isArray(canvases) ? canvases : [canvases];
    const open = () => this.host.openTile(this, sample, column);
    return h(
      "div",
      {
        className: "tbs-tile",
        attrs: { tabindex: 0, role: "button", "aria-label": `Enlarge sample ${sample}, ${name}`, "data-sample": sample, "data-column": column },
        on: {
          click: open,
          keydown: (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              open();
            }
          },
        },
      },
      ...list,
    );
  }
}

/** Tiles in "fit" size show at this many CSS pixels. */
export const FIT_SIZE = 128;

function fitSize(s: Settings): number | null {
  return s.zoom === "fit" ? FIT_SIZE : null;
}

/** The header row: the sample column, the input column when the step has inputs, then `columns`. */
function headRow(hasImages: boolean, columns: HTMLElement[]): HTMLElement {
  return h(
    "tr",
    null,
    h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "sample" })),
    hasImages ? columnHeader("input", "") : null,
    ...columns,
  );
}

function columnHeader(key: string, sub: string, bar: HTMLElement | null = null, title = ""): HTMLElement {
  return h(
    "th",
    { attrs: { scope: "col" }, title: title || undefined },
    h("span", { className: "tbs-col-key", text: key }),
    sub ? h("span", { className: "tbs-col-sub", text: sub }) : null,
    bar,
  );
}

function rowLabel(i: number, sample: { label?: number; target?: number; prediction?: number; score?: number; target_score?: number }, classes: readonly string[]): HTMLElement {
  const th = h("th", { className: "tbs-rowlabel", attrs: { scope: "row" } }, h("b", { text: `#${i}` }));
  const line = (name: string, value: string | null) => (value === null ? null : h("div", null, `${name} `, h("span", { className: "tbs-v", text: value })));
  th.append(
    ...[
      line("label", className(sample.label, classes)),
      line("target", className(sample.target, classes)),
      line("pred", className(sample.prediction, classes)),
      line("score", typeof sample.score === "number" ? formatValue(sample.score) : null),
    ].filter((x): x is HTMLDivElement => x !== null),
  );
  if (typeof sample.target_score === "number") th.title = `attributed score f_target(x) = ${formatValue(sample.target_score)}`;
  if (isWrong(sample)) th.appendChild(h("div", { className: "tbs-wrongmark", text: "✗ wrong" }));
  return th;
}

function colorbar(s: Settings, ranges: readonly DisplayRange[]): HTMLElement {
  const bar = pixelCanvas(colorbarPixels(s.colormap, 128), 128, 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of ranges) {
    lo = Math.min(lo, r.lo);
    hi = Math.max(hi, r.hi);
  }
  if (!(lo <= hi)) lo = hi = 0;
  const perMap = s.scope === "map" && ranges.length > 1;
  return h(
    "div",
    {
      className: "tbs-colorbar",
      title: perMap
        ? "Each map is scaled to its own range (the numbers span all of them); hover a map for raw values."
        : `Colour range shared by this column (${s.scope === "tag" ? "every stored step of the tag" : "this step"}).`,
    },
    h("span", { className: "tbs-cb-lo", text: formatValue(lo) }),
    bar,
    h("span", { className: "tbs-cb-hi", text: formatValue(hi) }),
  );
}

function optionsText(options: Record<string, unknown> | undefined): string {
  if (!options || Object.keys(options).length === 0) return "";
  try {
    return `options: ${JSON.stringify(options)}`;
  } catch {
    return "";
  }
}

/**
 * Whether two /frames entries show the same picture (a re-read of the step list returns new objects).
 * Blob keys alone do not say so: a run deleted and written again reuses them for new bytes, which the
 * step's new wall time gives away.
 */
export function sameFrame(a: Frame | undefined, b: Frame | undefined): boolean {
  if (!a || !b || a.step !== b.step || a.wall_time !== b.wall_time || a.error || b.error) return false;
  const keys = (f: Frame) => JSON.stringify([f.images?.blobs ?? [], (f.maps ?? []).map((m) => m.blob), f.activations?.blob ?? null]);
  return keys(a) === keys(b);
}

export function formatWallTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return "";
  const d = new Date(seconds * 1000);
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function message(e: unknown): string {
  // A 404 for something the step list named a moment ago means the run changed on disk since.
  if (e instanceof ApiError && e.status === 404) return `${e.message} (the run may have been deleted or rewritten; press Refresh)`;
  return e instanceof Error ? e.message : String(e);
}
