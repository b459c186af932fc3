// Shared test helpers: blobs in layout.json's byte layout, seeded data, sorted-values wrappers.

import { Block } from "../src/data/block";

export function f16Bytes(bits: number[]): ArrayBuffer {
  const buf = new ArrayBuffer(bits.length * 2);
  const view = new DataView(buf);
  bits.forEach((b, i) => view.setUint16(2 * i, b, true));
  return buf;
}

export function f32Bytes(values: number[]): ArrayBuffer {
  const buf = new ArrayBuffer(values.length * 4);
  const view = new DataView(buf);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return buf;
}

/** A block of raw values stored as the writer stores them: divided by the peak, which becomes the unit. */
export function blockOf(raw: ArrayLike<number>, height = 1, width = raw.length): Block {
  let peak = 0;
  for (let i = 0; i < raw.length; i++) peak = Math.max(peak, Math.abs(raw[i]));
  const unit = peak > 0 ? peak : 1;
  return new Block(Float32Array.from(raw, (v) => v / unit), unit, height, width);
}

/**
 * Whether `a` equals `b` to a relative tolerance, |a − b| ≤ rel × |b| (b = 0 asks for exactly 0). An
 * absolute floor would let any tiny value pass: 1e-50 and 2e-50 are both within 1e-6 of each other.
 */
export function close(a: number, b: number, rel = 1e-6, what = "") {
  if (!(rel >= 0 && rel < 1)) throw new Error(`close: rel must be in [0, 1), got ${rel}`);
  if (!(Math.abs(a - b) <= rel * Math.abs(b))) throw new Error(`${what} ${a} != ${b} (relative tolerance ${rel})`);
}

/** A seeded standard normal sample (mulberry32 + Box–Muller), the same on every machine. */
export function gaussian(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}
