// One array of a stored step as the dashboard keeps it: a sample's map (or one activation channel)
// as stored (|v| ≤ 1, float32) and the unit that gives raw values, raw = stored × unit. The unit is the
// sample's `scale`, a double, so maps of 1e-50 or 1e300 keep their magnitude although float32 cannot
// hold it; every range and label is computed in doubles from (stored, unit).

export type SortClass = "raw" | "abs";

export class Block {
  private sortedRaw: Float32Array | null = null;
  private sortedAbs: Float32Array | null = null;

  constructor(
    readonly stored: Float32Array,
    readonly unit: number,
    readonly height: number,
    readonly width: number,
  ) {}

  /** The raw value of cell (x, y), a double. */
  raw(x: number, y: number): number {
    return this.stored[y * this.width + x] * this.unit;
  }

  /** The stored values sorted ascending, or their magnitudes sorted ascending (computed once). */
  sorted(cls: SortClass): Float32Array {
    if (cls === "raw") return (this.sortedRaw ??= sortedCopy(this.stored, false));
    return (this.sortedAbs ??= sortedCopy(this.stored, true));
  }

  /** Bytes held, for the caches' budgets. */
  get bytes(): number {
    return 4 * (this.stored.length + (this.sortedRaw?.length ?? 0) + (this.sortedAbs?.length ?? 0));
  }
}

/** Values sorted ascending, in a unit shared by all of them. */
export interface SortedValues {
  values: Float32Array;
  /** raw = value × unit. */
  unit: number;
  cls: SortClass;
}

function sortedCopy(values: Float32Array, abs: boolean): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // Non-finite values would poison every range they enter; the writer never stores them.
    out[i] = Number.isFinite(v) ? (abs ? Math.abs(v) : v) : 0;
  }
  return out.sort();
}

/**
 * The values of several blocks sorted together in one unit: the largest unit, each block's values
 * scaled by its unit's share of it (a share too small for float32 only loses values that are
 * invisible beside the largest).
 */
export function sortedTogether(blocks: readonly Block[], cls: SortClass): SortedValues {
  if (blocks.length === 1) return { values: blocks[0].sorted(cls), unit: blocks[0].unit, cls };
  let unit = 0;
  for (const b of blocks) if (b.unit > unit) unit = b.unit;
  if (!(unit > 0)) unit = 1;
  let size = 0;
  for (const b of blocks) size += b.stored.length;
  const out = new Float32Array(size);
  let at = 0;
  for (const b of blocks) {
    const share = b.unit / unit;
    const s = b.sorted(cls);
    for (let i = 0; i < s.length; i++) out[at + i] = s[i] * share;
    at += s.length;
  }
  return { values: out.sort(), unit, cls };
}
