"""Validation of the `methods`, `model` and `inputs` arguments, before the model is touched."""

from __future__ import annotations

import torch
from torch import nn

from .catalog import METHODS, REGISTRY, method
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
        method(name)  # an unknown name is an error naming the valid ones
    duplicates = sorted({m for m in methods if list(methods).count(m) > 1})
    if duplicates:
        raise ValueError(f"methods: each method may be given once, got {', '.join(duplicates)} more than once")
    return list(methods)


# Wrappers whose forward adds only collectives or scatters: the engine runs the module inside, so
# that one rank may call alone while the others train, and the maps are those of the one model.
_WRAPPERS = (nn.DataParallel, nn.parallel.DistributedDataParallel)


def unwrap(model: nn.Module) -> nn.Module:
    """The module a DataParallel or DistributedDataParallel wrapper (or several) holds; else the model."""
    while isinstance(model, _WRAPPERS):
        model = model.module
    return model


def check_module(model) -> nn.Module:
    """The module to run: `model` itself, or the one its DataParallel or DDP wrapper holds."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    return unwrap(model)


def check_model(model) -> nn.Module:
    """The module to run, one that gradients can flow through."""
    model = check_module(model)
    for name, param in model.named_parameters():
        if param.is_inference():
            raise ValueError(
                f"model: parameter {name!r} is an inference tensor (created under torch.inference_mode()), "
                "so no gradient can flow through it; build the model outside inference_mode"
            )
    return model


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
    spatial = [m for m in methods if method(m).needs_images]
    if spatial and inputs.dim() not in (3, 4):
        raise ValueError(
            f"inputs: {', '.join(spatial)} need images shaped N×C×H×W (or N×H×W), got shape {tuple(inputs.shape)}"
        )
    if inputs.is_inference():
        with torch.inference_mode(False):
            inputs = inputs.clone()
    return inputs.detach()


def check_inputs_match_model(model: nn.Module, inputs: torch.Tensor) -> None:
    """Inputs of the dtype and on the device of the model's parameters, checked before the model runs,
    so that a mismatch names `inputs` rather than surfacing as PyTorch's error from deep in the forward.

    Only checked where the answer is clear: the model's floating-point parameters share one dtype
    (and autocast, which casts per operation, is off) or one device, and no accelerate hook
    (`_hf_hook`, which moves inputs to each module's device itself) is attached.
    """
    params = [p for p in model.parameters() if p.is_floating_point()]
    if not params:
        return
    dtypes = {p.dtype for p in params}
    devices = {p.device for p in params}
    if len(dtypes) == 1 and not inputs.is_floating_point() and not _takes_indices(model):
        (dtype,) = dtypes
        raise TypeError(
            f"inputs: expected dtype {dtype}, the dtype of the model's parameters, got {inputs.dtype}; "
            f"convert them as in training, e.g. inputs.to({dtype}) / 255 for 8-bit images"
        )
    if len(dtypes) == 1 and inputs.is_floating_point() and not _autocast_enabled(inputs.device.type):
        (dtype,) = dtypes
        if inputs.dtype != dtype:
            raise TypeError(
                f"inputs: expected dtype {dtype}, the dtype of the model's parameters, got {inputs.dtype}; "
                f"convert them with inputs.to({dtype}), or run under torch.autocast"
            )
    if len(devices) == 1 and not any(hasattr(m, "_hf_hook") for m in model.modules()):
        (device,) = devices
        if inputs.device != device:
            raise ValueError(
                f"inputs: expected tensors on {device}, where the model's parameters are, got {inputs.device}; "
                f"move them with inputs.to({str(device)!r}) (maps come back on the inputs' device)"
            )


def _takes_indices(model: nn.Module) -> bool:
    """Whether integer inputs may be what the model takes: token or category ids into an embedding."""
    return any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in model.modules())


def _autocast_enabled(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4 takes no device type
        return torch.is_autocast_enabled() or torch.is_autocast_cpu_enabled()
    except RuntimeError:  # a device type autocast does not know ("meta")
        return False


def uses_layer(methods) -> bool:
    return any(REGISTRY[m].space == "layer" for m in methods)
