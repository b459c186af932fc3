"""`Option`: one keyword option of `explain`, as a method's record declares it.

A method lists the options it takes in its record, each by name (an option declared elsewhere, such
as `seed`) or as an `Option`, which registering the method adds to the known options. This module
depends on nothing else of the package, so that the catalogue's records can hold options.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any, Callable

# Keywords `explain` and the writers take themselves: an option of that name could never be passed.
# (tests/writer checks this list against `log_saliency`'s signature.)
RESERVED_NAMES = frozenset({
    "model", "inputs", "methods", "target", "layer", "writer", "tag", "global_step", "walltime", "labels",
    "class_names", "mean", "std", "denormalize", "images", "dtype", "metrics", "masks", "boxes",
    "input_kind", "embeddings", "tokenizer", "sample_rate", "tokens", "progress", "metrics_every",
})


@dataclass(frozen=True)
class Option:
    """A keyword option of `explain`.

    name          the keyword (a Python identifier)
    default       the value when the option is not given
    check         `check(name, value) -> value`: validates a given value and returns it (normalised,
                  say int(value)); raises TypeError or ValueError whose message starts with the name
    help          what it means, for the README's options table and the docs
    default_text  how tables show the default when its repr does not say it ("128 MiB"); "" for the repr

    Several methods may take one option: they list the same `Option` (or its name). Declaring another
    option under a name that is taken is an error.
    """

    name: str
    default: Any
    check: Callable[[str, Any], Any]
    help: str = ""
    default_text: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier() or keyword.iskeyword(self.name):
            raise ValueError(f"name: expected an option name that is a Python identifier, got {self.name!r}")
        if self.name in RESERVED_NAMES:
            raise ValueError(f"name: {self.name!r} is an argument of explain or the writers, not a free option name")
        if not callable(self.check):
            raise TypeError(f"check: expected a callable check(name, value) -> value, got {type(self.check).__name__}")
        for what in ("help", "default_text"):
            if not isinstance(getattr(self, what), str):
                raise TypeError(f"{what}: expected a str, got {type(getattr(self, what)).__name__}")

    @property
    def doc(self) -> str:
        """The help text (the name the option table had before options became public)."""
        return self.help

    def same_as(self, other) -> bool:
        """Whether `other` declares this very option: the same object, or an equal one."""
        if self is other:
            return True
        try:
            return bool(self == other)
        except Exception:  # noqa: BLE001  (defaults such as tensors have no single truth value)
            return False


# The name the central table used for its entries.
OptionSpec = Option
