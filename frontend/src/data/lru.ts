// A least-recently-used cache bounded by a total cost (bytes, or entries), so that browsing every card
// of a large logdir keeps memory flat. Values may be promises: an entry costs what `cost` says once it
// has settled, and a rejected one is dropped so a later attempt may succeed.

export class Lru<V> {
  private readonly entries = new Map<string, { value: V; cost: number }>();
  private used = 0;

  constructor(
    readonly capacity: number,
    private readonly onEvict: ((key: string, value: V) => void) | null = null,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The total cost of what is held. */
  get total(): number {
    return this.used;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-inserting moves the key to the end: Map keeps insertion order, oldest first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, cost = 1): void {
    this.delete(key);
    this.entries.set(key, { value, cost });
    this.used += cost;
    this.evict(key);
  }

  /** Changes the cost of an entry that is held (a promise that settled), then evicts to fit. */
  resize(key: string, cost: number): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.used += cost - entry.cost;
    entry.cost = cost;
    this.evict(key);
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.used -= entry.cost;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Drops the oldest entries until the total fits, never the one just used (`keep`). */
  private evict(keep: string): void {
    for (const [key, entry] of this.entries) {
      if (this.used <= this.capacity) break;
      if (key === keep) continue;
      this.entries.delete(key);
      this.used -= entry.cost;
      this.onEvict?.(key, entry.value);
    }
  }
}
