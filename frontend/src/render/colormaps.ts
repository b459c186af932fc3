// Colormaps as 256-entry RGB tables, decoded once from the generated hex strings.

import { COLORMAP_TABLES } from "./colormap_data";

export const SEQUENTIAL_COLORMAPS = ["viridis", "inferno", "magma", "turbo", "jet", "gray"] as const;
export const DIVERGING_COLORMAPS = ["RdBu", "coolwarm"] as const;
export type ColormapName = (typeof SEQUENTIAL_COLORMAPS)[number] | (typeof DIVERGING_COLORMAPS)[number];
export const COLORMAPS: readonly ColormapName[] = [...SEQUENTIAL_COLORMAPS, ...DIVERGING_COLORMAPS];

export function isDiverging(name: ColormapName): boolean {
  return (DIVERGING_COLORMAPS as readonly string[]).includes(name);
}

export function isColormapName(name: unknown): name is ColormapName {
  return typeof name === "string" && (COLORMAPS as readonly string[]).includes(name);
}

const decoded = new Map<ColormapName, Uint8Array>();

/** 256 × RGB bytes. */
export function colormapTable(name: ColormapName): Uint8Array {
  let lut = decoded.get(name);
  if (!lut) {
    const hex = COLORMAP_TABLES[name];
    if (!hex || hex.length !== 256 * 6) throw new Error(`unknown colormap ${name}`);
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256 * 3; i++) lut[i] = parseInt(hex.substr(2 * i, 2), 16);
    decoded.set(name, lut);
  }
  return lut;
}

/** The table entry (0–255) of a position t on the colormap: clamped to [0, 1], NaN counts as 0. */
export function lutIndex(t: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return 255;
  return Math.round(t * 255);
}
