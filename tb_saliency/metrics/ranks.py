"""Spearman rank correlation with average ranks for ties, row by row, in torch."""

from __future__ import annotations

import torch


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..F of each row of N×F values, ties sharing the mean of their ranks (float64)."""
    ranks = torch.empty(values.shape, dtype=torch.float64, device=values.device)
    for i, row in enumerate(values):
        ordered, order = torch.sort(row, stable=True)
        _, inverse, counts = torch.unique_consecutive(ordered, return_inverse=True, return_counts=True)
        ends = torch.cumsum(counts, dim=0).to(torch.float64)  # 1-based rank of each group's last member
        group_rank = ends - (counts.to(torch.float64) - 1) / 2
        ranks[i, order] = group_rank[inverse]
    return ranks


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise Pearson correlation of N×F tensors (float64); NaN where a row is constant."""
    a = a.to(torch.float64) - a.to(torch.float64).mean(dim=1, keepdim=True)
    b = b.to(torch.float64) - b.to(torch.float64).mean(dim=1, keepdim=True)
    denominator = a.norm(dim=1) * b.norm(dim=1)
    nan = torch.full_like(denominator, float("nan"))
    return torch.where(denominator > 0, (a * b).sum(dim=1) / torch.where(denominator > 0, denominator, 1.0), nan)


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise Spearman rank correlation of N×F tensors: the Pearson correlation of their average
    ranks (as scipy.stats.spearmanr); NaN where a row is constant (its ranks have no spread)."""
    return pearson(average_ranks(a), average_ranks(b))
