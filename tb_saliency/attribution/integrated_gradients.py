"""Integrated gradients (Sundararajan et al. 2017) by quadrature along the straight path x0 -> x."""

from __future__ import annotations

import torch

from .passes import gradient_chunks
from .quadrature import nodes_and_weights
from .reductions import accumulation_dtype


def integrated_gradients(model, x, x0, scorer, *, steps, rule, chunk) -> torch.Tensor:
    """(x - x0) · Σ_i w_i ∂f/∂x(x0 + α_i (x - x0)), per element: N×C×H×W."""
    dtype = accumulation_dtype(x)
    nodes, weights = nodes_and_weights(rule, steps)
    alphas = torch.tensor(nodes, dtype=x.dtype, device=x.device)
    weights = torch.tensor(weights, dtype=dtype, device=x.device)
    diff = x - x0
    shape = (-1,) + (1,) * x.dim()

    def make_rows(start, stop):
        return (x0.unsqueeze(0) + alphas[start:stop].view(shape) * diff.unsqueeze(0)).reshape(-1, *x.shape[1:])

    path_mean = torch.zeros(x.shape, dtype=dtype, device=x.device)
    label = "integrated_gradients' path nodes"
    for start, stop, grads in gradient_chunks(model, scorer, make_rows, steps, chunk, label):
        path_mean += torch.tensordot(weights[start:stop], grads.to(dtype), dims=1)
    return diff.to(dtype) * path_mean


def completeness_gap(attribution: torch.Tensor, score: torch.Tensor, baseline_score: torch.Tensor) -> torch.Tensor:
    """Σ attribution - (f(x) - f(x0)) per sample: zero for exact integration."""
    n = attribution.shape[0]
    return attribution.reshape(n, -1).sum(dim=1) - (score.to(attribution.dtype) - baseline_score.to(attribution.dtype))
