"""Validation of the `methods`, `model` and `inputs` arguments, before the model is touched."""

from __future__ import annotations

import torch
from torch import nn

from .catalog import CAM_METHODS, INPUT_METHODS, METHODS
from .finite import check_finite
from .options import describe


def check_methods(methods) -> list:
    """A list of distinct method names, in the given order."""
    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, (list, tuple)) or not methods:
        raise TypeError(
            f"methods: expected a method name or a non-empty list of them ({', '.join(METHODS)}), "
            f"got {describe(methods)}"
        )
    for name in methods:
        if name not in METHODS:
            raise ValueError(f"methods: unknown method {name!r}; valid methods: {', '.join(METHODS)}")
    duplicates = sorted({m for m in methods if list(methods).count(m) > 1})
    if duplicates:
        raise ValueError(f"methods: each method may be given once, got {', '.join(duplicates)} more than once")
    return list(methods)


def check_module(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")


def check_model(model) -> None:
    """A module that gradients can flow through."""
    check_module(model)
    for name, param in model.named_parameters():
        if param.is_inference():
            raise ValueError(
                f"model: parameter {name!r} is an inference tensor (created under torch.inference_mode()), "
                "so no gradient can flow through it; build the model outside inference_mode"
            )


def check_batch(inputs) -> None:
    """A non-empty tensor batch, whatever its dtype (activations need no gradients), without NaN or Inf."""
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs: expected a torch.Tensor of shape N×C×H×W, got {type(inputs).__name__}")
    if inputs.dim() == 0 or inputs.shape[0] == 0:
        raise ValueError(f"inputs: expected a non-empty batch N×..., got shape {tuple(inputs.shape)}")
    check_finite(inputs.detach(), inputs.shape[0], argument="inputs", what="values")


def check_inputs(inputs, methods) -> torch.Tensor:
    """The inputs as a tensor that autograd may use (inference tensors are copied)."""
    check_batch(inputs)
    if not inputs.is_floating_point():
        raise TypeError(
            f"inputs: expected a floating-point tensor, got dtype {inputs.dtype}; gradients do not exist for "
            "integer or boolean tensors (convert and normalise them as the model expects, e.g. inputs.float())"
        )
    spatial = [m for m in methods if m in INPUT_METHODS or m == "scorecam"]
    if spatial and inputs.dim() not in (3, 4):
        raise ValueError(
            f"inputs: {', '.join(spatial)} need images shaped N×C×H×W (or N×H×W), got shape {tuple(inputs.shape)}"
        )
    if inputs.is_inference():
        with torch.inference_mode(False):
            inputs = inputs.clone()
    return inputs.detach()


def uses_layer(methods) -> bool:
    return any(m in CAM_METHODS for m in methods)
