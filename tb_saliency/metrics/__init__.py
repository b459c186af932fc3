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
                 probability of the target class (the raw score for a box or segment target of
                 tb_saliency.targets); AUC by the trapezoidal rule over k/steps ∈ [0, 1].
    insertion    The same from the baseline ("blur" by default): step k puts those pixels of the input
                 onto it.
    pointing_game          Zhang et al. 2016. A hit when the map's maximum (the first in raster order
                           on ties) lies within `tolerance` pixels (Euclidean, inclusive; 15 by default)
                           of a mask pixel.
    energy_pointing_game   Wang et al. 2020 (Score-CAM). Σ_mask ReLU(map) / Σ ReLU(map); 0 for a map
                           with no positive mass. Both games take boxes= for masks, and per_box=True
                           scores every box of a sample on its own (one result per box).
    randomisation          Adebayo et al. 2018 ("Sanity Checks"). Re-initialise the parameterised
                           layers of a deep copy from the output back (cascading or independent),
                           recompute the maps with the engine and report the Spearman rank correlation
                           per sample with the original maps (of |map| by default).

Every metric checks all its arguments before any work, with messages naming the argument, and leaves
the model exactly as `attribute` does: parameters, buffers, .grad, train/eval modes, requires_grad,
hooks and the global RNG (the model runs in eval mode; forward-only metrics run under no_grad).
Results are small frozen dataclasses of per-sample tensors on the inputs' (or maps') device.

Deliberate differences from Quantus 0.6 (tests/metrics/test_quantus.py checks the agreement where the
definitions meet)
    Deletion / insertion. Quantus 0.6 has no RISE deletion or insertion metric. The nearest is
        `PixelFlipping` (Bach et al. 2015): it broadcasts the map to every channel and sorts the
        C·H·W features with NumPy's unstable argsort (ties in any order), `features_in_step` features
        per step, which must divide H·W; its curve omits the unperturbed input (our k = 0), its
        default baseline is "black" (each sample's minimum, not 0) and its AUC uses dx = 1 per step
        (ours: the x-axis is k/steps ∈ [0, 1]; NumPy 2 has removed the `np.trapz` it calls). With
        distinct map values, features_in_step = C·H·W/steps a multiple of C (whole pixels) and a
        constant baseline, its curve is our deletion curve[:, 1:]; on 1 - map (least relevant
        first; it refuses all-negative maps) it is our insertion curve[:, :steps] reversed.
        `RegionPerturbation` (Samek et al. 2017) sorts patches by summed relevance and reports the
        drop f(x) - f(x_k), one patch per step: for a map constant on its patches that is
        curve[:, 0] - deletion curve[:, 1:] with one patch per step. `IROF` (superpixels), `ROAD`
        (noisy linear imputation) and `Selectivity` (patches) perturb otherwise. Quantus normalises
        maps by their maximum |value| first, which changes no ordering. Both score the softmax
        probability of the given target by default (Quantus: softmax=True).
    Pointing game. Quantus's `PointingGame` has no tolerance (a hit means on the mask) and counts a
        hit when any of the tied maxima is on the mask, so a constant map always hits; here the first
        maximum in raster order counts, and tolerance defaults to the paper's 15 pixels. Quantus gives
        an empty mask NaN (as a bool: True); here an empty mask is an error. With tolerance=0 and a
        unique maximum the two agree.
    Energy. Quantus's `AttributionLocalisation` with abs=False, positive_attributions=True and
        normalise=False computes Σ_mask ReLU(map) / (Σ ReLU(map) + 1e-9); with non-negative maps
        `RelevanceMassAccuracy` (no ReLU) is the same ratio without the 1e-9. Defaults differ:
        AttributionLocalisation takes |map| by default; here ReLU(map) (Score-CAM's energy of the
        positive map), and no epsilon (a map without positive mass scores exactly 0).
    Randomisation. Quantus's `MPRT` (alias `ModelParameterRandomisation`) randomises every module
        with a reset_parameters() method in `named_modules()` order (reversed for "top_down"),
        re-seeding the global RNG with torch.manual_seed(seed + 1) before each layer, so every layer
        draws the same stream and the global RNG is left changed, and re-initialises on the model's
        device (whose generator differs from the CPU's). Here: modules that own parameters, in the
        order they finish their forward pass, reversed; layer i of named_modules() re-initialised
        on the CPU with the CPU generator seeded with reinit_seed + i (the same weights on every
        device), and the global RNG restored. Quantus also needs the model in eval mode, takes |map|
        and normalises by the maximum (neither changes Spearman ranks, though its float32 division
        can merge near-equal values into ties) and reports an extra "original" entry (≈ 1). Quantus
        needs maps at the input's resolution, so a CAM is compared there after upsampling; here
        each map is compared at its own resolution. Same similarity: scipy's spearmanr, average
        ranks for ties. With the same seed for a layer the two give the same weights and the same ρ.
"""

import tb_saliency.needs_torch  # noqa: F401  (first: a clear ImportError without torch)

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
