"""Inputs that are sequences, not pictures (format version 3): token sequences of a text model and
signals (audio, sensor series) of a 1-D model. Their maps are stored as 1 × T blocks, one value per
token or time step, so every map, range and index field works as it does for images.

Written into a FrameHeader by `attach_tokens` / `attach_signals`, described (checked against the
header's maps and blobs) by `describe_tokens` / `describe_signals`, decoded by `decode_signals`.
"""

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np

from tb_saliency.format import metadata
from tb_saliency.format.errors import FormatError
from tb_saliency.format.layout import DTYPES, decode_values, encode_values

# A hostile header could claim any number of tokens; more than this per sample is damage.
MAX_TOKENS = 1 << 20
# Longer token strings are cut when described: a reader shows them, and one of megabytes is damage.
MAX_TOKEN_CHARS = 1000


@dataclasses.dataclass(frozen=True)
class TokenInputs:
    """N token sequences, each of the maps' length T: the strings, and which tokens are special
    ([CLS], <s>) or padding, as N×T booleans."""

    tokens: Sequence[Sequence[str]]
    special: np.ndarray
    padding: np.ndarray

    @property
    def count(self):
        return len(self.tokens)

    @property
    def length(self):
        return len(self.tokens[0]) if self.tokens else 0


@dataclasses.dataclass(frozen=True)
class SignalInputs:
    """N signals of C channels and T time steps (float64 values), with their sample rate in Hz
    (None when not given)."""

    values: np.ndarray
    sample_rate: Optional[float] = None

    @property
    def count(self):
        return self.values.shape[0]

    @property
    def length(self):
        return self.values.shape[2]


def attach_tokens(header, tokens: TokenInputs):
    """Fills `header.tokens`, one TokenSequence per sample; flags are left empty when all false."""
    block = header.tokens
    block.SetInParent()
    for i, sequence in enumerate(tokens.tokens):
        entry = block.sequences.add(tokens=list(sequence))
        special = np.asarray(tokens.special[i], bool)
        padding = np.asarray(tokens.padding[i], bool)
        if special.any():
            entry.special.extend(special.tolist())
        if padding.any():
            entry.padding.extend(padding.tolist())


def attach_signals(header, blobs, signals: SignalInputs, dtype="float16"):
    """Appends the signals' blob to `blobs` and fills `header.signals`."""
    values = signals.values
    # Signals stay uncompressed: the tab and the /audio route read them as they are.
    data, scale = encode_values(values, dtype, "signals", compression="none")
    flat = values.reshape(values.shape[0], -1)
    blobs.append(data)
    header.signals.CopyFrom(
        metadata.pb2().SignalSet(
            channels=values.shape[1],
            length=values.shape[2],
            sample_rate=float(signals.sample_rate or 0.0),
            blob=len(blobs),  # blob 0 is the header
            dtype=metadata.pb2().DType.Value(dtype.upper()),
            scale=scale.tolist(),
            min=flat.min(axis=1).tolist(),
            max=flat.max(axis=1).tolist(),
        )
    )


def _check_sequence_maps(described_maps, length, what):
    """Maps over sequences are 1 × T, T the sequences' length."""
    for m in described_maps:
        if m["height"] != 1 or m["width"] != length:
            raise FormatError(
                f"map {m['key']!r} is {m['height']}×{m['width']}, but the frame's {what} need 1×{length} maps"
            )


def _flags(values, length, what):
    if len(values) == 0:
        return [False] * length
    if len(values) != length:
        raise FormatError(f"{what} has {len(values)} flags for {length} tokens")
    return [bool(v) for v in values]


def describe_tokens(header, described_maps):
    """The header's token sequences as JSON-ready lists (strings, special and padding flags per
    sample), checked: one sequence per sample, all of the maps' length."""
    n = header.num_samples
    sequences = header.tokens.sequences
    if len(sequences) != n:
        raise FormatError(f"the frame's tokens hold {len(sequences)} sequences for {n} samples")
    lengths = {len(s.tokens) for s in sequences}
    if len(lengths) > 1:
        raise FormatError(f"the frame's token sequences differ in length ({sorted(lengths)[:5]})")
    length = lengths.pop() if lengths else 0
    if n and not 1 <= length <= MAX_TOKENS:
        raise FormatError(f"the frame's token sequences hold {length} tokens each, expected 1 to {MAX_TOKENS}")
    _check_sequence_maps(described_maps, length, "tokens")
    return {
        "length": length,
        "tokens": [[t[:MAX_TOKEN_CHARS] for t in s.tokens] for s in sequences],
        "special": [_flags(s.special, length, f"sample {i}'s special") for i, s in enumerate(sequences)],
        "padding": [_flags(s.padding, length, f"sample {i}'s padding") for i, s in enumerate(sequences)],
    }


def describe_signals(header, described_maps, blob_count):
    """The header's signal block as JSON-ready facts (shape, sample rate, blob index, per-sample
    scale and range), checked against the samples, the maps and the blobs."""
    from tb_saliency.format.frame.reading import _check_blob, _check_shape, _per_sample

    block = header.signals
    n = header.num_samples
    _check_shape((n, block.channels, block.length), "signals")
    _check_blob(block.blob, blob_count, "signals")
    try:
        dtype = metadata.pb2().DType.Name(block.dtype).lower()
    except ValueError:
        dtype = None
    if dtype not in DTYPES:
        raise FormatError(f"signals have an unknown dtype {block.dtype}")
    if DTYPES[dtype].kind == "u":
        # Writers store signals as floats (attach_signals); levels would need a range per sample.
        raise FormatError(f"signals are stored as float16 or float32, got {dtype}")
    rate = float(block.sample_rate)
    if not math.isfinite(rate) or rate < 0:
        raise FormatError(f"signals have a sample rate of {rate}, expected a positive number or 0")
    _check_sequence_maps(described_maps, block.length, "signals")
    return {
        "channels": block.channels,
        "length": block.length,
        "sample_rate": rate or None,
        "dtype": dtype,
        "blob": block.blob,
        "scale": _per_sample(block.scale, n, "signals scale"),
        "min": _per_sample(block.min, n, "signals min"),
        "max": _per_sample(block.max, n, "signals max"),
    }


def decode_signals(blobs, described):
    """The N×C×T float64 raw values of a described signal block."""
    n = len(described["scale"])
    shape = (n, described["channels"], described["length"])
    return decode_values(blobs[described["blob"]], described["dtype"], shape, described["scale"])
