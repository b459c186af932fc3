"""Keyword options of `explain`: the known options, their validation, and the options table.

The options every method of a space takes (`channel_reduction`, `cam_relu`, `reshape`), that every
chunked method takes (`memory_limit`) and the engine's random source (`seed`, `generator`) are
declared here. A method's own options are declared in its file, as `Option` records in its
`Method.options`: registering the method adds them to `OPTIONS`, and unregistering it removes those
no other method takes. Which methods take an option is in the methods' records
(`catalog.Method.all_options`).

Every name is checked: an unknown name, or one that none of the requested methods uses, is an error,
so that a typo never silently falls back to a default.

    python -m tb_saliency.attribution --options    # the README's options table
"""

from __future__ import annotations

import difflib
import numbers
import types
from typing import Callable

import torch

from tb_saliency.value_checks import check_bool, check_choice, check_int, describe

from .catalog import CHUNK_OPTIONS, REGISTRY, SPACE_OPTIONS
from .option_spec import Option, OptionSpec  # noqa: F401  (OptionSpec: the name the table's entries had)
from .quadrature import RULES as IG_RULES  # noqa: F401  (where callers found the rules before)

CHANNEL_REDUCTIONS = ("signed_sum", "abs_sum", "max_abs", "l2")
RESHAPES = ("vit", "tokens", "fpn")


def int_at_least(low: int) -> Callable:
    return lambda name, value: check_int(name, value, low)


def choice(choices) -> Callable:
    return lambda name, value: check_choice(name, value, choices)


# Each copy costs one forward and backward pass of the whole batch. Beyond this many the maps no
# longer change (Gauss–Legendre is exact to rounding for any smooth path long before; the Monte
# Carlo error of SmoothGrad is 1% of its spread), and a typo such as 1e6 would otherwise run for days.
MAX_COPIES = 10_000


def copies(name, value):
    """A count of perturbed copies of the batch: an int from 1 to MAX_COPIES."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= MAX_COPIES:
        raise ValueError(
            f"{name}: expected an int from 1 to {MAX_COPIES:,} (each is a forward and backward pass of the "
            f"batch, and more do not change the map), got {describe(value)}"
        )
    return int(value)


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


def _reshape(name, value):
    if value is None or callable(value) or (isinstance(value, str) and value in RESHAPES):
        return value
    raise ValueError(
        f"{name}: expected None, a callable or one of {', '.join(map(repr, RESHAPES))}, got {describe(value)}"
    )


SHARED_OPTIONS = (
    Option(
        "channel_reduction",
        "signed_sum",
        choice(CHANNEL_REDUCTIONS),
        "how input-space maps reduce the channel axis (the hidden size of token embeddings): `\"signed_sum\"` "
        "(Σ_c), `\"abs_sum\"` (Σ_c |·|), `\"max_abs\"` (max_c |·|, Simonyan et al.'s saliency) or `\"l2\"` (the "
        "norm). For token batches the default is `\"l2\"` for gradient and smoothgrad, `\"signed_sum\"` for the others",
    ),
    Option(
        "seed",
        0,
        _seed,
        "seed of the engine's own generator for random perturbations (SmoothGrad noise, RISE masks, the "
        "`\"uniform\"` baseline); the global RNG is never used. None draws a fresh one (recorded). The noise drawn from a seed "
        "depends on the inputs' dtype and device: float64 inputs get other noise than float32 ones, so their "
        "maps differ by more than rounding",
    ),
    Option("generator", None, _generator, "a torch.Generator on the inputs' device, used instead of `seed`"),
    Option("cam_relu", True, check_bool, "apply each CAM method's final ReLU; False keeps the signed map"),
    Option(
        "reshape",
        None,
        _reshape,
        "how to turn a layer output that is not N×K×h×w into one (also for `activations`): `\"vit\"` drops the "
        "class token of an N×T×D output and folds the other T-1 tokens into a square grid, `\"tokens\"` folds "
        "all T, `\"fpn\"` resizes every level of a dict of N×K×h×w levels (a feature pyramid) bilinearly to the "
        "largest and averages them; a callable (given the output, a dict for a dict) must only rearrange "
        "elements (it is applied to activations and gradients alike)",
    ),
    Option(
        "memory_limit",
        128 * 2**20,
        int_at_least(1),
        "bytes of autograd graph one chunk of perturbed copies may hold, measured on the clean pass; a chunk "
        "always holds at least one copy of the batch. On a CPU, rows get slower once a chunk outgrows the "
        "caches; on a GPU a larger bound saves launches",
        default_text="128 MiB",
    ),
)

_OPTIONS = {option.name: option for option in SHARED_OPTIONS}
# name -> Option, the shared ones first, then those of each method in registration order: a read-only
# view that sees later registrations.
OPTIONS = types.MappingProxyType(_OPTIONS)


def add_options(method) -> None:
    """Makes the options `method` declares known; called by `catalog.register`, before it adds the method.

    A name it lists must be known or declared by it; a name declared by another method (or shared) must
    be declared by the same or an equal `Option`. Nothing is added when one is refused."""
    declared = {option.name: option for option in method.declared_options}
    for name, option in declared.items():
        known = _OPTIONS.get(name)
        if known is not None and not known.same_as(option):
            holders = sorted(option_users(name)) or ["tb_saliency itself"]
            raise ValueError(
                f"options: {name!r} of method {method.name!r} differs from the option {name!r} that "
                f"{', '.join(holders)} declared (default {describe(known.default)}); reuse that Option "
                "object, or give yours another name"
            )
    unknown = [name for name in method.option_names if name not in _OPTIONS and name not in declared]
    if unknown:
        raise ValueError(f"options: {', '.join(unknown)} not known; known options: {', '.join(_OPTIONS)}")
    for name, option in declared.items():
        _OPTIONS.setdefault(name, option)


def release_options(method) -> None:
    """Forgets the options of an unregistered `method` that no registered method takes and none shares."""
    shared = {option.name for option in SHARED_OPTIONS}
    for name in method.option_names:
        if name not in shared and not option_users(name):
            _OPTIONS.pop(name, None)


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
    for name in methods:
        record = REGISTRY[name]
        if record.check_options is not None:
            record.check_options(values)
    if given.get("generator") is not None and "seed" in given and given["seed"] is not None:
        raise ValueError("generator: give either seed or generator, not both")
    return values


def _default_text(option: Option) -> str:
    if option.default_text:
        return option.default_text
    if isinstance(option.default, str):
        return f'`"{option.default}"`'
    return str(option.default)


def _users_text(name: str) -> str:
    """Who takes the option: a whole space by its name, else the methods, in registration order."""
    for space, label in (("input", "input-space methods"), ("layer", "CAM methods")):
        if name in SPACE_OPTIONS[space]:
            return label
    return ", ".join(m for m, record in REGISTRY.items() if name in record.all_options)


def table_order() -> list:
    """The known options in the order a reader meets them: through the methods in registration order."""
    first_use = [name for record in REGISTRY.values() for name in record.all_options]
    first_use += [name for name in CHUNK_OPTIONS] + list(_OPTIONS)
    return [name for name in dict.fromkeys(first_use) if name in _OPTIONS]


def markdown_table() -> str:
    """The options table of the README, from the options and the methods' records."""
    rows = ["| option | default | for | meaning |", "| --- | --- | --- | --- |"]
    for name in table_order():
        option = _OPTIONS[name]
        cells = [f"`{name}`", _default_text(option), _users_text(name), option.help]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"
