"""A stored signal as a WAV file (RIFF, 16-bit PCM), for the Saliency tab's audio players.

The tab cannot build the file itself: TensorBoard's Content-Security-Policy leaves `media-src` to
`default-src 'self'`, so an <audio> element may play only URLs of TensorBoard's own origin, never a
`blob:` or `data:` URL. The plugin's `/audio` route serves this instead, as TensorBoard's Audio tab
serves its clips. No torch.
"""

import struct

import numpy as np


def wav_bytes(channels, sample_rate):
    """The bytes of a WAV file of `channels` (C×T raw values) at `sample_rate` Hz, rounded to whole
    Hz. The values are divided by their peak magnitude over every channel, so a signal of any scale
    plays at full level without clipping (a silent one stays silent)."""
    values = np.asarray(channels, np.float64)
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(f"channels: expected C×T values, got shape {values.shape}")
    if not (np.isfinite(sample_rate) and sample_rate > 0):
        raise ValueError(f"sample_rate: expected a positive number, got {sample_rate!r}")
    rate = max(1, int(round(sample_rate)))
    values = np.where(np.isfinite(values), values, 0.0)
    peak = np.abs(values).max()
    scaled = np.clip(values / peak if peak > 0 else values * 0.0, -1.0, 1.0)
    pcm = np.where(scaled < 0, scaled * 0x8000, scaled * 0x7FFF)
    # JavaScript's Math.round (half up), as the tab's own arithmetic would round.
    pcm = np.floor(pcm + 0.5).astype("<i2")
    count = values.shape[0]
    data = pcm.T.tobytes()  # interleaved: every channel's sample k, then k + 1
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, count, rate, rate * count * 2, count * 2, 16)
    return header + b"data" + struct.pack("<I", len(data)) + data
