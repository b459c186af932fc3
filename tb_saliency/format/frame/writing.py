"""Frames written: the arrays and facts of one step of one tag, as a `Summary` holding the frame (a
rank-1 string tensor of blobs) and its entry in the tag's INDEX series."""

import dataclasses
import json
import math
from typing import Mapping, Optional, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

from tb_saliency.format import index as frame_index
from tb_saliency.format import metadata, sequences
from tb_saliency.format.frame.reading import describe_header
from tb_saliency.format.images import DisplayImages
from tb_saliency.format.layout import DEFAULT_COMPRESSION, encode_values


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
    the blob is, its dtype and compression, and each sample's range and scale."""
    data, scale = encode_values(values, dtype, what, DEFAULT_COMPRESSION)
    low, high = _sample_range(values)
    blobs.append(data)
    return dict(
        blob=len(blobs),  # blob 0 is the header, so the index into the frame is one past the list
        dtype=metadata.pb2().DType.Value(dtype.upper()),
        compression=_compression_number(DEFAULT_COMPRESSION),
        min=low.tolist(),
        max=high.tolist(),
        scale=scale.tolist(),
    )


def _compression_number(name):
    return metadata.pb2().Compression.Value("COMPRESSION_NONE" if name == "none" else name.upper())


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


def _frame_header(kind, samples, frames_written, steps_written, images, shared_images_key):
    """(header, blobs after the header) of a frame, with its samples and images in place."""
    pb2 = metadata.pb2()
    header = pb2.FrameHeader(
        version=metadata.FORMAT_VERSION,
        kind=pb2.Kind.Value(kind.upper()),
        num_samples=len(samples),
        frames_written=frames_written,
        steps_written=steps_written,
    )
    _fill_samples(header, samples)
    blobs = []
    _attach_images(header, blobs, images, shared_images_key)
    return header, blobs


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
    tokens: Optional[sequences.TokenInputs] = None,
    signals: Optional[sequences.SignalInputs] = None,
):
    """A `Summary` holding one saliency frame (a randomisation frame when `randomisation` is given)
    and its index. `images` is stored inline unless `shared_images_key` names an INPUTS tag that
    holds them (see `inputs_summary`). `frames_written` and `steps_written` count the writer's frames
    of the tag and their distinct steps, this one included; 0 when the caller keeps no count.
    `tokens` or `signals` are the inputs instead of `images` when they are sequences; the maps are
    then N×1×T."""
    kind = "saliency" if randomisation is None else "randomisation"
    if sum(x is not None for x in (images, tokens, signals)) > 1:
        raise ValueError("images, tokens, signals: a frame's inputs are one of them, got several")
    header, blobs = _frame_header(kind, samples, frames_written, steps_written, images, shared_images_key)
    if tokens is not None:
        sequences.attach_tokens(header, tokens)
    if signals is not None:
        sequences.attach_signals(header, blobs, signals)  # float16 always: signals are for display
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
    header, blobs = _frame_header("activations", samples, frames_written, steps_written, images, shared_images_key)
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


def inputs_summary(key, images: DisplayImages, summary_metadata=None):
    """A `Summary` holding a probe set's images once, for frames that name it by `key`."""
    header, blobs = _frame_header("inputs", [SampleFacts()] * images.count, 1, 1, images, None)
    return summary_pb2.Summary(value=[_frame_value(metadata.inputs_tag(key), header.SerializeToString(), blobs, summary_metadata)])
