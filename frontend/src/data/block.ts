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
}

/** The raw minima and maxima of one array over the stored steps of a tag (the "per tag" scope). */
export interface Extrema {
  mins: number[];
  maxs: number[];
}

/**
 * A set of blocks drawn with one range when the scope shares it (a card column: one map key across
 * the samples of a step; or every channel of an activation step). It keeps their values sorted
 * together per sort class; the ranges drawn from them are render/pipeline.ts's.
 */
export class BlockGroup {
  private readonly sorted = new Map<SortClass, SortedValues>();

  constructor(readonly blocks: readonly Block[]) {}

  together(cls: SortClass): SortedValues {
    let s = this.sorted.get(cls);
    if (!s) {
      s = sortedTogether(this.blocks, cls);
      this.sorted.set(cls, s);
    }
    return s;
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
 * invisible beside the largest). Each block's own sorted values are merged pairwise, O(n log k),
 * rather than sorted again.
 */
export function sortedTogether(blocks: readonly Block[], cls: SortClass): SortedValues {
  if (blocks.length === 1) return { values: blocks[0].sorted(cls), unit: blocks[0].unit, cls };
  let unit = 0;
  for (const b of blocks) if (b.unit > unit) unit = b.unit;
  if (!(unit > 0)) unit = 1;
  // Scaling by a positive share keeps each block's order.
  let runs: Float32Array[] = blocks.map((b) => {
    const share = b.unit / unit;
    const s = b.sorted(cls);
    if (share === 1) return s;
    const out = new Float32Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s[i] * share;
    return out;
  });
  if (runs.length === 0) return { values: new Float32Array(0), unit, cls };
  while (runs.length > 1) {
    const next: Float32Array[] = [];
    for (let i = 0; i < runs.length; i += 2) next.push(i + 1 < runs.length ? merge(runs[i], runs[i + 1]) : runs[i]);
    runs = next;
  }
  return { values: runs[0], unit, cls };
}

function merge(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}
