// A WAV file (RIFF, 16-bit PCM) from a signal's raw values, built in the browser so that a stored
// signal with a sample rate plays in an <audio> element, as TensorBoard's Audio tab plays its clips.

/**
 * The bytes of a WAV file of `channels` (each T raw values) at `sampleRate` Hz. Every channel is
 * divided by the peak magnitude over all of them (a silent signal stays silent), so float16 values
 * of any scale play at full level without clipping.
 */
export function encodeWav(channels: readonly ArrayLike<number>[], sampleRate: number): ArrayBuffer {
  const c = channels.length;
  const t = c ? channels[0].length : 0;
  if (c === 0 || channels.some((ch) => ch.length !== t)) throw new Error("a WAV file needs channels of one length");
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) throw new Error(`a WAV file needs a positive sample rate, got ${sampleRate}`);
  const rate = Math.max(1, Math.round(sampleRate));
  let peak = 0;
  for (const ch of channels) for (let k = 0; k < t; k++) peak = Math.max(peak, Math.abs(Number.isFinite(ch[k]) ? ch[k] : 0));
  const gain = peak > 0 ? 1 / peak : 0;
  const dataBytes = t * c * 2;
  const buffer = new ArrayBuffer(44 + dataBytes);
  const v = new DataView(buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  text(0, "RIFF");
  v.setUint32(4, 36 + dataBytes, true);
  text(8, "WAVE");
  text(12, "fmt ");
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, c, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * c * 2, true); // bytes per second
  v.setUint16(32, c * 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  text(36, "data");
  v.setUint32(40, dataBytes, true);
  let at = 44;
  for (let k = 0; k < t; k++) {
    for (const ch of channels) {
      const x = Math.max(-1, Math.min(1, (Number.isFinite(ch[k]) ? ch[k] : 0) * gain));
      v.setInt16(at, Math.round(x < 0 ? x * 0x8000 : x * 0x7fff), true);
      at += 2;
    }
  }
  return buffer;
}
