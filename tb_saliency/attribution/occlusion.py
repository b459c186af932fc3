"""Occlusion (Zeiler & Fergus 2014): the score drop when a square patch of every channel is replaced
by the baseline, averaged per pixel over the patches that cover it, as captum's `Occlusion` does."""

from __future__ import annotations

import math
import numbers

import torch

from tb_saliency.value_checks import describe

from .baselines import BASELINE, BLUR_SIGMA, check_baseline, check_blur_sigma_use, make_baseline
from .extending import MethodWithPasses, method_with_passes
from .option_spec import Option


def _optional_side(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected an int >= 1 (pixels) or None, got {describe(value)}")
    return int(value)


WINDOW = Option(
    "occlusion_window",
    None,
    _optional_side,
    "side in pixels of the square patch occluded across all channels, at most the shorter image side",
    default_text="an eighth of the shorter image side (rounded up)",
)
STRIDE = Option(
    "occlusion_stride",
    None,
    _optional_side,
    "pixels the patch moves by, at most `occlusion_window`; the last patch of a row or column may hang "
    "over the edge (captum's sliding window)",
    default_text="half the window (at least 1)",
)


def window_and_stride(options, x: torch.Tensor) -> tuple:
    """The patch side and the stride for inputs `x`, the defaults resolved; errors name the option."""
    height, width = x.shape[-2:]
    window = options["occlusion_window"]
    if window is None:
        window = max(1, math.ceil(min(height, width) / 8))
    if window > min(height, width):
        raise ValueError(
            f"occlusion_window: expected at most the shorter image side ({min(height, width)} pixels) for inputs "
            f"of shape {tuple(x.shape)}, got {window}"
        )
    stride = options["occlusion_stride"]
    if stride is None:
        stride = max(1, window // 2)
    if stride > window:
        raise ValueError(
            f"occlusion_stride: expected at most occlusion_window ({window}), so that every pixel is occluded, "
            f"got {stride}"
        )
    return window, stride


def _starts(side: int, window: int, stride: int) -> list:
    """captum's positions along one axis: ceil((side - window) / stride) + 1 windows, the last one cut
    at the edge when the stride does not divide side - window."""
    return [i * stride for i in range(math.ceil((side - window) / stride) + 1)]


def window_masks(height: int, width: int, window: int, stride: int, device) -> torch.Tensor:
    """P×H×W booleans, one occluded patch each, row-major over the patch positions."""
    rows = [(top, left) for top in _starts(height, window, stride) for left in _starts(width, window, stride)]
    masks = torch.zeros(len(rows), height, width, dtype=torch.bool, device=device)
    for index, (top, left) in enumerate(rows):
        masks[index, top:top + window, left:left + window] = True
    return masks


@method_with_passes("occlusion")
class Occlusion(MethodWithPasses):
    options = (WINDOW, STRIDE, BASELINE, BLUR_SIGMA, "seed", "generator")
    needs_gradients = False
    citation = "Zeiler & Fergus 2014"
    definition = ("mean over the w × w patches covering a pixel of f(x) − f(x with the patch, all channels, set "
                  "to the baseline); patches every `occlusion_stride` pixels, as captum's Occlusion")
    record = {"channels": "occluded together: one value per pixel", "average": "over the patches covering the pixel"}

    def check_options(self, options):
        check_blur_sigma_use(options["baseline"], options["blur_sigma"])

    def check(self, inputs, options):
        check_baseline(options["baseline"], options["blur_sigma"], inputs)
        window_and_stride(options, inputs)

    def compute(self, context):
        """The mean drop per pixel, N×1×H×W (N×H×W for N×H×W inputs), which `channel_reduction` leaves as
        it is ('signed_sum') or takes the magnitude of. One forward-only copy of the batch per patch."""
        x, opts, dtype = context.inputs, context.options, context.dtype
        window, stride = window_and_stride(opts, x)
        x0, baseline_record = make_baseline(opts["baseline"], x, blur_sigma=opts["blur_sigma"],
                                            generator=context.generator)
        masks = window_masks(*x.shape[-2:], window, stride, x.device)
        lift = (slice(None), None, None) if x.dim() == 4 else (slice(None), None)

        def make_rows(start, stop):
            return torch.where(masks[start:stop][lift], x0.unsqueeze(0), x.unsqueeze(0)).reshape(-1, *x.shape[1:])

        clean = context.clean_scores.to(dtype)
        total = torch.zeros(x.shape[0], *x.shape[-2:], dtype=dtype, device=x.device)
        label = "occlusion's occluded copies"
        with torch.no_grad():
            for start, stop, scores in context.score_chunks(make_rows, masks.shape[0], label):
                drops = clean.unsqueeze(0) - scores.to(dtype)
                total += torch.einsum("kn,khw->nhw", drops, masks[start:stop].to(dtype))
            covering = masks.sum(dim=0).to(dtype)  # ≥ 1 everywhere, since the stride is at most the window
        context.record.update(window=window, stride=stride, patches=int(masks.shape[0]), **baseline_record)
        if baseline_record["baseline"] == "uniform":
            context.record.update(context.noise_record)
        mean_drop = total / covering
        return mean_drop.unsqueeze(1) if x.dim() == 4 else mean_drop
