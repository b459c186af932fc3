"""The values the metrics return: small frozen dataclasses of per-sample tensors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch


@dataclass(frozen=True)
class PerturbationCurve:
    """A deletion or insertion game (see `deletion`, `insertion`).

    `curve` is N×(steps+1): the score (by default the softmax probability of the target class) after
    step k = 0..steps; `auc` (N) its trapezoidal area over k/steps in [0, 1]. `pixels` (steps+1) is
    how many pixels step k has deleted or inserted, ⌊k·H·W/steps⌋. `targets` is the class explained per
    sample (long[N]; None for a callable target). `options` holds every option used.
    """

    kind: str
    curve: torch.Tensor
    auc: torch.Tensor
    pixels: torch.Tensor
    targets: Optional[torch.Tensor]
    options: dict
