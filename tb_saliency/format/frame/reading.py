"""Frames read: a frame's header described as JSON-ready facts, every index and length checked
against the blobs, and a whole frame decoded back into arrays."""

import dataclasses
import json
import math
from typing import Optional

import numpy as np

from tb_saliency.format import metadata, sequences
from tb_saliency.format.errors import FormatError
from tb_saliency.format.images import decode_png
from tb_saliency.format.layout import COMPRESSIONS, DTYPES, decode_array

# A frame's header is parsed from untrusted bytes: these bounds keep a hostile one from making the
# reader allocate or recurse without end.
MAX_SAMPLES = 1 << 16
MAX_ARRAY_VALUES = 1 << 28
_MAX_OPTIONS_CHARS = 1 << 20
# Options nested deeper than this are damage: a reader that serialises them again (the plugin's JSON)
# must not meet a nesting its own encoder cannot handle.
MAX_OPTIONS_DEPTH = 64



def _short(value):
    """A format-version-1 float32 as the shortest decimal that reads back to the same float32."""
    value = float(value)
    if not math.isfinite(value):
        return value
    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))


def _versioned(header, new, old):
    """A repeated number field as Python floats: the double field of version 2, or the float field
    of version 1 (rounded to the shortest decimal of its float32)."""
    if header.version >= 2:
        return [float(v) for v in new]
    return [_short(v) for v in old]


def parse_header(blob):
    """Decodes blob 0 of a frame into a FrameHeader message; FormatError when it cannot."""
    header = metadata.parse_versioned(metadata.pb2().FrameHeader(), blob, "this frame's header")
    if header.version == 0:
        raise FormatError("frame header has no format version: not a tb_saliency frame")
    return header


def _check_blob(index, blob_count, what):
    if not 1 <= index < blob_count:
        raise FormatError(f"{what} points at blob {index}, but the frame has {blob_count} blobs")


def _check_shape(dims, what):
    """Array dimensions from a header: each at least 1, and a total the reader can hold."""
    if any(d < 1 for d in dims):
        raise FormatError(f"{what} has an empty shape {tuple(dims)}")
    if math.prod(dims) > MAX_ARRAY_VALUES:
        raise FormatError(f"{what} claims {math.prod(dims)} values, more than a frame can hold")


def _check_images(images):
    """The display images' claimed size, checked as a map's shape is: the tab and /export trust it."""
    _check_shape((images.height, images.width, images.channels), "images")


def _array_block(header, block, fields, blob_count, what):
    """The per-sample fields every array block has (range, scale), checked against the sample count."""
    n = header.num_samples
    _check_blob(block.blob, blob_count, what)
    try:
        dtype = metadata.pb2().DType.Name(block.dtype).lower()
    except ValueError:  # a number the enum does not name
        dtype = None
    if dtype not in DTYPES:
        raise FormatError(f"{what} has an unknown dtype {block.dtype}")
    try:
        compression = metadata.pb2().Compression.Name(block.compression).lower()
    except ValueError:
        compression = None
    compression = "none" if compression == "compression_none" else compression
    if compression not in COMPRESSIONS:
        raise FormatError(f"{what} has an unknown compression {block.compression}")
    described = {"dtype": dtype, "compression": compression, "blob": block.blob}
    for field in fields:
        values = _versioned(header, getattr(block, field), getattr(block, f"{field}_f32"))
        if len(values) != n:
            raise FormatError(f"{what} has {len(values)} {field} values for {n} samples")
        if not all(math.isfinite(v) for v in values):
            raise FormatError(f"{what} has a non-finite {field}")
        described[field] = values
    return described


def _finite(values, what):
    """`values` as Python floats; FormatError when one is NaN or infinite (the writer never stores
    them, and a reader's JSON could not carry them)."""
    values = [float(v) for v in values]
    if not all(math.isfinite(v) for v in values):
        raise FormatError(f"{what} holds a number that is not finite")
    return values


def _per_sample(values, n, what):
    values = _finite(values, what)
    if len(values) != n:
        raise FormatError(f"{what} has {len(values)} values for {n} samples")
    return values


def _describe_metric(metric, n, what):
    what = f"{what} metric {metric.name!r}"
    length = metric.curve_length
    curve = _finite(metric.curve, f"{what} curve")
    if len(curve) != n * length:
        raise FormatError(f"{what} has {len(curve)} curve points for {n} samples × {length}")
    return {
        "name": metric.name,
        "values": _per_sample(metric.values, n, what),
        "curve": [curve[i * length:(i + 1) * length] for i in range(n)] if length else None,
        "options": _parse_options(metric.options_json, what),
    }


def _describe_map(header, block, blob_count):
    n = header.num_samples
    what = f"map {block.key!r}" + (f" at stage {block.stage!r}" if block.stage else "")
    _check_shape((n, block.height, block.width), what)
    described = {
        "key": block.key,
        "method": block.method,
        "layer": block.layer,
        "stage": block.stage,
        "height": block.height,
        "width": block.width,
        **_array_block(header, block, ("min", "max", "scale"), blob_count, what),
        "options": _parse_options(block.options_json, what),
        "statistics": {
            s.name: _per_sample(_versioned(header, s.values, s.values_f32), n, f"{what} statistic {s.name!r}")
            for s in block.statistics
        },
        "metrics": {m.name: _describe_metric(m, n, what) for m in block.metrics},
    }
    return described


def _describe_activations(header, block, blob_count):
    n = header.num_samples
    k = block.channels
    _check_shape((n, k, block.height, block.width), "activations")
    described = {
        "layer": block.layer,
        "channels": k,
        "total_channels": block.total_channels,
        "height": block.height,
        "width": block.width,
        **_array_block(header, block, ("min", "max", "scale"), blob_count, "activations"),
        "options": _parse_options(block.options_json, "activations"),
    }
    means = _finite(_versioned(header, block.channel_mean, block.channel_mean_f32), "activations channel means")
    if len(block.channel_index) != n * k or len(means) != n * k:
        raise FormatError(f"activations list {len(block.channel_index)} channel indices for "
                          f"{n} samples × {k} channels")
    described["channel_index"] = [list(block.channel_index[i * k:(i + 1) * k]) for i in range(n)]
    described["channel_mean"] = [means[i * k:(i + 1) * k] for i in range(n)]
    return described


def _describe_randomisation(header, maps):
    block = header.randomisation
    n = header.num_samples
    keys = {(m["key"], m["stage"]) for m in maps}
    correlations = []
    for c in block.correlations:
        what = f"randomisation correlation of {c.key!r} at stage {c.stage!r}"
        if (c.key, c.stage) not in keys:
            raise FormatError(f"{what} names no map of the frame")
        correlations.append({"key": c.key, "stage": c.stage, "values": _per_sample(c.values, n, what)})
    return {
        "order": block.order,
        "layers": list(block.layers),
        "correlations": correlations,
        "options": _parse_options(block.options_json, "randomisation"),
    }


def describe_header(blob, blob_count):
    """A frame's header as a JSON-ready dict, blobs named by index; checks every index and length.

    `blob_count` is the number of blobs in the frame, header included. Raises FormatError for a frame
    that is damaged or newer than this reader, so the caller can report it per frame.
    """
    header = parse_header(blob)
    n = header.num_samples
    kind = metadata.KIND_NAMES.get(header.kind)
    if kind is None or kind == "index":
        raise FormatError(f"frame header names an unknown kind of frame ({header.kind})")
    if n > MAX_SAMPLES:
        raise FormatError(f"frame claims {n} samples, more than a frame can hold")
    if len(header.samples) != n:
        raise FormatError(f"frame lists {len(header.samples)} samples but says it has {n}")
    described = {
        "kind": kind,
        "num_samples": n,
        "frames_written": header.frames_written,
        "steps_written": header.steps_written or header.frames_written,
        "samples": [_describe_sample(header, s) for s in header.samples],
        "images": None,
        "maps": [],
        "activations": None,
        "randomisation": None,
        "tokens": None,
        "signals": None,
    }
    inputs = [field for field in ("images", "tokens", "signals") if header.HasField(field)]
    if len(inputs) > 1:
        raise FormatError(f"frame holds {' and '.join(inputs)}: a frame's inputs are one of them")
    if header.HasField("images"):
        images = header.images
        _check_images(images)
        described["images"] = {
            "width": images.width,
            "height": images.height,
            "channels": images.channels,
            "display_transform": images.display_transform,
        }
        if images.WhichOneof("location") == "shared_key":
            described["images"]["shared_key"] = images.shared_key
        else:
            _check_blob(images.first_blob, blob_count, "images")
            _check_blob(images.first_blob + n - 1, blob_count, "images")
            described["images"]["first_blob"] = images.first_blob
    seen = set()
    for block in header.maps:
        name = (block.key, block.stage)
        if name in seen:
            raise FormatError(f"frame holds two maps named {block.key!r}" + (f" at stage {block.stage!r}" if block.stage else ""))
        seen.add(name)
        described["maps"].append(_describe_map(header, block, blob_count))
    if header.HasField("activations"):
        described["activations"] = _describe_activations(header, header.activations, blob_count)
    if header.HasField("randomisation"):
        described["randomisation"] = _describe_randomisation(header, described["maps"])
    if header.HasField("tokens"):
        described["tokens"] = sequences.describe_tokens(header, described["maps"])
    if header.HasField("signals"):
        described["signals"] = sequences.describe_signals(header, described["maps"], blob_count)
    return described


def _describe_sample(header, sample):
    described = {field: getattr(sample, field) for field in ("label", "target", "prediction") if sample.HasField(field)}
    for field in ("score", "target_score"):
        legacy = f"{field}_f32"
        if header.version >= 2 and sample.HasField(field):
            described[field] = float(getattr(sample, field))
        elif header.version < 2 and sample.HasField(legacy):
            described[field] = _short(getattr(sample, legacy))
        if field in described and not math.isfinite(described[field]):
            raise FormatError(f"a sample's {field} is not finite")
    return described


def _parse_options(text, what):
    if not text:
        return {}
    if len(text) > _MAX_OPTIONS_CHARS:
        raise FormatError(f"{what} has options of {len(text)} characters, more than a frame can hold")
    try:
        options = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as error:
        # A RecursionError is what json raises on nesting thousands deep: damage, not a bug here.
        raise FormatError(f"{what} has damaged options: {type(error).__name__}: {str(error)[:200]}") from None
    if not isinstance(options, dict):
        raise FormatError(f"{what} options are not a JSON object")
    if _depth(options) > MAX_OPTIONS_DEPTH:
        raise FormatError(f"{what} has options nested more than {MAX_OPTIONS_DEPTH} deep")
    return options


def _no_constant(name):
    raise ValueError(f"{name} is not a finite number")


def _finite_float(text):
    """A JSON number as a float; one beyond a double's range (1e999) would read as infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is not a finite number")
    return value


def _depth(value):
    """How deep JSON containers nest in `value` (0 for a scalar), without recursing."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_OPTIONS_DEPTH:
            stack.extend((child, depth + 1) for child in children)
    return deepest


@dataclasses.dataclass(frozen=True)
class DecodedFrame:
    """A whole frame read back into arrays: for tests and for Python users reading their logs."""

    header: dict
    images: Optional[list]             # H×W×C uint8 arrays, or None (absent or shared)
    maps: dict                         # key (or (key, stage) in randomisation frames) → N×h×w float64
    activations: Optional[np.ndarray]  # N×K×h×w float64
    signals: Optional[np.ndarray] = None  # N×C×T float64 (format version 3)


def decode_frame(blobs):
    """All blobs of a frame → DecodedFrame. Raises FormatError on a damaged or newer frame."""
    if len(blobs) == 0:
        raise FormatError("frame holds no blobs")
    header = describe_header(blobs[0], len(blobs))
    n = header["num_samples"]
    images = None
    if header["images"] is not None and "first_blob" in header["images"]:
        first = header["images"]["first_blob"]
        try:
            images = [decode_png(blobs[first + i]) for i in range(n)]
        except Exception as error:  # Pillow raises several types on damaged PNGs
            raise FormatError(f"an input image is damaged: {error}") from error
    maps = {}
    for m in header["maps"]:
        name = (m["key"], m["stage"]) if header["kind"] == "randomisation" else m["key"]
        maps[name] = decode_array(blobs[m["blob"]], m, (n, m["height"], m["width"]))
    activations = None
    if header["activations"] is not None:
        a = header["activations"]
        activations = decode_array(blobs[a["blob"]], a, (n, a["channels"], a["height"], a["width"]))
    signals = None
    if header["signals"] is not None:
        signals = sequences.decode_signals(blobs, header["signals"])
    return DecodedFrame(header=header, images=images, maps=maps, activations=activations, signals=signals)
