"""RISE (Petsiuk et al. 2018): random smooth masks, each weighted by the score of the masked input."""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

from tb_saliency.value_checks import describe

from .extending import MethodWithPasses, method_with_passes
from .option_spec import Option
from .options import MAX_COPIES, copies, int_at_least


def _probability(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
        raise ValueError(f"{name}: expected a number in (0, 1], got {describe(value)}")
    return float(value)


MASKS = Option("rise_masks", 1000, copies,
               f"random masks (the paper's N; it used 4000 on ImageNet), at most {MAX_COPIES:,}")
CELLS = Option("rise_cells", 7, int_at_least(1), "cells per side of each mask's binary grid (the paper's s)")
KEEP = Option("rise_p", 0.5, _probability, "probability that a grid cell is kept (the paper's p)")


def rise_masks(count: int, cells: int, p: float, size, *, generator, dtype, device) -> torch.Tensor:
    """`count` RISE masks, count×H×W in [0, 1], as the paper makes them: a cells×cells grid of cells
    kept with probability p, upsampled bilinearly to (cells + 1)·⌈H/cells⌉ × (cells + 1)·⌈W/cells⌉,
    and cropped to H×W at a shift drawn uniformly from [0, ⌈H/cells⌉) × [0, ⌈W/cells⌉).

    Each mask draws its grid (cells² uniforms), then its two shifts, from `generator`, mask after mask,
    so the masks of a seed do not depend on how many are made at once."""
    height, width = size
    cell_h, cell_w = math.ceil(height / cells), math.ceil(width / cells)
    grids = torch.empty(count, 1, cells, cells, dtype=dtype, device=device)
    shifts = []
    for index in range(count):
        grids[index, 0] = (torch.rand(cells, cells, generator=generator, device=device) < p).to(dtype)
        shift = torch.randint(0, cell_h * cell_w, (1,), generator=generator, device=device)
        shifts.append(shift)
    up = F.interpolate(grids, size=((cells + 1) * cell_h, (cells + 1) * cell_w), mode="bilinear",
                       align_corners=False)[:, 0]
    # One draw over the cell's h·w positions is a uniform (row, column) pair.
    flat = torch.cat(shifts) if shifts else torch.zeros(0, dtype=torch.long, device=device)
    rows = (flat // cell_w).view(count, 1, 1) + torch.arange(height, device=device).view(1, height, 1)
    cols = (flat % cell_w).view(count, 1, 1) + torch.arange(width, device=device).view(1, 1, width)
    batch = torch.arange(count, device=device).view(count, 1, 1)
    return up[batch, rows, cols]


@method_with_passes("rise")
class RISE(MethodWithPasses):
    options = (MASKS, CELLS, KEEP, "seed", "generator")
    needs_gradients = False
    citation = "Petsiuk et al. 2018"
    definition = ("Σ_i f(x ⊙ M_i) M_i / (N·p): M_i random cells×cells binary grids (cells kept with probability "
                  "p), upsampled bilinearly and shifted at random")
    record = {"mask_upsampling": "bilinear", "align_corners": False, "normalisation": "N*p",
              "channels": "masked together: one value per pixel", "masks": "shared by the samples of the batch"}

    def compute(self, context):
        """Σ_i f(x ⊙ M_i) M_i / (N·p) per pixel, N×1×H×W (N×H×W for N×H×W inputs). Each mask is one
        forward-only copy of the batch; every sample of the batch gets the same masks."""
        x, opts, dtype = context.inputs, context.options, context.dtype
        count, cells, p = opts["rise_masks"], opts["rise_cells"], opts["rise_p"]
        size = x.shape[-2:]
        lift = (slice(None), None, None) if x.dim() == 4 else (slice(None), None)
        chunk_masks = {}

        def make_rows(start, stop):
            masks = rise_masks(stop - start, cells, p, size, generator=context.generator, dtype=x.dtype,
                               device=x.device)
            chunk_masks[start] = masks
            return (x.unsqueeze(0) * masks[lift]).reshape(-1, *x.shape[1:])

        total = torch.zeros(x.shape[0], *size, dtype=dtype, device=x.device)
        label = "rise's masked copies"
        with torch.no_grad():
            for start, _, scores in context.score_chunks(make_rows, count, label):
                total += torch.einsum("kn,khw->nhw", scores.to(dtype), chunk_masks.pop(start).to(dtype))
        context.record.update(masks=count, cells=cells, p=p, **context.noise_record)
        saliency = total / (count * p)
        return saliency.unsqueeze(1) if x.dim() == 4 else saliency
