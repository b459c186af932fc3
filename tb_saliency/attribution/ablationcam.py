"""Ablation-CAM (Desai & Ramaswamy 2020): each channel weighted by the relative score drop when it is
zeroed in the layer's output.

The weight is the paper's slope w_k = (y - y_k) / y, as pytorch-grad-cam computes it, with 0 where
y = 0 instead of a division by zero. The channel is always set to 0, as in the paper; pytorch-grad-cam
sets it to min(A) - 1e7 instead when the layer's output holds no zero (a layer before its ReLU), so the
two agree on layers whose output has zeros (after a ReLU). `ablation_ratio` < 1 ablates each sample's
channels of largest mean activation; pytorch-grad-cam's ratio ranks channels by an "experimental"
overlap with an Eigen-CAM mask instead."""

from __future__ import annotations

import math
import numbers

import torch

from tb_saliency.value_checks import describe

from .extending import MethodWithPasses, method_with_passes
from .option_spec import Option
from .reductions import safe_divide


def _ratio(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1:
        raise ValueError(f"{name}: expected a number in (0, 1], got {describe(value)}")
    return float(value)


RATIO = Option(
    "ablation_ratio",
    1.0,
    _ratio,
    "fraction of each sample's channels ablated (rounded up): those of largest mean activation; the others "
    "get weight 0. 1.0 ablates every channel, as the paper",
)


def _channel_axis(reshape) -> int:
    """Where the channels are in the layer's own output, for the reshapes that keep them on one axis."""
    if reshape is None or reshape == "fpn":
        return 1
    if reshape in ("vit", "tokens"):
        return -1  # N×T×D: zeroed in every token, the class token too (as pytorch-grad-cam's AblationLayerVit)
    raise ValueError(
        "reshape: ablationcam zeroes channels in the layer's own output, and cannot find them through a "
        f"callable reshape ({getattr(reshape, '__qualname__', type(reshape).__name__)}); give reshape=None, "
        "'vit', 'tokens' or 'fpn'"
    )


def _ablated(output: torch.Tensor, chosen: torch.Tensor, axis: int) -> torch.Tensor:
    """`output` (k·N rows) with channel chosen[j, n] zeroed in row j·N + n."""
    copies, n = chosen.shape
    channels = output.shape[axis]
    drop = torch.zeros(copies * n, channels, dtype=torch.bool, device=output.device)
    drop[torch.arange(copies * n, device=output.device), chosen.reshape(-1)] = True
    shape = [copies * n] + [1] * (output.dim() - 1)
    shape[axis] = channels
    return output.masked_fill(drop.view(shape), 0)


@method_with_passes("ablationcam")
class AblationCAM(MethodWithPasses):
    space = "layer"
    needs_gradients = False
    options = (RATIO,)
    citation = "Desai & Ramaswamy 2020"
    definition = "ReLU(Σ_k (y − y_k)/y · A_k), y_k the score with channel k of the layer zeroed"
    record = {"weights": "(y - y_k)/y, y_k with channel k zeroed; 0 where y = 0 or k not ablated",
              "ablation": "zero", "channel_order": "mean activation, descending"}

    def check(self, inputs, options):
        _channel_axis(options["reshape"])

    def compute(self, context):
        """Σ_k w_k A_k before the final ReLU, w_k = (y − y_k)/y: N×h×w. One forward-only copy of the batch
        per ablated channel rank; copy j zeroes each sample's j-th most active channel."""
        activations, dtype = context.activations, context.dtype
        n, channels = activations.shape[:2]
        axis = _channel_axis(context.options["reshape"])
        ablated = min(channels, math.ceil(context.options["ablation_ratio"] * channels))
        means = activations.reshape(n, channels, -1).mean(dim=2)
        order = torch.argsort(means, dim=1, descending=True, stable=True)[:, :ablated].t()  # ablated × N
        window = {}

        def make_rows(start, stop):
            window["chosen"] = order[start:stop]
            x = context.inputs
            return x.unsqueeze(0).expand(stop - start, *x.shape).reshape(-1, *x.shape[1:])

        def hook(module, args, output):
            if isinstance(output, dict):
                return type(output)((key, _ablated(level, window["chosen"], axis)) for key, level in output.items())
            return _ablated(output, window["chosen"], axis)

        scores = torch.empty(ablated, n, dtype=dtype, device=activations.device)
        handle = context.layer_module.register_forward_hook(hook)
        try:
            with torch.no_grad():
                for start, stop, chunk in context.score_chunks(make_rows, ablated, "ablationcam's ablated copies"):
                    scores[start:stop] = chunk.to(dtype)
        finally:
            handle.remove()
        clean = context.clean_scores.to(dtype)
        weights = torch.zeros(n, channels, dtype=dtype, device=activations.device)
        weights.scatter_(1, order.t(), safe_divide(clean.unsqueeze(0) - scores, clean.unsqueeze(0).expand_as(scores)).t())
        context.record["ablated_channels"] = ablated
        return torch.einsum("nk,nk...->n...", weights, activations)
