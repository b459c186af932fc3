// One stored step made ready to draw: its /frame header checked, its map and activation blobs decoded
// with the layout of layout.json (exact lengths), its input images decoded (PNG only). What cannot be
// drawn becomes a message the card shows, never a silently wrong picture.

import type { Activations, FrameResponse, Kind, MapBlock, Tokens } from "../api";
import { Block, BlockGroup } from "./block";
import type { BlobSource, Picture } from "./blobs";
import { inflateStored } from "./inflate";
import { bytesPerValue, decodeStored, expectedBytes } from "./layout";
import { rangeGroup, sequenceProblem, signalData, type SignalData } from "./sequences";

export interface MapColumn {
  info: MapBlock;
  /** The column's name: the key, with the randomisation stage when there is one. */
  name: string;
  /** One block per sample. */
  blocks: Block[];
  group: BlockGroup;
}

export interface ActivationData {
  info: Activations;
  /** Per sample, per stored channel (most active first). */
  blocks: Block[][];
  /** Every channel of every sample (a "per card" range spans them all). */
  group: BlockGroup;
}

export interface StepData {
  frame: FrameResponse;
  numSamples: number;
  images: (Picture | null)[];
  /** Things the card must say about this step although it can draw it (an input that is not a PNG). */
  problems: string[];
  maps: MapColumn[];
  activations: ActivationData | null;
  /** A text step's tokens (its maps are 1 × T); null otherwise. */
  tokens: Tokens | null;
  /** A signal step's decoded values (its maps are 1 × T); null otherwise. */
  signals: SignalData | null;
}

export function columnName(m: { key: string; stage?: string }): string {
  return m.stage ? `${m.key} @ ${m.stage}` : m.key;
}

function isCount(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 0;
}

function perSample(values: unknown, n: number, what: string, positive = false): string | null {
  if (!Array.isArray(values) || values.length !== n) return `${what} lists ${Array.isArray(values) ? values.length : "no"} values for ${n} samples`;
  for (const v of values) {
    if (typeof v !== "number" || !Number.isFinite(v)) return `${what} holds a value that is not a finite number`;
    if (positive && !(v > 0)) return `${what} holds ${v}, not a positive number`;
  }
  return null;
}

function shapeProblem(what: string, dims: Record<string, unknown>): string | null {
  for (const [name, d] of Object.entries(dims)) {
    if (!isCount(d) || d < 1) {
      const shape = Object.values(dims).map(String).join(" × ");
      return `${what} has an empty shape (${shape}; ${name} is ${String(d)})`;
    }
  }
  return null;
}

/**
 * Why a /frame answer cannot be drawn, or null. The backend reports most damage itself (a step's
 * `error`); these are the checks that keep the dashboard from drawing a wrong picture whatever it sends.
 */
export function frameProblem(frame: FrameResponse, tagKind: Kind | null): string | null {
  if (tagKind && tagKind !== "unknown" && frame.kind !== tagKind) {
    return `this step's header says it holds ${frame.kind} data, but the tag holds ${tagKind} data`;
  }
  const n = frame.num_samples;
  if (!isCount(n)) return `this step's header has no valid sample count (${String(n)})`;
  if (!Array.isArray(frame.samples) || frame.samples.length !== n) return `this step lists ${frame.samples?.length ?? 0} samples but says it has ${n}`;
  if (frame.images) {
    const im = frame.images;
    const bad = shapeProblem("the input images", { height: im.height, width: im.width });
    if (bad) return bad;
    if (!Array.isArray(im.blobs) || im.blobs.length !== n) return `this step has ${im.blobs?.length ?? 0} input images for ${n} samples`;
  }
  const seen = new Set<string>();
  for (const m of frame.maps ?? []) {
    const name = columnName(m);
    const what = `map ${JSON.stringify(name)}`;
    if (seen.has(name)) return `this step holds two maps named ${JSON.stringify(name)}`;
    seen.add(name);
    const bad =
      shapeProblem(what, { height: m.height, width: m.width }) ??
      perSample(m.scale, n, `${what}'s scale`, true) ??
      perSample(m.min, n, `${what}'s min`) ??
      perSample(m.max, n, `${what}'s max`);
    if (bad) return bad;
  }
  const a = frame.activations;
  if (a) {
    const bad =
      shapeProblem("the activations", { channels: a.channels, height: a.height, width: a.width }) ??
      perSample(a.scale, n, "the activations' scale", true) ??
      perSample(a.min, n, "the activations' min") ??
      perSample(a.max, n, "the activations' max");
    if (bad) return bad;
    if (!Array.isArray(a.channel_index) || a.channel_index.length !== n) return `the activations list channel indices for ${a.channel_index?.length ?? 0} samples, not ${n}`;
    for (let i = 0; i < n; i++) {
      if (!Array.isArray(a.channel_index[i]) || a.channel_index[i].length !== a.channels) {
        return `the activations list ${a.channel_index[i]?.length ?? 0} channel indices for sample ${i}, not ${a.channels}`;
      }
    }
  }
  if (frame.kind === "activations" && !a) return "this activations step holds no activations";
  return sequenceProblem(frame);
}

/** A blob as its values' bytes: inflated when the header says it is compressed. */
function storedBytes(info: MapBlock | Activations, bytes: ArrayBuffer, shape: number[], what: string): Promise<ArrayBuffer> {
  return inflateStored(bytes, info.compression, bytesPerValue(info.dtype), expectedBytes(info.dtype, shape), what);
}

/** Each sample's [min, max] in stored units, `repeat` times over (one per channel block). */
function storedRanges(info: MapBlock | Activations, n: number, repeat = 1) {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < repeat; r++) {
      lo.push(info.min[i] / info.scale[i]);
      hi.push(info.max[i] / info.scale[i]);
    }
  }
  return { lo, hi };
}

/** Decodes one map column's blob into a block per sample (raw = stored × scale[i]). */
export async function mapColumn(info: MapBlock, bytes: ArrayBuffer, n: number): Promise<MapColumn> {
  const name = columnName(info);
  const what = `the blob of map ${JSON.stringify(name)}`;
  const per = info.height * info.width;
  const plain = await storedBytes(info, bytes, [n, per], what);
  const stored = decodeStored(plain, info.dtype, n, per, what, storedRanges(info, n));
  const blocks = stored.map((values, i) => new Block(values, info.scale[i], info.height, info.width));
  return { info, name, blocks, group: new BlockGroup(blocks) };
}

/** Decodes an activation blob: per sample, `channels` blocks that share the sample's scale. */
export async function activationData(info: Activations, bytes: ArrayBuffer, n: number): Promise<ActivationData> {
  const k = info.channels;
  const what = "the activations' blob";
  const per = info.height * info.width;
  const plain = await storedBytes(info, bytes, [n * k, per], what);
  const stored = decodeStored(plain, info.dtype, n * k, per, what, storedRanges(info, n, k));
  const blocks: Block[][] = [];
  for (let i = 0; i < n; i++) blocks.push(stored.slice(i * k, (i + 1) * k).map((v) => new Block(v, info.scale[i], info.height, info.width)));
  return { info, blocks, group: new BlockGroup(blocks.flat()) };
}

export async function loadStep(frame: FrameResponse, tagKind: Kind | null, blobs: BlobSource, priority?: number): Promise<StepData> {
  const problem = frameProblem(frame, tagKind);
  if (problem) throw new Error(problem);
  const n = frame.num_samples;
  const t = frame.wall_time;
  const problems: string[] = [];
  const im = frame.images;
  const imagesP = Promise.all(
    Array.from({ length: n }, async (_, i) => {
      if (!im) return null;
      try {
        const px = await blobs.image(im.blobs[i], im.wall_time ?? t, priority);
        if (px.width !== im.width || px.height !== im.height) {
          throw new Error(`it is ${px.width}×${px.height} pixels, but the header says ${im.width}×${im.height}`);
        }
        return px;
      } catch (e) {
        problems.push(`Sample ${i}'s input image cannot be shown: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      }
    }),
  );
  const mapsP = Promise.all((frame.maps ?? []).map(async (info) => mapColumn(info, await blobs.get(info.blob, t, priority), n)));
  const a = frame.activations;
  const activationsP = a ? blobs.get(a.blob, t, priority).then((bytes) => activationData(a, bytes, n)) : Promise.resolve(null);
  const sig = frame.signals;
  const signalsP = sig ? blobs.get(sig.blob, t, priority).then((bytes) => signalData(sig, bytes, n)) : Promise.resolve(null);
  const [images, maps, activations, signals] = await Promise.all([imagesP, mapsP, activationsP, signalsP]);
  problems.sort();
  const tokens = frame.tokens ?? null;
  // Special and padding tokens stay out of every colour range.
  if (tokens) for (const m of maps) m.group = rangeGroup(m.blocks, tokens);
  return { frame, numSamples: n, images, problems, maps, activations, tokens, signals };
}

/** The groups a step's ranges are taken from: every channel together, or one per map column. */
function rangedGroups(data: StepData): BlockGroup[] {
  return data.activations ? [data.activations.group] : data.maps.map((m) => m.group);
}

/**
 * Bytes a decoded step holds once idle time has warmed it (see warmUps), for the step cache's
 * budget: each block's stored values and its two sorted copies, each column's values sorted
 * together both ways, the decoded images.
 */
export function stepBytes(data: StepData): number {
  let n = 0;
  for (const im of data.images) n += im ? 4 * im.width * im.height : 0;
  for (const group of rangedGroups(data)) {
    let values = 0;
    for (const b of group.blocks) values += b.stored.length;
    n += 4 * values * (3 + (group.blocks.length > 1 ? 2 : 0));
  }
  return n + 2048;
}

/**
 * Small pieces of work that make later display changes cheap, for idle time once the step is drawn:
 * every block's values sorted both ways (the positive and negative parts read the raw order, the
 * magnitude and signed modes the absolute one) and each column's values sorted together (per-card
 * ranges). Each piece takes well under a millisecond.
 */
export function warmUps(data: StepData): (() => void)[] {
  const out: (() => void)[] = [];
  for (const group of rangedGroups(data)) {
    for (const block of group.blocks) {
      out.push(() => block.sorted("raw"));
      out.push(() => block.sorted("abs"));
    }
    out.push(() => group.together("raw"));
    out.push(() => group.together("abs"));
  }
  return out;
}
