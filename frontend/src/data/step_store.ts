// The dashboard's step caches: each stored step's /frame (by step and wall time) and the step decoded
// (by bytes), the blobs under them, and the step lists the cards have read. Every request goes through
// one queue, the cards on screen first. Cards and the enlarged view both ask this store, so a step one
// of them decoded is ready for the other, and the enlarged view reuses a card's step list.

import { api, isFrameError, type Frame, type Kind, type StepEntry, type StepsResponse } from "../api";
import type { Extrema } from "./block";
import { BlobStore, DEFAULT_BUDGETS } from "./blobs";
import { Lru } from "./lru";
import { NEAR, ON_SCREEN, RequestQueue } from "./queue";
import { loadStep, stepBytes, type StepData } from "./step_data";

/** Budgets of the caches: frames by count, decoded steps by bytes. */
export const FRAME_CACHE_ENTRIES = 600;
export const STEP_CACHE_BYTES = 48 << 20;

/** A (run, tag)'s stored steps, with what the views need of them besides each step's data. */
export interface StepList {
  steps: StepEntry[];
  /** Raw extrema of an array (map key and stage, or "activations") over the stored steps. */
  extrema: (key: string, stage: string) => Extrema;
  classNames: readonly string[];
}

/** What a card knows of its tag's step list (its cursor): the store hands it on while it is known. */
export interface KnownSteps {
  readonly known: boolean;
  readonly steps: StepEntry[];
  readonly last: { class_names: string[] } | null;
  extrema(key: string, stage: string): Extrema;
}

/**
 * The raw extrema of one array over every stored step whose index TensorBoard kept: the step list's
 * `ranges`, else gathered from each step's index.
 */
export function extremaOf(steps: readonly StepEntry[], ranges: StepsResponse["ranges"] | undefined, key: string, stage = ""): Extrema {
  const range = ranges?.find((r) => r.key === key && r.stage === stage);
  if (range) return { mins: [range.min], maxs: [range.max] };
  const mins: number[] = [];
  const maxs: number[] = [];
  for (const s of steps) {
    const a = s.index?.arrays.find((x) => x.key === key && x.stage === stage);
    if (a) {
      mins.push(a.min);
      maxs.push(a.max);
    }
  }
  return { mins, maxs };
}

export class StepStore {
  private readonly queue = new RequestQueue();
  readonly blobs = new BlobStore(api.blob, undefined, DEFAULT_BUDGETS, this.queue);
  private readonly frames = new Lru<Promise<Frame>>(FRAME_CACHE_ENTRIES);
  private readonly decoded = new Lru<Promise<StepData>>(STEP_CACHE_BYTES);
  private readonly lists = new Map<string, KnownSteps>();

  /** /steps of (run, tag): the whole list, or with `token` what was appended since. */
  steps(run: string, tag: string, token?: string, priority = NEAR): Promise<StepsResponse> {
    return this.queue.run(priority, () => api.steps(run, tag, token));
  }

  /** A stored step, decoded: its /frame (cached by step and wall time), then its blobs (cached by bytes). */
  step(run: string, tag: string, entry: StepEntry, kind: Kind, priority = ON_SCREEN): Promise<StepData> {
    const frameId = JSON.stringify([run, tag, entry.step, entry.wall_time]);
    let frameP = this.frames.get(frameId);
    if (!frameP) {
      const p = this.queue.run(priority, () => api.frame(run, tag, entry.step));
      frameP = p;
      this.frames.set(frameId, p);
      p.catch(() => this.frames.get(frameId) === p && this.frames.delete(frameId));
    }
    return frameP.then((frame) => {
      if (isFrameError(frame)) throw new Error(frame.error);
      const id = JSON.stringify([run, tag, frame.step, frame.wall_time]);
      let decoded = this.decoded.get(id);
      if (!decoded) {
        const p = loadStep(frame, kind, this.blobs, priority);
        decoded = p;
        this.decoded.set(id, p, 64 << 10);
        p.then(
          (data) => this.decoded.resize(id, stepBytes(data)),
          () => this.decoded.get(id) === p && this.decoded.delete(id),
        );
      }
      return decoded;
    });
  }

  /** Notes the step list a card keeps of (run, tag) (its cursor), for stepList to hand on. */
  follow(run: string, tag: string, known: KnownSteps): void {
    this.lists.set(JSON.stringify([run, tag]), known);
  }

  /** The stored steps of (run, tag) as its card knows them, else read now (whole, on-screen priority). */
  async stepList(run: string, tag: string): Promise<StepList> {
    const known = this.lists.get(JSON.stringify([run, tag]));
    if (known && known.known) {
      return { steps: known.steps, extrema: (key, stage) => known.extrema(key, stage), classNames: known.last?.class_names ?? [] };
    }
    const response = await this.steps(run, tag, undefined, ON_SCREEN);
    const steps = response.steps.slice();
    return { steps, extrema: (key, stage) => extremaOf(steps, response.ranges, key, stage), classNames: response.class_names ?? [] };
  }

  /** Bytes the decoded steps and the blobs hold. */
  get bytes(): number {
    return this.decoded.total + this.blobs.held;
  }
}
