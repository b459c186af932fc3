// Fetches and decodes everything one stored step needs: its input images and its maps or activations.

import type { ActivationInfo, BlobCache, Frame, MapInfo } from "./api";
import { decodeBlocks } from "./float16";

export interface MapColumn {
  info: MapInfo;
  /** Raw values per sample, height × width each. */
  raw: Float32Array[];
}

export interface ActivationData {
  info: ActivationInfo;
  /** Raw values per sample, then per stored channel (most active first). */
  raw: Float32Array[][];
}

export interface StepData {
  frame: Frame;
  numSamples: number;
  images: (ImageData | null)[];
  maps: MapColumn[];
  activations: ActivationData | null;
}

export async function loadStep(frame: Frame, blobs: BlobCache): Promise<StepData> {
  if (frame.error) throw new Error(frame.error);
  const n = frame.num_samples ?? frame.samples?.length ?? 0;
  const t = frame.wall_time;
  const imageKeys = frame.images?.blobs ?? [];
  const imagesTime = frame.images?.wall_time ?? t;
  const imagesP = Promise.all(
    Array.from({ length: n }, (_, i) => (imageKeys[i] ? blobs.image(imageKeys[i], imagesTime).catch(() => null) : Promise.resolve(null))),
  );
  const mapsP = Promise.all(
    (frame.maps ?? []).map(async (info): Promise<MapColumn> => {
      const bytes = await blobs.get(info.blob, t);
      return { info, raw: decodeBlocks(bytes, info.dtype, n, info.height * info.width, info.scale) };
    }),
  );
  const a = frame.activations ?? null;
  const activationsP: Promise<ActivationData | null> = a
    ? blobs.get(a.blob, t).then((bytes) => {
        const per = a.height * a.width;
        // The writer scales each sample as a whole, so all of a sample's channel blocks share its scale.
        const scale = Array.from({ length: n * a.channels }, (_, k) => a.scale[Math.floor(k / a.channels)]);
        const flat = decodeBlocks(bytes, a.dtype, n * a.channels, per, scale);
        const raw = Array.from({ length: n }, (_, i) => flat.slice(i * a.channels, (i + 1) * a.channels));
        return { info: a, raw };
      })
    : Promise.resolve(null);
  const [images, maps, activations] = await Promise.all([imagesP, mapsP, activationsP]);
  return { frame, numSamples: n, images, maps, activations };
}

/** Class id → display text: the class name when the log gave names, else the id. */
export function className(id: number | undefined, names: readonly string[]): string | null {
  if (id === undefined || id === null) return null;
  return id >= 0 && id < names.length && names[id] !== "" ? names[id] : String(id);
}

/** A wrong prediction: both known and different. */
export function isWrong(sample: { label?: number; prediction?: number }): boolean {
  return sample.label !== undefined && sample.label !== null && sample.prediction !== undefined && sample.prediction !== null && sample.label !== sample.prediction;
}

/** The index of the stored frame to show for `step`: the same step, else the latest one before it, else the first. */
export function indexForStep(frames: readonly { step: number }[], step: number): number {
  let best = -1;
  for (let i = 0; i < frames.length; i++) if (frames[i].step <= step) best = i;
  return best >= 0 ? best : 0;
}
