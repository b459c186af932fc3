"""What the framework callbacks share: the probe batch and its arguments, checked when the callback is
made, moved to the model's device once per device, and a call of `tb_saliency.log_saliency` on the
ranks that must compute."""

import inspect
import numbers
from collections.abc import Mapping

import tb_saliency.needs_torch  # noqa: F401  (first: a clear ImportError without torch)
import torch

from tb_saliency import arguments, log
from tb_saliency.attribution import checks, kinds, options
from tb_saliency.integrations import token_batch
from tb_saliency.integrations.token_batch import LABEL_KEYS
from tb_saliency.value_checks import describe

# Arguments of log_saliency that the callback fills in itself. No progress bar inside a framework's
# loop: the framework draws its own, and a second one would break its line.
_RESERVED = ("writer", "tag", "model", "inputs", "global_step", "walltime", "progress")
# Keyword arguments of log_saliency besides the engine's options.
_LOG_KEYWORDS = tuple(
    name for name, p in inspect.signature(log.log_saliency).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in _RESERVED
)
# Tensors that must sit on the model's device with the inputs (of them, only `baseline` is converted
# to the model's dtype with the inputs: targets and labels are class ids).
_DEVICE_ARGUMENTS = ("target", "labels", "baseline")


def check_every(value, name):
    """None or a positive int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected an int >= 1 or None, got {describe(value)}")
    return int(value)


def _with_labels(kwargs, labels, source):
    """`kwargs` with the labels the probe itself carries (`source` says where, for the message)."""
    if "labels" in kwargs:
        raise TypeError(f"labels: given twice, {source} and as labels=")
    return {**kwargs, "labels": labels}


class Probe:
    """A fixed batch and the `log_saliency` arguments to log it with.

    `inputs` is a tensor, a pair (inputs, labels) as a dataset yields it, or a Hugging Face batch: a
    dict {"pixel_values": N×C×H×W, "labels": N} as a collator makes it, or a list of dataset
    examples {"pixel_values": C×H×W, "label(s)": int}; or a token batch or list of tokenized
    examples (see `token_batch`). The labels are shown beside the predictions
    (`labels=`), not attributed (the target stays `target=`, by default the predicted class).
    """

    def __init__(self, owner, inputs, tag, kwargs):
        self.owner = owner
        if token_batch.is_token_probe(inputs):
            inputs, labels = token_batch.token_probe(inputs, kwargs.get("tokenizer"))
            if labels is not None:
                kwargs = _with_labels(kwargs, labels, "in the token batch")
            self._init_checked(inputs, tag, kwargs, count=len(inputs["input_ids"]))
            return
        if isinstance(inputs, Mapping) or (
                isinstance(inputs, (tuple, list)) and inputs and all(isinstance(i, Mapping) for i in inputs)):
            inputs = examples_batch(inputs)
        if isinstance(inputs, (tuple, list)):
            if len(inputs) != 2 or not isinstance(inputs[0], torch.Tensor):
                raise TypeError(
                    f"inputs: expected a tensor batch, a pair (inputs, labels) or a dict with 'pixel_values', got a "
                    f"{type(inputs).__name__} "
                    f"of {len(inputs)} items" + ("" if len(inputs) != 2 else f" starting with {type(inputs[0]).__name__}")
                )
            inputs, labels = inputs
            kwargs = _with_labels(kwargs, labels, "as the second item of inputs")
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(
                f"inputs: expected a tensor batch, a pair (inputs, labels) or a dict with 'pixel_values', got "
                f"{type(inputs).__name__}"
            )
        if inputs.dim() < 1 or inputs.shape[0] < 1:
            raise ValueError(f"inputs: expected a batch of at least one sample, got shape {tuple(inputs.shape)}")
        self._init_checked(inputs.detach(), tag, kwargs, count=inputs.shape[0])

    def _init_checked(self, inputs, tag, kwargs, count):
        owner = self.owner
        for name in _RESERVED:
            if name in kwargs:
                raise TypeError(f"{name}: {owner} sets it itself; it cannot be given")
        self.tag = arguments.check_tag(tag)
        # What can be checked without the model, now rather than at the first logging step.
        methods = checks.check_methods(kwargs.get("methods", "gradcam"))
        # The engine's input-kind arguments (`embeddings=` ...) are checked by the engine, with the model.
        options.resolve_options(methods, {k: v for k, v in kwargs.items()
                                          if k not in _LOG_KEYWORDS and k not in kinds.KIND_ARGUMENTS})
        arguments.check_dtype(kwargs.get("dtype", "float16"))
        names = arguments.class_names(kwargs.get("class_names"))
        arguments.per_sample(kwargs.get("labels"), "labels", count, "class", names)
        asks_metrics = any(kwargs.get(name) is not None for name in ("metrics", "masks", "boxes"))
        if asks_metrics or "metrics_every" in kwargs:
            from tb_saliency import logged_metrics

            logged_metrics.check_metrics_every(kwargs.get("metrics_every", 1), kwargs.get("metrics"))
            logged_metrics.MetricPlan.parse(kwargs.get("metrics"), kwargs.get("masks"), kwargs.get("boxes"), inputs,
                                            kwargs.get("target"))
        self.inputs = inputs
        self.kwargs = kwargs
        self._placed = {}  # (device, dtype) → (inputs, kwargs) placed so; the latest one only

    def set_target(self, target):
        """Replaces `target=` (a default found once the model is known)."""
        self.kwargs = {**self.kwargs, "target": target}
        self._placed = {}

    def on(self, device, dtype=None):
        """The inputs and arguments on `device`: every tensor that goes with the inputs moved there,
        and the floating-point ones (inputs, baseline) converted to `dtype` when given."""
        key = (torch.device(device), dtype)
        if key not in self._placed:
            def place(tensor, convert):
                if dtype is not None and convert and tensor.is_floating_point():
                    return tensor.to(device=key[0], dtype=dtype)
                return tensor.to(key[0])

            kwargs = dict(self.kwargs)
            for name in _DEVICE_ARGUMENTS:
                if isinstance(kwargs.get(name), torch.Tensor):
                    kwargs[name] = place(kwargs[name], convert=name == "baseline")
            if isinstance(self.inputs, Mapping):  # a token batch: ids and masks, never converted
                inputs = {name: place(value, convert=False) for name, value in self.inputs.items()}
            else:
                inputs = place(self.inputs, convert=True)
            self._placed = {key: (inputs, kwargs)}
        return self._placed[key]

    def log(self, writer, model, step):
        """`log_saliency` of the probe, placed for `model` (see `placement`), into `writer` (None:
        compute only) at `step`."""
        inputs, kwargs = self.on(*placement(model))
        return log.log_saliency(writer, self.tag, model, inputs, global_step=step, progress=False, **kwargs)


# The model's input in a Hugging Face image batch (its labels come under LABEL_KEYS).
_PIXELS = "pixel_values"


def examples_batch(batch):
    """A Hugging Face batch as a pair (pixel_values, labels), or pixel_values alone: a dict of
    columns {"pixel_values": N×C×H×W, "labels": N} (columns may be lists), or a list of examples,
    each {"pixel_values": C×H×W, "label(s)": int}, stacked. The model is called as
    model(pixel_values), so a key it would miss is an error rather than silently dropped. Labels are
    passed on as they come, for `labels=` to check."""
    if isinstance(batch, Mapping):
        _check_keys(batch, "inputs")
        pixels = batch[_PIXELS]
        if isinstance(pixels, torch.Tensor):
            label_keys = [k for k in LABEL_KEYS if k in batch]
            if pixels.dim() == 3 and label_keys and _is_one_label(batch[label_keys[0]]):
                raise ValueError(
                    f"inputs: one example ('pixel_values' of shape {tuple(pixels.shape)} and a single label); "
                    f"give a batch of them: a list of examples, or a slice such as dataset[:1]"
                )
            return (pixels, batch[label_keys[0]]) if label_keys else pixels
        # Columns as lists (a dataset sliced without with_format("torch")): the same as its examples.
        count = _column_length(pixels, "inputs['pixel_values']")
        for key, column in batch.items():
            if _column_length(column, f"inputs[{key!r}]") != count:
                raise ValueError(f"inputs[{key!r}]: expected one value per example ({count}), got {describe(column)}")
        rows = [{key: column[i] for key, column in batch.items()} for i in range(count)]
        return _stack_examples(rows, row_name=lambda i: "inputs", pixels_name=lambda i: f"inputs['pixel_values'][{i}]")
    return _stack_examples(list(batch), row_name=lambda i: f"inputs[{i}]",
                           pixels_name=lambda i: f"inputs[{i}]['pixel_values']")


def _check_keys(row, name):
    keys = list(row)
    if _PIXELS not in row:
        raise TypeError(f"{name}: expected a dict with 'pixel_values' (a Hugging Face image batch), got keys {keys}")
    label_keys = [k for k in LABEL_KEYS if k in row]
    extra = [k for k in keys if k != _PIXELS and k not in LABEL_KEYS] or (label_keys if len(label_keys) > 1 else [])
    if extra:
        raise TypeError(
            f"{name}: the model is called as model(pixel_values), so {', '.join(map(repr, extra))} would not "
            f"reach it; give a dict of 'pixel_values' and 'labels' (or the pixel_values tensor alone)"
        )


def _is_one_label(value):
    return isinstance(value, numbers.Integral) or (hasattr(value, "shape") and tuple(value.shape) == ())


def _column_length(column, name):
    if isinstance(column, (str, bytes, Mapping)) or not hasattr(column, "__len__") or (
            hasattr(column, "shape") and tuple(column.shape) == ()):
        raise TypeError(f"{name}: expected a column of one value per example, got {describe(column)}")
    if len(column) == 0:
        raise ValueError(f"{name}: expected at least one example, got an empty column")
    return len(column)


def _stack_examples(rows, row_name, pixels_name):
    """Examples (dicts of one sample each) as pixel_values N×C×H×W, with their labels if they have any;
    `row_name(i)` and `pixels_name(i)` say where example i came from, for messages."""
    pixels, labels = [], []
    for index, row in enumerate(rows):
        _check_keys(row, row_name(index))
        value = row[_PIXELS]
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"{pixels_name(index)}: expected a tensor (give the dataset its image transform, or "
                f"with_format('torch')), got {type(value).__name__}"
            )
        if value.dim() == 4:
            raise ValueError(
                f"{pixels_name(index)}: expected one example's pixel_values (C×H×W), got shape "
                f"{tuple(value.shape)}, a batch: give the batch dict itself, not a list holding it"
            )
        pixels.append(value)
        label_keys = [k for k in LABEL_KEYS if k in row]
        labels.append(row[label_keys[0]] if label_keys else None)
    shapes = {tuple(p.shape) for p in pixels}
    if len(shapes) != 1:
        raise ValueError(f"inputs: the examples' pixel_values differ in shape ({sorted(shapes)}); they must stack")
    if token_batch.every_or_no_label(labels) is None:
        return torch.stack(pixels)
    # One number per example (0-d tensors as numbers); labels= checks what they are.
    labels = [label.item() if isinstance(label, torch.Tensor) and label.dim() == 0 else label for label in labels]
    return torch.stack(pixels), labels


def is_sharded(model):
    """Whether `model`'s forward needs every rank (FSDP1 or FSDP2 modules in it): then every rank
    computes the maps and rank zero alone writes them. Otherwise rank zero computes alone."""
    try:
        from torch.distributed.fsdp import FSDPModule, FullyShardedDataParallel
    except ImportError:  # torch built without distributed
        return False
    return any(isinstance(m, (FSDPModule, FullyShardedDataParallel)) for m in model.modules())


def placement(model):
    """(device, dtype) for the probe: where the model's parameters (else buffers) are, and the dtype
    of its floating-point parameters when they share one (a model in bfloat16 or float64 gets its
    inputs in that dtype, as training batches get them; mixed precision keeps float32 parameters,
    so the probe stays float32), else None."""
    device = torch.device("cpu")
    for tensor in [*model.parameters(), *model.buffers()]:
        device = tensor.device
        break
    dtypes = {p.dtype for p in model.parameters() if p.is_floating_point()}
    return device, (dtypes.pop() if len(dtypes) == 1 else None)
