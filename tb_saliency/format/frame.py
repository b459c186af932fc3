"""Frames: one step of one tag, as a rank-1 string tensor of blobs in a `Summary`, and back.

Blob 0 is a `FrameHeader`; the header points at the other blobs by index: one PNG per input image,
one array per map column, one array for activations. Everything a reader needs to interpret a blob is
in the header, so the dashboard can fetch only what it shows.
"""

import dataclasses
import json
import math
from typing import Mapping, Optional, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

from tb_saliency.format import metadata
from tb_saliency.format.errors import FormatError
from tb_saliency.format.images import DisplayImages, decode_png

DTYPES = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}


@dataclasses.dataclass(frozen=True)
class SampleFacts:
    """What is known of one sample at one step; None where unknown."""

    label: Optional[int] = None
    target: Optional[int] = None
    prediction: Optional[int] = None
    score: Optional[float] = None
    target_score: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class MapColumn:
    """One column of the grid: N×h×w raw values of one method on one layer."""

    key: str
    method: str
    values: np.ndarray
    layer: str = ""
    options: Mapping = dataclasses.field(default_factory=dict)
    statistics: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ActivationChannels:
    """A layer's most active channels: N×K×h×w values, with their indices and means (N×K)."""

    layer: str
    values: np.ndarray
    channel_index: np.ndarray
    channel_mean: np.ndarray
    total_channels: int
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


def _encode_values(values, dtype):
    """Raw float values (N×…) → (bytes, per-sample scale) such that raw = stored × scale."""
    values = np.asarray(values, dtype=np.float64)
    flat = values.reshape(values.shape[0], -1)
    if dtype == "float32":
        scale = np.ones(values.shape[0])
    else:
        # Per-sample scaling keeps float16's relative precision for maps of any magnitude.
        peak = np.abs(flat).max(axis=1) if flat.shape[1] else np.zeros(values.shape[0])
        scale = np.where(peak > 0, peak, 1.0)
    stored = (flat / scale[:, None]).astype(DTYPES[dtype])
    return stored.tobytes(), scale


def _array_fields(values, dtype, blobs):
    """Appends the array's blob to `blobs` and returns the fields every array block shares: where
    the blob is, its dtype, and each sample's range and scale."""
    data, scale = _encode_values(values, dtype)
    low, high = _sample_range(values)
    blobs.append(data)
    return dict(
        blob=len(blobs),  # blob 0 is the header, so the index into the frame is one past the list
        dtype=metadata.pb2().DType.Value(dtype.upper()),
        min=low.tolist(),
        max=high.tolist(),
        scale=scale.tolist(),
    )


def _sample_range(values):
    flat = np.asarray(values, dtype=np.float64).reshape(values.shape[0], -1)
    if flat.shape[1] == 0:
        return np.zeros(values.shape[0]), np.zeros(values.shape[0])
    return flat.min(axis=1), flat.max(axis=1)


def _json_options(options, what):
    try:
        return json.dumps(dict(options), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what}: options must be JSON-serialisable: {error}") from error


def _fill_images(image_set, images: Optional[DisplayImages], first_blob):
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
                setattr(sample, field, float(value))
        header.samples.append(sample)


def _summary(tag, header, blobs, summary_metadata):
    value = summary_pb2.Summary.Value(
        tag=tag, tensor=_string_tensor([header.SerializeToString(), *blobs])
    )
    if summary_metadata is not None:
        value.metadata.CopyFrom(summary_metadata)
    return summary_pb2.Summary(value=[value])


def _frame_header(kind, samples, frames_written):
    pb2 = metadata.pb2()
    header = pb2.FrameHeader(
        version=metadata.FORMAT_VERSION,
        kind=pb2.Kind.Value(kind),
        num_samples=len(samples),
        frames_written=frames_written,
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


def saliency_summary(
    tag,
    *,
    samples: Sequence[SampleFacts],
    maps: Sequence[MapColumn],
    images: Optional[DisplayImages] = None,
    shared_images_key: Optional[str] = None,
    frames_written: int = 1,
    dtype: str = "float16",
    summary_metadata=None,
):
    """A `Summary` holding one saliency frame. `images` is stored inline unless `shared_images_key`
    names an INPUTS tag that holds them (see `inputs_summary`)."""
    header = _frame_header("SALIENCY", samples, frames_written)
    blobs = []
    _attach_images(header, blobs, images, shared_images_key)
    for column in maps:
        block = header.maps.add(
            key=column.key,
            method=column.method,
            layer=column.layer or "",
            height=column.values.shape[1],
            width=column.values.shape[2],
            options_json=_json_options(column.options, f"maps[{column.key!r}]"),
            **_array_fields(column.values, dtype, blobs),
        )
        for name, per_sample in column.statistics.items():
            block.statistics.add(name=name, values=np.asarray(per_sample, np.float64).tolist())
    return _summary(tag, header, blobs, summary_metadata)


def activations_summary(
    tag,
    *,
    samples: Sequence[SampleFacts],
    activations: ActivationChannels,
    images: Optional[DisplayImages] = None,
    shared_images_key: Optional[str] = None,
    frames_written: int = 1,
    dtype: str = "float16",
    summary_metadata=None,
):
    """A `Summary` holding one activations frame."""
    header = _frame_header("ACTIVATIONS", samples, frames_written)
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
            channel_mean=np.asarray(activations.channel_mean, np.float64).reshape(-1).tolist(),
            options_json=_json_options(activations.options, "activations"),
            **_array_fields(values, dtype, blobs),
        )
    )
    return _summary(tag, header, blobs, summary_metadata)


def inputs_tag(key):
    """The tag of the INPUTS series that holds the probe images with content key `key`."""
    return metadata.INPUTS_TAG_PREFIX + key


def inputs_summary(key, images: DisplayImages, summary_metadata=None):
    """A `Summary` holding a probe set's images once, for frames that name it by `key`."""
    header = _frame_header("INPUTS", [SampleFacts()] * images.count, 1)
    blobs = []
    _attach_images(header, blobs, images, None)
    return _summary(inputs_tag(key), header, blobs, summary_metadata)


# Reading ------------------------------------------------------------------------------------------


def _short(value):
    """float32 values as the shortest decimal that reads back to the same float32."""
    value = float(value)
    if not math.isfinite(value):
        return value
    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))


def _floats(values):
    return [_short(v) for v in values]


def parse_header(blob):
    """Decodes blob 0 of a frame into a FrameHeader message; FormatError when it cannot."""
    header = metadata.parse_versioned(metadata.pb2().FrameHeader(), blob, "this frame's header")
    if header.version == 0:
        raise FormatError("frame header has no format version: not a tb_saliency frame")
    return header


def _check_blob(index, blob_count, what):
    if not 1 <= index < blob_count:
        raise FormatError(f"{what} points at blob {index}, but the frame has {blob_count} blobs")


def _check_array_block(block, num_samples, blob_count, what):
    _check_blob(block.blob, blob_count, what)
    if block.dtype not in (metadata.pb2().FLOAT16, metadata.pb2().FLOAT32):
        raise FormatError(f"{what} has an unknown dtype {block.dtype}")
    for field in ("min", "max", "scale"):
        if len(getattr(block, field)) != num_samples:
            raise FormatError(f"{what} has {len(getattr(block, field))} {field} values for "
                              f"{num_samples} samples")


def describe_header(blob, blob_count):
    """A frame's header as a JSON-ready dict, blobs named by index; checks every index and length.

    `blob_count` is the number of blobs in the frame, header included. Raises FormatError for a frame
    that is damaged or newer than this reader, so the caller can report it per frame.
    """
    pb2 = metadata.pb2()
    header = parse_header(blob)
    n = header.num_samples
    if len(header.samples) != n:
        raise FormatError(f"frame lists {len(header.samples)} samples but says it has {n}")
    described = {
        "kind": metadata.KIND_NAMES.get(header.kind, "unknown"),
        "num_samples": n,
        "frames_written": header.frames_written,
        "samples": [
            {
                field: (_short(getattr(s, field)) if field in ("score", "target_score")
                        else getattr(s, field))
                for field in ("label", "target", "prediction", "score", "target_score")
                if s.HasField(field)
            }
            for s in header.samples
        ],
        "images": None,
        "maps": [],
        "activations": None,
    }
    if header.HasField("images"):
        images = header.images
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
    for block in header.maps:
        what = f"map {block.key!r}"
        _check_array_block(block, n, blob_count, what)
        described["maps"].append(
            {
                "key": block.key,
                "method": block.method,
                "layer": block.layer,
                "dtype": pb2.DType.Name(block.dtype).lower(),
                "height": block.height,
                "width": block.width,
                "min": _floats(block.min),
                "max": _floats(block.max),
                "scale": _floats(block.scale),
                "options": _parse_options(block.options_json, what),
                "statistics": {s.name: _floats(s.values) for s in block.statistics},
                "blob": block.blob,
            }
        )
    if header.HasField("activations"):
        block = header.activations
        _check_array_block(block, n, blob_count, "activations")
        k = block.channels
        if len(block.channel_index) != n * k or len(block.channel_mean) != n * k:
            raise FormatError(f"activations list {len(block.channel_index)} channel indices for "
                              f"{n} samples × {k} channels")
        described["activations"] = {
            "layer": block.layer,
            "dtype": pb2.DType.Name(block.dtype).lower(),
            "channels": k,
            "total_channels": block.total_channels,
            "height": block.height,
            "width": block.width,
            "channel_index": [list(block.channel_index[i * k:(i + 1) * k]) for i in range(n)],
            "channel_mean": [_floats(block.channel_mean[i * k:(i + 1) * k]) for i in range(n)],
            "min": _floats(block.min),
            "max": _floats(block.max),
            "scale": _floats(block.scale),
            "options": _parse_options(block.options_json, "activations"),
            "blob": block.blob,
        }
    return described


def _parse_options(text, what):
    if not text:
        return {}
    try:
        options = json.loads(text)
    except ValueError as error:
        raise FormatError(f"{what} has damaged options: {error}") from error
    if not isinstance(options, dict):
        raise FormatError(f"{what} options are not a JSON object")
    return options


def decode_values(blob, dtype, shape, scale):
    """A map or activation blob → float32 array of `shape` (N first), raw values restored."""
    expected = int(np.prod(shape)) * DTYPES[dtype].itemsize
    if len(blob) != expected:
        raise FormatError(f"array blob has {len(blob)} bytes, expected {expected} for {dtype} "
                          f"{tuple(shape)}")
    stored = np.frombuffer(bytes(blob), dtype=DTYPES[dtype]).astype(np.float32).reshape(shape)
    return stored * np.asarray(scale, np.float32).reshape((-1,) + (1,) * (len(shape) - 1))


@dataclasses.dataclass(frozen=True)
class DecodedFrame:
    """A whole frame read back into arrays: for tests and for Python users reading their logs."""

    header: dict
    images: Optional[list]            # H×W×C uint8 arrays, or None (absent or shared)
    maps: dict                        # key → N×h×w float32
    activations: Optional[np.ndarray]  # N×K×h×w float32


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
    maps = {
        m["key"]: decode_values(blobs[m["blob"]], m["dtype"], (n, m["height"], m["width"]), m["scale"])
        for m in header["maps"]
    }
    activations = None
    if header["activations"] is not None:
        a = header["activations"]
        activations = decode_values(
            blobs[a["blob"]], a["dtype"], (n, a["channels"], a["height"], a["width"]), a["scale"]
        )
    return DecodedFrame(header=header, images=images, maps=maps, activations=activations)
