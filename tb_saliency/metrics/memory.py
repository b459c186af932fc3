"""How many bytes of activations one forward pass of a batch produces, to size chunks of copies."""

from __future__ import annotations

import weakref
from contextlib import contextmanager

import torch


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


class ActivationMeter:
    """Sums the sizes of the distinct tensors every module outputs during a forward pass, and the input.

    Forward hooks sit on every module of the model only inside `measuring()` and are always removed.
    A tensor counts once however many modules return it (a container returns its last child's output;
    a view such as Flatten shares its input's live storage). Under no_grad most activations are freed as
    the pass goes on, so the sum is an upper bound of what one pass holds at once.
    """

    def __init__(self):
        self._seen = {}
        self.bytes = 0

    def add(self, value) -> None:
        for tensor in _tensors(value):
            key = (tensor.untyped_storage().data_ptr(), tensor.device)
            earlier = self._seen.get(key)
            # Under no_grad a freed activation's memory is soon reused: the same address then holds a
            # new tensor, which counts. Only a live tensor sharing the storage (a view) is the same one.
            if earlier is None or earlier() is None:
                self._seen[key] = weakref.ref(tensor)
                self.bytes += tensor.untyped_storage().nbytes()

    @contextmanager
    def measuring(self, model):
        handles = []
        try:
            for module in model.modules():
                handles.append(module.register_forward_hook(lambda module, args, output: self.add(output)))
            yield self
        finally:
            for handle in handles:
                handle.remove()
