"""Summaries from NumPy arrays, without torch: the layer beneath every writer, as TensorBoard's own
plugins have one.

    from tb_saliency import summary
    event_writer.add_summary(summary.saliency_map("probe", images, {"gradcam": maps}), step)

`saliency_map`, `token_map`, `signal_map` and `activations` check their arguments (errors name the argument, say what was
expected and what came) and return one `tensorboard.compat.proto.summary_pb2.Summary` holding the
frame and its entry in the tag's step index, with the metadata that makes TensorBoard file them under
the Saliency tab. Any writer of TensorBoard event files can write it.

Beneath them, `saliency_frame`, `activations_frame`, `shared_images` and `scalars` build every
summary `tb_saliency.log_saliency` and its siblings write, from pieces already checked; a writer that
remembers what it wrote passes its counts, stores each probe set once in an INPUTS tag that its
frames name, and leaves out the metadata after a tag's first frame.
"""

from typing import Mapping, Optional, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

from tb_saliency import arguments, sequence_arguments
from tb_saliency import format as stored_format


def saliency_map(
    tag: str,
    images,
    maps,
    *,
    labels=None,
    predictions=None,
    scores=None,
    class_names: Optional[Sequence[str]] = None,
    method: str = "custom",
    mean=None,
    std=None,
    dataformats: str = "NCHW",
    dtype: str = "float16",
):
    """A `Summary` of saliency maps over their images.

    Args:
      tag: name of the series in TensorBoard.
      images: N×C×H×W (or N×H×W×C with dataformats="NHWC") or N×H×W grayscale; float in [0, 1]
        (or de-normalised with `mean`/`std`) or uint8.
      maps: N×h×w (N×1×h×w accepted), or a dict {method name: N×h×w} to compare methods side by
        side. Any resolution; the dashboard upsamples. Stored raw.
      labels, predictions: N class ids; scores: N numbers. All optional.
      class_names: names indexed by class id, shown instead of ids.
      method: the column name when `maps` is a single array.
      mean, std: per-channel normalisation of `images` to undo for display.
      dtype: "float16" (default), "float32" (lossless) or "uint8" (within (max − min) / 510 of each
        value) for the stored maps, byte-shuffled and deflated.
    """
    arguments.check_tag(tag)
    arguments.check_dtype(dtype)
    names = arguments.class_names(class_names)
    display, columns, facts = arguments.maps_over_images(
        images, maps, method=method, labels=labels, predictions=predictions, scores=scores, names=names,
        mean=mean, std=std, dataformats=dataformats)
    return saliency_frame(tag, display, facts, columns, class_names=names, dtype=dtype)


def token_map(
    tag: str,
    tokens,
    maps,
    *,
    special=None,
    padding=None,
    labels=None,
    predictions=None,
    scores=None,
    class_names: Optional[Sequence[str]] = None,
    method: str = "custom",
    dtype: str = "float16",
):
    """A `Summary` of token attributions over their text.

    Args:
      tokens: N lists of T strings (a padded batch: every list as long as the maps), shown as text.
      maps: N×T, one value per token, or a dict {method name: N×T}.
      special, padding: N×T booleans (or None): special tokens ([CLS], <s>) and padding are drawn
        dimmed and kept out of the colour range.
      Others as `saliency_map`.
    """
    return _sequence_map("tokens", tag, None, maps, tokens=tokens, special=special, padding=padding,
                         sample_rate=None, labels=labels, predictions=predictions, scores=scores,
                         class_names=class_names, method=method, dtype=dtype)


def signal_map(
    tag: str,
    signals,
    maps,
    *,
    sample_rate: Optional[float] = None,
    labels=None,
    predictions=None,
    scores=None,
    class_names: Optional[Sequence[str]] = None,
    method: str = "custom",
    dtype: str = "float16",
):
    """A `Summary` of attributions over signals (audio, sensor series).

    Args:
      signals: N×C×T (or N×T) numbers, stored as float16 for display.
      maps: N×T, one value per time step, or a dict {method name: N×T}.
      sample_rate: samples per second (the tab then plays audio); None when not audio.
      Others as `saliency_map`.
    """
    return _sequence_map("signals", tag, signals, maps, tokens=None, special=None, padding=None,
                         sample_rate=sample_rate, labels=labels, predictions=predictions, scores=scores,
                         class_names=class_names, method=method, dtype=dtype)


def _sequence_map(kind, tag, inputs, maps, *, tokens, special, padding, sample_rate, labels, predictions,
                  scores, class_names, method, dtype):
    arguments.check_tag(tag)
    arguments.check_dtype(dtype)
    names = arguments.class_names(class_names)
    shown, columns, facts = sequence_arguments.maps_over_sequences(
        kind, inputs, maps, method=method, tokens=tokens, tokenizer=None, sample_rate=sample_rate,
        special=special, padding=padding, labels=labels, predictions=predictions, scores=scores, names=names)
    return saliency_frame(tag, shown, facts, columns, class_names=names, dtype=dtype)


def most_active_channels(values, max_channels):
    """(values N×K×h×w, channel index N×K, channel mean N×K) of the K = min(max_channels, C) channels
    of `values` (N×C×h×w) with the largest mean, most active first; ties keep channel order."""
    means = values.mean(axis=(2, 3))
    index = np.argsort(-means, axis=1, kind="stable")[:, :max_channels]
    kept = np.take_along_axis(values, index[:, :, None, None], axis=1)
    return kept, index, np.take_along_axis(means, index, axis=1)


def activations(
    tag: str,
    images,
    values,
    *,
    layer: str = "",
    max_channels: int = 16,
    labels=None,
    predictions=None,
    scores=None,
    class_names: Optional[Sequence[str]] = None,
    mean=None,
    std=None,
    dataformats: str = "NCHW",
    dtype: str = "float16",
):
    """A `Summary` of a layer's most active channels per sample, over the inputs.

    `values` is the layer's output, N×C×h×w; each sample keeps its `max_channels` channels of largest
    mean activation, most active first, with their channel indices. Other arguments as
    `saliency_map`; `layer` names the layer in the tab.
    """
    arguments.check_tag(tag)
    arguments.check_dtype(dtype)
    arguments.check_text(layer, "layer")
    max_channels = arguments.check_max_channels(max_channels)
    names = arguments.class_names(class_names)
    display = arguments.display_images(images, mean=mean, std=std, dataformats=dataformats)
    array = arguments.to_numpy(values, "values")
    if array.ndim != 4 or array.shape[0] != display.count or 0 in array.shape:
        raise ValueError(
            f"values: expected the layer's output N×C×h×w with N={display.count} (one per image), got "
            f"shape {tuple(array.shape)}"
        )
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"values: expected numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("values: expected finite activations, got NaN or infinity")
    kept, index, means = most_active_channels(array, max_channels)
    channels = stored_format.ActivationChannels(
        layer=layer, values=kept, channel_index=index, channel_mean=means, total_channels=array.shape[1],
        options={"max_channels": max_channels, "order": "mean_activation_descending"},
    )
    facts = arguments.given_facts(display.count, labels, predictions, scores, names)
    return activations_frame(tag, display, facts, channels, class_names=names, dtype=dtype)


# From checked pieces ------------------------------------------------------------------------------


def saliency_frame(
    tag: str,
    display: stored_format.DisplayImages,
    facts: Sequence[stored_format.SampleFacts],
    columns: Sequence[stored_format.MapColumn],
    *,
    class_names: Sequence[str] = (),
    dtype: str = "float16",
    randomisation: Optional[stored_format.Randomisation] = None,
    shared_images_key: Optional[str] = None,
    frames_written: int = 0,
    steps_written: int = 0,
    with_metadata: bool = True,
):
    """The `Summary` of a saliency frame (a randomisation frame when `randomisation` is given) over
    `display`, one `facts` entry per sample, one column per map (and stage). `display` is
    DisplayImages, or TokenInputs or SignalInputs under N×1×T maps.

    `frames_written` and `steps_written` count the writer's frames of the tag and their distinct
    steps, this one included (0: no count kept). `shared_images_key` names the INPUTS tag that holds
    `display` instead of the frame (see `shared_images`). TensorBoard keeps a tag's metadata from its
    first value only: `with_metadata=False` leaves it out of the frames after that.
    """
    kind = "saliency" if randomisation is None else "randomisation"
    if isinstance(display, stored_format.TokenInputs):
        inputs = dict(tokens=display)
    elif isinstance(display, stored_format.SignalInputs):
        inputs = dict(signals=display)
    else:
        inputs = dict(images=display)
    return stored_format.saliency_summary(
        tag, samples=facts, maps=columns, shared_images_key=shared_images_key, **inputs,
        frames_written=frames_written, steps_written=steps_written, dtype=dtype, randomisation=randomisation,
        summary_metadata=_tag_metadata(with_metadata, kind, facts, class_names,
                                       map_keys=[c.key for c in columns if not c.stage]),
    )


def activations_frame(
    tag: str,
    display: stored_format.DisplayImages,
    facts: Sequence[stored_format.SampleFacts],
    channels: stored_format.ActivationChannels,
    *,
    class_names: Sequence[str] = (),
    dtype: str = "float16",
    shared_images_key: Optional[str] = None,
    frames_written: int = 0,
    steps_written: int = 0,
    with_metadata: bool = True,
):
    """The `Summary` of an activations frame: a layer's channels over `display`; the rest as
    `saliency_frame`."""
    return stored_format.activations_summary(
        tag, samples=facts, activations=channels, images=display, shared_images_key=shared_images_key,
        frames_written=frames_written, steps_written=steps_written, dtype=dtype,
        summary_metadata=_tag_metadata(with_metadata, "activations", facts, class_names),
    )


def shared_images(key: str, display: stored_format.DisplayImages):
    """The `Summary` of a probe set's images stored once, in the INPUTS tag that frames name by `key`
    (`display.content_key()`)."""
    return stored_format.inputs_summary(key, display, summary_metadata=stored_format.create_summary_metadata("inputs"))


def scalars(values: Mapping[str, float]):
    """One `Summary` of plain scalars, {tag: value}, as the Scalars and Time Series tabs plot them."""
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)
                                      for tag, value in values.items()])


def _tag_metadata(wanted, kind, facts, class_names, map_keys=()):
    if not wanted:
        return None
    return stored_format.create_summary_metadata(
        kind, map_keys=map_keys, class_names=class_names, num_samples=len(facts))
