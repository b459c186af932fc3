// The dashboard: owns the settings, the run/tag list, the cards and the data caches, and wires the
// sidebar, cards and dialogs together.

import { BlobCache, fetchFrames, fetchTags, type FramesResponse, type TagsResponse } from "./api";
import { Card, type CardHost } from "./components/card";
import { openTileDialog, type DialogHost } from "./components/dialog";
import { emptyState } from "./components/empty";
import { Sidebar, type SidebarHost } from "./components/sidebar";
import { h, replaceChildren } from "./dom";
import { listenForReloads } from "./reload";
import { compileFilter, loadSettings, saveSettings, withSign, type Settings, type Store } from "./settings";

/** TensorBoard's run colours, so a run looks the same here as in the Scalars tab's palette family. */
const RUN_COLORS = ["#ff7043", "#0077bb", "#cc3311", "#33bbee", "#ee3377", "#009988", "#bbbbbb", "#f57c00", "#7e57c2", "#8d6e63"];

export const POLL_INTERVAL_MS = 30_000;

/** Settings that change how maps are drawn; changing one redraws without fetching. */
const DRAW_KEYS: (keyof Settings)[] = ["view", "colormap", "opacity", "sign", "clip", "percentile", "massPercent", "scope", "upsampling", "zoom"];

function cardKey(run: string, tag: string): string {
  return `${run}\u0000${tag}`;
}

export class App implements CardHost, SidebarHost, DialogHost {
  readonly blobs = new BlobCache();
  private current: Settings;
  private tags: TagsResponse | null = null;
  private runOrder: string[] = [];
  private readonly cards = new Map<string, Card>();
  private readonly byElement = new Map<Element, Card>();
  private readonly visible = new Set<Card>();
  /** Cards whose data may be out of date; they re-read their steps when next on screen. */
  private readonly stale = new Set<Card>();
  private readonly framesCache = new Map<string, Promise<FramesResponse>>();
  private readonly sidebar: Sidebar;
  private readonly main: HTMLElement;
  private readonly content: HTMLElement;
  private readonly status: HTMLElement;
  private observer: IntersectionObserver | null = null;
  private redrawQueued = false;
  private reloading: Promise<void> | null = null;
  private readonly store: Store | null;

  constructor(private readonly root: HTMLElement) {
    this.store = storage();
    this.current = loadSettings(this.store);
    this.sidebar = new Sidebar(this);
    this.status = h("span", { className: "tbs-status", attrs: { role: "status", "aria-live": "polite" } });
    this.content = h("div", { className: "tbs-content" }, h("div", { className: "tbs-loading", text: "Loading…" }));
    this.main = h(
      "main",
      { className: "tbs-main" },
      h(
        "div",
        { className: "tbs-toolbar" },
        this.status,
        h("span", { className: "tbs-spacer" }),
        h("button", {
          className: "tbs-button tbs-refresh",
          text: "Refresh",
          attrs: { type: "button", "aria-label": "Reload saliency data" },
          on: { click: () => void this.reload() },
        }),
      ),
      this.content,
    );
  }

  start(): void {
    replaceChildren(this.root, h("div", { className: "tbs-root" }, this.sidebar.el, this.main));
    if (typeof IntersectionObserver !== "undefined") {
      this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), { root: this.main, rootMargin: "300px 0px" });
    }
    void this.reload();
    setInterval(() => void this.reload(), POLL_INTERVAL_MS);
    listenForReloads(() => void this.reload());
  }

  // ---- hosts' interface -------------------------------------------------------------------------

  settings(): Settings {
    return this.current;
  }

  update(patch: Partial<Settings>): void {
    const before = this.current;
    this.current = { ...before, ...patch };
    saveSettings(this.store, this.current);
    this.sidebar.sync();
    if ("runFilter" in patch || "tagFilter" in patch || "hiddenRuns" in patch) this.layout();
    if (DRAW_KEYS.some((k) => k in patch && before[k] !== this.current[k])) this.queueRedraw();
  }

  setSign(sign: Settings["sign"]): void {
    const next = withSign(this.current, sign);
    this.update({ sign: next.sign, colormap: next.colormap });
  }

  runColor(run: string): string {
    const i = this.runOrder.indexOf(run);
    return RUN_COLORS[(i >= 0 ? i : 0) % RUN_COLORS.length];
  }

  sampling(): TagsResponse["sampling"] | null {
    return this.tags?.sampling ?? null;
  }

  frames(run: string, tag: string, refresh: boolean): Promise<FramesResponse> {
    const key = cardKey(run, tag);
    let entry = this.framesCache.get(key);
    if (!entry || refresh) {
      entry = fetchFrames(run, tag);
      this.framesCache.set(key, entry);
      entry.catch(() => {
        if (this.framesCache.get(key) === entry) this.framesCache.delete(key);
      });
    }
    return entry;
  }

  userStep(card: Card, step: number): void {
    if (!this.current.linkSteps) return;
    for (const other of this.cards.values()) if (other !== card) other.showStep(step);
  }

  openTile(card: Card, sample: number, column: number): void {
    openTileDialog(this, card, sample, column);
  }

  shownRuns(tag: string): string[] {
    return this.shownRunList().filter((run) => this.tags?.runs[run]?.[tag] !== undefined);
  }

  // ---- loading ----------------------------------------------------------------------------------

  /** Re-reads the run/tag list and the steps of the cards on screen; one at a time. */
  reload(): Promise<void> {
    if (!this.reloading) {
      this.reloading = this.doReload().finally(() => (this.reloading = null));
    }
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    let tags: TagsResponse;
    try {
      tags = await fetchTags();
    } catch (e) {
      if (!this.tags) {
        replaceChildren(
          this.content,
          h("div", { className: "tbs-error", attrs: { role: "alert" }, text: `Could not load the saliency tags: ${e instanceof Error ? e.message : String(e)}` }),
        );
      }
      this.status.textContent = "Reload failed; will retry.";
      return;
    }
    this.tags = tags;
    this.runOrder = Object.keys(tags.runs).sort();
    this.sidebar.setRuns(this.runOrder);
    for (const card of this.cards.values()) {
      const info = tags.runs[card.run]?.[card.tag];
      if (info) card.info = info;
      if (card.isActive) this.stale.add(card);
    }
    this.layout();
    await Promise.all([...this.visible].map((card) => this.refreshCard(card)));
    this.status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  private refreshCard(card: Card): Promise<void> {
    this.stale.delete(card);
    return card.refresh(true);
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const card = this.byElement.get(entry.target);
      if (!card) continue;
      if (entry.isIntersecting) {
        this.visible.add(card);
        if (!card.isActive) card.activate();
        else if (this.stale.has(card)) void this.refreshCard(card);
      } else {
        this.visible.delete(card);
      }
    }
  }

  private shownRunList(): string[] {
    const { regex } = compileFilter(this.current.runFilter);
    const hidden = new Set(this.current.hiddenRuns);
    return this.runOrder.filter((run) => !hidden.has(run) && (!regex || regex.test(run)));
  }

  /** Lays out one group per tag and one card per shown run in it, reusing existing cards. */
  private layout(): void {
    const tags = this.tags;
    if (!tags) return;
    if (this.runOrder.length === 0) {
      replaceChildren(this.content, emptyState());
      return;
    }
    const runs = this.shownRunList();
    const tagFilter = compileFilter(this.current.tagFilter).regex;
    const tagNames = new Set<string>();
    for (const run of runs) for (const tag of Object.keys(tags.runs[run] ?? {})) if (!tagFilter || tagFilter.test(tag)) tagNames.add(tag);

    const groups: HTMLElement[] = [];
    for (const tag of [...tagNames].sort()) {
      const cards: HTMLElement[] = [];
      let kind = "saliency";
      for (const run of runs) {
        const info = tags.runs[run]?.[tag];
        if (!info) continue;
        kind = info.kind;
        const key = cardKey(run, tag);
        let card = this.cards.get(key);
        if (!card) {
          card = new Card(run, tag, info, this);
          this.cards.set(key, card);
          this.byElement.set(card.el, card);
          this.observer?.observe(card.el);
          if (!this.observer) card.activate();
        }
        cards.push(card.el);
      }
      groups.push(
        h(
          "section",
          { className: "tbs-group", attrs: { "data-tag": tag } },
          h("h3", null, h("span", { className: "tbs-group-tag", text: tag }), h("span", { className: "tbs-kind", text: kind })),
          h("div", { className: "tbs-cards" }, ...cards),
        ),
      );
    }
    if (groups.length === 0) {
      const why = runs.length === 0 ? "No run is selected, or none matches the run filter." : "No tag matches the tag filter.";
      replaceChildren(this.content, h("div", { className: "tbs-loading tbs-nomatch", text: why }));
      return;
    }
    replaceChildren(this.content, ...groups);
  }

  private queueRedraw(): void {
    if (this.redrawQueued) return;
    this.redrawQueued = true;
    // One redraw per frame however fast a slider moves; the controls never wait on drawing.
    requestAnimationFrame(() => {
      this.redrawQueued = false;
      for (const card of this.cards.values()) if (card.el.isConnected) card.redraw();
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
