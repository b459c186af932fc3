"""Leave the training run exactly as it was, whatever happens inside an attribution call."""

from __future__ import annotations

import threading
import weakref
from contextlib import ExitStack, contextmanager

import torch
from torch import nn

from .checks import unwrap

# One lock per model object, dropped with the model: calls on one model take turns, because each
# sets its modes and hooks, which the other would see and then restore wrongly.
_LOCKS = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def model_lock(model: nn.Module) -> threading.RLock:
    """The lock every attribution call holds on `model` (a DataParallel or DDP wrapper shares its
    module's). A training thread that runs the same model beside a logging thread can hold it around
    its own step, since a call runs the model in eval mode while it lasts. Re-entrant, so that a
    callable target may itself call the engine on the model."""
    model = unwrap(model)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
    return lock


@contextmanager
def untouched(model: nn.Module, *, gradients: bool = True):
    """Run the body with the model in eval mode, then restore everything the body could change; other
    calls on the same model wait (see `model_lock`).

    Eval mode makes BatchNorm use its running statistics (and leave them alone) and turns Dropout
    off, so maps are deterministic and every sample is independent of the others in its batch,
    which the chunked passes rely on. Afterwards, also when the body raises, every submodule's
    `training` flag and the global RNG states are as before, and any buffer that something wrote
    to (a custom module updating state in eval mode) is restored from a snapshot. Parameters,
    `.grad` and `requires_grad` are never written: gradients come from `torch.autograd.grad` with
    respect to inputs and activations only.

    With `gradients`, the body runs with autograd on even inside `torch.no_grad()` or
    `torch.inference_mode()` (a validation loop); without, under `torch.no_grad()`.
    """
    with model_lock(model):
        with _restored(model, gradients):
            yield


@contextmanager
def _restored(model: nn.Module, gradients: bool):
    modules = list(model.modules())
    modes = [m.training for m in modules]
    # Inference tensors have no version counter and cannot be written outside inference mode.
    buffers = [(b, b._version, b.detach().clone()) for b in model.buffers() if not b.is_inference()]
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    try:
        with ExitStack() as stack:
            if gradients:
                stack.enter_context(torch.inference_mode(False))
                stack.enter_context(torch.enable_grad())
            else:
                stack.enter_context(torch.no_grad())
            model.eval()
            yield
    finally:
        for module, mode in zip(modules, modes):
            module.training = mode
        with torch.no_grad():
            for buffer, version, saved in buffers:
                if buffer._version != version:
                    buffer.copy_(saved)
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
