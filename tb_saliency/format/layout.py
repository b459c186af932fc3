"""The byte layout of map and activation blobs, as `tb_saliency/proto/layout.json` defines it for
this package and the dashboard alike: per-sample arrays of float16 or float32, each sample divided by
its peak magnitude, whose raw values are the stored ones times the sample's `scale`."""

import json
import pathlib

import numpy as np

from tb_saliency.format.errors import FormatError

LAYOUT_FILE = pathlib.Path(__file__).resolve().parent.parent / "proto" / "layout.json"


def _dtypes():
    spec = json.loads(LAYOUT_FILE.read_text(encoding="utf-8"))
    order = {"little": "<", "big": ">"}[spec["byte_order"]]
    return {name: np.dtype(f"{order}f{d['bytes']}") for name, d in spec["dtypes"].items()}


DTYPES = _dtypes()


def encode_values(values, dtype, what):
    """Raw values N×… → (bytes, per-sample scale as float64) such that raw = stored × scale.

    Every sample is divided by its peak magnitude, so float16 keeps its 11 significant bits for
    maps of any magnitude a float64 holds (a gradient of 1e-50 or an activation of 1e300), and the
    scale, a double, carries the magnitude. Non-finite values are refused: they would draw as a
    flat tile indistinguishable from zeros.
    """
    values = np.asarray(values, dtype=np.float64)
    flat = values.reshape(values.shape[0], -1)
    if not np.all(np.isfinite(flat)):
        bad = sorted(set(np.nonzero(~np.isfinite(flat))[0].tolist()))
        raise ValueError(f"{what}: expected finite values, got NaN or infinity in sample(s) {bad[:10]}")
    peak = np.abs(flat).max(axis=1) if flat.shape[1] else np.zeros(values.shape[0])
    scale = np.where(peak > 0, peak, 1.0)
    stored = (flat / scale[:, None]).astype(DTYPES[dtype])
    return stored.tobytes(), scale


def decode_values(blob, dtype, shape, scale):
    """A map or activation blob → float64 array of `shape` (samples first), raw values restored.

    float64, because the scale restores magnitudes a float32 cannot hold."""
    if dtype not in DTYPES:
        raise FormatError(f"array blob has an unknown dtype {dtype!r}")
    expected = int(np.prod(shape, dtype=np.int64)) * DTYPES[dtype].itemsize
    if len(blob) != expected:
        raise FormatError(f"array blob has {len(blob)} bytes, expected {expected} for {dtype} {tuple(shape)}")
    stored = np.frombuffer(bytes(blob), dtype=DTYPES[dtype]).astype(np.float64).reshape(shape)
    return stored * np.asarray(scale, np.float64).reshape((-1,) + (1,) * (len(shape) - 1))


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def narrowest_float(values):
    """Raw values as float32, unless that would turn one into infinity or a non-zero into zero (maps
    of float64 models can lie beyond float32's range): then float64 as they are."""
    magnitude = np.abs(values)
    if magnitude.size and (magnitude.max() > _FLOAT32_MAX or np.any((magnitude > 0) & (magnitude < _FLOAT32_TINY))):
        return values
    return values.astype(np.float32)
