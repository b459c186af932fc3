"""The values `explain` and `activations` return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import torch


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
    `outputs` is the model's output on the clean inputs (None when it is not a tensor); `targets` the
    class explained per sample, long[N] (None for a callable target, or a model with one score per
    sample); `target_scores` the explained scalar f_target(x) per sample; `predictions` and
    `probabilities` the argmax and its softmax probability when outputs are N×C with C ≥ 2, else None.
    """

    maps: dict
    outputs: Optional[torch.Tensor]
    targets: Optional[torch.Tensor]
    target_scores: torch.Tensor
    predictions: Optional[torch.Tensor]
    probabilities: Optional[torch.Tensor]


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
    """(predictions long[N], probabilities of them float[N]) when outputs are N×C logits with C ≥ 2,
    else (None, None): what the dashboard shows beside each sample."""
    if not isinstance(outputs, torch.Tensor) or outputs.dim() != 2 or outputs.shape[1] < 2:
        return None, None
    predictions = outputs.argmax(dim=1)
    probabilities = torch.softmax(outputs.to(dtype), dim=1).gather(1, predictions[:, None]).squeeze(1)
    return predictions, probabilities
