// Run colours as TensorBoard 2.21 gives them in its run selector (Time Series and the runs table):
// its default palette, indexed by the order in which runs first appear in its run list (/data/runs,
// ordered by start time, then name), light or dark variant by theme. Runs keep their colour when
// others appear later, as TensorBoard's colour ids do. (TensorBoard's legacy Polymer tabs, Scalars and
// Images, colour runs from another palette; its colour picker's overrides stay inside its own state.)

export interface PaletteColor {
  name: string;
  light: string;
  dark: string;
}

/** tensorboard/webapp/settings: the default colour palette. */
export const TB_PALETTE: readonly PaletteColor[] = [
  { name: "Slate", light: "#425066", dark: "#8e98a3" },
  { name: "Cyan", light: "#12b5cb", dark: "#12b5cb" },
  { name: "Pink", light: "#e52592", dark: "#e52592" },
  { name: "Yellow", light: "#f9ab00", dark: "#f9ab00" },
  { name: "Purple", light: "#9334e6", dark: "#9334e6" },
  { name: "Light Green", light: "#7cb342", dark: "#7cb342" },
  { name: "Orange", light: "#e8710a", dark: "#e8710a" },
];

/** Ids by first appearance: a name keeps its id when others appear later. */
class FirstSeenIds {
  private readonly ids = new Map<string, number>();

  /** Gives every name not seen before the next id, in `order`. */
  assign(order: readonly string[]): void {
    for (const name of order) this.id(name);
  }

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(name, id);
    }
    return id;
  }
}

export class RunColors extends FirstSeenIds {
  color(run: string, dark: boolean): string {
    const c = TB_PALETTE[this.id(run) % TB_PALETTE.length];
    return dark ? c.dark : c.light;
  }
}

/** Palette slots of the metric charts (tbs-s0 … tbs-s9). */
export const SERIES_SLOTS = 10;

/**
 * The colours of the keys one chart shows: each key's own slot (`slotOf`), unless an earlier key of
 * the chart has it (two of more than ten keys across the experiment share a slot): then a slot that
 * no key of the chart owns, so that no two lines of one chart look alike while slots remain, and
 * every key that can keep its own colour (the same in every chart) does.
 */
export function distinctSlots(keys: readonly string[], slotOf: (key: string) => number): Map<string, number> {
  const unique = [...new Set(keys)];
  const own = new Map<string, number>();
  const taken = new Set<number>();
  const moved: string[] = [];
  for (const key of unique) {
    const slot = slotOf(key);
    if (taken.has(slot)) {
      moved.push(key);
    } else {
      own.set(key, slot);
      taken.add(slot);
    }
  }
  for (const key of moved) {
    let slot = slotOf(key);
    for (let s = 0; s < SERIES_SLOTS; s++) {
      if (!taken.has(s)) {
        slot = s;
        break;
      }
    }
    own.set(key, slot);
    taken.add(slot);
  }
  return new Map(unique.map((key) => [key, own.get(key)!]));
}

/**
 * Method (map key) colours of the metric charts: a palette index per key in the order keys first
 * appear (tb_saliency's palette of ten, in styles.ts as tbs-s0 … tbs-s9, light and dark). A key keeps
 * its index when others appear later.
 */
export class MethodColors extends FirstSeenIds {
  color(key: string): number {
    return this.id(key) % SERIES_SLOTS;
  }
}
