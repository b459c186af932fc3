// Blob bytes and decoded input images, fetched once per (blob key, wall time) and held in bounded
// caches. A key names (run, tag, step, index), so a run written again reuses keys for new bytes; the
// frame's wall time tells the two apart.

import { api } from "../api";
import { Lru } from "./lru";
import { NEAR, RequestQueue } from "./queue";

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: ArrayBuffer): boolean {
  if (bytes.byteLength < PNG_SIGNATURE.length) return false;
  const head = new Uint8Array(bytes, 0, PNG_SIGNATURE.length);
  return PNG_SIGNATURE.every((b, i) => head[i] === b);
}

/**
 * A decoded input image. The dashboard never reads its pixels: the browser draws it (drawImage) and
 * composites the colour layer over it. Tests decode to a bare size (image null).
 */
export interface Picture {
  width: number;
  height: number;
  image: ImageBitmap | null;
}

export type PngDecoder = (bytes: ArrayBuffer) => Promise<Picture>;

export interface BlobBudgets {
  /** Bytes of raw blobs (map arrays, PNG files) kept. */
  bytes: number;
  /** Bytes of decoded input images kept. */
  images: number;
}

/** Where a step's blobs come from: a BlobStore (/blob, one request each), or a step's /step_data body. */
export interface BlobSource {
  get(key: string, wallTime: number, priority?: number): Promise<ArrayBuffer>;
  image(key: string, wallTime: number, priority?: number): Promise<Picture>;
}

export const DEFAULT_BUDGETS: BlobBudgets = { bytes: 24 << 20, images: 24 << 20 };

export class BlobStore {
  private readonly raw: Lru<Promise<ArrayBuffer>>;
  private readonly decoded: Lru<Promise<Picture>>;
  /** Fetches made, for tests and the benchmark. */
  fetches = 0;

  constructor(
    private readonly fetchBytes: (key: string, wallTime: number) => Promise<ArrayBuffer> = api.blob,
    private readonly decodePng: PngDecoder = browserDecodePng,
    budgets: BlobBudgets = DEFAULT_BUDGETS,
    private readonly queue: RequestQueue = new RequestQueue(),
  ) {
    this.raw = new Lru(budgets.bytes);
    this.decoded = new Lru(budgets.images);
  }

  get(key: string, wallTime: number, priority = NEAR): Promise<ArrayBuffer> {
    const id = cacheId(key, wallTime);
    let entry = this.raw.get(id);
    if (!entry) {
      this.fetches++;
      const promise = this.queue.run(priority, () => this.fetchBytes(key, wallTime));
      entry = promise;
      this.raw.set(id, promise, 1024);
      promise.then(
        (bytes) => this.raw.resize(id, bytes.byteLength),
        () => {
          if (this.raw.get(id) === promise) this.raw.delete(id);
        },
      );
    }
    return entry;
  }

  /**
   * An input image: its blob must be a PNG that decodes; anything else is an error, not a picture.
   * `bytes` gives the blob when it came another way (a step's /step_data body); else it is fetched.
   */
  image(key: string, wallTime: number, priority = NEAR, bytes?: () => Promise<ArrayBuffer>): Promise<Picture> {
    const id = cacheId(key, wallTime);
    let entry = this.decoded.get(id);
    if (!entry) {
      const promise = (bytes ? bytes() : this.get(key, wallTime, priority)).then(async (bytes) => {
        if (!isPng(bytes)) throw new Error(`its blob is not a PNG (${bytes.byteLength} bytes${describeStart(bytes)})`);
        try {
          return await this.decodePng(bytes);
        } catch (e) {
          throw new Error(`its PNG cannot be decoded (${e instanceof Error ? e.message : String(e)})`);
        }
      });
      entry = promise;
      this.decoded.set(id, promise, 1024);
      promise.then(
        (p) => this.decoded.resize(id, 4 * p.width * p.height),
        () => {
          if (this.decoded.get(id) === promise) this.decoded.delete(id);
        },
      );
    }
    return entry;
  }

  /** Bytes held by both caches (settled entries), for the benchmark. */
  get held(): number {
    return this.raw.total + this.decoded.total;
  }
}

function describeStart(bytes: ArrayBuffer): string {
  if (bytes.byteLength === 0) return "";
  const head = [...new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength))].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return `, starting ${head}`;
}

/** A number's text holds no space, so this never makes two pairs one. */
function cacheId(key: string, wallTime: number): string {
  return `${wallTime} ${key}`;
}

async function browserDecodePng(bytes: ArrayBuffer): Promise<Picture> {
  // Decoded off the main thread; exact pixel values (no colour management, no premultiplication).
  const image = await createImageBitmap(new Blob([bytes], { type: "image/png" }), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
  return { width: image.width, height: image.height, image };
}
