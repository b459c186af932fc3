// The body of /step_data: one step's JSON and every blob it names, laid out as layout.json's
// "step_data" says (the constants are read from it, as tb_saliency/format/step_data.py reads them).
// A body that is not exactly one such layout is an error naming what is wrong, never a guess.

import LAYOUT from "../../../tb_saliency/proto/layout.json";

interface StepDataSpec {
  magic: string;
  version: number;
  alignment: number;
  head_bytes: number;
  blob_head_bytes: number;
}

const SPEC = (LAYOUT as unknown as { step_data: StepDataSpec }).step_data;
const LITTLE_ENDIAN = (LAYOUT as { byte_order: string }).byte_order === "little";

export interface StepBody {
  /** The JSON text, as the backend wrote it. */
  json: string;
  /** Each blob's bytes by key, each in its own ArrayBuffer (exact length). */
  blobs: Map<string, ArrayBuffer>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function padded(length: number): number {
  return length + ((SPEC.alignment - (length % SPEC.alignment)) % SPEC.alignment);
}

export function parseStepBody(buffer: ArrayBuffer): StepBody {
  const size = buffer.byteLength;
  if (size < SPEC.head_bytes) throw new Error(`the step's data holds ${size} bytes, fewer than its ${SPEC.head_bytes}-byte head`);
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
  if (magic !== SPEC.magic) throw new Error(`the step's data starts with ${JSON.stringify(magic)}, not ${JSON.stringify(SPEC.magic)}`);
  const version = view.getUint32(4, LITTLE_ENDIAN);
  if (version !== SPEC.version) throw new Error(`the step's data has version ${version}; this dashboard reads version ${SPEC.version} (reload the page)`);
  const jsonBytes = view.getUint32(8, LITTLE_ENDIAN);
  const count = view.getUint32(12, LITTLE_ENDIAN);
  let offset = SPEC.head_bytes;
  const take = (length: number, what: string): [number, number] => {
    const end = offset + padded(length);
    if (end > size) throw new Error(`the step's data ends inside ${what} (it needs ${end} bytes and holds ${size})`);
    const start = offset;
    offset = end;
    return [start, start + length];
  };
  const text = (range: [number, number], what: string): string => {
    try {
      return utf8.decode(new Uint8Array(buffer, range[0], range[1] - range[0]));
    } catch {
      throw new Error(`${what} in the step's data is not UTF-8`);
    }
  };
  const json = text(take(jsonBytes, "its JSON"), "the JSON");
  const blobs = new Map<string, ArrayBuffer>();
  for (let i = 0; i < count; i++) {
    if (offset + SPEC.blob_head_bytes > size) throw new Error(`the step's data ends before blob ${i} of ${count}`);
    const keyBytes = view.getUint32(offset, LITTLE_ENDIAN);
    const blobBytes = view.getUint32(offset + 4, LITTLE_ENDIAN);
    offset += SPEC.blob_head_bytes;
    const key = text(take(keyBytes, `the key of blob ${i}`), `the key of blob ${i}`);
    const [start, end] = take(blobBytes, `blob ${i}`);
    if (blobs.has(key)) throw new Error(`the step's data holds blob ${JSON.stringify(key.slice(0, 40))} twice`);
    blobs.set(key, buffer.slice(start, end));
  }
  if (offset !== size) throw new Error(`the step's data holds ${size - offset} bytes after its last blob`);
  return { json, blobs };
}
