"""The byte layout of map and activation blobs, as `tb_saliency/proto/layout.json` defines it for
this package and the dashboard alike: per-sample arrays, each sample divided by the power of two
just above its peak magnitude (raw = stored × the sample's `scale`), of float16, float32 or uint8
(256 levels of the sample's [min, max]); since format version 3 byte-shuffled and deflated."""

import json
import pathlib
import zlib

import numpy as np

from tb_saliency.format.errors import FormatError

LAYOUT_FILE = pathlib.Path(__file__).resolve().parent.parent / "proto" / "layout.json"
# Parsed once, here: `step_data` takes its constants from the same document.
LAYOUT = json.loads(LAYOUT_FILE.read_text(encoding="utf-8"))
BYTE_ORDER = {"little": "<", "big": ">"}[LAYOUT["byte_order"]]

# The numpy type each dtype's bytes hold: a float, or the byte of a quantised level.
DTYPES = {
    name: np.dtype(f"{BYTE_ORDER}f{d['bytes']}") if "ieee754" in d else np.dtype("u1")
    for name, d in LAYOUT["dtypes"].items()
}
COMPRESSIONS = tuple(LAYOUT["compressions"])
# What the writer stores: shuffled bytes deflate well where plain floats do not (the high byte of
# every value, sign and exponent, repeats; the low byte is noise and stays apart).
DEFAULT_COMPRESSION = "shuffle_deflate"
_LEVELS = LAYOUT["dtypes"]["uint8"]["levels"] - 1  # 255 steps between a sample's min and max
# zlib's level 6 (its default) is within 1% of level 9 on maps and twice as fast.
_DEFLATE_LEVEL = 6


def _shuffle(data, width):
    if width == 1:
        return data
    return np.frombuffer(data, np.uint8).reshape(-1, width).T.tobytes()


def _unshuffle(data, width):
    if width == 1:
        return data
    return np.frombuffer(data, np.uint8).reshape(width, -1).T.tobytes()


def _normalised_range(low, high, scale):
    """Each sample's [min, max] in stored units (÷ scale), within [-1, 1]."""
    scale = np.asarray(scale, np.float64)
    return np.asarray(low, np.float64) / scale, np.asarray(high, np.float64) / scale


def encode_values(values, dtype, what, compression=DEFAULT_COMPRESSION):
    """Raw values N×… → (bytes, per-sample scale as float64) such that raw = stored × scale.

    Every sample is divided by the power of two just above its peak magnitude, so float16 keeps its
    11 significant bits for maps of any magnitude a float64 holds (a gradient of 1e-50 or an
    activation of 1e300), float32 maps come back bit for bit, and the scale, a double, carries the
    magnitude. uint8 stores each sample as 256 levels of its own
    [min, max], within (max − min) / 510 of each value. Non-finite values are refused: they would
    draw as a flat tile indistinguishable from zeros.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of {tuple(DTYPES)}, got {dtype!r}")
    values = np.asarray(values, dtype=np.float64)
    flat = values.reshape(values.shape[0], -1)
    if not np.all(np.isfinite(flat)):
        bad = sorted(set(np.nonzero(~np.isfinite(flat))[0].tolist()))
        raise ValueError(f"{what}: expected finite values, got NaN or infinity in sample(s) {bad[:10]}")
    peak = np.abs(flat).max(axis=1) if flat.shape[1] else np.zeros(values.shape[0])
    scale = _power_of_two_above(peak)
    normalised = flat / scale[:, None]
    if DTYPES[dtype].kind == "u":
        stored = _quantise(normalised)
    else:
        stored = normalised.astype(DTYPES[dtype])
    return compress(stored.tobytes(), DTYPES[dtype].itemsize, compression), scale


def _power_of_two_above(peak):
    """Per sample, the power of two just above its peak (1 for an all-zero sample): dividing by it
    and multiplying back is exact, so float32 maps read back bit for bit, and stored values lie in
    [0.5, 1) of it. The peak itself where that power would overflow a double (maps beyond 2^1023
    are not float32 maps)."""
    _, exponent = np.frexp(peak)
    with np.errstate(over="ignore"):
        power = np.ldexp(1.0, exponent)
    return np.where(peak > 0, np.where(np.isfinite(power), power, peak), 1.0)


def _quantise(normalised):
    """Per sample (row), the nearest of 256 levels spanning its [min, max]."""
    if normalised.shape[1] == 0:
        return normalised.astype(np.uint8)
    lo = normalised.min(axis=1, keepdims=True)
    width = normalised.max(axis=1, keepdims=True) - lo
    safe = np.where(width > 0, width, 1.0)
    levels = np.rint((normalised - lo) / safe * _LEVELS)
    return np.clip(np.where(width > 0, levels, 0), 0, _LEVELS).astype(np.uint8)


def compress(data, width, compression=DEFAULT_COMPRESSION):
    """A blob's bytes as `compression` stores them; `width` is the bytes per value."""
    if compression == "none":
        return data
    if compression == "shuffle_deflate":
        return zlib.compress(_shuffle(data, width), _DEFLATE_LEVEL)
    raise ValueError(f"compression: expected one of {COMPRESSIONS}, got {compression!r}")


def _inflate(blob, compression, expected):
    if compression == "none":
        return bytes(blob)
    if compression != "shuffle_deflate":
        raise FormatError(f"array blob has an unknown compression {compression!r}")
    # At most one byte more than expected is inflated: a damaged or hostile blob cannot make the
    # reader allocate more than its header announced.
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(bytes(blob), expected + 1)
    except zlib.error as error:
        raise FormatError(f"array blob cannot be inflated: {error}") from None
    if len(data) > expected or inflater.unconsumed_tail:
        raise FormatError(f"array blob inflates to more than the {expected} bytes expected")
    if len(data) < expected or not inflater.eof:
        raise FormatError(f"array blob inflates to {len(data)} bytes or ends early, expected {expected}")
    if inflater.unused_data:
        raise FormatError(f"array blob holds {len(inflater.unused_data)} bytes after its zlib stream")
    return data


def decode_values(blob, dtype, shape, scale, *, compression="none", low=None, high=None):
    """A map or activation blob → float64 array of `shape` (samples first), raw values restored.

    `low` and `high`, each sample's raw min and max, are needed for uint8. float64, because the
    scale restores magnitudes a float32 cannot hold."""
    if dtype not in DTYPES:
        raise FormatError(f"array blob has an unknown dtype {dtype!r}")
    width = DTYPES[dtype].itemsize
    expected = int(np.prod(shape, dtype=np.int64)) * width
    data = _inflate(blob, compression, expected)
    if len(data) != expected:
        raise FormatError(f"array blob has {len(data)} bytes, expected {expected} for {dtype} {tuple(shape)}")
    stored = np.frombuffer(_unshuffle(data, width) if compression != "none" else data, dtype=DTYPES[dtype])
    stored = stored.astype(np.float64).reshape(shape[0], -1)
    if DTYPES[dtype].kind == "u":
        if low is None or high is None:
            raise ValueError("decode_values: uint8 blobs need each sample's min and max (low, high)")
        lo, hi = _normalised_range(low, high, scale)
        stored = lo[:, None] + stored * ((hi - lo) / _LEVELS)[:, None]
    return stored.reshape(shape) * np.asarray(scale, np.float64).reshape((-1,) + (1,) * (len(shape) - 1))


def decode_array(blob, block, shape):
    """A blob decoded as the described map or activations `block` of `describe_header` says."""
    return decode_values(blob, block["dtype"], shape, block["scale"], compression=block.get("compression", "none"),
                         low=block.get("min"), high=block.get("max"))


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def narrowest_float(values):
    """Raw values as float32, unless that would turn one into infinity or a non-zero into zero (maps
    of float64 models can lie beyond float32's range): then float64 as they are."""
    magnitude = np.abs(values)
    if magnitude.size and (magnitude.max() > _FLOAT32_MAX or np.any((magnitude > 0) & (magnitude < _FLOAT32_TINY))):
        return values
    return values.astype(np.float32)
