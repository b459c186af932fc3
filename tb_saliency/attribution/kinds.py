"""Input kinds: what a batch is, as one record per kind, so that the engine has no case for each.

A record (`InputKind`) says how a batch is recognised, and its `prepare` returns a `Batch`: the
batch checked against the model, which knows how the model is called, where gradients are taken,
how the channels (or hidden units) at that point reduce to a map and what shape the map has, how a
layer's output is laid out, and what a path method's baseline is there.

    image    a floating tensor N×C×H×W (or N×H×W; CAM-only calls take any floating N×...):
             `model(x)`, gradients at x, maps N×H×W
    signal   a floating tensor N×C×T (or N×T), with `input_kind="signal"` or `sample_rate=`:
             `model(x)`, gradients at x, maps N×T, `sample_rate` recorded (see `token_kind` for tokens)
    tokens   a Mapping (dict, BatchEncoding) with integer `input_ids` N×T and other model arguments:
             `model(**batch)`, gradients at the output of `embeddings=`, maps N×T

A 3-D tensor is an image N×H×W unless the call says it is a signal: the two cannot be told apart by
shape, and N×H×W images were accepted first.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from .baselines import gaussian_blur, make_baseline
from .catalog import REGISTRY, method as method_record
from .checks import check_inputs, check_inputs_match_model
from .forward import run_model
from .layers import as_maps
from .options import describe
from .reductions import reduce_channels

# Arguments of `explain` that describe the batch rather than a method: each belongs to kinds that use it.
KIND_ARGUMENTS = ("input_kind", "embeddings", "tokenizer", "sample_rate")


@dataclass(frozen=True)
class InputKind:
    """One kind of input batch.

    name            "image", "signal", "tokens": what methods list in `Method.input_kinds`
    description     what a batch of this kind is, for error messages
    recognise       f(inputs, arguments) -> bool: whether a batch given without `input_kind` is of
                    this kind (`arguments` holds the kind arguments the call gave)
    prepare         f(model, inputs, methods, arguments) -> Batch, checking the batch against the model
    map_shape       the shape of an input-space map ("N×H×W")
    gradient_point  where input-space gradients are taken ("the input", "the embedding output")
    arguments       the kind arguments it accepts (`embeddings`, `tokenizer`, `sample_rate`)
    """

    name: str
    description: str
    recognise: Callable
    prepare: Callable
    map_shape: str
    gradient_point: str
    arguments: tuple = ()


_KINDS: dict = {}


def register_kind(kind: InputKind) -> InputKind:
    if kind.name in _KINDS:
        raise ValueError(f"name: an input kind named {kind.name!r} is registered already")
    _KINDS[kind.name] = kind
    return kind


def kind_names() -> tuple:
    return tuple(_KINDS)


def kind(name: str) -> InputKind:
    try:
        return _KINDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"input_kind: expected None or one of {', '.join(map(repr, _KINDS))}, "
                         f"got {describe(name)}") from None


class Batch:
    """A checked batch of one kind. Subclasses set `x` (the clean point where gradients are taken,
    detached; for tokens only after `clean_forward`), and may override the rest."""

    kind: InputKind
    n: int
    x: Optional[torch.Tensor] = None
    # Stored with every map of the batch, beside the method's options.
    record: dict = {}
    # N×T booleans for token batches (special tokens, padding), else None.
    special: Optional[torch.Tensor] = None
    padding: Optional[torch.Tensor] = None
    sample_rate: Optional[float] = None

    def __init__(self, model):
        self.model = model

    def forward(self, rows: torch.Tensor):
        """The model's outputs for k·N rows at the gradient point, copy-major."""
        return self.model(rows)  # the passes call this through run_model, naming their copies

    def clean_forward(self, requires_grad: bool):
        """The model's outputs on the clean batch; afterwards `self.leaf` is the gradient point the
        outputs were computed from (requiring grad when asked)."""
        self.leaf = self.x.detach().requires_grad_(requires_grad)
        return run_model(self.model, self.leaf)

    def channel_axis(self, values: torch.Tensor):
        return 1

    def default_reduction(self, method: str, given: Optional[str]) -> str:
        return given or "signed_sum"

    def reduce(self, values: torch.Tensor, how: str) -> torch.Tensor:
        return reduce_channels(values, how, self.channel_axis(values))

    def layer_maps(self, tensor: torch.Tensor, reshape, name: str) -> torch.Tensor:
        """A layer's output (or its gradient) as N×K×spatial..."""
        return as_maps(tensor, reshape, name)

    def baseline(self, options: dict, generator) -> tuple:
        """(x0 shaped like x, the options that describe it) for path methods."""
        return make_baseline(options["baseline"], self.x, blur_sigma=options["blur_sigma"], generator=generator)

    def check_options(self, given: dict) -> None:
        """Options that make no sense for this kind, refused by name."""
        if "baseline_token" in given:
            raise ValueError(f"baseline_token: only for token batches, got {self.kind.name} inputs; "
                             "give baseline= instead")
        if "rollout_from" in given and given["rollout_from"] == "last":
            raise ValueError(f"rollout_from: 'last' is for token batches with an attention mask, got "
                             f"{self.kind.name} inputs")


class ImageBatch(Batch):
    def __init__(self, model, inputs, methods):
        super().__init__(model)
        self.kind = _KINDS["image"]
        self.x = check_inputs(inputs, methods)
        check_inputs_match_model(model, self.x)
        self.n = self.x.shape[0]

    def channel_axis(self, values):
        return 1 if values.dim() == 4 else None


def _prepare_image(model, inputs, methods, arguments):
    return ImageBatch(model, inputs, methods)


def _is_tensor(inputs, arguments) -> bool:
    return isinstance(inputs, torch.Tensor)


register_kind(InputKind(
    name="image", description="a floating-point tensor N×C×H×W (or N×H×W)", recognise=_is_tensor,
    prepare=_prepare_image, map_shape="N×H×W", gradient_point="the input",
))


def check_sample_rate(value) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value < math.inf):
        raise ValueError(f"sample_rate: expected a finite number of samples per second > 0 or None, "
                         f"got {describe(value)}")
    return float(value)


class SignalBatch(Batch):
    def __init__(self, model, inputs, methods, sample_rate):
        super().__init__(model)
        self.kind = _KINDS["signal"]
        if isinstance(inputs, torch.Tensor) and inputs.dim() not in (2, 3):
            raise ValueError(
                f"inputs: expected a signal batch shaped N×C×T (or N×T), got shape {tuple(inputs.shape)}"
            )
        # The image checks, less the image shape: a signal is N×C×T, which passes as N×H×W.
        self.x = check_inputs(inputs, [])
        check_inputs_match_model(model, self.x)
        self.n = self.x.shape[0]
        self.sample_rate = check_sample_rate(sample_rate)
        self.record = {"input_kind": "signal", "sample_rate": self.sample_rate}

    def channel_axis(self, values):
        return 1 if values.dim() == 3 else None

    def layer_maps(self, tensor, reshape, name):
        # A Conv1d's (or a recurrent layer's, transposed by a callable) N×K×T output is already channels first.
        if reshape is None and tensor.dim() == 3:
            return tensor
        if reshape is None:
            raise ValueError(
                f"layer: the output of {name!r} has shape {tuple(tensor.shape)}, not N×K×T as a Conv1d's is; "
                "choose a 1-D convolution or give reshape= as a callable returning N×K×T"
            )
        result = reshape(tensor) if callable(reshape) else as_maps(tensor, reshape, name)
        if not isinstance(result, torch.Tensor) or result.dim() not in (3, 4) or result.shape[0] != tensor.shape[0]:
            got = tuple(result.shape) if isinstance(result, torch.Tensor) else type(result).__name__
            raise ValueError(f"reshape: the callable must return N×K×T for layer {name!r}, it returned {got}")
        return result

    def baseline(self, options, generator):
        if options["baseline"] == "blur":
            # The blur runs along time only: as a 1-pixel-high image, whose vertical blur is the identity.
            x = self.x if self.x.dim() == 3 else self.x.unsqueeze(1)
            sigma = options["blur_sigma"] if options["blur_sigma"] is not None else x.shape[-1] / 10.0
            if sigma > x.shape[-1]:
                raise ValueError(f"blur_sigma: expected at most the signal's length ({x.shape[-1]} samples), "
                                 f"got {sigma:g}")
            blurred = gaussian_blur(x.unsqueeze(2), sigma).squeeze(2)
            return blurred.reshape(self.x.shape), {"baseline": "blur", "blur_sigma": float(sigma), "blur_axis": "time"}
        return make_baseline(options["baseline"], self.x, blur_sigma=None, generator=generator)


def _prepare_signal(model, inputs, methods, arguments):
    return SignalBatch(model, inputs, methods, arguments.get("sample_rate"))


def _is_signal(inputs, arguments) -> bool:
    return isinstance(inputs, torch.Tensor) and arguments.get("sample_rate") is not None


register_kind(InputKind(
    name="signal", description="a floating-point tensor N×C×T (or N×T)", recognise=_is_signal,
    prepare=_prepare_signal, map_shape="N×T", gradient_point="the input", arguments=("sample_rate",),
))


def recognise(inputs, arguments: dict) -> InputKind:
    """The kind of `inputs`: the one `input_kind` names, else the most specific that recognises them
    (tokens and signals before images)."""
    name = arguments.get("input_kind")
    if name is not None:
        return kind(name)
    for candidate in sorted(_KINDS.values(), key=lambda k: k.name == "image"):
        if candidate.recognise(inputs, arguments):
            return candidate
    raise TypeError(
        f"inputs: expected a torch.Tensor (images N×C×H×W or N×H×W, signals N×C×T) or a Mapping with input_ids "
        f"(tokens), got {type(inputs).__name__}"
    )


def prepare(model, inputs, methods, arguments: dict) -> Batch:
    """The checked batch, after checking that its kind takes the given kind arguments and that every
    method supports its kind."""
    found = recognise(inputs, arguments)
    for name in KIND_ARGUMENTS[1:]:
        if arguments.get(name) is not None and name not in found.arguments:
            takers = [k.name for k in _KINDS.values() if name in k.arguments]
            raise ValueError(f"{name}: only for {' and '.join(takers)} inputs, got {found.name} inputs "
                             f"({found.description})")
    for name in methods:
        supported = method_record(name).input_kinds
        if found.name not in supported:
            raise ValueError(
                f"methods: {name!r} does not support {found.name} inputs (it supports {', '.join(supported)}); "
                f"{found.name} inputs are supported by {', '.join(_supporting(found.name))}"
            )
    return found.prepare(model, inputs, methods, arguments)


def _supporting(kind_name: str) -> list:
    return [name for name, record in REGISTRY.items() if kind_name in record.input_kinds]
