"""NaN and Inf are refused, never returned: which samples a non-finite result belongs to, and the
error that names them and the argument to blame."""

from __future__ import annotations

import torch

_LISTED = 8


def nonfinite_samples(values: torch.Tensor, n: int) -> list:
    """The sample indices (0..n-1) whose rows hold NaN or Inf; rows are copy-major, row = copy·n + sample.

    A tensor without data (the "meta" device) has nothing to check."""
    if values.device.type == "meta" or not values.is_floating_point() or values.numel() == 0:
        return []
    bad_rows = ~torch.isfinite(values.reshape(values.shape[0], -1)).all(dim=1)
    if not bool(bad_rows.any()):
        return []
    rows = bad_rows.nonzero().flatten().tolist()
    return sorted({row % n for row in rows})


def describe_samples(samples: list) -> str:
    listed = ", ".join(str(s) for s in samples[:_LISTED])
    more = f" and {len(samples) - _LISTED} more" if len(samples) > _LISTED else ""
    return f"sample{'s' if len(samples) > 1 else ''} {listed}{more}"


def check_finite(values: torch.Tensor, n: int, *, argument: str, what: str, where: str = "", hint: str = "") -> None:
    """Raise `argument: expected finite <what>, got NaN or Inf for samples ...` when any value is not finite."""
    samples = nonfinite_samples(values, n)
    if samples:
        where = f" {where}" if where else ""
        hint = f"; {hint}" if hint else ""
        got = f"got NaN or Inf for {describe_samples(samples)}"
        raise ValueError(f"{argument}: expected finite {what}, {got}{where}{hint}")
