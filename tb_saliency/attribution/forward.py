"""`run_model`: the one place where the engine, the metrics and the activations call the model.

A failure inside the model is re-raised naming the shapes it was given, with its own traceback
kept as the cause; inputs one axis short of what the model's first layer takes (one image given
as C×H×W) are named as such, with the fix. Errors the engine raises itself from its hooks pass
through as they are.
"""

from __future__ import annotations

import os

import torch
from torch import nn

# The number of axes a batch has for the layers that fix it (their unbatched form has one fewer).
_BATCHED_AXES = (
    (nn.Conv1d, 3), (nn.ConvTranspose1d, 3), (nn.BatchNorm1d, None),
    (nn.Conv2d, 4), (nn.ConvTranspose2d, 4), (nn.BatchNorm2d, 4),
    (nn.Conv3d, 5), (nn.ConvTranspose3d, 5), (nn.BatchNorm3d, 5),
)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ModelError(RuntimeError):
    """A failure inside the model whose exception type cannot be rebuilt with a message."""


def run_model(model: nn.Module, inputs: torch.Tensor, *, where: str = ""):
    """model(inputs); a failure inside it names the inputs' shape (and `where`: which copies).

    The one call of the model by every pass (clean, chunked, the metrics', activations): a new kind
    of batch is taught to the engine here."""
    try:
        return model(inputs)
    except Exception as error:
        if _raised_by_this_package(error):
            raise
        raise _explained(error, model, inputs, where) from error


def _raised_by_this_package(error: BaseException) -> bool:
    """Whether the innermost frame is ours: a hook of the engine or a metric (capture, the meters)
    raised it during the forward, with a message that already names the argument to blame."""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    return trace is not None and os.path.abspath(trace.tb_frame.f_code.co_filename).startswith(_PACKAGE + os.sep)


def first_layer_axes(model: nn.Module):
    """(name, type name, axes of a batch) of the model's first layer that fixes them, or None."""
    for name, module in model.named_modules():
        for kind, axes in _BATCHED_AXES:
            if isinstance(module, kind):
                return (name, type(module).__name__, axes) if axes is not None else None
    return None


def _explained(error: Exception, model: nn.Module, inputs: torch.Tensor, where: str) -> Exception:
    shape = tuple(inputs.shape)
    where = f" ({where})" if where else ""
    # The chunked passes call the batch's forward (`kinds.Batch.forward`, a bound method), not the module.
    module = model if isinstance(model, nn.Module) else getattr(model, "__self__", None)
    module = getattr(module, "model", module)
    first = first_layer_axes(module) if isinstance(module, nn.Module) else None
    if first is not None and inputs.dim() == first[2] - 1:
        name, kind, axes = first
        message = (
            f"inputs: the model failed on inputs of shape {shape}{where}, one axis fewer than its first layer "
            f"{name!r} ({kind}) takes for a batch ({axes} axes, N first); for one sample, add the batch axis: "
            f"inputs[None] (shape {(1, *shape)}). The model's error: {type(error).__name__}: {error}"
        )
    else:
        message = (
            f"model: failed on inputs of shape {shape} and dtype {inputs.dtype}{where}: "
            f"{type(error).__name__}: {error}"
        )
    try:
        rebuilt = type(error)(message)
    except Exception:
        return ModelError(message)
    return rebuilt if type(rebuilt) is type(error) else ModelError(message)
