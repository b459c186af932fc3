// The dashboard: owns the settings, the run and tag lists and the cards (the bounded data caches are
// data/step_store.ts's), and wires the sidebar, the grid of tag groups, the cards and the enlarged
// view together. Only cards on or near the screen are live (hold canvases and decoded data); a display
// change repaints those alone.

import { api, type TagInfo, type TagsResponse } from "./api";
import { StepStore } from "./data/step_store";
import { Card, type CardHost, type DialogTab } from "./components/card";
import { openDialog } from "./components/dialog/index";
import type { ViewHost } from "./components/dialog/views";
import { emptyState } from "./components/empty";
import { Sidebar, type SidebarHost } from "./components/sidebar";
import { counters } from "./components/tiles";
import { Tooltip } from "./components/tooltip";
import { h, icon, iconButton, replaceChildren } from "./dom";
import { IdleQueue } from "./idle";
import { buildGroups, pageOf, parseSamples, type CardRef } from "./model/layout";
import { MethodColors, RunColors } from "./model/run_colors";
import { listenForReloads } from "./reload";
import { compileFilter, loadSettings, saveSettings, withSign, type Settings, type Store } from "./settings";
import { watchTheme } from "./theme";

export const POLL_INTERVAL_MS = 30_000;

/** Settings that change how maps are drawn; changing one repaints live cards without fetching. */
const DRAW_KEYS: (keyof Settings)[] = ["view", "colormap", "opacity", "sign", "clip", "percentile", "massPercent", "scope", "upsampling", "zoom", "onlyWrong", "samples", "sortMetric", "sortOrder", "metricMap", "onlyMissed", "mergeWords"];
/** Settings that change which cards are where. */
const LAYOUT_KEYS: (keyof Settings)[] = ["runFilter", "tagFilter", "hiddenRuns", "pageSize", "pinned", "collapsed"];

/** What the benchmark and the browser tests read (window.tbsDebug in the plugin frame). */
export interface Debug {
  paints: number;
  redraws: number;
  lastRedrawMs: number;
  /** performance.now() just after the frame that showed the last paint or redraw. */
  paintedAt: number;
  /** Called with paintedAt each time it is set (the benchmark waits on it without polling). */
  onPainted: ((at: number) => void) | null;
  liveCards(): number;
  /** Live cards whose step is not drawn yet, or whose step list is being read. */
  loadingCards(): number;
  /** Colour layers computed so far (each map tile once per display change that changes its colours). */
  layerPaints(): number;
  /** Map tiles of the live cards. */
  liveTiles(): number;
  /** Map tiles of the cards on (or an eighth of a screen from) the screen. */
  visibleTiles(): number;
  canvases(): number;
  cacheBytes(): number;
  blobFetches(): number;
  /** /step_data requests made (prefetches included). */
  stepFetches(): number;
  /** Requests waiting or in flight in the dashboard's queue. */
  pendingRequests(): number;
}

export class App implements CardHost, SidebarHost, ViewHost {
  /** The step caches and the request queue, which cards and the enlarged view ask directly. */
  readonly store = new StepStore();
  readonly tooltip = new Tooltip();
  private current: Settings;
  private tags: TagsResponse | null = null;
  private runOrder: string[] = [];
  private readonly colors = new RunColors();
  private readonly methods = new MethodColors();
  private dark = false;
  private readonly cards = new Map<string, Card>();
  private readonly byElement = new Map<Element, Card>();
  private readonly pages = new Map<string, number>();
  private readonly idle = new IdleQueue();
  private readonly sidebar: Sidebar;
  private readonly main: HTMLElement;
  private readonly content: HTMLElement;
  private readonly status: HTMLElement;
  private readonly alerts: HTMLElement;
  private readonly rootEl: HTMLElement;
  private observer: IntersectionObserver | null = null;
  private visibility: IntersectionObserver | null = null;
  private redrawQueued = false;
  /** TensorBoard's run list has answered once (run order and colours are TensorBoard's). */
  private runsKnown = false;
  private reloading: Promise<void> | null = null;
  private readonly storage: Store | null;
  private picked: { text: string; set: Set<number> | null } = { text: "", set: null };
  readonly debug: Debug;

  /** The first /tags request, sent before the page is built. */
  private firstTags: Promise<TagsResponse> | null;

  constructor(private readonly root: HTMLElement) {
    this.firstTags = api.tags();
    this.firstTags.catch(() => undefined);
    this.storage = storage();
    this.current = loadSettings(this.storage);
    this.sidebar = new Sidebar(this);
    this.status = h("span", { className: "tbs-status", attrs: { role: "status", "aria-live": "polite" } });
    this.alerts = h("div", { className: "tbs-alerts" });
    this.content = h("div", { className: "tbs-content" }, h("div", { className: "tbs-loading", text: "Loading…" }));
    const refresh = iconButton("refresh", "Reload saliency data", () => void this.reload(), "tbs-refresh");
    this.main = h("main", { className: "tbs-main" }, h("div", { className: "tbs-toolbar" }, this.status, h("span", { className: "tbs-spacer" }), refresh), this.alerts, this.content);
    this.rootEl = h("div", { className: "tbs-root" }, this.sidebar.el, this.main);
    this.rootEl.style.setProperty("--tbs-opacity", String(this.current.opacity / 100));
    this.debug = {
      paints: 0,
      redraws: 0,
      lastRedrawMs: 0,
      paintedAt: 0,
      onPainted: null,
      liveCards: () => [...this.cards.values()].filter((c) => c.live).length,
      loadingCards: () => [...this.cards.values()].filter((c) => c.live && (!c.settled || c.loadingSteps)).length,
      layerPaints: () => counters.layers,
      liveTiles: () => [...this.cards.values()].reduce((n, c) => n + (c.live && c.grid ? c.grid.tileCount : 0), 0),
      visibleTiles: () => [...this.cards.values()].reduce((n, c) => n + (c.live && c.visible && c.grid ? c.grid.tileCount : 0), 0),
      canvases: () => this.rootEl.ownerDocument.querySelectorAll("canvas").length,
      cacheBytes: () => this.store.bytes,
      blobFetches: () => this.store.blobs.fetches,
      stepFetches: () => this.store.stepFetches,
      pendingRequests: () => this.store.pending,
    };
  }

  start(): void {
    this.rootEl.appendChild(this.tooltip.el);
    replaceChildren(this.root, this.rootEl);
    (window as unknown as { tbsDebug: Debug }).tbsDebug = this.debug;
    watchTheme((dark) => this.setTheme(dark));
    if (typeof IntersectionObserver !== "undefined") {
      // On screen (or an eighth of a screen from it, so that a card is drawn before it shows): first
      // in line for requests, and the only cards a display change repaints. (Made first, so a card
      // knows whether it is on screen when it becomes live.)
      this.visibility = new IntersectionObserver((entries) => this.onVisible(entries), { root: this.main, rootMargin: "12.5% 0px" });
      // Live: on screen or within a screen of it. Everything else is released.
      this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), { root: this.main, rootMargin: "100% 0px" });
    }
    this.main.addEventListener("scroll", () => this.tooltip.hide(), { passive: true });
    void this.reload();
    setInterval(() => void this.reload(), POLL_INTERVAL_MS);
    listenForReloads(() => void this.reload());
  }

  private setTheme(dark: boolean): void {
    this.dark = dark;
    this.rootEl.dataset.theme = dark ? "dark" : "light";
    this.rootEl.ownerDocument.documentElement.style.colorScheme = dark ? "dark" : "light";
    this.recolorRuns();
  }

  private recolorRuns(): void {
    for (const card of this.cards.values()) card.setColor(this.runColor(card.run));
    this.sidebar.sync();
  }

  // ---- hosts' interface -------------------------------------------------------------------------

  settings(): Settings {
    return this.current;
  }

  update(patch: Partial<Settings>): void {
    const before = this.current;
    this.current = { ...before, ...patch };
    saveSettings(this.storage, this.current);
    this.sidebar.sync();
    const changed = (k: keyof Settings) => k in patch && JSON.stringify(before[k]) !== JSON.stringify(this.current[k]);
    if (LAYOUT_KEYS.some(changed)) this.layout();
    if (changed("wide")) for (const c of this.cards.values()) c.syncActions();
    if (changed("charts")) for (const c of this.cards.values()) if (c.live) c.renderCharts();
    if (DRAW_KEYS.some(changed)) this.queueRedraw();
  }

  setSign(sign: Settings["sign"]): void {
    const next = withSign(this.current, sign);
    this.update({ sign: next.sign, colormap: next.colormap });
  }

  runColor(run: string): string {
    return this.colors.color(run, this.dark);
  }

  seriesColor(key: string): number {
    return this.methods.color(key);
  }

  runError(run: string): string | null {
    return this.tags?.run_errors?.[run] ?? null;
  }

  sampling(): TagsResponse["sampling"] | null {
    return this.tags?.sampling ?? null;
  }

  pickedSamples(): Set<number> | null {
    if (this.picked.text !== this.current.samples) {
      this.picked = { text: this.current.samples, set: parseSamples(this.current.samples).samples };
    }
    return this.picked.set;
  }

  userStep(card: Card, step: number): void {
    if (!this.current.linkSteps) return;
    for (const other of this.cards.values()) if (other !== card) other.showStep(step);
  }

  openDialog(card: Card, sample: number, column: number, tab: DialogTab): void {
    this.tooltip.hide();
    openDialog(this, this.store, {
      run: card.run, tag: card.tag, kind: card.info.kind, steps: card.cursor.steps, index: card.cursor.index,
      order: card.shownSamples(),
    }, sample, column, tab);
  }

  shownRuns(tag: string): string[] {
    return this.shownRunList().filter((run) => this.tags?.runs[run]?.[tag] !== undefined && !this.runError(run));
  }

  togglePin(card: Card): void {
    const pinned = this.current.pinned.includes(card.key) ? this.current.pinned.filter((k) => k !== card.key) : [...this.current.pinned, card.key];
    this.update({ pinned });
    card.syncActions();
    card.el.focus({ preventScroll: true });
  }

  toggleWide(card: Card): void {
    const wide = this.current.wide.includes(card.key) ? this.current.wide.filter((k) => k !== card.key) : [...this.current.wide, card.key];
    this.update({ wide });
  }

  isPinned(card: Card): boolean {
    return this.current.pinned.includes(card.key);
  }

  isWide(card: Card): boolean {
    return this.current.wide.includes(card.key);
  }

  whenIdle(tasks: (() => void)[]): void {
    this.idle.push(tasks);
  }

  painted(): void {
    if (!this.debug.paints) performance.mark("tbs:first-paint");
    this.debug.paints++;
    requestAnimationFrame(() => this.afterFrame());
  }

  /** Called inside a frame's animation callbacks: notes the time once that frame has been rendered. */
  private afterFrame(): void {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      this.debug.paintedAt = performance.now();
      this.debug.onPainted?.(this.debug.paintedAt);
    };
    channel.port2.postMessage(null);
  }

  // ---- loading ----------------------------------------------------------------------------------

  /** Re-reads the run and tag lists and the steps of the live cards; one reload at a time. */
  reload(): Promise<void> {
    if (!this.reloading) this.reloading = this.doReload().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    let tags: TagsResponse;
    const runsP = api.runs().catch(() => null);
    try {
      tags = await (this.firstTags ?? api.tags());
      this.firstTags = null;
    } catch (e) {
      if (!this.tags) {
        replaceChildren(this.content, h("div", { className: "tbs-error", attrs: { role: "alert" }, text: `Could not load the saliency tags: ${e instanceof Error ? e.message : String(e)}` }));
      }
      this.status.textContent = "Reload failed; will retry.";
      return;
    }
    if (!this.tags) performance.mark("tbs:tags");
    this.tags = tags;
    const runs = Object.keys(tags.runs);
    for (const run of Object.keys(tags.run_errors ?? {})) if (!runs.includes(run)) runs.push(run);
    // TensorBoard's run order decides its colours; it lists every run, not only those with saliency.
    // It usually answers before /tags; the first cards do not wait long for it.
    const tbRuns = await Promise.race([runsP, new Promise<null>((r) => setTimeout(() => r(null), 50))]);
    if (!tbRuns && !this.runsKnown) {
      void runsP.then((late) => {
        if (late && !this.runsKnown) void this.reload();
      });
    }
    if (tbRuns) this.runsKnown = true;
    if (tbRuns) this.colors.assign(tbRuns);
    const rank = new Map((tbRuns ?? []).map((r, i) => [r, i]));
    this.runOrder = runs.sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity) || (a < b ? -1 : a > b ? 1 : 0));
    this.colors.assign(this.runOrder);
    // Method colours in the order the tags list their maps: the same method, the same colour everywhere.
    const keys: string[] = [];
    for (const run of this.runOrder) {
      const byTag = tags.runs[run] ?? {};
      for (const tag of Object.keys(byTag).sort()) for (const key of byTag[tag].map_keys ?? []) if (!keys.includes(key)) keys.push(key);
    }
    this.methods.assign(keys);
    this.sidebar.setRuns(this.runOrder);
    this.sidebar.setMapKeys(keys);
    this.renderAlerts();
    for (const card of this.cards.values()) {
      const info = tags.runs[card.run]?.[card.tag];
      if (info) card.refresh(info);
      card.setColor(this.runColor(card.run));
    }
    this.layout();
    this.status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  private renderAlerts(): void {
    const errors = Object.entries(this.tags?.run_errors ?? {});
    replaceChildren(
      this.alerts,
      ...errors.map(([run, why]) =>
        h("div", { className: "tbs-error tbs-run-alert", attrs: { role: "alert", "data-run": run } }, "Run ", h("span", { className: "tbs-run", text: run }), ` cannot be shown: ${why}`),
      ),
    );
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const card = this.byElement.get(entry.target);
      if (!card) continue;
      if (entry.isIntersecting && card.el.isConnected) card.activate();
      else card.release();
    }
  }

  private onVisible(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const card = this.byElement.get(entry.target);
      if (!card) continue;
      card.visible = entry.isIntersecting;
      if (card.visible && card.dirty) card.redraw();
    }
  }

  private shownRunList(): string[] {
    const { regex } = compileFilter(this.current.runFilter);
    const hidden = new Set(this.current.hiddenRuns);
    return this.runOrder.filter((run) => !hidden.has(run) && (!regex || regex.test(run)));
  }

  private card(ref: CardRef, info: TagInfo): Card {
    let card = this.cards.get(ref.key);
    if (!card) {
      card = new Card(ref.run, ref.tag, ref.key, info, this);
      this.store.follow(ref.run, ref.tag, card.cursor);
      this.cards.set(ref.key, card);
      this.byElement.set(card.el, card);
    }
    return card;
  }

  /** Lays out the pinned cards and one section per tag group, a page of cards each, reusing cards. */
  private layout(): void {
    const tags = this.tags;
    if (!tags) return;
    if (this.runOrder.length === 0) {
      this.placeCards([]);
      replaceChildren(this.content, emptyState());
      return;
    }
    const runs = this.shownRunList();
    const tagFilter = compileFilter(this.current.tagFilter).regex;
    const { pinned, groups } = buildGroups(
      runs,
      (run) => Object.keys(tags.runs[run] ?? {}),
      (tag) => !tagFilter || tagFilter.test(tag),
      this.current.pinned,
    );
    const collapsed = new Set(this.current.collapsed);
    const sections: HTMLElement[] = [];
    const placed: Card[] = [];
    const cardsOf = (refs: CardRef[]) =>
      refs.map((ref) => {
        const card = this.card(ref, tags.runs[ref.run][ref.tag]);
        placed.push(card);
        return card.el;
      });
    if (pinned.length) {
      sections.push(this.section("Pinned", "pinned", pinned.length, cardsOf(pinned), null, false));
    }
    for (const g of groups) {
      const isCollapsed = collapsed.has(g.name);
      const page = pageOf(g.cards, this.pages.get(g.name) ?? 0, this.current.pageSize);
      this.pages.set(g.name, page.page);
      sections.push(this.section(g.name, g.name, g.cards.length, isCollapsed ? [] : cardsOf(page.items), isCollapsed ? null : this.pager(g.name, page.page, page.pages, page.first, page.items.length, g.cards.length), isCollapsed));
    }
    if (sections.length === 0) {
      this.placeCards([]);
      const why = runs.length === 0 ? "No run is selected, or none matches the run filter." : "No tag matches the tag filter.";
      replaceChildren(this.content, h("div", { className: "tbs-loading tbs-nomatch", text: why }));
      return;
    }
    replaceChildren(this.content, ...sections);
    this.placeCards(placed);
  }

  /** Observes the cards on the page and releases those that left it. */
  private placeCards(placed: Card[]): void {
    const on = new Set(placed);
    // The cards on screen start loading now rather than when the observers first report, a frame
    // or more later: one layout of the page is cheaper than that wait.
    const view = this.main.getBoundingClientRect();
    const margin = view.height / 8;
    for (const card of placed) {
      if (card.live) continue;
      const r = card.el.getBoundingClientRect();
      if (r.bottom > view.top - margin && r.top < view.bottom + margin && r.height > 0) {
        card.visible = true;
        card.activate();
      }
    }
    for (const card of this.cards.values()) {
      if (on.has(card)) {
        this.visibility?.observe(card.el);
        this.observer?.observe(card.el);
        if (!this.observer) card.activate();
      } else {
        this.visibility?.unobserve(card.el);
        this.observer?.unobserve(card.el);
        card.visible = false;
        card.release();
      }
    }
  }

  private section(title: string, id: string, count: number, cards: HTMLElement[], pager: HTMLElement | null, collapsed: boolean): HTMLElement {
    const toggle = h(
      "button",
      {
        className: "tbs-group-toggle",
        attrs: { type: "button", "aria-expanded": String(!collapsed), "aria-label": `${collapsed ? "Expand" : "Collapse"} group ${title}` },
        on: {
          click: () => {
            const set = new Set(this.current.collapsed);
            if (set.has(id)) set.delete(id);
            else set.add(id);
            this.update({ collapsed: [...set].sort() });
          },
        },
      },
      icon("expand"),
    );
    return h(
      "section",
      { className: `tbs-group${collapsed ? " tbs-collapsed" : ""}${id === "pinned" ? " tbs-pinned" : ""}`, attrs: { "data-group": id } },
      h("h3", { className: "tbs-group-head" }, toggle, h("span", { className: "tbs-group-name", text: title }), h("span", { className: "tbs-group-count", text: `${count} card${count === 1 ? "" : "s"}` }), h("span", { className: "tbs-spacer" }), pager),
      collapsed ? null : h("div", { className: "tbs-cards" }, ...cards),
    );
  }

  private pager(group: string, page: number, pages: number, first: number, shown: number, total: number): HTMLElement | null {
    if (pages <= 1) return null;
    const go = (p: number) => {
      this.pages.set(group, p);
      this.layout();
      this.content.querySelector(`[data-group="${CSS.escape(group)}"]`)?.scrollIntoView({ block: "start" });
    };
    const prev = iconButton("prev", `Previous page of ${group}`, () => go(page - 1), "tbs-page-prev");
    const next = iconButton("next", `Next page of ${group}`, () => go(page + 1), "tbs-page-next");
    prev.disabled = page === 0;
    next.disabled = page === pages - 1;
    return h("span", { className: "tbs-pager" }, h("span", { className: "tbs-page-text", text: `${first + 1}–${first + shown} of ${total}` }), prev, next);
  }

  private queueRedraw(): void {
    if (this.redrawQueued) return;
    this.redrawQueued = true;
    // One redraw per frame however fast a slider moves; the controls never wait on drawing, and only
    // live cards draw (the others hold no canvases).
    requestAnimationFrame(() => {
      this.redrawQueued = false;
      const t0 = performance.now();
      this.rootEl.style.setProperty("--tbs-opacity", String(this.current.opacity / 100));
      // The cards on screen now; the live ones around them when they come on screen.
      for (const card of this.cards.values()) {
        if (!card.live) continue;
        if (card.visible || !this.visibility) card.redraw();
        else card.dirty = true;
      }
      this.debug.redraws++;
      this.debug.lastRedrawMs = performance.now() - t0;
      this.afterFrame();
    });
  }
}

function storage(): Store | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
