"""The values `explain` and `activations` return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import torch

from .targets import find_logits


@dataclass(frozen=True)
class MapResult:
    """One method's maps for a batch.

    `values` is N×h×w, raw and unnormalised, detached, on the inputs' device. `options` holds every
    option the method ran with (JSON-serialisable). `statistics` holds per-sample extras, each a
    Tensor[N]: `completeness_gap` and `baseline_score` for integrated_gradients, `noise_sigma` for
    smoothgrad.
    """

    key: str
    method: str
    layer: Optional[str]
    values: torch.Tensor
    options: dict
    statistics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    """Everything one `explain` call computed: the maps and the facts about the batch they explain.

    `maps` is ordered as the methods were given (CAM methods then by layer, in the given order).
    `outputs` is the model's output on the clean inputs when it is a tensor, else its logits (a
    Mapping's "logits", an object's `.logits`, a tuple or list's first element), None when it has
    none; `targets` the class explained per sample, long[N] (long N×2 (position, class) pairs for a
    token-classification target; None for a callable target, or a model with one score per sample); `target_scores` the explained scalar f_target(x) per sample; `predictions` and
    `probabilities` the argmax and its softmax probability when outputs are N×C with C ≥ 2, else None.
    `input_kind` is the batch's kind ("image", "signal", "tokens"); `sample_rate` the signal's, as
    given; `special_tokens` and `padding` (token batches only) the N×T booleans that flag special
    tokens and padding, which a display dims and keeps out of its normalisation.
    """

    maps: dict
    outputs: Optional[torch.Tensor]
    targets: Optional[torch.Tensor]
    target_scores: torch.Tensor
    predictions: Optional[torch.Tensor]
    probabilities: Optional[torch.Tensor]
    input_kind: str = "image"
    sample_rate: Optional[float] = None
    special_tokens: Optional[torch.Tensor] = None
    padding: Optional[torch.Tensor] = None


@dataclass(frozen=True)
class ActivationResult:
    """A layer's most active channels per sample (see `activations`).

    `values` is N×K×h×w, each sample's channels by decreasing mean activation; `channel_index` (long
    N×K) is each stored channel's index in the layer and `channel_mean` (N×K) its mean activation.
    """

    layer: str
    values: torch.Tensor
    channel_index: torch.Tensor
    channel_mean: torch.Tensor
    total_channels: int
    options: dict
    outputs: Optional[torch.Tensor]
    predictions: Optional[torch.Tensor]
    probabilities: Optional[torch.Tensor]


def prediction_facts(outputs, dtype):
    """(predictions long[N], probabilities of them float[N]) when the outputs' logits (see
    `targets.find_logits`) are N×C with C ≥ 2, else (None, None): what the dashboard shows beside each sample."""
    logits = find_logits(outputs)
    if logits is None or logits.dim() != 2 or logits.shape[1] < 2:
        return None, None
    predictions = logits.argmax(dim=1)
    probabilities = torch.softmax(logits.to(dtype), dim=1).gather(1, predictions[:, None]).squeeze(1)
    return predictions, probabilities


def detached_logits(outputs):
    """The logits of the outputs, detached, as `Explanation.outputs` holds them; None when there are none."""
    logits = find_logits(outputs)
    return None if logits is None else logits.detach()
