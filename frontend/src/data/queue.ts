// Requests wait here for one of the browser's connections, most urgent first: the cards on screen
// before the cards near it, so the first card paints before the page around it loads.

export const ON_SCREEN = 0;
export const NEAR = 1;

export class RequestQueue {
  private running = 0;
  private readonly waiting: { priority: number; order: number; start: () => void }[] = [];
  private order = 0;

  /** `limit` requests at a time: the six connections a browser opens to one HTTP/1.1 host. */
  constructor(private readonly limit = 6) {}

  run<T>(priority: number, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.running++;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.next();
          });
      };
      this.waiting.push({ priority, order: this.order++, start });
      this.next();
    });
  }

  get pending(): number {
    return this.waiting.length + this.running;
  }

  private next(): void {
    while (this.running < this.limit && this.waiting.length) {
      let best = 0;
      for (let i = 1; i < this.waiting.length; i++) {
        const a = this.waiting[i];
        const b = this.waiting[best];
        if (a.priority < b.priority || (a.priority === b.priority && a.order < b.order)) best = i;
      }
      this.waiting.splice(best, 1)[0].start();
    }
  }
}
