// The dashboard's step caches: each stored step decoded (by bytes, keyed by step and wall time), the
// steps that cannot be shown (by count), the decoded input images under them, and the step lists the
// cards have read. A step is one /step_data request: its header and every blob it draws in one body.
// Every request goes through one queue, the cards on screen first, neighbouring steps last. Cards and
// the enlarged view both ask this store, so a step one of them decoded is ready for the other, and
// the enlarged view reuses a card's step list.

import { api, isFrameError, type Kind, type StepDataResponse, type StepEntry, type StepsResponse } from "../api";
import type { Extrema } from "./block";
import { BlobStore, DEFAULT_BUDGETS, type BlobSource, type Picture } from "./blobs";
import { Lru } from "./lru";
import { NEAR, ON_SCREEN, PREFETCH, RequestQueue } from "./queue";
import { loadStep, stepBytes, type StepData } from "./step_data";

/** Budgets of the caches: steps that cannot be shown by count, decoded steps by bytes. */
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

/** The blobs of one /step_data body; input images decode once per (key, wall time) in the BlobStore. */
class BodyBlobs implements BlobSource {
  constructor(
    private readonly body: StepDataResponse,
    private readonly images: BlobStore,
  ) {}

  get(key: string): Promise<ArrayBuffer> {
    const bytes = this.body.blobs.get(key);
    if (bytes) return Promise.resolve(bytes);
    const why = Object.prototype.hasOwnProperty.call(this.body.unreadable, key) ? this.body.unreadable[key] : "the step's data does not hold it";
    return Promise.reject(new Error(`its blob cannot be read: ${why}`));
  }

  image(key: string, wallTime: number): Promise<Picture> {
    return this.images.image(key, wallTime, undefined, () => this.get(key));
  }
}

export class StepStore {
  private readonly queue = new RequestQueue();
  /** Decoded input images (a shared probe set decodes once). Every blob comes in its step's /step_data
   * body, so its /blob fetcher is never called. */
  readonly blobs = new BlobStore(api.blob, undefined, DEFAULT_BUDGETS, this.queue);
  /** Why a step cannot be shown, as the backend said or as decoding found: a hostile or damaged step costs one request. */
  private readonly failures = new Lru<string>(FRAME_CACHE_ENTRIES);
  private readonly decoded = new Lru<Promise<StepData>>(STEP_CACHE_BYTES);
  /** Requests of steps still waiting in the queue, to make a prefetch urgent when a card asks for it. */
  private readonly waiting = new Map<string, (priority: number) => void>();
  private readonly lists = new Map<string, KnownSteps>();
  /** /step_data requests made, for tests and the benchmark. */
  stepFetches = 0;

  /** /steps of (run, tag): the whole list, or with `token` what was appended since. */
  steps(run: string, tag: string, token?: string, priority = NEAR): Promise<StepsResponse> {
    return this.queue.run(priority, () => api.steps(run, tag, token));
  }

  /** A stored step, decoded: one /step_data request (its header and blobs), cached by step and wall time. */
  step(run: string, tag: string, entry: StepEntry, kind: Kind, priority = ON_SCREEN): Promise<StepData> {
    const id = JSON.stringify([run, tag, entry.step, entry.wall_time]);
    const failure = this.failures.get(id);
    if (failure !== undefined) return Promise.reject(new Error(failure));
    const cached = this.decoded.get(id);
    if (cached) {
      this.waiting.get(id)?.(priority);
      return cached;
    }
    this.stepFetches++;
    const request = this.queue.runPromotable(priority, () => {
      this.waiting.delete(id);
      return api.stepData(run, tag, entry.step);
    });
    this.waiting.set(id, request.promote);
    const p = request.promise.then((body) => {
      if (isFrameError(body.frame)) {
        this.failures.set(id, body.frame.error);
        throw new Error(body.frame.error);
      }
      // A step whose bytes cannot be decoded fails the same way every time: remember why, so that a
      // card asking again (its step list arriving after the error is on screen) gets the error at
      // once instead of a new request whose "Loading…" hides the error meanwhile.
      return loadStep(body.frame, kind, new BodyBlobs(body, this.blobs), priority).catch((e: unknown) => {
        this.failures.set(id, e instanceof Error ? e.message : String(e));
        throw e;
      });
    });
    this.decoded.set(id, p, 64 << 10);
    p.then(
      (data) => this.decoded.resize(id, stepBytes(data)),
      () => {
        this.waiting.delete(id);
        if (this.decoded.get(id) === p) this.decoded.delete(id);
      },
    );
    return p;
  }

  /** Fetches and decodes a step nobody asked for yet (the neighbours of a step on screen), after
   * every request that was asked for; errors wait for the card that asks. */
  prefetch(run: string, tag: string, entry: StepEntry, kind: Kind): void {
    this.step(run, tag, entry, kind, PREFETCH).catch(() => undefined);
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

  /** Requests waiting or in flight. */
  get pending(): number {
    return this.queue.pending;
  }

  /** Bytes the decoded steps and the blobs hold. */
  get bytes(): number {
    return this.decoded.total + this.blobs.held;
  }
}
