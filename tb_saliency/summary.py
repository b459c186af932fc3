"""Summaries from NumPy arrays, without torch: the layer beneath every writer, as TensorBoard's own
plugins have one.

    from tb_saliency import summary
    event_writer.add_summary(summary.saliency_map("probe", images, {"gradcam": maps}), step)

Each function checks its arguments (errors name the argument, say what was expected and what came)
and returns one `tensorboard.compat.proto.summary_pb2.Summary` holding the frame and its entry in the
tag's step index, with the metadata that makes TensorBoard file them under the Saliency tab. Any
writer of TensorBoard event files can write it; `tb_saliency.log_saliency_map` does that for torch's
and tensorboardX's writers, and stores a probe set logged many times only twice.
"""

from typing import Optional, Sequence

import numpy as np

from tb_saliency import arguments
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
      dtype: "float16" (default) or "float32" for the stored maps.
    """
    arguments.check_tag(tag)
    arguments.check_dtype(dtype)
    names = arguments.class_names(class_names)
    display, columns, facts = arguments.maps_over_images(
        images, maps, method=method, labels=labels, predictions=predictions, scores=scores, names=names,
        mean=mean, std=std, dataformats=dataformats)
    return stored_format.saliency_summary(
        tag, samples=facts, maps=columns, images=display, dtype=dtype,
        summary_metadata=stored_format.create_summary_metadata(
            "saliency", map_keys=[c.key for c in columns], class_names=names, num_samples=display.count
        ),
    )


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
    return stored_format.activations_summary(
        tag, samples=facts, activations=channels, images=display, dtype=dtype,
        summary_metadata=stored_format.create_summary_metadata(
            "activations", class_names=names, num_samples=display.count
        ),
    )
