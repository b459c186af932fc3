"""`tb_saliency.SummaryWriter`: torch's SummaryWriter with saliency, maps and activations as methods.

A convenience over `tb_saliency.log_saliency(writer, ...)` and its siblings, which take any writer:
each method here is that function called with this writer, with the same arguments and result.
"""

import functools
import inspect

import tb_saliency.needs_torch  # noqa: F401  (first: a clear ImportError without torch)
from torch.utils import tensorboard as torch_tensorboard

from tb_saliency import log


def _method(function, name):
    """`function(writer, ...)` as a method `name(self, ...)`, keeping its signature and docstring."""

    @functools.wraps(function)
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)

    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())
    method.__signature__ = signature.replace(parameters=[parameters[0].replace(name="self"), *parameters[1:]])
    method.__name__ = method.__qualname__ = name
    return method


class SummaryWriter(torch_tensorboard.SummaryWriter):
    """torch's SummaryWriter, plus `add_saliency`, `add_saliency_map` and `add_activations`.

    Everything torch's writer does keeps working; the saliency frames go to the same event file, so
    one `tensorboard --logdir` shows them beside scalars and images.
    """

    add_saliency = _method(log.log_saliency, "add_saliency")
    add_saliency_map = _method(log.log_saliency_map, "add_saliency_map")
    add_activations = _method(log.log_activations, "add_activations")
