// The plugin's HTTP API (tb_saliency/http_api.md) as types, and the one place that fetches it.
// URLs stay relative: they resolve against the iframe's <base href="plugin/saliency/">, which keeps them
// working under --path_prefix and /experiment/<id>/.

/** "unknown" when the tag's metadata cannot be read (then `error` says why). */
export type Kind = "saliency" | "activations" | "unknown";

export interface TagInfo {
  kind: Kind;
  map_keys: string[];
  class_names: string[];
  num_samples: number;
  display_name: string;
  description: string;
  steps_stored: number;
  max_step: number;
  max_wall_time: number;
  /** Set when the tag's metadata cannot be read, e.g. written by a newer tb_saliency. */
  error?: string;
}

export interface TagsResponse {
  runs: Record<string, Record<string, TagInfo>>;
  sampling: { limit: number | null; flag: string };
}

export interface Sample {
  label?: number;
  target?: number;
  prediction?: number;
  score?: number;
  target_score?: number;
}

export type DType = "float16" | "float32";

export interface ImageSetInfo {
  width: number;
  height: number;
  channels: number;
  display_transform: string;
  blobs: string[];
  /** Wall time of the step holding the PNGs: shared probe images keep one across frames. */
  wall_time: number;
}

/** What a map and an activation block share: one blob of per-sample arrays and its per-sample facts. */
export interface ArrayBlockInfo {
  layer: string;
  dtype: DType;
  height: number;
  width: number;
  min: number[];
  max: number[];
  /** Per sample: raw value = stored value × scale[i] (the writer divides float16 maps by their peak). */
  scale: number[];
  options: Record<string, unknown>;
  blob: string;
}

export interface MapInfo extends ArrayBlockInfo {
  key: string;
  method: string;
  statistics: Record<string, number[]>;
}

/** Its `scale` is per sample, shared by all of that sample's channels. */
export interface ActivationInfo extends ArrayBlockInfo {
  channels: number;
  total_channels: number;
  channel_index: number[][];
  channel_mean: number[][];
}

export interface Frame {
  step: number;
  wall_time: number;
  error?: string;
  num_samples?: number;
  samples?: Sample[];
  images?: ImageSetInfo | null;
  maps?: MapInfo[];
  activations?: ActivationInfo | null;
}

export interface FramesResponse {
  run: string;
  tag: string;
  kind: Kind;
  class_names: string[];
  frames_written: number;
  frames: Frame[];
  error?: string;
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

export function framesUrl(run: string, tag: string): string {
  return `./frames?run=${encodeURIComponent(run)}&tag=${encodeURIComponent(tag)}`;
}

/**
 * A blob key names (run, tag, step, index), so a run deleted and written again reuses keys for new
 * bytes; the frame's wall time tells the two apart. The backend ignores `wall_time`: it is here so
 * that the browser's HTTP cache can never hand back the old bytes either.
 */
export function blobUrl(key: string, wallTime: number): string {
  return `./blob?key=${encodeURIComponent(key)}&wall_time=${encodeURIComponent(String(wallTime))}`;
}

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

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetchOk(url);
  return JSON.parse(await response.text(), reviveNonFinite) as T;
}

export function fetchTags(): Promise<TagsResponse> {
  return fetchJson<TagsResponse>("./tags");
}

export function fetchFrames(run: string, tag: string): Promise<FramesResponse> {
  return fetchJson<FramesResponse>(framesUrl(run, tag));
}

/**
 * Each (blob key, wall time) is fetched at most once per page: the bytes it names never change,
 * while a key alone may name a rewritten run's new bytes (see blobUrl).
 * A failed fetch is forgotten so that a later attempt may succeed.
 */
export class BlobCache {
  private readonly bytes = new Map<string, Promise<ArrayBuffer>>();
  private readonly images = new Map<string, Promise<ImageData>>();

  constructor(private readonly fetchBytes: (url: string) => Promise<ArrayBuffer> = defaultFetchBytes) {}

  get(key: string, wallTime: number): Promise<ArrayBuffer> {
    const id = cacheId(key, wallTime);
    let entry = this.bytes.get(id);
    if (!entry) {
      entry = this.fetchBytes(blobUrl(key, wallTime));
      this.bytes.set(id, entry);
      entry.catch(() => this.bytes.delete(id));
    }
    return entry;
  }

  /** A PNG blob decoded to RGBA pixels, which overlays and masks need. */
  image(key: string, wallTime: number): Promise<ImageData> {
    const id = cacheId(key, wallTime);
    let entry = this.images.get(id);
    if (!entry) {
      entry = this.get(key, wallTime).then(decodePng);
      this.images.set(id, entry);
      entry.catch(() => this.images.delete(id));
    }
    return entry;
  }
}

/** A number's text holds no space, so this never makes two pairs one. */
function cacheId(key: string, wallTime: number): string {
  return `${wallTime} ${key}`;
}

async function defaultFetchBytes(url: string): Promise<ArrayBuffer> {
  return (await fetchOk(url)).arrayBuffer();
}

async function decodePng(bytes: ArrayBuffer): Promise<ImageData> {
  const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2d canvas context");
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}
