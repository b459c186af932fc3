"""The method catalogue: one `Method` record per method, registered by name, in registration order.

A record holds everything that differs between methods: its space, the pass it reads, its options,
its statistics, what is stored with its maps, its citation and its compute function. The engine's
dispatch, the argument checks, which method takes which option and the README's method table are
all derived from the records, so adding a method is one file plus one registration.

    python -m tb_saliency.attribution --markdown    # the README's method table
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from .option_spec import Option

SPACES = ("input", "layer", "model")
# The one forward (and backward) pass on the clean inputs that several methods read; None: passes of its own.
SHARED_PASSES = ("clean",)
# Options every method of a space takes, and every chunked method: no record lists them itself.
SPACE_OPTIONS = {"input": ("channel_reduction",), "layer": ("cam_relu", "reshape"), "model": ("reshape",)}
# The input kinds (see `kinds`) a method supports unless its record says otherwise.
ALL_INPUT_KINDS = ("image", "signal", "tokens")
CHUNK_OPTIONS = ("memory_limit",)

# Simple identifiers: a map key is "method" or "method@layer", and names travel into tags and URLs.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")


@dataclass(frozen=True)
class Method:
    """One attribution method.

    name             the name users pass in `methods` (a simple identifier)
    space            "input" (an N×H×W map at the input's resolution, channels reduced by
                     `channel_reduction`), "layer" (an N×h×w map at a layer's resolution, after
                     `cam_relu`) or "model" (a map the model computes itself, such as attention
                     rollout: no layer, no channel reduction, no ReLU)
    compute          for shared_pass "clean": f(A, g) -> N×h×w (layer) or f(x, g) -> N×C×H×W (input),
                     g the gradient of the target score; for shared_pass None: f(context) -> the same
                     shapes, context a `PassContext` (see `MethodWithPasses`)
    needs_gradients  whether it differentiates the model (False: forward passes only)
    shared_pass      "clean" when it reads the one pass on the clean inputs, None for passes of its own
    chunked          whether it runs perturbed copies of the batch in chunks bounded by `memory_limit`
    options          the options it takes beyond its space's (and `memory_limit` when chunked): each
                     an `Option` it declares (registering the method makes it known) or the name of
                     one declared elsewhere ("seed")
    statistics       names of the per-sample statistics it returns beside its maps
    citation         the paper ("Selvaraju et al. 2017"), "" for none
    definition       its formula, as the method table shows it
    record           what is stored with every map beside its options (how it weighs channels)
    needs_images     whether it needs inputs shaped N×C×H×W (or N×H×W), not any N×...
    check            f(inputs, options) run before the model, for option checks that need the inputs
    check_options    f(options) run when the options are resolved, for checks between its options
    builtin          part of tb_saliency (built-in records cannot be unregistered)
    input_kinds      names of the input kinds (`kinds.KINDS`: "image", "signal", "tokens") it supports
    model_requirements  what it needs of the model beyond outputs to score (("attentions",): the model
                     returns its attention weights when called with output_attentions=True)
    """

    name: str
    space: str
    compute: Callable
    needs_gradients: bool = True
    shared_pass: Optional[str] = None
    chunked: bool = False
    options: tuple = ()
    statistics: tuple = ()
    citation: str = ""
    definition: str = ""
    record: Mapping = field(default_factory=dict)
    needs_images: bool = True
    check: Optional[Callable] = None
    builtin: bool = False
    check_options: Optional[Callable] = None
    input_kinds: tuple = ALL_INPUT_KINDS
    model_requirements: tuple = ()

    def __post_init__(self):
        check_name(self.name)
        if self.space not in SPACES:
            raise ValueError(f"space: expected one of {', '.join(map(repr, SPACES))}, got {self.space!r}")
        if self.shared_pass is not None and self.shared_pass not in SHARED_PASSES:
            raise ValueError(f"shared_pass: expected None or one of {', '.join(map(repr, SHARED_PASSES))}, "
                             f"got {self.shared_pass!r}")
        if self.shared_pass is not None and self.chunked:
            raise ValueError("chunked: a method that reads the shared clean pass runs no chunks of its own")
        if not callable(self.compute):
            raise TypeError(f"compute: expected a callable, got {type(self.compute).__name__}")
        for what in ("input_kinds", "model_requirements"):
            names = getattr(self, what)
            if isinstance(names, str) or not all(isinstance(n, str) for n in names):
                raise TypeError(f"{what}: expected a tuple of names, got {names!r}")
            object.__setattr__(self, what, tuple(names))
        for what in ("check", "check_options"):
            if getattr(self, what) is not None and not callable(getattr(self, what)):
                raise TypeError(f"{what}: expected a callable or None, got {type(getattr(self, what)).__name__}")
        if isinstance(self.statistics, str) or not all(isinstance(n, str) for n in self.statistics):
            raise TypeError(f"statistics: expected a tuple of names, got {self.statistics!r}")
        object.__setattr__(self, "statistics", tuple(self.statistics))
        if isinstance(self.options, (str, Option)) or not all(isinstance(n, (str, Option)) for n in self.options):
            raise TypeError(f"options: expected a tuple of option names or tb_saliency.attribution.Option "
                            f"records, got {self.options!r}")
        object.__setattr__(self, "options", tuple(self.options))
        declared = {}
        for option in self.declared_options:
            if option.name in declared and not declared[option.name].same_as(option):
                raise ValueError(f"options: {option.name!r} is declared twice, differently")
            declared[option.name] = option
        object.__setattr__(self, "record", types.MappingProxyType(dict(self.record)))

    @property
    def option_names(self) -> tuple:
        """The names of `options`, in order."""
        return tuple(dict.fromkeys(o.name if isinstance(o, Option) else o for o in self.options))

    @property
    def declared_options(self) -> tuple:
        """The `Option` records among `options`: those that registering the method makes known."""
        return tuple(o for o in self.options if isinstance(o, Option))

    @property
    def all_options(self) -> tuple:
        """Every option this method takes: its space's, its own, and `memory_limit` when chunked."""
        chunk = CHUNK_OPTIONS if self.chunked else ()
        return tuple(dict.fromkeys(SPACE_OPTIONS[self.space] + self.option_names + chunk))


_REGISTRY: dict = {}
# name -> Method, in registration order: a read-only view that sees later registrations.
REGISTRY = types.MappingProxyType(_REGISTRY)


def check_name(name, argument="name") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"{argument}: expected a simple identifier (a letter, then up to 63 letters, digits or "
            f"underscores), got {name!r}"
        )
    return name


def register(method: Method) -> Method:
    """Adds `method` to the catalogue, and the options it declares to the known options; a name that
    is taken, an option name that is not known, or an option declared differently elsewhere is an error."""
    if not isinstance(method, Method):
        raise TypeError(f"method: expected a catalog.Method record, got {type(method).__name__}")
    if method.name in _REGISTRY:
        raise ValueError(
            f"name: a method named {method.name!r} is registered already; choose another name "
            "(or unregister the old one first)"
        )
    from . import options  # options derives its users from this module: imported at call time

    options.add_options(method)  # checks every option first, and adds none if one is refused
    _REGISTRY[method.name] = method
    return method


def unregister(name: str) -> None:
    """Removes a method registered by the user (a notebook cell run again registers it anew)."""
    method = _REGISTRY.get(name)
    if method is None:
        raise ValueError(f"name: no method named {name!r} is registered")
    if method.builtin:
        raise ValueError(f"name: {name!r} is built into tb_saliency and cannot be unregistered")
    del _REGISTRY[name]
    from . import options

    options.release_options(method)


def method(name: str) -> Method:
    """The record of `name`; an unknown name is an error."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"methods: unknown method {name!r}; valid methods: {', '.join(_REGISTRY)}") from None


def names(where: Callable[[Method], bool] = lambda m: True) -> tuple:
    """Names of the registered methods for which `where(record)` holds, in registration order."""
    return tuple(name for name, record in _REGISTRY.items() if where(record))


class _Names(Sequence):
    """A live, read-only tuple of the method names a predicate selects: a method registered later is in it."""

    def __init__(self, where):
        self._where = where

    def _names(self):
        return names(self._where)

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self):
        return len(self._names())

    def __contains__(self, name):
        return isinstance(name, str) and name in _REGISTRY and self._where(_REGISTRY[name])

    def __eq__(self, other):
        if isinstance(other, (tuple, _Names)):
            return self._names() == tuple(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return repr(self._names())


class _NameSet(Set):
    """A live, read-only set of the method names a predicate selects."""

    def __init__(self, where):
        self._where = where

    @classmethod
    def _from_iterable(cls, iterable):
        return frozenset(iterable)

    def __iter__(self):
        return iter(names(self._where))

    def __len__(self):
        return len(names(self._where))

    def __contains__(self, name):
        return isinstance(name, str) and name in _REGISTRY and self._where(_REGISTRY[name])

    __hash__ = None

    def __repr__(self):
        return f"frozenset({set(names(self._where))!r})"


METHODS = _Names(lambda m: True)
# The methods that serve any model that scores its inputs (no attentions or other outputs needed).
ANY_MODEL_METHODS = _Names(lambda m: not m.model_requirements)
# Maps at the input's resolution, one per sample.
INPUT_METHODS = _NameSet(lambda m: m.space == "input")
# Maps at a layer's resolution.
CAM_METHODS = _NameSet(lambda m: m.space == "layer")
# Served by the one forward+backward pass on the clean inputs.
SHARED_INPUT_METHODS = _NameSet(lambda m: m.space == "input" and m.shared_pass == "clean")
GRADIENT_CAM_METHODS = _NameSet(lambda m: m.space == "layer" and m.shared_pass == "clean")
# Run many perturbed copies of the batch, in chunks bounded by `memory_limit`.
CHUNKED_METHODS = _NameSet(lambda m: m.chunked)


def _passes(record: Method) -> str:
    if record.shared_pass == "clean":
        return "the shared clean pass" + ("" if record.needs_gradients else " (no gradients)")
    own = "its own, in chunks" if record.chunked else "its own"
    return own + ("" if record.needs_gradients else ", forward only")


def markdown_table(records=None) -> str:
    """The method table of the README, from the records."""
    records = list(_REGISTRY.values()) if records is None else list(records)
    rows = [
        "| method | map | definition | paper | statistics | passes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        statistics = ", ".join(f"`{s}`" for s in r.statistics)
        cells = [f"`{r.name}`", r.space, r.definition, r.citation, statistics, _passes(r)]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"
