"""What the framework callbacks share: the probe batch and its arguments, checked when the callback is
made, moved to the model's device once per device, and a call of `tb_saliency.log_saliency` on the
ranks that must compute."""

import inspect
import numbers

import tb_saliency.needs_torch  # noqa: F401  (first: a clear ImportError without torch)
import torch

from tb_saliency import arguments, log
from tb_saliency.attribution import checks, options

# Arguments of log_saliency that the callback fills in itself.
_RESERVED = ("writer", "tag", "model", "inputs", "global_step", "walltime")
# Keyword arguments of log_saliency besides the engine's options.
_LOG_KEYWORDS = tuple(
    name for name, p in inspect.signature(log.log_saliency).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in _RESERVED
)
# Tensors that must sit on the model's device with the inputs.
_DEVICE_ARGUMENTS = ("target", "labels", "baseline")


def check_every(value, name):
    """None or a positive int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected an int >= 1 or None, got {arguments.describe(value)}")
    return int(value)


class Probe:
    """A fixed batch and the `log_saliency` arguments to log it with.

    `inputs` is a tensor, or a pair (inputs, labels) as a dataset yields it; the labels are shown
    beside the predictions (`labels=`), not attributed (the target stays `target=`, by default the
    predicted class).
    """

    def __init__(self, owner, inputs, tag, kwargs):
        self.owner = owner
        if isinstance(inputs, (tuple, list)):
            if len(inputs) != 2 or not isinstance(inputs[0], torch.Tensor):
                raise TypeError(
                    f"inputs: expected a tensor batch or a pair (inputs, labels), got a {type(inputs).__name__} "
                    f"of {len(inputs)} items" + ("" if len(inputs) != 2 else f" starting with {type(inputs[0]).__name__}")
                )
            inputs, labels = inputs
            if "labels" in kwargs:
                raise TypeError("labels: given twice, as the second item of inputs and as labels=")
            kwargs = {**kwargs, "labels": labels}
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"inputs: expected a tensor batch or a pair (inputs, labels), got {type(inputs).__name__}")
        if inputs.dim() < 1 or inputs.shape[0] < 1:
            raise ValueError(f"inputs: expected a batch of at least one sample, got shape {tuple(inputs.shape)}")
        for name in _RESERVED:
            if name in kwargs:
                raise TypeError(f"{name}: {owner} sets it itself; it cannot be given")
        self.tag = arguments.check_tag(tag)
        # What can be checked without the model, now rather than at the first logging step.
        methods = checks.check_methods(kwargs.get("methods", "gradcam"))
        options.resolve_options(methods, {k: v for k, v in kwargs.items() if k not in _LOG_KEYWORDS})
        arguments.check_dtype(kwargs.get("dtype", "float16"))
        names = arguments.class_names(kwargs.get("class_names"))
        arguments.per_sample(kwargs.get("labels"), "labels", inputs.shape[0], "class", names)
        self.inputs = inputs.detach()
        self.kwargs = kwargs
        self._placed = {}  # device → (inputs, kwargs) there

    def on(self, device):
        """The inputs and arguments with every tensor that goes with the inputs on `device`."""
        device = torch.device(device)
        if device not in self._placed:
            kwargs = dict(self.kwargs)
            for name in _DEVICE_ARGUMENTS:
                if isinstance(kwargs.get(name), torch.Tensor):
                    kwargs[name] = kwargs[name].to(device)
            self._placed = {device: (self.inputs.to(device), kwargs)}
        return self._placed[device]

    def log(self, writer, model, device, step):
        """`log_saliency` of the probe on `device` into `writer` (None: compute only) at `step`."""
        inputs, kwargs = self.on(device)
        return log.log_saliency(writer, self.tag, model, inputs, global_step=step, **kwargs)


def is_sharded(model):
    """Whether `model`'s forward needs every rank (FSDP1 or FSDP2 modules in it): then every rank
    computes the maps and rank zero alone writes them. Otherwise rank zero computes alone."""
    try:
        from torch.distributed.fsdp import FSDPModule, FullyShardedDataParallel
    except ImportError:  # torch built without distributed
        return False
    return any(isinstance(m, (FSDPModule, FullyShardedDataParallel)) for m in model.modules())


def model_device(model):
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")
