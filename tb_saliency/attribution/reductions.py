"""Small tensor helpers shared by the methods: channel reduction and division that never makes NaN."""

from __future__ import annotations

import torch


def reduce_channels(values: torch.Tensor, how: str) -> torch.Tensor:
    """N×C×H×W -> N×H×W ('signed_sum', 'abs_sum' or 'max_abs'); N×H×W inputs have no channel axis."""
    if values.dim() == 3:
        return values if how == "signed_sum" else values.abs()
    if how == "signed_sum":
        return values.sum(dim=1)
    if how == "abs_sum":
        return values.abs().sum(dim=1)
    return values.abs().amax(dim=1)


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
