"""Frames: one step of one tag, as a rank-1 string tensor of blobs in a `Summary`, and back.

Blob 0 is a `FrameHeader`; the header points at the other blobs by index: one PNG per input image,
one array per map column, one array for activations. Everything a reader needs to interpret a blob is
in the header, so the dashboard can fetch only what it shows. Beside each frame, the same `Summary`
carries the frame's `FrameIndex` in the tag's INDEX series (see `index.py`).
"""

import dataclasses
import json
import math
from typing import Mapping, Optional, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

from tb_saliency.format import index as frame_index
from tb_saliency.format import metadata
from tb_saliency.format.errors import FormatError
from tb_saliency.format.images import DisplayImages, decode_png
from tb_saliency.format.layout import DTYPES, decode_values, encode_values

# A frame's header is parsed from untrusted bytes: these bounds keep a hostile one from making the
# reader allocate or recurse without end.
MAX_SAMPLES = 1 << 16
MAX_ARRAY_VALUES = 1 << 28
_MAX_OPTIONS_CHARS = 1 << 20
# Options nested deeper than this are damage: a reader that serialises them again (the plugin's JSON)
# must not meet a nesting its own encoder cannot handle.
MAX_OPTIONS_DEPTH = 64


@dataclasses.dataclass(frozen=True)
class SampleFacts:
    """What is known of one sample at one step; None where unknown."""

    label: Optional[int] = None
    target: Optional[int] = None
    prediction: Optional[int] = None
    score: Optional[float] = None
    target_score: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class MetricValues:
    """One metric of one map: a value per sample, and for curve metrics a curve per sample (N×K)."""

    name: str
    values: np.ndarray
    curve: Optional[np.ndarray] = None
    options: Mapping = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class MapColumn:
    """One column of the grid: N×h×w raw values of one method on one layer (at one randomisation
    stage: "" is the model as it is)."""

    key: str
    method: str
    values: np.ndarray
    layer: str = ""
    options: Mapping = dataclasses.field(default_factory=dict)
    statistics: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    metrics: Sequence[MetricValues] = ()
    stage: str = ""


@dataclasses.dataclass(frozen=True)
class ActivationChannels:
    """A layer's most active channels: N×K×h×w values, with their indices and means (N×K)."""

    layer: str
    values: np.ndarray
    channel_index: np.ndarray
    channel_mean: np.ndarray
    total_channels: int
    options: Mapping = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Randomisation:
    """The randomisation test of a RANDOMISATION frame: stages in order, and per (map key, stage) the
    Spearman correlation of each sample's map with the original model's."""

    order: str
    layers: Sequence[str]
    correlations: Mapping  # (key, stage) → N values
    options: Mapping = dataclasses.field(default_factory=dict)


def _string_tensor(blobs):
    # Rank 1 on purpose: the Rust loader silently drops rank-0 and rank-2 blob sequences.
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(blobs))]
        ),
        string_val=blobs,
    )


def _finite_doubles(values, what):
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what}: expected finite numbers, got NaN or infinity")
    return array.tolist()


def _sample_range(values):
    flat = np.asarray(values, dtype=np.float64).reshape(values.shape[0], -1)
    if flat.shape[1] == 0:
        return np.zeros(values.shape[0]), np.zeros(values.shape[0])
    return flat.min(axis=1), flat.max(axis=1)


def _array_fields(values, dtype, blobs, what):
    """Appends the array's blob to `blobs` and returns the fields every array block shares: where
    the blob is, its dtype, and each sample's range and scale."""
    data, scale = encode_values(values, dtype, what)
    low, high = _sample_range(values)
    blobs.append(data)
    return dict(
        blob=len(blobs),  # blob 0 is the header, so the index into the frame is one past the list
        dtype=metadata.pb2().DType.Value(dtype.upper()),
        min=low.tolist(),
        max=high.tolist(),
        scale=scale.tolist(),
    )


def _json_options(options, what):
    try:
        return json.dumps(dict(options), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what}: options must be JSON-serialisable: {error}") from error


def _fill_images(image_set, images: DisplayImages, first_blob):
    image_set.width = images.width
    image_set.height = images.height
    image_set.channels = images.channels
    image_set.display_transform = images.display_transform
    if first_blob is not None:
        image_set.first_blob = first_blob


def _fill_samples(header, samples):
    pb2 = metadata.pb2()
    for facts in samples:
        sample = pb2.Sample()
        for field in ("label", "target", "prediction"):
            value = getattr(facts, field)
            if value is not None:
                setattr(sample, field, int(value))
        for field in ("score", "target_score"):
            value = getattr(facts, field)
            if value is not None:
                if not math.isfinite(value):
                    raise ValueError(f"{field}: expected a finite number, got {value}")
                setattr(sample, field, float(value))
        header.samples.append(sample)


def _frame_header(kind, samples, frames_written, steps_written):
    pb2 = metadata.pb2()
    header = pb2.FrameHeader(
        version=metadata.FORMAT_VERSION,
        kind=pb2.Kind.Value(kind.upper()),
        num_samples=len(samples),
        frames_written=frames_written,
        steps_written=steps_written,
    )
    _fill_samples(header, samples)
    return header


def _attach_images(header, blobs, images, shared_images_key):
    """Points the header at the images: inline PNGs appended to `blobs`, or a shared INPUTS tag."""
    if images is None:
        return
    if shared_images_key is not None:
        _fill_images(header.images, images, None)
        header.images.shared_key = shared_images_key
    else:
        _fill_images(header.images, images, len(blobs) + 1)
        blobs.extend(images.encode_png())


def _add_map(header, blobs, column: MapColumn, dtype):
    what = f"maps[{column.key!r}]"
    block = header.maps.add(
        key=column.key,
        method=column.method,
        layer=column.layer or "",
        stage=column.stage or "",
        height=column.values.shape[1],
        width=column.values.shape[2],
        options_json=_json_options(column.options, what),
        **_array_fields(column.values, dtype, blobs, what),
    )
    for name, per_sample in column.statistics.items():
        block.statistics.add(name=name, values=_finite_doubles(per_sample, f"{what} statistic {name!r}"))
    for metric in column.metrics:
        curve = np.zeros((0, 0)) if metric.curve is None else np.asarray(metric.curve, np.float64)
        block.metrics.add(
            name=metric.name,
            values=_finite_doubles(metric.values, f"{what} metric {metric.name!r}"),
            curve_length=curve.shape[1] if curve.size else 0,
            curve=_finite_doubles(curve, f"{what} metric {metric.name!r} curve"),
            options_json=_json_options(metric.options, f"{what} metric {metric.name!r}"),
        )


def _frame_value(tag, serialised, blobs, summary_metadata):
    value = summary_pb2.Summary.Value(tag=tag, tensor=_string_tensor([serialised, *blobs]))
    if summary_metadata is not None:
        value.metadata.CopyFrom(summary_metadata)
    return value


def _frame_summary(tag, header, blobs, summary_metadata):
    """The frame's value and its INDEX value, in one `Summary`. Metadata (which TensorBoard keeps
    from the first value of a tag only) goes on both when `summary_metadata` is given."""
    serialised = header.SerializeToString()
    frame = _frame_value(tag, serialised, blobs, summary_metadata)
    # The index is derived from the header as a reader describes it, so writer and reader agree.
    described = describe_header(serialised, len(blobs) + 1)
    index = summary_pb2.Summary.Value(tag=metadata.index_tag(tag), tensor=frame_index.index_tensor(described))
    if summary_metadata is not None:
        index.metadata.CopyFrom(metadata.create_summary_metadata("index"))
    return summary_pb2.Summary(value=[frame, index])


def saliency_summary(
    tag,
    *,
    samples: Sequence[SampleFacts],
    maps: Sequence[MapColumn],
    images: Optional[DisplayImages] = None,
    shared_images_key: Optional[str] = None,
    frames_written: int = 0,
    steps_written: int = 0,
    dtype: str = "float16",
    summary_metadata=None,
    randomisation: Optional[Randomisation] = None,
):
    """A `Summary` holding one saliency frame (a randomisation frame when `randomisation` is given)
    and its index. `images` is stored inline unless `shared_images_key` names an INPUTS tag that
    holds them (see `inputs_summary`). `frames_written` and `steps_written` count the writer's frames
    of the tag and their distinct steps, this one included; 0 when the caller keeps no count."""
    kind = "saliency" if randomisation is None else "randomisation"
    header = _frame_header(kind, samples, frames_written, steps_written)
    blobs = []
    _attach_images(header, blobs, images, shared_images_key)
    for column in maps:
        _add_map(header, blobs, column, dtype)
    if randomisation is not None:
        block = header.randomisation
        block.order = randomisation.order
        block.layers.extend(randomisation.layers)
        block.options_json = _json_options(randomisation.options, "randomisation")
        for (key, stage), values in randomisation.correlations.items():
            block.correlations.add(
                key=key, stage=stage, values=_finite_doubles(values, f"randomisation[{key!r}, {stage!r}]")
            )
    return _frame_summary(tag, header, blobs, summary_metadata)


def activations_summary(
    tag,
    *,
    samples: Sequence[SampleFacts],
    activations: ActivationChannels,
    images: Optional[DisplayImages] = None,
    shared_images_key: Optional[str] = None,
    frames_written: int = 0,
    steps_written: int = 0,
    dtype: str = "float16",
    summary_metadata=None,
):
    """A `Summary` holding one activations frame and its index."""
    header = _frame_header("activations", samples, frames_written, steps_written)
    blobs = []
    _attach_images(header, blobs, images, shared_images_key)
    values = activations.values
    header.activations.CopyFrom(
        metadata.pb2().ActivationBlock(
            layer=activations.layer,
            channels=values.shape[1],
            total_channels=activations.total_channels,
            height=values.shape[2],
            width=values.shape[3],
            channel_index=np.asarray(activations.channel_index).reshape(-1).tolist(),
            channel_mean=_finite_doubles(activations.channel_mean, "activations channel means"),
            options_json=_json_options(activations.options, "activations"),
            **_array_fields(values, dtype, blobs, "activations"),
        )
    )
    return _frame_summary(tag, header, blobs, summary_metadata)


def inputs_tag(key):
    """The tag of the INPUTS series that holds the probe images with content key `key`."""
    return metadata.INPUTS_TAG_PREFIX + key


def inputs_summary(key, images: DisplayImages, summary_metadata=None):
    """A `Summary` holding a probe set's images once, for frames that name it by `key`."""
    header = _frame_header("inputs", [SampleFacts()] * images.count, 1, 1)
    blobs = []
    _attach_images(header, blobs, images, None)
    return summary_pb2.Summary(value=[_frame_value(inputs_tag(key), header.SerializeToString(), blobs, summary_metadata)])


# Reading ------------------------------------------------------------------------------------------


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
    described = {"dtype": dtype, "blob": block.blob}
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
    }
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
        maps[name] = decode_values(blobs[m["blob"]], m["dtype"], (n, m["height"], m["width"]), m["scale"])
    activations = None
    if header["activations"] is not None:
        a = header["activations"]
        activations = decode_values(
            blobs[a["blob"]], a["dtype"], (n, a["channels"], a["height"], a["width"]), a["scale"]
        )
    return DecodedFrame(header=header, images=images, maps=maps, activations=activations)
