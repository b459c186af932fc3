"""Small tensor helpers shared by the methods: channel reduction and division that never makes NaN."""

from __future__ import annotations

import torch


def reduce_channels(values: torch.Tensor, how: str, axis=1) -> torch.Tensor:
    """Values with a channel axis (N×C×H×W images, N×C×T signals, N×T×D token embeddings with axis=2)
    -> the map without it: 'signed_sum', 'abs_sum', 'max_abs' or 'l2' (the Euclidean norm). axis=None:
    there is no channel axis (N×H×W images, N×T signals), and every reduction but the signed sum is |v|."""
    if axis is None:
        return values if how == "signed_sum" else values.abs()
    if how == "signed_sum":
        return values.sum(dim=axis)
    if how == "abs_sum":
        return values.abs().sum(dim=axis)
    if how == "l2":
        return torch.linalg.vector_norm(values, dim=axis)
    return values.abs().amax(dim=axis)


def safe_divide(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """numerator / denominator, and 0 where the denominator is 0 (a dead channel, a constant map)."""
    nonzero = denominator != 0
    return torch.where(
        nonzero,
        numerator / torch.where(nonzero, denominator, torch.ones_like(denominator)),
        torch.zeros_like(numerator),
    )


def accumulation_dtype(x: torch.Tensor) -> torch.dtype:
    """float64 maps for float64 inputs, float32 otherwise (half inputs accumulate in float32)."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32
