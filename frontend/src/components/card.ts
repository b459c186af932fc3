// One (run, tag) card: its title and actions, a step slider, notices, and the grid of one step. A card
// holds canvases and decoded data only while it is on or near the screen ("live"); released, it keeps
// its height and its place among the steps, nothing else.

import { ApiError, exportUrl, type Sampling, type StepsResponse, type TagInfo } from "../api";
import type { Extrema } from "../data/block";
import { warmUps, type StepData } from "../data/step_data";
import type { StepStore } from "../data/step_store";
import { fileSafe, h, icon, iconButton, replaceChildren, uid } from "../dom";
import { NEAR, ON_SCREEN } from "../data/queue";
import { keyMove, StepCursor } from "../model/cursor";
import { stepNotices } from "../model/notices";
import type { Settings } from "../settings";
import { downloadCardPng } from "./card_png";
import { formatWallTime, message, noticeElement } from "./card_text";
import { GridView, type GridHost } from "./grid/index";
import { MetricCharts } from "./metric_charts";
import type { Tooltip } from "./tooltip";

export type DialogTab = "enlarged" | "curves" | "evolution" | "compare";

export interface CardHost {
  settings(): Settings;
  pickedSamples(): Set<number> | null;
  sampling(): Sampling | null;
  runColor(run: string): string;
  runError(run: string): string | null;
  tooltip: Tooltip;
  /** The step caches and step lists. */
  readonly store: StepStore;
  /** The user moved this card to `step` (slider or keyboard); linked cards follow. */
  userStep(card: Card, step: number): void;
  openDialog(card: Card, sample: number, column: number, tab: DialogTab): void;
  togglePin(card: Card): void;
  toggleWide(card: Card): void;
  isPinned(card: Card): boolean;
  isWide(card: Card): boolean;
  /** A card drew a step (instrumentation for tests and the benchmark). */
  painted(card: Card): void;
  /** Work to do when the page is idle. */
  whenIdle(tasks: (() => void)[]): void;
  /** The palette index of a map key (charts colour each method the same in every card). */
  seriesColor(key: string): number;
}

export class Card implements GridHost {
  readonly el: HTMLElement;
  readonly cursor = new StepCursor();
  data: StepData | null = null;
  grid: GridView | null = null;
  live = false;
  /** On screen (not only near it): its requests go first, and it repaints first. */
  visible = false;
  /** A display change is waiting to be painted (a live card off screen paints after the visible ones). */
  dirty = false;
  /** The step on screen is drawn, or its error shown (for tests and the benchmark). */
  settled = false;
  /** New steps may exist: re-read the step list when next live. */
  stale = false;
  private loadToken = 0;
  private stepsToken = 0;
  private stepsLoading: Promise<void> | null = null;
  private readonly slider: HTMLInputElement;
  private readonly stepText: HTMLElement;
  private readonly timeText: HTMLElement;
  private readonly notices: HTMLElement;
  private readonly problems: HTMLElement;
  private readonly body: HTMLElement;
  private readonly swatch: HTMLElement;
  private readonly pinButton: HTMLButtonElement;
  private readonly wideButton: HTMLButtonElement;
  private readonly exportLink: HTMLAnchorElement;
  private readonly charts: MetricCharts;
  /** The sample a randomisation card's figure shows (null: the first shown). */
  private cascadeChoice: number | null = null;

  constructor(
    readonly run: string,
    readonly tag: string,
    readonly key: string,
    public info: TagInfo,
    private readonly host: CardHost,
  ) {
    const sliderId = uid("step");
    this.slider = h("input", {
      className: "tbs-slider",
      attrs: { type: "range", min: 0, max: 0, step: 1, value: 0, id: sliderId, disabled: true, "aria-label": `Step of ${run}, ${tag}` },
      on: { input: () => this.userMove(Number(this.slider.value)) },
    });
    this.stepText = h("strong", { className: "tbs-step-number", text: "–" });
    this.timeText = h("span", { className: "tbs-walltime" });
    this.notices = h("div", { className: "tbs-notices" });
    this.problems = h("div", { className: "tbs-problems" });
    this.body = h("div", { className: "tbs-body" }, this.placeholder("Waiting to scroll into view…"));
    this.charts = new MetricCharts({ tooltip: host.tooltip, seriesColor: (key) => host.seriesColor(key), pickStep: (i) => this.userMove(i) }, `${run}, ${tag}`);
    this.swatch = h("span", { className: "tbs-swatch", style: { background: host.runColor(run) }, attrs: { "aria-hidden": "true" } });
    this.pinButton = iconButton("pin", "Pin card to the top", () => host.togglePin(this), "tbs-pin");
    this.wideButton = iconButton("wide", "Wide card", () => host.toggleWide(this), "tbs-wide");
    this.exportLink = h("a", { className: "tbs-icon-button tbs-export", attrs: { "aria-label": "Download this step's raw values (.npz)", title: "Download this step's raw values (.npz)", download: "" } });
    this.exportLink.appendChild(icon("download"));
    const pngButton = iconButton("image", "Download this card as PNG", () => void this.downloadPng(), "tbs-png");
    const title = info.display_name && info.display_name !== tag ? info.display_name : tag;
    this.el = h(
      "article",
      {
        className: "tbs-card",
        attrs: { tabindex: 0, "aria-label": `${run}, ${tag}`, "data-run": run, "data-tag": tag },
        on: { keydown: (e) => this.onKey(e) },
      },
      h(
        "header",
        { className: "tbs-card-head" },
        h("div", { className: "tbs-card-titles" }, h("div", { className: "tbs-card-title tbs-tag", text: title }), h("div", { className: "tbs-card-run" }, this.swatch, h("span", { className: "tbs-run", text: run }))),
        h("div", { className: "tbs-card-actions" }, this.pinButton, this.wideButton, pngButton, this.exportLink),
      ),
      info.description ? h("div", { className: "tbs-card-sub", text: info.description }) : null,
      h("div", { className: "tbs-step" }, h("label", { attrs: { for: sliderId }, text: "Step" }), this.stepText, this.slider, this.timeText),
      this.notices,
      this.problems,
      this.charts.el,
      this.body,
    );
    this.syncActions();
  }

  /**
   * What a card shows before its step is drawn: a box about the grid's size (rows of samples, a
   * square tile per map and the input), so that the cards below stay where they will be and only
   * the cards really near the screen start loading.
   */
  private placeholder(text: string): HTMLElement {
    let rows = Math.max(1, Math.min(64, this.info.num_samples || 1));
    let columns = Math.max(1, (this.info.map_keys?.length || 1) + 1);
    if (this.info.kind === "randomisation") {
      // The figure: a row per stage (each key is listed once per stage), a column per key.
      const keys = new Set(this.info.map_keys ?? []).size || 1;
      columns = keys + 1;
      rows = Math.max(1, Math.min(64, Math.round((this.info.map_keys?.length || 1) / keys)));
    }
    return h("div", { className: "tbs-loading tbs-placeholder", text, style: { "aspect-ratio": `${columns + 0.8} / ${rows}` } });
  }

  // ---- GridHost ---------------------------------------------------------------------------------

  settings(): Settings {
    return this.host.settings();
  }

  pickedSamples(): Set<number> | null {
    return this.host.pickedSamples();
  }

  classNames(): readonly string[] {
    return this.cursor.last?.class_names ?? this.info.class_names ?? [];
  }

  get tooltip(): Tooltip {
    return this.host.tooltip;
  }

  extrema(key: string, stage: string): Extrema {
    return this.cursor.extrema(key, stage);
  }

  openTile(sample: number, column: number): void {
    this.host.openDialog(this, sample, column, "enlarged");
  }

  openEvolution(sample: number, column: number): void {
    this.host.openDialog(this, sample, column, "evolution");
  }

  /** The samples the card shows, in its order (null before its grid is drawn). */
  shownSamples(): readonly number[] | null {
    return this.grid ? this.grid.samples : null;
  }

  cascadeSample(): number | null {
    return this.cascadeChoice;
  }

  setCascadeSample(sample: number): void {
    this.cascadeChoice = sample;
    this.redraw();
    this.body.querySelector<HTMLSelectElement>(".tbs-cascade-sample")?.focus({ preventScroll: true });
  }

  tagLogsMetrics(): boolean {
    return this.cursor.steps.some((entry) => entry.index?.arrays.some((a) => !a.stage && a.metrics && Object.keys(a.metrics).length > 0));
  }

  /** The charts of the metrics over steps, when the settings show them and the step list is known. */
  renderCharts(): void {
    this.charts.el.style.minHeight = "";
    if (!this.live || !this.cursor.known || !this.host.settings().charts) {
      this.charts.clear();
      return;
    }
    this.charts.update(this.cursor.steps, this.step);
  }

  // ---- life cycle -------------------------------------------------------------------------------

  /** On or near the screen: fetch what is needed and draw. */
  activate(): void {
    if (this.live) return;
    this.live = true;
    this.body.style.minHeight = "";
    const blocked = this.tagError();
    if (blocked) {
      this.showError(blocked);
      return;
    }
    if (!this.cursor.known) {
      // /tags names the newest step: draw it first, then read the step list (the first picture
      // needs every connection the browser has).
      if (this.info.max_step !== null && this.info.max_wall_time !== null) {
        this.cursor.provisional(this.info.max_step, this.info.max_wall_time);
        this.updateSlider();
        void this.loadCurrent().finally(() => void this.loadSteps());
      } else {
        void this.loadSteps();
      }
    } else {
      if (this.stale) void this.loadSteps();
      this.renderCharts();
      void this.loadCurrent();
    }
  }

  /** Far from the screen: drop canvases and decoded data, keep the height so nothing jumps. */
  release(): void {
    if (!this.live) return;
    this.live = false;
    this.dirty = false;
    const height = this.body.offsetHeight;
    const chartsHeight = this.charts.el.hidden ? 0 : this.charts.el.offsetHeight;
    this.loadToken++;
    this.data = null;
    this.dropGrid();
    this.charts.clear();
    if (chartsHeight > 0) {
      this.charts.el.hidden = false;
      this.charts.el.style.minHeight = `${chartsHeight}px`;
    }
    if (height > 0) this.body.style.minHeight = `${height}px`;
    replaceChildren(this.body);
    replaceChildren(this.problems);
  }

  /** New tag facts after a reload; a live card re-reads its steps, others do when next live. */
  refresh(info: TagInfo): void {
    this.info = info;
    if (this.live) {
      const blocked = this.tagError();
      if (blocked) return this.showError(blocked);
      void this.loadSteps();
    } else {
      this.stale = true;
    }
  }

  setColor(color: string): void {
    this.swatch.style.background = color;
  }

  syncActions(): void {
    const pinned = this.host.isPinned(this);
    this.pinButton.setAttribute("aria-pressed", String(pinned));
    this.pinButton.setAttribute("aria-label", pinned ? "Unpin card" : "Pin card to the top");
    this.pinButton.title = pinned ? "Unpin card" : "Pin card to the top";
    const wide = this.host.isWide(this);
    this.wideButton.setAttribute("aria-pressed", String(wide));
    this.wideButton.replaceChildren(icon(wide ? "compact" : "wide"));
    this.wideButton.title = wide ? "Compact card" : "Wide card";
    this.wideButton.setAttribute("aria-label", wide ? "Compact card" : "Wide card");
    this.el.classList.toggle("tbs-card-wide", wide);
  }

  private tagError(): string | null {
    const runError = this.host.runError(this.run);
    if (runError) return `This run cannot be shown: ${runError}`;
    if (this.info.kind === "unknown") {
      return `This tag cannot be shown: ${this.info.error || "TensorBoard says its metadata cannot be read but gives no reason (expected an error message with kind \"unknown\")."}`;
    }
    return null;
  }

  /** The step list is being read (the slider knows only the newest step meanwhile). */
  get loadingSteps(): boolean {
    return this.stepsLoading !== null;
  }

  private get priority(): number {
    return this.visible ? ON_SCREEN : NEAR;
  }

  get step(): number | null {
    return this.cursor.current?.step ?? null;
  }

  private loadSteps(): Promise<void> {
    if (this.stepsLoading) return this.stepsLoading;
    const token = ++this.stepsToken;
    this.stale = false;
    const p = (async () => {
      let response: StepsResponse;
      try {
        // The step list waits behind the pictures on screen: the first paint needs only the newest step.
        response = await this.host.store.steps(this.run, this.tag, this.cursor.token, NEAR);
      } catch (e) {
        if (!this.cursor.known && this.live) this.showError(`Could not load this card's steps: ${message(e)}`);
        return;
      }
      if (token !== this.stepsToken) return;
      if (response.error && response.kind === "unknown") {
        this.showError(`This tag cannot be shown: ${response.error}`);
        return;
      }
      const before = this.cursor.current;
      this.cursor.apply(response);
      this.updateSlider();
      this.renderNotices();
      if (!this.live) return;
      this.renderCharts();
      const now = this.cursor.current;
      if (!now) {
        this.data = null;
        this.dropGrid();
        replaceChildren(this.body, h("div", { className: "tbs-loading", text: "No steps stored for this tag." }));
      } else if (!before || before.step !== now.step || before.wall_time !== now.wall_time || !this.data) {
        if (!(this.data && this.data.frame.step === now.step && this.data.frame.wall_time === now.wall_time)) await this.loadCurrent();
      } else if (this.host.settings().scope === "tag") {
        // A per-tag range spans every stored step, so new steps can change it.
        this.redraw();
      }
      if (this.data) this.prefetchNeighbours();
    })().finally(() => {
      if (this.stepsLoading === p) this.stepsLoading = null;
    });
    this.stepsLoading = p;
    return p;
  }

  /** Moves to the stored step at or before `step` ("link steps"). */
  showStep(step: number): void {
    if (this.cursor.showStep(step)) {
      this.updateSlider();
      if (this.live) void this.loadCurrent();
    }
  }

  private userMove(i: number): void {
    if (!this.cursor.count) return;
    if (this.cursor.moveTo(i)) {
      this.updateSlider();
      void this.loadCurrent();
    }
    const step = this.step;
    if (step !== null) this.host.userStep(this, step);
  }

  private onKey(e: KeyboardEvent): void {
    // The slider handles its own arrows; elsewhere in the card the arrows move its step too.
    const t = e.target as HTMLElement | null;
    if (t === this.slider || (t && /^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(t.tagName))) return;
    const how = keyMove(e.key);
    if (!how || !this.cursor.count) return;
    e.preventDefault();
    const target = how === "prev" ? this.cursor.index - 1 : how === "next" ? this.cursor.index + 1 : how === "first" ? 0 : this.cursor.count - 1;
    this.userMove(target);
  }

  private updateSlider(): void {
    const n = this.cursor.count;
    const f = this.cursor.current;
    this.slider.max = String(Math.max(0, n - 1));
    this.slider.value = String(Math.max(0, this.cursor.index));
    this.slider.disabled = n < 2;
    this.stepText.textContent = f ? String(f.step) : "–";
    this.slider.setAttribute("aria-valuetext", f ? `step ${f.step}` : "no steps");
    this.timeText.textContent = f ? formatWallTime(f.wall_time) : "";
    this.timeText.title = f ? `wall time ${f.wall_time}` : "";
    if (f) this.exportLink.href = exportUrl(this.run, this.tag, f.step);
    else this.exportLink.removeAttribute("href");
    this.charts.mark(f ? f.step : null);
  }

  private renderNotices(): void {
    const last = this.cursor.last;
    const flag = this.host.sampling()?.flag || "--samples_per_plugin=saliency=0";
    const notices = last?.written ? stepNotices({ written: last.written, sampling: last.sampling }, flag).map(noticeElement) : [];
    // A tag TensorBoard lists but cannot serve in full says so, whatever its steps show.
    const error = this.info.kind !== "unknown" ? this.info.error : undefined;
    if (error) notices.unshift(h("div", { className: "tbs-error tbs-tag-error", attrs: { role: "alert" }, text: `This tag: ${error}` }));
    replaceChildren(this.notices, ...notices);
  }

  private async loadCurrent(): Promise<void> {
    const entry = this.cursor.current;
    const token = ++this.loadToken;
    this.settled = false;
    if (!entry) {
      this.settled = true;
      this.data = null;
      this.dropGrid();
      replaceChildren(this.body, h("div", { className: "tbs-loading", text: "No steps stored for this tag." }));
      return;
    }
    // The previous step stays on screen until the new one is ready, so the slider never flickers.
    if (!this.data) replaceChildren(this.body, this.placeholder("Loading…"));
    try {
      const data = await this.host.store.step(this.run, this.tag, entry, this.info.kind, this.priority);
      if (token !== this.loadToken || !this.live) return;
      this.show(data);
    } catch (e) {
      if (token !== this.loadToken || !this.live) return;
      if (e instanceof ApiError && e.status === 404 && !this.cursor.known) {
        // The step /tags named is gone (a run rewritten since): wait for the step list.
        return;
      }
      this.data = null;
      this.dropGrid();
      replaceChildren(this.problems);
      this.showError(`Step ${entry.step} cannot be shown: ${message(e)}`);
    }
  }

  private show(data: StepData): void {
    this.data = data;
    this.settled = true;
    replaceChildren(this.problems, ...data.problems.map((p) => h("div", { className: "tbs-error tbs-problem", attrs: { role: "alert" }, text: p })));
    if (!(this.grid && this.grid.update(data))) this.buildGrid();
    else this.grid.paint();
    this.host.painted(this);
    this.host.whenIdle(warmUps(data));
    this.prefetchNeighbours();
  }

  /** The steps beside the one on screen, fetched (after every other request) while the user looks at
   * it, so that ← and → draw from the cache. Only for cards on screen whose step list is known. */
  private prefetchNeighbours(): void {
    if (!this.live || !this.visible || !this.cursor.known) return;
    const i = this.cursor.index;
    for (const j of [i + 1, i - 1]) {
      const entry = this.cursor.steps[j];
      if (entry) this.host.store.prefetch(this.run, this.tag, entry, this.info.kind);
    }
  }

  private buildGrid(): void {
    const data = this.data;
    if (!data) return;
    // A rebuild replaces the tiles; keep keyboard users inside this card rather than dropping them on <body>.
    const hadFocus = this.body.contains(document.activeElement);
    try {
      this.grid?.dispose();
      this.grid = new GridView(data, this);
      replaceChildren(this.body, this.grid.el);
      this.grid.paint();
      if (hadFocus) this.el.focus({ preventScroll: true });
    } catch (e) {
      this.dropGrid();
      this.showError(`Step ${data.frame.step} cannot be drawn: ${message(e)}`);
    }
  }

  private dropGrid(): void {
    this.grid?.dispose();
    this.grid = null;
  }

  private showError(text: string): void {
    this.settled = true;
    replaceChildren(this.body, h("div", { className: "tbs-error", attrs: { role: "alert" }, text }));
  }

  /** Redraws under the current settings: recolours in place, or rebuilds when the structure changed. */
  redraw(): void {
    this.dirty = false;
    if (!this.live || !this.data) return;
    if (!this.grid || this.grid.stale()) this.buildGrid();
    else this.grid.paint();
    this.host.painted(this);
  }

  private async downloadPng(): Promise<void> {
    await downloadCardPng(this.el, `${fileSafe(this.run)}_${fileSafe(this.tag)}_step${this.step ?? "none"}.png`);
  }
}
