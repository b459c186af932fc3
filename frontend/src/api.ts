// The plugin's HTTP API (tb_saliency/http_api.md), the one place that fetches it. The types come from
// tb_saliency/http_schema.json (src/api_types.ts, generated). URLs stay relative: they resolve
// against the iframe's <base href="plugin/saliency/">, which keeps them working under --path_prefix
// and /experiment/<id>/.

import type * as Schema from "./api_types";
import { parseStepBody } from "./data/step_body";

// The generated names, under the names the dashboard uses (the schema's "Map" and "Error" would
// shadow JavaScript's own).
export type TagsResponse = Schema.Tags;
export type TagInfo = Schema.TagEntry;
export type Kind = Schema.TagKind;
export type Sampling = Schema.SamplingLimit;
export type StepsResponse = Schema.Steps;
export type StepEntry = Schema.StepEntry;
export type FrameResponse = Schema.FrameData;
export type FrameError = Schema.FrameError;
export type Sample = Schema.Sample;
export type MapBlock = Schema.Map;
export type Activations = Schema.Activations;
export type Compression = Schema.Compression;
export type Metric = Schema.Metric;
export type Randomisation = Schema.Randomisation;
export type Tokens = Schema.Tokens;
export type Signals = Schema.Signals;

/** A /frame answer: the step's header, or why it cannot be shown. */
export type Frame = Schema.Frame;

/** A /step_data answer: the step's /frame answer, the bytes of every blob it names, and why any of
 * them could not be read. */
export interface StepDataResponse {
  frame: Frame;
  unreadable: Schema.StepData["unreadable"];
  blobs: Map<string, ArrayBuffer>;
}

export function isFrameError(frame: Frame): frame is FrameError {
  return typeof (frame as FrameError).error === "string";
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** TensorBoard sends non-finite floats as strings; turn them back into numbers. */
export function reviveNonFinite(_key: string, value: unknown): unknown {
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return value;
}

function query(params: Record<string, string | number | undefined>): string {
  return Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join("&");
}

export function stepsUrl(run: string, tag: string, token?: string): string {
  return `./steps?${query({ run, tag, token })}`;
}

export function frameUrl(run: string, tag: string, step: number): string {
  return `./frame?${query({ run, tag, step })}`;
}

export function stepDataUrl(run: string, tag: string, step: number): string {
  return `./step_data?${query({ run, tag, step })}`;
}

export function exportUrl(run: string, tag: string, step: number): string {
  return `./export?${query({ run, tag, step })}`;
}

/**
 * A blob key names (run, tag, step, index), so a run deleted and written again reuses keys for new
 * bytes; the frame's wall time tells the two apart. The backend ignores `wall_time`: it is here so
 * that the browser's HTTP cache can never hand back the old bytes either.
 */
export function blobUrl(key: string, wallTime: number): string {
  return `./blob?${query({ key, wall_time: wallTime })}`;
}

/**
 * One sample of a signal step as a WAV file. TensorBoard's Content-Security-Policy lets an <audio>
 * element play only its own origin's URLs (no blob: or data:), so the plugin builds the file.
 * `wall_time` only keeps the browser's cache from mixing a rewritten run's steps.
 */
export function audioUrl(run: string, tag: string, step: number, sample: number, wallTime: number): string {
  return `./audio?${query({ run, tag, step, sample, wall_time: wallTime })}`;
}

/** TensorBoard's own run list (core plugin), in the order its run colours are given out. */
export const RUNS_URL = "../../runs";

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { error?: unknown };
      if (typeof body.error === "string") message = body.error;
    } catch {
      // The body was not the documented {"error": ...}; the status line says enough.
    }
    throw new ApiError(message, response.status);
  }
  return response;
}

/** The body of a /step_data answer, its JSON revived like every other route's. */
export function readStepData(buffer: ArrayBuffer): StepDataResponse {
  const body = parseStepBody(buffer);
  const doc = JSON.parse(body.json, reviveNonFinite) as Schema.StepData;
  if (!doc || typeof doc !== "object" || !doc.frame || typeof doc.frame !== "object") throw new Error("the step's data holds no frame");
  return { frame: doc.frame, unreadable: doc.unreadable ?? {}, blobs: body.blobs };
}

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetchOk(url);
  return JSON.parse(await response.text(), reviveNonFinite) as T;
}

export const api = {
  tags: (): Promise<TagsResponse> => fetchJson<TagsResponse>("./tags"),
  steps: (run: string, tag: string, token?: string): Promise<StepsResponse> => fetchJson<StepsResponse>(stepsUrl(run, tag, token)),
  stepData: async (run: string, tag: string, step: number): Promise<StepDataResponse> =>
    readStepData(await (await fetchOk(stepDataUrl(run, tag, step))).arrayBuffer()),
  blob: async (key: string, wallTime: number): Promise<ArrayBuffer> => (await fetchOk(blobUrl(key, wallTime))).arrayBuffer(),
  runs: (): Promise<string[]> => fetchJson<string[]>(RUNS_URL),
};
