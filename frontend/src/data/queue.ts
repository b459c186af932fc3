// Requests wait here for one of the browser's connections, most urgent first: the cards on screen
// before the cards near it, so the first card paints before the page around it loads.

export const ON_SCREEN = 0;
export const NEAR = 1;
/** Neighbouring steps fetched before they are asked for: after everything that is. */
export const PREFETCH = 2;

/** Requests of lower urgency than ON_SCREEN never take more than this many connections. */
export const NEAR_SLOTS = 2;

interface Waiting {
  priority: number;
  order: number;
  start: () => void;
  done?: () => void;
}

export class RequestQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private order = 0;

  /** `limit` requests at a time: the six connections a browser opens to one HTTP/1.1 host. */
  constructor(
    private readonly limit = 6,
    private readonly lowSlots = NEAR_SLOTS,
  ) {}

  run<T>(priority: number, task: () => Promise<T>): Promise<T> {
    return this.runPromotable(priority, task).promise;
  }

  /** Like run, with a way to make the request more urgent while it still waits (a prefetched step the
   * user now asks for). */
  runPromotable<T>(priority: number, task: () => Promise<T>): { promise: Promise<T>; promote: (priority: number) => void } {
    let queued: Waiting | null = null;
    const promise = new Promise<T>((resolve, reject) => {
      const item: Waiting = {
        priority,
        order: this.order++,
        start: () => {
          this.running++;
          task()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              item.done?.();
              this.next();
            });
        },
      };
      queued = item;
      this.waiting.push(item);
      this.next();
    });
    const promote = (urgent: number): void => {
      if (queued && urgent < queued.priority && this.waiting.includes(queued)) {
        queued.priority = urgent;
        this.next();
      }
    };
    return { promise, promote };
  }

  get pending(): number {
    return this.waiting.length + this.running;
  }

  private runningLow = 0;

  private next(): void {
    while (this.running < this.limit && this.waiting.length) {
      let best = -1;
      for (let i = 0; i < this.waiting.length; i++) {
        const a = this.waiting[i];
        // Leave connections free for what is on screen: less urgent requests take a few at most.
        if (a.priority > ON_SCREEN && this.runningLow >= this.lowSlots) continue;
        const b = best >= 0 ? this.waiting[best] : null;
        if (!b || a.priority < b.priority || (a.priority === b.priority && a.order < b.order)) best = i;
      }
      if (best < 0) return;
      const item = this.waiting.splice(best, 1)[0];
      if (item.priority > ON_SCREEN) {
        this.runningLow++;
        item.done = () => this.runningLow--;
      }
      item.start();
    }
  }
}
