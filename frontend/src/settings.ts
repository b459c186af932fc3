// Display settings and sidebar state, with their defaults, validation and persistence. Stored in
// localStorage, which the iframe shares with TensorBoard's origin, under one namespaced key; a stored
// value that no longer validates falls back to its default rather than breaking the tab.

import { isColormapName, isDiverging, type ColormapName } from "./render/colormaps";
import type { ClipMode, Scope, SignMode } from "./render/normalise";
import type { Upsampling, View } from "./render/pixels";
import type { SortOrder } from "./model/metrics";

export type Zoom = "fit" | "1" | "2" | "4";

export interface Settings {
  view: View;
  colormap: ColormapName;
  opacity: number;
  sign: SignMode;
  clip: ClipMode;
  percentile: number;
  massPercent: number;
  scope: Scope;
  upsampling: Upsampling;
  zoom: Zoom;
  linkSteps: boolean;
  runFilter: string;
  tagFilter: string;
  hiddenRuns: string[];
  /** Show only the samples whose prediction is wrong. */
  onlyWrong: boolean;
  /** The sample picker: "" for every sample, else indices and ranges ("0, 2-4"). */
  samples: string;
  /** Cards per page of a tag group. */
  pageSize: number;
  /** Card keys (model/layout.ts cardKey), pinned to the top in this order. */
  pinned: string[];
  /** Card keys shown wide (a whole row) rather than compact. */
  wide: string[];
  /** Tag groups collapsed. */
  collapsed: string[];
  /** Order each card's samples by this metric ("" for sample order). */
  sortMetric: string;
  /** Worst first (by the metric's direction) or best first. */
  sortOrder: SortOrder;
  /** The map key whose metrics sort and filter; "" for the first map of a card that logs the metric. */
  metricMap: string;
  /** Show only the samples whose map missed the pointing game. */
  onlyMissed: boolean;
  /** A chart of each metric's mean over steps in every card that logs metrics. */
  charts: boolean;
  /** Text steps: sub-word pieces (##, Ġ, ▁) drawn as whole words, their scores summed. */
  mergeWords: boolean;
}

export const DEFAULTS: Readonly<Settings> = Object.freeze({
  view: "overlay",
  colormap: "viridis",
  opacity: 50,
  sign: "absolute",
  clip: "percentile",
  percentile: 99,
  massPercent: 2,
  scope: "map",
  upsampling: "bilinear",
  zoom: "fit",
  linkSteps: false,
  runFilter: "",
  tagFilter: "",
  hiddenRuns: [],
  onlyWrong: false,
  samples: "",
  pageSize: 12,
  pinned: [],
  wide: [],
  collapsed: [],
  sortMetric: "",
  sortOrder: "worst",
  metricMap: "",
  onlyMissed: false,
  charts: true,
  mergeWords: false,
} as Settings);

export const VIEWS: readonly View[] = ["overlay", "heatmap", "masked", "side"];
export const SIGNS: readonly SignMode[] = ["positive", "negative", "absolute", "signed"];
export const CLIPS: readonly ClipMode[] = ["none", "percentile", "mass"];
export const SCOPES: readonly Scope[] = ["map", "card", "tag"];
export const UPSAMPLINGS: readonly Upsampling[] = ["bilinear", "nearest"];
export const ZOOMS: readonly Zoom[] = ["fit", "1", "2", "4"];
export const SORT_ORDERS: readonly SortOrder[] = ["worst", "best"];

export const STORAGE_KEY = "tb_saliency.dashboard.v1";

function pick<T>(options: readonly T[], value: unknown, fallback: T): T {
  return options.includes(value as T) ? (value as T) : fallback;
}

function number(value: unknown, lo: number, hi: number, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? Math.min(hi, Math.max(lo, value)) : fallback;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? [...new Set(value.filter((x): x is string => typeof x === "string"))] : [];
}

/** A complete, valid Settings from anything (a parsed localStorage entry, say). */
export function sanitize(raw: unknown): Settings {
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const d = DEFAULTS;
  return {
    view: pick(VIEWS, r.view, d.view),
    colormap: isColormapName(r.colormap) ? r.colormap : d.colormap,
    opacity: number(r.opacity, 0, 100, d.opacity),
    sign: pick(SIGNS, r.sign, d.sign),
    clip: pick(CLIPS, r.clip, d.clip),
    percentile: number(r.percentile, 50, 100, d.percentile),
    massPercent: number(r.massPercent, 0, 50, d.massPercent),
    scope: pick(SCOPES, r.scope, d.scope),
    upsampling: pick(UPSAMPLINGS, r.upsampling, d.upsampling),
    zoom: pick(ZOOMS, r.zoom, d.zoom),
    linkSteps: typeof r.linkSteps === "boolean" ? r.linkSteps : d.linkSteps,
    runFilter: typeof r.runFilter === "string" ? r.runFilter : d.runFilter,
    tagFilter: typeof r.tagFilter === "string" ? r.tagFilter : d.tagFilter,
    hiddenRuns: strings(r.hiddenRuns),
    onlyWrong: typeof r.onlyWrong === "boolean" ? r.onlyWrong : d.onlyWrong,
    samples: typeof r.samples === "string" ? r.samples.slice(0, 200) : d.samples,
    pageSize: Math.round(number(r.pageSize, 1, 100, d.pageSize)),
    pinned: strings(r.pinned),
    wide: strings(r.wide),
    collapsed: strings(r.collapsed),
    sortMetric: typeof r.sortMetric === "string" ? r.sortMetric.slice(0, 200) : d.sortMetric,
    sortOrder: pick(SORT_ORDERS, r.sortOrder, d.sortOrder),
    metricMap: typeof r.metricMap === "string" ? r.metricMap.slice(0, 200) : d.metricMap,
    onlyMissed: typeof r.onlyMissed === "boolean" ? r.onlyMissed : d.onlyMissed,
    charts: typeof r.charts === "boolean" ? r.charts : d.charts,
    mergeWords: typeof r.mergeWords === "boolean" ? r.mergeWords : d.mergeWords,
  };
}

/**
 * A sign change picks a colormap that fits it: signed maps need a diverging one so that zero sits
 * in the neutral middle; unsigned ones read best on a sequential one.
 */
export function withSign(settings: Settings, sign: SignMode): Settings {
  let colormap = settings.colormap;
  if (sign === "signed" && !isDiverging(colormap)) colormap = "coolwarm";
  if (sign !== "signed" && isDiverging(colormap)) colormap = DEFAULTS.colormap;
  return { ...settings, sign, colormap };
}

export interface Store {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function loadSettings(store: Store | null): Settings {
  if (!store) return sanitize({});
  try {
    const text = store.getItem(STORAGE_KEY);
    return sanitize(text ? JSON.parse(text) : {});
  } catch {
    return sanitize({});
  }
}

export function saveSettings(store: Store | null, settings: Settings): void {
  if (!store) return;
  try {
    store.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Storage full or disabled (private mode): the settings still apply for this visit.
  }
}

/** A regex filter; an invalid pattern is reported, not thrown. Matching is case-insensitive. */
export function compileFilter(pattern: string): { regex: RegExp | null; error: string | null } {
  if (!pattern) return { regex: null, error: null };
  try {
    return { regex: new RegExp(pattern, "i"), error: null };
  } catch (e) {
    return { regex: null, error: e instanceof Error ? e.message : String(e) };
  }
}
