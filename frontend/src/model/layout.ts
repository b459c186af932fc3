// Which cards the page shows and where, without any DOM: tag groups as TensorBoard makes them (the
// prefix before the first '/'), pinned cards first, pages of a group, and the samples a card shows.

export interface CardRef {
  run: string;
  tag: string;
  /** A unique, storable name of the (run, tag). */
  key: string;
}

export interface Group {
  name: string;
  cards: CardRef[];
}

export function cardKey(run: string, tag: string): string {
  return JSON.stringify([run, tag]);
}

/** TensorBoard's tag group: the part before the first '/', or the whole tag. */
export function groupOf(tag: string): string {
  const i = tag.indexOf("/");
  return i > 0 ? tag.slice(0, i) : tag;
}

/**
 * Groups the cards of `runs` (in run order) and `tags` per run into TensorBoard's tag groups,
 * sorted by name, each sorted by tag then run; pinned cards (in the order they were pinned) form
 * their own list and leave their groups.
 */
export function buildGroups(
  runs: readonly string[],
  tagsOf: (run: string) => readonly string[],
  tagMatches: (tag: string) => boolean,
  pinned: readonly string[],
): { pinned: CardRef[]; groups: Group[] } {
  const rank = new Map(runs.map((r, i) => [r, i]));
  const all: CardRef[] = [];
  for (const run of runs) for (const tag of tagsOf(run)) if (tagMatches(tag)) all.push({ run, tag, key: cardKey(run, tag) });
  const pinnedSet = new Set(pinned);
  const byKey = new Map(all.map((c) => [c.key, c]));
  const pinnedCards = pinned.map((k) => byKey.get(k)).filter((c): c is CardRef => c !== undefined);
  const groups = new Map<string, CardRef[]>();
  for (const c of all) {
    if (pinnedSet.has(c.key)) continue;
    const g = groupOf(c.tag);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(c);
  }
  const out: Group[] = [];
  for (const name of [...groups.keys()].sort(compareText)) {
    const cards = groups.get(name)!;
    cards.sort((a, b) => compareText(a.tag, b.tag) || rank.get(a.run)! - rank.get(b.run)!);
    out.push({ name, cards });
  }
  return { pinned: pinnedCards, groups: out };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Page<T> {
  items: T[];
  /** 0-based, clamped to the pages there are. */
  page: number;
  pages: number;
  first: number;
}

export function pageOf<T>(items: readonly T[], page: number, size: number): Page<T> {
  const per = Math.max(1, Math.floor(size));
  const pages = Math.max(1, Math.ceil(items.length / per));
  const p = Math.max(0, Math.min(pages - 1, Math.floor(page)));
  return { items: items.slice(p * per, (p + 1) * per), page: p, pages, first: p * per };
}

/**
 * A sample picker's text ("0, 2, 5-7") as the set of sample indices it names; empty text names
 * every sample (null). Anything else is an error message.
 */
export function parseSamples(text: string): { samples: Set<number> | null; error: string | null } {
  const t = text.trim();
  if (!t) return { samples: null, error: null };
  const out = new Set<number>();
  for (const part of t.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(\d+)(?:\s*[-–]\s*(\d+))?$/.exec(part);
    if (!m) return { samples: null, error: `"${part}" is not a sample number or a range such as 2-5` };
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return { samples: null, error: `the range ${part} runs backwards` };
    if (b - a > 100000) return { samples: null, error: `the range ${part} is too long` };
    for (let i = a; i <= b; i++) out.add(i);
  }
  return { samples: out, error: null };
}

/** The samples a card shows: those picked (all when none are), and only wrong ones when asked. */
export function shownSamples(n: number, picked: Set<number> | null, onlyWrong: boolean, wrong: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (picked && !picked.has(i)) continue;
    if (onlyWrong && !wrong(i)) continue;
    out.push(i);
  }
  return out;
}
