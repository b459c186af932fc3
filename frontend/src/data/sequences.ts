// Inputs that are sequences (format version 3): a text frame's tokens and a signal frame's values.
// Their maps are 1 × T, one value per token or time step. What the header says is checked here, and
// a signal blob decoded (with the layout of layout.json, exact length), before anything is drawn.

import type { FrameResponse, Signals, Tokens } from "../api";
import { Block, BlockGroup } from "./block";
import { decodeStored } from "./layout";

/** A signal frame's values: per sample, one array of raw values (doubles) per channel. */
export interface SignalData {
  info: Signals;
  /** [sample][channel] → T raw values. */
  channels: Float64Array[][];
}

/** Why a frame's tokens or signals cannot be drawn, or null (also null for frames over images). */
export function sequenceProblem(frame: FrameResponse): string | null {
  const n = frame.num_samples;
  const t = frame.tokens;
  const s = frame.signals;
  if (frame.input === "tokens" && !t) return "this text step holds no tokens";
  if (frame.input === "signals" && !s) return "this signal step holds no signals";
  let length: number | null = null;
  if (t) {
    if (!Array.isArray(t.tokens) || t.tokens.length !== n) return `this step lists tokens for ${t.tokens?.length ?? 0} samples, not ${n}`;
    length = t.length;
    for (let i = 0; i < n; i++) {
      const row = t.tokens[i];
      if (!Array.isArray(row) || row.length !== length || !row.every((x) => typeof x === "string")) return `sample ${i}'s tokens are not ${length} strings`;
      for (const flags of [t.special?.[i], t.padding?.[i]]) {
        if (!Array.isArray(flags) || flags.length !== length) return `sample ${i}'s token flags do not match its ${length} tokens`;
      }
    }
  }
  if (s) {
    if (!(Number.isInteger(s.channels) && s.channels >= 1 && Number.isInteger(s.length) && s.length >= 1)) return `the signals have an empty shape (${s.channels} × ${s.length})`;
    if (!Array.isArray(s.scale) || s.scale.length !== n || !s.scale.every((v) => Number.isFinite(v) && v > 0)) return "the signals' scale is not one positive number per sample";
    if (s.sample_rate !== null && !(typeof s.sample_rate === "number" && s.sample_rate > 0 && Number.isFinite(s.sample_rate))) return `the signals' sample rate ${String(s.sample_rate)} is not a positive number`;
    length = s.length;
  }
  if (length !== null) {
    for (const m of frame.maps ?? []) {
      if (m.height !== 1 || m.width !== length) return `map ${JSON.stringify(m.key)} is ${m.height}×${m.width}, but this step's inputs need 1×${length} maps`;
    }
  }
  return null;
}

/** Decodes a signal blob: N × C × T stored values, raw = stored × scale[i]. */
export function signalData(info: Signals, bytes: ArrayBuffer, n: number): SignalData {
  const stored = decodeStored(bytes, info.dtype, n * info.channels, info.length, "the signals' blob");
  const channels: Float64Array[][] = [];
  for (let i = 0; i < n; i++) {
    const row: Float64Array[] = [];
    for (let c = 0; c < info.channels; c++) {
      const values = stored[i * info.channels + c];
      const raw = new Float64Array(values.length);
      for (let k = 0; k < values.length; k++) raw[k] = values[k] * info.scale[i];
      row.push(raw);
    }
    channels.push(row);
  }
  return { info, channels };
}

/** Whether token `k` of sample `i` is left out of colour ranges (special or padding). */
export function isDimmed(tokens: Tokens, i: number, k: number): boolean {
  return Boolean(tokens.special[i]?.[k] || tokens.padding[i]?.[k]);
}

/**
 * The blocks a text column's range is taken from: each sample's values without its special and
 * padding tokens, so a [CLS] that soaks up attribution does not wash the sentence out. A sample
 * whose every token is dimmed keeps its values (an empty block has no range).
 */
export function rangeGroup(blocks: readonly Block[], tokens: Tokens): BlockGroup {
  return new BlockGroup(
    blocks.map((b, i) => {
      const kept: number[] = [];
      for (let k = 0; k < b.stored.length; k++) if (!isDimmed(tokens, i, k)) kept.push(b.stored[k]);
      if (kept.length === 0 || kept.length === b.stored.length) return b;
      return new Block(Float32Array.from(kept), b.unit, 1, kept.length);
    }),
  );
}
