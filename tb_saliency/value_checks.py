"""Checks of plain values (ints, numbers, choices, flags) shared by the engine, the metrics, the
writer and the callbacks, so that one kind of mistake reads the same everywhere: the argument's
name, what was expected, what came. No torch: the viewer side imports it too."""

import numbers
import sys


def describe(value, limit: int = 80) -> str:
    """What came, short enough for a message: a tensor by its shape and dtype (its values would be
    unreadable), anything else by its repr, cut at `limit` characters."""
    torch = sys.modules.get("torch")  # a tensor exists only where torch is loaded; never import it here
    if torch is not None and isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected an int >= {low}, got {describe(value)}")
    return int(value)


def check_nonnegative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 <= value < float("inf")):
        raise ValueError(f"{name}: expected a finite number >= 0, got {describe(value)}")
    return float(value)


def check_choice(name: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {describe(value)}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected True or False, got {describe(value)}")
    return value
