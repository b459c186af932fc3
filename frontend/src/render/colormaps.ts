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

const packed = new Map<string, Uint32Array>();

/** Whether this machine stores a Uint32 with its lowest byte first (every browser today does). */
const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function packRgba(r: number, g: number, b: number, a = 255): number {
  return LITTLE ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

/** The colormap as 256 RGBA pixels packed in 32 bits, so a pixel is one write. */
export function packedTable(name: ColormapName): Uint32Array {
  let out = packed.get(name);
  if (!out) {
    const lut = colormapTable(name);
    out = new Uint32Array(256);
    for (let i = 0; i < 256; i++) out[i] = packRgba(lut[3 * i], lut[3 * i + 1], lut[3 * i + 2]);
    packed.set(name, out);
  }
  return out;
}

/** 256 greys: the multiplier a masked view lays over its input (mix-blend-mode: multiply). */
export function greyTable(): Uint32Array {
  let out = packed.get(" grey");
  if (!out) {
    out = new Uint32Array(256);
    for (let i = 0; i < 256; i++) out[i] = packRgba(i, i, i);
    packed.set(" grey", out);
  }
  return out;
}
