"""Keyword options of `explain`: names, defaults and validation. Which methods use an option is in
the methods' records (`catalog.Method.all_options`).

Every name is checked: an unknown name, or one that none of the requested methods uses, is an error,
so that a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable

import torch

from tb_saliency.value_checks import check_bool, check_choice, check_int, check_nonnegative, describe

from .catalog import REGISTRY
from .quadrature import MIN_STEPS, RULES as IG_RULES

NOISE_TYPES = ("relative", "absolute")
SMOOTHGRAD_VARIANTS = ("mean", "mean_of_squares", "variance")
BASELINES = ("zeros", "blur", "uniform")
CHANNEL_REDUCTIONS = ("signed_sum", "abs_sum", "max_abs", "l2")
RESHAPES = ("vit", "tokens")


def _int_at_least(low: int) -> Callable:
    return lambda name, value: check_int(name, value, low)


# Each copy costs one forward and backward pass of the whole batch. Beyond this many the maps no
# longer change (Gauss–Legendre is exact to rounding for any smooth path long before; the Monte
# Carlo error of SmoothGrad is 1% of its spread), and a typo such as 1e6 would otherwise run for days.
MAX_COPIES = 10_000


def _copies(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= MAX_COPIES:
        raise ValueError(
            f"{name}: expected an int from 1 to {MAX_COPIES:,} (each is a forward and backward pass of the "
            f"batch, and more do not change the map), got {describe(value)}"
        )
    return int(value)


def _optional_positive(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value < float("inf")):
        raise ValueError(f"{name}: expected a finite number > 0 or None, got {describe(value)}")
    return float(value)


def _choice(choices) -> Callable:
    return lambda name, value: check_choice(name, value, choices)


def _seed(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < 2**64:
        raise ValueError(
            f"{name}: expected an int >= 0 or None (a fresh random seed), at most 2**64 - 1, got {describe(value)}"
        )
    return int(value)


def _generator(name, value):
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name}: expected a torch.Generator or None, got {describe(value)}")
    return value


def _baseline(name, value):
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")
        if value.device.type != "meta" and not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name}: expected finite values, got a tensor with NaN or Inf")
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"{name}: expected a finite number, got {describe(value)}")
        return float(value)
    if isinstance(value, str) and value in BASELINES:
        return value
    raise ValueError(
        f"{name}: expected one of {', '.join(map(repr, BASELINES))}, a number or a tensor broadcastable "
        f"to the inputs, got {describe(value)}"
    )


def _optional_token_id(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: expected a token id (an int >= 0) or None (the config's pad_token_id), "
                         f"got {describe(value)}")
    return int(value)


def _rollout_from(name, value):
    if isinstance(value, str) and value == "last":
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected a token position (an int, negative from the end) or 'last' (each "
                         f"sample's last token that is not padding), got {describe(value)}")
    return int(value)


def _reshape(name, value):
    if value is None or callable(value) or (isinstance(value, str) and value in RESHAPES):
        return value
    raise ValueError(
        f"{name}: expected None, a callable or one of {', '.join(map(repr, RESHAPES))}, got {describe(value)}"
    )


@dataclass(frozen=True)
class OptionSpec:
    default: Any
    check: Callable[[str, Any], Any]
    doc: str


OPTIONS = {
    "channel_reduction": OptionSpec(
        "signed_sum",
        _choice(CHANNEL_REDUCTIONS),
        "how input-space maps reduce the channel axis (the hidden size of token embeddings): 'signed_sum' "
        "(Σ_c), 'abs_sum' (Σ_c |·|), 'max_abs' (max_c |·|, Simonyan et al.'s saliency) or 'l2' (the norm). "
        "For token batches the default is 'l2' for gradient and smoothgrad, 'signed_sum' for the others",
    ),
    "smoothgrad_samples": OptionSpec(
        50, _copies, f"noisy copies averaged (the paper's n), at most {MAX_COPIES:,}"
    ),
    "smoothgrad_noise": OptionSpec(
        0.15,
        check_nonnegative,
        "noise standard deviation: a fraction of each sample's value range (max - min) when "
        "smoothgrad_noise_type='relative', the σ itself when 'absolute'",
    ),
    "smoothgrad_noise_type": OptionSpec("relative", _choice(NOISE_TYPES), "'relative' or 'absolute'"),
    "smoothgrad_variant": OptionSpec(
        "mean",
        _choice(SMOOTHGRAD_VARIANTS),
        "'mean' (SmoothGrad), 'mean_of_squares' (SmoothGrad-Squared) or 'variance' (VarGrad, population variance)",
    ),
    "ig_steps": OptionSpec(50, _copies, f"quadrature nodes along the path, at most {MAX_COPIES:,}"),
    "ig_rule": OptionSpec("gauss_legendre", _choice(IG_RULES), "quadrature rule"),
    "baseline": OptionSpec(
        "zeros",
        _baseline,
        "'zeros', 'blur' (a Gaussian blur of each input), 'uniform' (uniform noise over each sample's "
        "[min, max]), a number, or a tensor broadcastable to the inputs",
    ),
    "baseline_token": OptionSpec(
        None,
        _optional_token_id,
        "token batches: the id whose embedding replaces every token but special and padding ones in the "
        "integrated-gradients baseline; None means the model config's pad_token_id",
    ),
    "rollout_from": OptionSpec(
        0,
        _rollout_from,
        "attention_rollout: the token whose row of the rollout is the map (0: the class token; 'last': each "
        "sample's last token that is not padding, for causal language models)",
    ),
    "blur_sigma": OptionSpec(
        None, _optional_positive, "σ in pixels of the 'blur' baseline; None means a tenth of the larger image side"
    ),
    "seed": OptionSpec(
        0,
        _seed,
        "seed of the engine's own generator for SmoothGrad noise and the 'uniform' baseline (the global "
        "RNG is never used); None draws a fresh one. The noise drawn from a seed depends on the inputs' dtype "
        "and device: float64 inputs get other noise than float32 ones, so their maps differ by more than rounding",
    ),
    "generator": OptionSpec(None, _generator, "a torch.Generator on the inputs' device, used instead of seed"),
    "cam_relu": OptionSpec(True, check_bool, "apply each CAM method's final ReLU; False keeps the signed map"),
    "reshape": OptionSpec(
        None,
        _reshape,
        "how to turn a layer output that is not N×K×h×w into one: 'vit' drops the class token of an "
        "N×T×D output and folds the other T-1 tokens into a square grid, 'tokens' folds all T; a "
        "callable must only rearrange elements (it is applied to activations and gradients alike)",
    ),
    "memory_limit": OptionSpec(
        128 * 2**20,
        _int_at_least(1),
        "bytes of autograd graph one chunk of perturbed copies may hold (SmoothGrad, integrated gradients, "
        "Score-CAM), measured on the clean pass; a chunk always holds at least one copy of the batch. On a "
        "CPU, rows get slower once a chunk outgrows the caches; on a GPU a larger bound saves launches",
    ),
}


def option_users(name: str) -> frozenset:
    """The registered methods that take option `name`."""
    return frozenset(m for m, record in REGISTRY.items() if name in record.all_options)


def resolve_options(methods, given: dict) -> dict:
    """Validated option values for `methods`: the given ones plus the defaults of every used option."""
    requested = set(methods)
    for name in given:
        if name not in OPTIONS:
            close = difflib.get_close_matches(name, OPTIONS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"{name}: unknown option{hint}; accepted options: {', '.join(sorted(OPTIONS))}")
        users = option_users(name)
        if not users & requested:
            raise ValueError(
                f"{name}: not used by the requested methods ({', '.join(methods)}); "
                f"it applies to {', '.join(m for m in sorted(users))}"
            )
    values = {}
    used = {name for m in requested for name in REGISTRY[m].all_options}
    for name, spec in OPTIONS.items():
        if name in used:
            values[name] = spec.check(name, given[name]) if name in given else spec.default
    if "blur_sigma" in given and given["blur_sigma"] is not None and values.get("baseline") != "blur":
        raise ValueError(
            f"blur_sigma: only used with baseline='blur', got baseline={describe(values.get('baseline'))}"
        )
    if "ig_rule" in values and values["ig_steps"] < MIN_STEPS.get(values["ig_rule"], 1):
        raise ValueError(
            f"ig_steps: {values['ig_rule']} needs at least {MIN_STEPS[values['ig_rule']]} steps, "
            f"got {values['ig_steps']}"
        )
    if given.get("generator") is not None and "seed" in given and given["seed"] is not None:
        raise ValueError("generator: give either seed or generator, not both")
    return values


