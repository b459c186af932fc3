"""Localisation: does the map point at the object? The pointing game (Zhang et al. 2016) and its
energy-based variant (Wang et al. 2020)."""

from __future__ import annotations

import torch

from tb_saliency.attribution.reductions import safe_divide

from tb_saliency.value_checks import check_bool, check_nonnegative

from .checks import as_tensor, box_masks, check_boxes, check_masks, check_maps
from .perturbation import upsample
from .results import EnergyResult, PointingResult

_BOX_CONVENTION = "x0, y0, x1, y1 in pixels; x1, y1 exclusive"


def _regions(maps, masks, boxes, size, per_box=False):
    """(maps as floats at the masks' resolution, boolean masks on the maps' device, record, samples):
    N×H×W, or B×H×W with `per_box`, one row per box with its map (`samples` long[B] names the map;
    None without per_box)."""
    maps, masks, over_tokens = _token_rows(maps, masks, boxes)
    maps = check_maps(maps)
    n = maps.shape[0]
    per_box = check_bool("per_box", per_box)
    if (masks is None) == (boxes is None):
        raise TypeError("masks: give either masks (N×H×W booleans) or boxes= (N×4, with size=(H, W)), exactly one")
    samples = None
    if per_box:
        if boxes is None:
            raise ValueError("per_box: scores each box of boxes= on its own, so it needs boxes=, got masks")
        regions, samples = box_masks(boxes, n, size)
        empty = ~regions.flatten(1).any(dim=1)
        if bool(empty.any()):
            row = int(empty.nonzero()[0])
            raise ValueError(f"boxes: box {row} (of sample {int(samples[row])}) covers no pixel of the "
                             f"{regions.shape[1]}×{regions.shape[2]} image")
        record = {"region": "boxes", "per_box": True, "box_convention": _BOX_CONVENTION}
        samples = samples.to(maps.device)
        maps = maps[samples]
    elif boxes is not None:
        regions = check_boxes(boxes, n, size)
        record = {"region": "boxes", "box_convention": _BOX_CONVENTION}
    else:
        if size is not None:
            raise ValueError("size: only used with boxes (masks carry their own size)")
        regions = check_masks(masks, n)
        record = {"region": "token masks" if over_tokens else "masks"}
    regions = regions.to(maps.device)
    up = upsample(maps, regions.shape[1:])
    record.update(
        map_size=[int(maps.shape[1]), int(maps.shape[2])],
        size=[int(regions.shape[1]), int(regions.shape[2])],
        upsampling="bilinear, align_corners=False" if tuple(maps.shape[1:]) != tuple(regions.shape[1:]) else "none",
    )
    return up, regions, record, samples


def _token_rows(maps, masks, boxes):
    """N×T maps with N×T masks (tokens, time steps) as 1×T images: (maps, masks, whether they were)."""
    if boxes is not None or masks is None:
        return maps, masks, False
    maps_tensor, masks_tensor = as_tensor(maps, "maps"), as_tensor(masks, "masks")
    if maps_tensor.dim() == 2 and masks_tensor.dim() == 2:
        return maps_tensor[:, None], masks_tensor[:, None], True
    return maps, masks, False


def pointing_game(maps, masks=None, *, boxes=None, size=None, tolerance=None, per_box=False) -> PointingResult:
    """The pointing game (Zhang, Lin, Brandt, Shen & Sclaroff 2016, "Top-down Neural Attention by
    Excitation Backprop", ECCV; IJCV 2018).

    Each map is upsampled bilinearly (align_corners=False) to its mask's H×W, and its maximum taken,
    the first in raster (row-major) order on ties. It is a hit when that pixel lies within Euclidean
    distance `tolerance` (inclusive) of a mask pixel, distances measured between pixel centres: the
    paper's 15-pixel tolerance. The pointing accuracy of a set is hits / samples (`.accuracy`).

    Args:
        maps: N×h×w maps (N×1×h×w accepted), tensor or array, any resolution, finite. The raw map
            counts: take the absolute value first for a method whose negative values are evidence too.
        masks: N×H×W boolean masks of the object (N×1×H×W, or numbers that are all 0 or 1, accepted).
        boxes: instead of masks, bounding boxes (x0, y0, x1, y1) in pixels: N×4, or a list of N items
            each 4 numbers or K×4 (a sample hits when it hits any of its boxes). A pixel belongs to a
            box when its centre lies in [x0, x1) × [y0, y1): for integer boxes columns x0..x1-1 and
            rows y0..y1-1 (x1, y1 exclusive, as in slicing and torchvision's boxes).
        size: (H, W) of the image the boxes are in; needed with boxes only.
        tolerance: the distance in pixels (≥ 0) within which a maximum still hits; 0 means on the mask.
            None (default): the paper's 15 pixels, and 0 over tokens.
        per_box: False (default): one result per sample. True (with boxes=): one per box, the map of
            its sample against that box alone, in order of sample then box; `samples` (long[B]) names
            each row's sample. For several objects per image (detection, `each_box`), the accuracy
            is then hits / boxes.

    Over tokens (or time steps), `maps` N×T with `masks` N×T booleans: the highest-scoring token
    hits when it is in the mask (the first on ties); `points` give (0, position).

    Every sample needs a non-empty mask (an error names the first that has none): leave images
    without the object out, as the paper does. Returns a `PointingResult` (hits bool[N], points,
    distances) on the maps' device.
    """
    up, regions, record, samples = _regions(maps, masks, boxes, size, per_box)
    default = 0 if record["region"] == "token masks" else 15
    tolerance = check_nonnegative("tolerance", default if tolerance is None else tolerance)
    n, height, width = regions.shape
    flat = up.flatten(1)
    index = flat.argmax(dim=1)  # the first maximum in raster order
    rows, cols = index // width, index % width
    grid_rows = torch.arange(height, device=up.device).view(1, height, 1)
    grid_cols = torch.arange(width, device=up.device).view(1, 1, width)
    squared = (grid_rows - rows.view(n, 1, 1)) ** 2 + (grid_cols - cols.view(n, 1, 1)) ** 2
    far = torch.iinfo(squared.dtype).max
    nearest = torch.where(regions, squared, torch.full_like(squared, far)).flatten(1).amin(dim=1)
    hits = nearest.to(torch.float64) <= tolerance * tolerance
    return PointingResult(
        hits=hits,
        points=torch.stack([rows, cols], dim=1),
        distances=nearest.to(up.dtype).sqrt(),
        options={"tolerance": tolerance, "ties": "first in raster order", **record},
        samples=samples,
    )


def energy_pointing_game(maps, masks=None, *, boxes=None, size=None, per_box=False) -> EnergyResult:
    """The energy-based pointing game (Wang, Wang, Du, Yang, Zhang, Ding, Mardziel & Hu 2020,
    "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks", CVPR workshops):
    the share of the map's positive mass that falls on the object,

        energy = Σ_{p ∈ mask} ReLU(map)_p / Σ_p ReLU(map)_p,

    with the map upsampled bilinearly (align_corners=False) to the mask's H×W. A map with no positive
    mass (all values ≤ 0) scores 0: it points nowhere. Arguments `maps`, `masks`, `boxes`, `size`,
    `per_box` as for `pointing_game` (per box: the share of the sample's map inside that box).
    Returns an `EnergyResult` (energy N in [0, 1], and the mask's share of the image, which a uniform
    map would score) on the maps' device.
    """
    up, regions, record, samples = _regions(maps, masks, boxes, size, per_box)
    positive = up.clamp(min=0).flatten(1)
    total = positive.sum(dim=1)
    inside = (positive * regions.flatten(1)).sum(dim=1)
    energy = safe_divide(inside, total)  # 0 where the map has no positive mass
    return EnergyResult(
        energy=energy,
        mask_fraction=regions.flatten(1).to(up.dtype).mean(dim=1),
        options={"relu": True, "no_positive_mass": 0.0, **record},
        samples=samples,
    )
