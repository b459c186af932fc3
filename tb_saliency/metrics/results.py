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


@dataclass(frozen=True)
class PointingResult:
    """The pointing game per sample (see `pointing_game`).

    `hits` (bool[N]) says whether each map's maximum lies within `tolerance` pixels of its mask;
    `points` (long N×2) is that maximum as (row, column) at the mask's resolution; `distances` (N) the
    Euclidean distance in pixels from it to the nearest mask pixel (0 inside the mask). With
    per_box=True each row is one box, and `samples` (long[B]) its sample; else `samples` is None.
    """

    hits: torch.Tensor
    points: torch.Tensor
    distances: torch.Tensor
    options: dict
    samples: Optional[torch.Tensor] = None

    @property
    def accuracy(self) -> float:
        """The fraction of hits (the paper's pointing accuracy over this batch)."""
        return float(self.hits.float().mean())


@dataclass(frozen=True)
class EnergyResult:
    """The energy-based pointing game per sample (see `energy_pointing_game`).

    `energy` (N) is the share of each map's positive mass inside its mask, in [0, 1]; `mask_fraction`
    (N) the share of the image the mask covers, which a uniform map would score (a reference). With
    per_box=True each row is one box, and `samples` (long[B]) its sample; else `samples` is None.
    """

    energy: torch.Tensor
    mask_fraction: torch.Tensor
    options: dict
    samples: Optional[torch.Tensor] = None


@dataclass(frozen=True)
class RandomisationResult:
    """The model-parameter randomisation test (see `randomisation`).

    `layers` are the randomised modules' dotted names, in the order randomised (stage l randomised
    `layers[l]`, and in the cascading order every layer before it too). `correlations[key]` is L×N:
    the Spearman rank correlation per stage and sample between the map of the original model and
    that of the randomised one (NaN where either map is constant). `original[key]` is the original
    model's N×h×w maps and `maps[key]` the L×N×h×w maps of the stages, for the cascade figure (rows:
    stages, columns: keys). `targets` is the class explained per sample on every model (long[N]; None
    for a callable target or one score per sample). `skipped` maps a parameterised module that was
    not randomised to the reason. `options` holds every option used, the engine's included.
    """

    layers: tuple
    order: str
    correlations: dict
    original: dict
    maps: dict
    targets: Optional[torch.Tensor]
    skipped: dict
    options: dict
