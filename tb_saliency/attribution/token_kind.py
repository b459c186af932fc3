"""The "tokens" input kind: a batch as a Hugging Face model takes it, gradients at the embedding output.

The batch is a Mapping (a dict, a `BatchEncoding`) with integer `input_ids` N×T and any other model
arguments; the model is called `model(**batch)`, less the keys a tokenizer returns that no model
takes (`special_tokens_mask`, `offset_mapping`, ...). Gradients are taken at the output of
`embeddings=` (a module or its dotted name; default `model.get_input_embeddings()`): the first time
that module runs in a forward pass its output E (N×T×D) is the point every input-space method works
at, and a perturbed copy of E replaces it there. Later calls of the module in the same pass (BART's
decoder shares its encoder's embedding) are left alone. When the default module never runs itself
(BART's `shared`, which the encoder and decoder call through modules of their own that share its
weight), the first module sharing its weight that runs is the one.

Maps are N×T: the hidden axis of E reduces by `channel_reduction` ('l2' by default for gradient and
smoothgrad, 'signed_sum' for the others). Integrated gradients' baseline E0 is the embedding output
for the batch with every token replaced by `baseline_token` (default the config's pad_token_id),
except special tokens (`special_tokens_mask` in the batch, or `tokenizer=`'s special ids) and
padding (attention_mask == 0), which stay, so that their E − E0, and so their attribution, is zero.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import torch
from torch import nn

from .kinds import Batch, InputKind, kind, register_kind
from .layers import as_maps, resolve_layers
from .options import describe

# Keys a tokenizer may return that no model's forward takes.
TOKENIZER_ONLY_KEYS = ("special_tokens_mask", "offset_mapping", "length", "overflow_to_sample_mapping")
_FLOAT_REDUCTIONS = {"gradient": "l2", "smoothgrad": "l2"}


class _Stop(Exception):
    """Raised by the hook to end a forward pass once the embeddings have run."""


def _model_device(model):
    devices = {p.device for p in model.parameters()}
    return next(iter(devices)) if len(devices) == 1 else None


def _check_ids(inputs):
    if "input_ids" not in inputs:
        raise ValueError(
            f"inputs: a Mapping batch needs 'input_ids' (integer token ids N×T, as a tokenizer returns them), "
            f"got keys {sorted(map(str, inputs))}"
        )
    ids = inputs["input_ids"]
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.is_floating_point() or ids.dtype == torch.bool:
        raise TypeError(f"inputs: expected input_ids as an integer tensor N×T, got {describe(ids)}")
    if ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError(f"inputs: expected a non-empty batch of input_ids N×T, got shape {tuple(ids.shape)}")
    return ids


def _mask(inputs, key, ids):
    mask = inputs.get(key)
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor) or tuple(mask.shape) != tuple(ids.shape):
        raise ValueError(f"inputs: expected {key} shaped like input_ids {tuple(ids.shape)}, got {describe(mask)}")
    return mask.to(ids.device).bool()


def _special_ids(tokenizer):
    ids = getattr(tokenizer, "all_special_ids", None)
    if ids is None or not all(isinstance(i, numbers.Integral) for i in ids):
        raise TypeError(
            f"tokenizer: expected a tokenizer with all_special_ids (a list of ints), got {describe(tokenizer)}"
        )
    return [int(i) for i in ids]


def _embedding_modules(model, embeddings, wrapper):
    """[(name, module)] whose first call in a forward pass is the gradient point, and the name to record."""
    if embeddings is not None:
        [(name, module)] = resolve_layers(model, embeddings, needed=True, methods=["embeddings"], wrapper=wrapper,
                                          argument="embeddings")
        return [(name, module)], name
    get = getattr(model, "get_input_embeddings", None)
    module = get() if callable(get) else None
    if not isinstance(module, nn.Module):
        raise ValueError(
            f"embeddings: {type(model).__name__} has no get_input_embeddings() returning a module, so the "
            "embedding layer cannot be found; give embeddings= as the module (or its dotted name) whose output "
            "is the token embeddings N×T×D"
        )
    names = {id(m): n for n, m in model.named_modules()}
    weight = getattr(module, "weight", None)
    sharing = [m for m in model.modules() if m is not module and weight is not None
               and getattr(m, "weight", None) is weight]
    found = [(names.get(id(m), "?"), m) for m in [module] + sharing]
    return found, found[0][0]


class TokenBatch(Batch):
    def __init__(self, model, inputs, methods, embeddings, tokenizer, wrapper):
        super().__init__(model)
        self.kind = kind("tokens")
        if not isinstance(inputs, Mapping):
            raise TypeError(f"inputs: expected a Mapping with input_ids for token inputs, got {describe(inputs)}")
        ids = _check_ids(inputs)
        self.ids, self.n, self.length = ids, ids.shape[0], ids.shape[1]
        device = _model_device(model)
        if device is not None and ids.device != device:
            raise ValueError(f"inputs: expected input_ids on {device}, where the model's parameters are, got "
                             f"{ids.device}; move the batch with batch.to({str(device)!r})")
        vocab = getattr(getattr(model, "config", None), "vocab_size", None)
        if isinstance(vocab, int) and bool(((ids < 0) | (ids >= vocab)).any()):
            raise ValueError(f"inputs: expected input_ids in 0..{vocab - 1} (the config's vocab_size), got "
                             f"values from {int(ids.min())} to {int(ids.max())}")
        self.arguments = {k: v for k, v in inputs.items() if k not in TOKENIZER_ONLY_KEYS}
        attention = _mask(inputs, "attention_mask", ids)
        self.padding = ~attention if attention is not None else torch.zeros_like(ids, dtype=torch.bool)
        given_special = _mask(inputs, "special_tokens_mask", ids)
        if given_special is not None:
            self.special, self.special_source = given_special, "special_tokens_mask"
        elif tokenizer is not None:
            special_ids = torch.tensor(_special_ids(tokenizer), dtype=ids.dtype, device=ids.device)
            self.special, self.special_source = torch.isin(ids, special_ids), "tokenizer"
        else:
            self.special, self.special_source = torch.zeros_like(ids, dtype=torch.bool), "none"
        self.modules, self.embeddings_name = _embedding_modules(model, embeddings, wrapper)
        self.record = {"input_kind": "tokens", "embeddings": self.embeddings_name}

    # --- running the model with the embedding output in our hands

    def _run(self, copies, replace=None, capture=None, stop=False, arguments=None):
        arguments = self.arguments if arguments is None else arguments
        state = {"done": False}

        def hook(module, args, output, name):
            if state["done"]:
                return None
            state["done"] = True
            # Of several modules sharing the default's weight, the one that ran is the one to name.
            self.embeddings_name = self.record["embeddings"] = name
            if not isinstance(output, torch.Tensor) or output.dim() != 3 or tuple(output.shape[:2]) != (
                    copies * self.n, self.length):
                raise ValueError(
                    f"embeddings: expected the output of {self.embeddings_name!r} to be token embeddings "
                    f"{copies * self.n}×{self.length}×D, got {describe(output)}; give embeddings= as the module "
                    "that embeds input_ids"
                )
            if capture is not None:
                capture.append(output)
            if stop:
                raise _Stop
            if replace is not None:
                result = replace(output)
                if result.shape != output.shape:
                    raise ValueError(f"forward: expected rows shaped {tuple(output.shape)}, got {tuple(result.shape)}")
                return result.to(output.dtype)
            return None

        handles = [module.register_forward_hook(lambda m, a, o, name=name: hook(m, a, o, name))
                   for name, module in self.modules]
        try:
            outputs = self.model(**_repeat(arguments, self.n, copies))
        except _Stop:
            outputs = None
        finally:
            for handle in handles:
                handle.remove()
        if not state["done"]:
            raise ValueError(
                f"embeddings: {self.embeddings_name!r} did not run when the model was called model(**batch); "
                "give embeddings= as the module (or its dotted name) that embeds input_ids"
            )
        return outputs

    def clean_forward(self, requires_grad):
        captured = []

        def leaf(output):
            self.leaf = output.detach().requires_grad_(requires_grad)
            return self.leaf

        outputs = self._run(1, replace=leaf, capture=captured)
        self.x = captured[0].detach()
        return outputs

    def forward(self, rows):
        copies = rows.shape[0] // self.n
        return self._run(copies, replace=lambda output: rows)

    # --- maps and baselines

    def channel_axis(self, values):
        return 2

    def default_reduction(self, method, given):
        return given or _FLOAT_REDUCTIONS.get(method, "signed_sum")

    def layer_maps(self, tensor, reshape, name):
        if reshape is not None:
            return as_maps(tensor, reshape, name)
        if tensor.dim() != 3 or tensor.shape[1] != self.length:
            raise ValueError(
                f"layer: the output of {name!r} has shape {tuple(tensor.shape)}, not N×T×D with T={self.length} "
                "tokens; choose a layer whose output is the hidden states of every token (an encoder layer)"
            )
        return tensor.transpose(1, 2)

    def baseline_ids(self, token):
        keep = self.special | self.padding
        return torch.where(keep, self.ids, torch.full_like(self.ids, token))

    def baseline(self, options, generator):
        token = options.get("baseline_token")
        if token is None:
            token = getattr(getattr(self.model, "config", None), "pad_token_id", None)
            if not isinstance(token, int):
                raise ValueError(
                    "baseline_token: expected a token id; the model's config has no pad_token_id to default to "
                    "(GPT-2's has none), so give baseline_token= (e.g. the tokenizer's eos or unk token id)"
                )
        vocab = getattr(getattr(self.model, "config", None), "vocab_size", None)
        if isinstance(vocab, int) and not 0 <= token < vocab:
            raise ValueError(f"baseline_token: expected a token id in 0..{vocab - 1}, got {token}")
        captured = []
        arguments = dict(self.arguments, input_ids=self.baseline_ids(token))
        self._run(1, capture=captured, stop=True, arguments=arguments)
        record = {"baseline": "token", "baseline_token": int(token), "special_tokens": self.special_source}
        return captured[0].detach(), record

    def check_options(self, given):
        for name in ("baseline", "blur_sigma"):
            if name in given:
                raise ValueError(f"{name}: not for token batches, whose integrated-gradients baseline is the "
                                 "embedding of baseline_token; give baseline_token= instead")


def _repeat(arguments, n, copies):
    """The model arguments for `copies` stacked copies of the batch, copy-major."""
    if copies == 1:
        return dict(arguments)
    out = {}
    for key, value in arguments.items():
        if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] == n:
            value = value.repeat(copies, *([1] * (value.dim() - 1)))
        out[key] = value
    return out


def _prepare_tokens(model, inputs, methods, arguments):
    return TokenBatch(model, inputs, methods, arguments.get("embeddings"), arguments.get("tokenizer"),
                      arguments.get("wrapper"))


register_kind(InputKind(
    name="tokens",
    description="a Mapping (dict, BatchEncoding) with integer input_ids N×T and other model arguments",
    recognise=lambda inputs, arguments: isinstance(inputs, Mapping),
    prepare=_prepare_tokens,
    map_shape="N×T",
    gradient_point="the embedding output",
    arguments=("embeddings", "tokenizer"),
))
