"""Attention rollout (Abnar & Zuidema 2020): how much each input token reaches a token through the
attention of every layer, residual connections included.

For each layer l, the attention weights are averaged over heads, W_l = mean_h A_lh (T×T, rows the
querying tokens); the residual connection is accounted for as Â_l = 0.5·W_l + 0.5·I, whose rows are
renormalised to sum to 1 (they already do when W's rows do; padding rows, whose keys are all masked,
may not); and the rollout is the product from the first layer up, R = Â_L ··· Â_2 Â_1 (the paper's
Ã(l_i) = Â(l_i) Ã(l_{i-1})). The map is the row of R of one token (`rollout_from`: 0, the class
token, by default; 'last', each sample's last token that is not padding, for causal language models).
This is the paper's variant with the mean over heads applied before the identity is added; no head
fusion by max and no discarding of low attentions (those are later variants).

The model must return its attentions: it is called with `output_attentions=True` (a Hugging Face
model loaded with attn_implementation="eager"; SDPA and flash attention compute none). For a ViT,
`reshape="vit"` drops the class token's column and folds the rest into the patch grid.
"""

from __future__ import annotations

import numbers
from contextlib import contextmanager

import torch

from tb_saliency.value_checks import describe

from .extending import MethodWithPasses, method_with_passes
from .layers import as_maps
from .option_spec import Option
from .reductions import safe_divide


def rollout(attentions, rollout_from=0, last=None) -> torch.Tensor:
    """The rollout row of one token per sample, N×T, from a sequence of per-layer N×H×T×T attentions.

    `last` (long N) gives each sample's token for rollout_from='last'."""
    result = None
    for layer in attentions:
        weights = layer.mean(dim=1)
        eye = torch.eye(weights.shape[-1], dtype=weights.dtype, device=weights.device)
        augmented = 0.5 * weights + 0.5 * eye
        augmented = safe_divide(augmented, augmented.sum(dim=-1, keepdim=True).expand_as(augmented))
        result = augmented if result is None else augmented @ result
    n, t = result.shape[0], result.shape[-1]
    if rollout_from == "last":
        index = last
    else:
        if not -t <= rollout_from < t:
            raise ValueError(f"rollout_from: expected a token position in {-t}..{t - 1} for T={t}, got {rollout_from}")
        index = torch.full((n,), rollout_from % t, dtype=torch.long, device=result.device)
    return result[torch.arange(n, device=result.device), index.to(result.device)]


# The attribute with which Hugging Face transformers marks a model whose output-recording hooks it has installed.
_HF_HOOKS_FLAG = "_output_capturing_hooks_installed"


def _rollout_from(name, value):
    if isinstance(value, str) and value == "last":
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected a token position (an int, negative from the end) or 'last' (each "
                         f"sample's last token that is not padding), got {describe(value)}")
    return int(value)


ROLLOUT_FROM = Option(
    "rollout_from", 0, _rollout_from,
    "attention_rollout: the token whose row of the rollout is the map (0: the class token; `\"last\"`: each "
    "sample's last token that is not padding, for causal language models)",
)


@contextmanager
def _hooks_restored(model):
    """Leaves the model's forward hooks as they were: Hugging Face transformers installs hooks of its own
    the first time a model is asked for its attentions, and marks the model; both are undone, so that
    it installs them anew when the user asks."""
    modules = list(model.modules())
    hooks = [dict(m._forward_hooks) for m in modules]
    flags = [m.__dict__.get(_HF_HOOKS_FLAG, _HF_HOOKS_FLAG) for m in modules]
    try:
        yield
    finally:
        for module, saved, flag in zip(modules, hooks, flags):
            for key in [k for k in module._forward_hooks if k not in saved]:
                del module._forward_hooks[key]
                module._forward_hooks_with_kwargs.pop(key, None)
                module._forward_hooks_always_called.pop(key, None)
            if flag is _HF_HOOKS_FLAG:
                module.__dict__.pop(_HF_HOOKS_FLAG, None)
            else:
                module.__dict__[_HF_HOOKS_FLAG] = flag


def _attentions(outputs):
    found = outputs.get("attentions") if hasattr(outputs, "get") else getattr(outputs, "attentions", None)
    if found is None and hasattr(outputs, "encoder_attentions"):
        found = outputs.encoder_attentions
    if not found or not all(isinstance(a, torch.Tensor) and a.dim() == 4 for a in found):
        raise ValueError(
            "model: attention_rollout expected the model to return its attentions (N×heads×T×T per layer) when "
            "called with output_attentions=True, got none; load a Hugging Face model with "
            "attn_implementation='eager' (SDPA and flash attention compute no attention weights)"
        )
    return found


@method_with_passes("attention_rollout")
class AttentionRollout(MethodWithPasses):
    space = "model"
    needs_gradients = False
    chunked = False
    needs_images = False
    input_kinds = ("tokens", "image")
    options = (ROLLOUT_FROM,)
    model_requirements = ("attentions",)
    citation = "Abnar & Zuidema 2020"
    definition = ("row of Π_l (0.5·mean_heads(A_l) + 0.5·I), rows renormalised, product from the first layer up; "
                  "class-agnostic")
    record = {"heads": "mean", "residual": "0.5*A + 0.5*I, rows renormalised", "order": "first layer rightmost"}

    def compute(self, context):
        batch, opts = context.batch, context.options
        with torch.no_grad(), _hooks_restored(context.model):
            try:
                if batch is not None and batch.kind.name == "tokens":
                    outputs = batch.model(**batch.arguments, output_attentions=True)
                else:
                    outputs = context.model(context.inputs, output_attentions=True)
            except TypeError as error:
                if "output_attentions" not in str(error):
                    raise
                raise ValueError(
                    f"model: attention_rollout calls the model with output_attentions=True, which "
                    f"{type(context.model).__name__} does not take; it serves transformers that return their "
                    "attentions (Hugging Face models)"
                ) from error
        attentions = _attentions(outputs)
        last = None
        if opts["rollout_from"] == "last":
            last = (~batch.padding).long().cumsum(dim=1).argmax(dim=1)
        row = rollout([a.to(context.dtype) for a in attentions], opts["rollout_from"], last)
        context.record.update(rollout_from=opts["rollout_from"], layers=len(attentions))
        if opts["reshape"] is not None:
            return as_maps(row.unsqueeze(-1), opts["reshape"], "attention_rollout").squeeze(1)
        return row
