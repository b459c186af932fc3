"""Metrics of saliency maps: faithfulness, localisation and sanity. Pure torch, no I/O.

    from tb_saliency.metrics import deletion, insertion, pointing_game, energy_pointing_game, randomisation

    maps = attribute(model, images, "gradcam", target=labels, layer="layer4")["gradcam"]
    deletion(model, images, maps, target=labels).auc          # Tensor[N], lower is better
    insertion(model, images, maps, target=labels).auc         # Tensor[N], higher is better
    pointing_game(maps, masks).hits                           # bool[N]
    energy_pointing_game(maps, masks).energy                  # Tensor[N] in [0, 1]
    randomisation(model, images, ["gradient", "gradcam"], layer="layer4").correlations  # {key: L×N}

Definitions (maps are N×h×w at any resolution; every metric upsamples them bilinearly with
align_corners=False to the resolution it works at)
    deletion     Petsiuk et al. 2018 (RISE). Pixels ordered by map value, highest first, ties by
                 pixel index (stable sort). Step k = 0..steps replaces the first ⌊k·H·W/steps⌋
                 pixels, all channels, by the baseline ("zeros" by default); curve = softmax
                 probability of the target class; AUC by the trapezoidal rule over k/steps ∈ [0, 1].
    insertion    The same from the baseline ("blur" by default): step k puts those pixels of the input
                 onto it.
    pointing_game          Zhang et al. 2016. A hit when the map's maximum (the first in raster order
                           on ties) lies within `tolerance` pixels (Euclidean, inclusive; 15 by default)
                           of a mask pixel.
    energy_pointing_game   Wang et al. 2020 (Score-CAM). Σ_mask ReLU(map) / Σ ReLU(map); 0 for a map
                           with no positive mass.
    randomisation          Adebayo et al. 2018 ("Sanity Checks"). Re-initialise the parameterised
                           layers of a deep copy from the output back (cascading or independent),
                           recompute the maps with the engine and report the Spearman rank correlation
                           per sample with the original maps (of |map| by default).

Every metric checks all its arguments before any work, with messages naming the argument, and leaves
the model exactly as `attribute` does: parameters, buffers, .grad, train/eval modes, requires_grad,
hooks and the global RNG (the model runs in eval mode; forward-only metrics run under no_grad).
Results are small frozen dataclasses of per-sample tensors on the inputs' (or maps') device.
"""

from .localisation import energy_pointing_game, pointing_game
from .perturbation import deletion, insertion
from .randomisation import randomisation
from .ranks import spearman
from .results import EnergyResult, PerturbationCurve, PointingResult, RandomisationResult

__all__ = [
    "deletion",
    "insertion",
    "pointing_game",
    "energy_pointing_game",
    "randomisation",
    "spearman",
    "PerturbationCurve",
    "PointingResult",
    "EnergyResult",
    "RandomisationResult",
]
