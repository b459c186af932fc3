// Array blobs of format version 3 are byte-shuffled and deflated (layout.json, "compressions"). The
// browser's own DecompressionStream inflates them: no library, and the inflating runs outside the
// page's JavaScript. A blob may inflate to no more than its header announces, so a damaged or
// hostile one cannot make the tab allocate beyond it.

import type { Compression } from "../api";

export async function inflateStored(bytes: ArrayBuffer, compression: Compression | undefined, width: number, expected: number, what: string): Promise<ArrayBuffer> {
  if (compression === undefined || compression === "none") return bytes;
  if (compression !== "shuffle_deflate") throw new Error(`${what} has an unknown compression ${JSON.stringify(compression)}`);
  const inflated = await inflate(bytes, expected, what);
  return width === 1 ? inflated : unshuffle(new Uint8Array(inflated), width).buffer as ArrayBuffer;
}

async function inflate(bytes: ArrayBuffer, expected: number, what: string): Promise<ArrayBuffer> {
  const out = new Uint8Array(expected);
  let length = 0;
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.byteLength > expected) {
        throw new Error(`${what} inflates to more than the ${expected} bytes its shape needs`);
      }
      out.set(value, length);
      length += value.byteLength;
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    if (e instanceof Error && e.message.startsWith(what)) throw e;
    throw new Error(`${what} cannot be inflated (${e instanceof Error ? e.message : String(e)})`);
  }
  if (length !== expected) throw new Error(`${what} inflates to ${length} bytes, ${expected - length} bytes fewer than the ${expected} its shape needs`);
  return out.buffer;
}

/** Byte k of value i is at k × count + i in a shuffled blob: put each value's bytes back together. */
export function unshuffle(shuffled: Uint8Array, width: number): Uint8Array {
  const count = shuffled.length / width;
  const out = new Uint8Array(shuffled.length);
  for (let k = 0; k < width; k++) {
    const plane = k * count;
    for (let i = 0; i < count; i++) out[i * width + k] = shuffled[plane + i];
  }
  return out;
}
