// A card's place among the stored steps of its (run, tag), without any DOM: which step is on screen,
// how new step lists (polling with /steps tokens) move it, and what the keys do. A card on the newest
// step follows new steps; one the user moved back stays where it is.

import type { StepEntry, StepsResponse } from "../api";
import type { Extrema } from "../data/block";
import { extremaOf } from "../data/step_store";

export type Move = "prev" | "next" | "first" | "last";

/** The key that moves a card's step, or null. */
export function keyMove(key: string): Move | null {
  if (key === "ArrowLeft" || key === "ArrowDown") return "prev";
  if (key === "ArrowRight" || key === "ArrowUp") return "next";
  if (key === "Home") return "first";
  if (key === "End") return "last";
  return null;
}

/** The index of the stored step to show for `step`: the same step, else the latest before it, else the first. */
export function indexForStep(steps: readonly { step: number }[], step: number): number {
  let best = -1;
  for (let i = 0; i < steps.length; i++) if (steps[i].step <= step) best = i;
  return best >= 0 ? best : steps.length ? 0 : -1;
}

export class StepCursor {
  steps: StepEntry[] = [];
  /** The last /steps answer (without its steps): token, written counts, sampling. */
  last: Omit<StepsResponse, "steps"> | null = null;
  index = -1;
  private followLatest = true;
  private pending: number | null = null;

  get token(): string | undefined {
    return this.last?.token;
  }

  get current(): StepEntry | null {
    return this.index >= 0 ? (this.steps[this.index] ?? null) : null;
  }

  get count(): number {
    return this.steps.length;
  }

  /** Whether the steps shown so far come from /steps (not only the newest step /tags named). */
  get known(): boolean {
    return this.last !== null;
  }

  /**
   * Before /steps answers: the newest step as /tags names it, so the card can fetch and draw it at
   * once. A later step list replaces it.
   */
  provisional(step: number, wallTime: number): void {
    if (this.last !== null || this.steps.length) return;
    this.steps = [{ step, wall_time: wallTime, index: null }];
    this.index = 0;
  }

  /** Applies a /steps answer (a whole list, or what was appended since the token sent). */
  apply(response: StepsResponse): void {
    const before = this.current?.step ?? null;
    const { steps, ...rest } = response;
    if (response.append && this.last !== null) {
      const lastStep = this.steps.length ? this.steps[this.steps.length - 1].step : -Infinity;
      this.steps = this.steps.concat(steps.filter((s) => s.step > lastStep));
    } else {
      this.steps = steps.slice();
    }
    this.last = rest;
    const n = this.steps.length;
    if (n === 0) {
      this.index = -1;
    } else if (this.pending !== null) {
      this.index = indexForStep(this.steps, this.pending);
      this.pending = null;
      this.followLatest = this.index === n - 1;
    } else if (this.followLatest || before === null) {
      this.index = n - 1;
    } else {
      this.index = indexForStep(this.steps, before);
    }
  }

  /** Moves to index `i` (clamped); true when the step on screen changed. */
  moveTo(i: number): boolean {
    const n = this.steps.length;
    if (!n) return false;
    const index = Math.max(0, Math.min(n - 1, i));
    this.followLatest = index === n - 1;
    if (index === this.index) return false;
    this.index = index;
    return true;
  }

  move(how: Move): boolean {
    if (how === "prev") return this.moveTo(this.index - 1);
    if (how === "next") return this.moveTo(this.index + 1);
    if (how === "first") return this.moveTo(0);
    return this.moveTo(this.steps.length - 1);
  }

  /** Moves to the stored step at or before `step` ("link steps"); remembered until steps are known. */
  showStep(step: number): boolean {
    if (!this.known) {
      this.pending = step;
      return false;
    }
    const i = indexForStep(this.steps, step);
    return i >= 0 && this.moveTo(i);
  }

  /**
   * The raw extrema of one array (map key and stage, or "activations") over every stored step whose
   * index TensorBoard kept: the step list's `ranges`, else gathered from each step's index.
   */
  extrema(key: string, stage = ""): Extrema {
    return extremaOf(this.steps, this.last?.ranges, key, stage);
  }
}
