// Work for idle time: small tasks (sorting a block's values, say) that make later display changes
// cheap, run a few milliseconds at a time when the page has nothing else to do.

/** At most this many tasks wait; the oldest give way (their cards are long gone from the screen). */
const MAX_WAITING = 20000;

export class IdleQueue {
  private readonly tasks: (() => void)[] = [];
  private scheduled = false;

  push(tasks: (() => void)[]): void {
    this.tasks.push(...tasks);
    if (this.tasks.length > MAX_WAITING) this.tasks.splice(0, this.tasks.length - MAX_WAITING);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.tasks.length) return;
    this.scheduled = true;
    const run = (deadline?: IdleDeadline) => {
      this.scheduled = false;
      const end = performance.now() + Math.min(10, deadline ? deadline.timeRemaining() : 8);
      while (this.tasks.length && performance.now() < end) this.tasks.shift()!();
      this.schedule();
    };
    if (typeof requestIdleCallback !== "undefined") requestIdleCallback(run, { timeout: 2000 });
    else setTimeout(run, 50);
  }
}
