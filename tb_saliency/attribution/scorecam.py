"""Score-CAM (Wang et al. 2020): channels as input masks, weighted by the scores they keep."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .extending import MethodWithPasses, method_with_passes
from .reductions import safe_divide


def _masks(activations: torch.Tensor, size) -> torch.Tensor:
    """N×k×h×w activations -> k×N×H×W masks: upsampled bilinearly (linearly for N×k×t signals, to
    k×N×T), each min-max normalised to [0, 1]."""
    mode = "bilinear" if activations.dim() == 4 else "linear"
    up = F.interpolate(activations, size=size, mode=mode, align_corners=False)
    flat = up.flatten(2)
    spatial = (None,) * (up.dim() - 2)
    low = flat.amin(dim=2)[(..., *spatial)]
    high = flat.amax(dim=2)[(..., *spatial)]
    return safe_divide(up - low, (high - low).expand_as(up)).transpose(0, 1)


@method_with_passes("scorecam")
class ScoreCAM(MethodWithPasses):
    space = "layer"
    needs_gradients = False
    citation = "Wang et al. 2020"
    definition = "ReLU(Σ_k softmax_k(f(x ⊙ M_k)) A_k), M_k = A_k upsampled and min-max normalised"
    record = {
        "weights": "softmax over channels of masked-input target scores",
        "mask_upsampling": "bilinear",
        "align_corners": False,
        "mask_normalisation": "min_max per channel, 0 if constant",
    }

    def compute(self, context):
        """Σ_k softmax_k(f(x ⊙ M_k)) A_k, before the final ReLU: N×h×w. One masked copy of the batch per
        channel, run forward-only in chunks."""
        x, activations = context.inputs, context.activations
        channels = activations.shape[1]
        spatial = activations.dim() - 2
        size = x.shape[-spatial:]

        def make_rows(start, stop):
            masks = _masks(activations[:, start:stop], size)
            if x.dim() == spatial + 2:  # a channel axis in the inputs: one mask for every channel
                masks = masks.unsqueeze(2)
            return (x.unsqueeze(0) * masks.to(x.dtype)).reshape(-1, *x.shape[1:])

        scores = torch.empty(channels, x.shape[0], dtype=activations.dtype, device=x.device)
        label = "scorecam's masked copies"
        for start, stop, chunk_scores in context.score_chunks(make_rows, channels, label):
            scores[start:stop] = chunk_scores.to(scores.dtype)
        weights = torch.softmax(scores.t(), dim=1)
        return torch.einsum("nk,nk...->n...", weights, activations)
