"""`tb_saliency.SummaryWriter`: torch's SummaryWriter plus saliency, maps and activations.

The glue between the user's training loop, the attribution engine and the stored format. Every
argument is checked, and every array computed and encoded, before anything is written, so a call that
fails leaves the event file as it was.
"""

import collections
import numbers
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch.utils import tensorboard as torch_tensorboard

from tb_saliency import attribution
from tb_saliency import format as stored_format

MAP_DTYPES = tuple(stored_format.DTYPES)

# Probe sets whose images this writer remembers, to store a repeated set once (see _place_images).
_REMEMBERED_IMAGE_SETS = 4096


def _to_numpy(value, name):
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dtype in (torch.float16, torch.bfloat16):
            value = value.float()
        return value.cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as error:  # numpy raises several types on ragged or odd objects
        raise TypeError(f"{name}: expected a tensor or an array, got {type(value).__name__}") from error


def _check_tag(tag):
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"tag: expected a non-empty string, got {tag!r}")
    if tag.startswith(stored_format.INPUTS_TAG_PREFIX):
        raise ValueError(
            f"tag: names starting with {stored_format.INPUTS_TAG_PREFIX!r} are reserved for "
            f"tb_saliency's shared images, got {tag!r}"
        )


def _check_dtype(dtype):
    if dtype not in MAP_DTYPES:
        raise ValueError(f"dtype: expected one of {MAP_DTYPES}, got {dtype!r}")


def _check_global_step(global_step):
    if global_step is not None and (
        isinstance(global_step, bool) or not isinstance(global_step, numbers.Integral)
    ):
        raise TypeError(f"global_step: expected an int or None, got {global_step!r}")


def _check_common(tag, global_step, dtype, class_names):
    """The checks every add_* method starts with; returns the class names as a list."""
    _check_tag(tag)
    _check_global_step(global_step)
    _check_dtype(dtype)
    return _class_names(class_names)


def _class_names(class_names):
    if class_names is None:
        return []
    if isinstance(class_names, str) or not all(isinstance(n, str) for n in class_names):
        raise TypeError(
            f"class_names: expected a sequence of strings, one per class id, got {class_names!r:.80}"
        )
    return list(class_names)


def _per_sample(values, name, count, kind, class_names=()):
    """Checks a per-sample sequence (labels, predictions, scores) and returns a list or None."""
    if values is None:
        return None
    array = _to_numpy(values, name)
    if array.ndim != 1 or array.shape[0] != count:
        raise ValueError(
            f"{name}: expected one value per sample ({count}), got shape {tuple(array.shape)}"
        )
    if kind == "class":
        if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
            raise TypeError(f"{name}: expected integer class ids, got dtype {array.dtype}")
        array = array.astype(np.int64)
        if np.any(array < 0):
            raise ValueError(f"{name}: expected class ids ≥ 0, got {array.min()}")
        if class_names and np.any(array >= len(class_names)):
            raise ValueError(
                f"{name}: class id {array.max()} has no name: class_names lists "
                f"{len(class_names)} classes"
            )
        return [int(v) for v in array]
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite numbers, got NaN or infinity")
    return [float(v) for v in array]


def _check_map_values(values, name, count):
    """A map as N×h×w float64, with the shapes people pass from captum or grad-cam accepted."""
    values = _to_numpy(values, name)
    if values.ndim == 4 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 3:
        hint = ""
        if values.ndim == 4:
            hint = " (a map per colour channel? reduce it first, e.g. maps.sum(1))"
        raise ValueError(
            f"{name}: expected N×h×w (or N×1×h×w) maps, got shape {tuple(values.shape)}{hint}"
        )
    if values.shape[0] != count:
        raise ValueError(
            f"{name}: expected one map per image ({count}), got {values.shape[0]} maps"
        )
    if values.shape[1] == 0 or values.shape[2] == 0:
        raise ValueError(f"{name}: expected maps of at least 1×1, got shape {tuple(values.shape)}")
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise TypeError(f"{name}: expected numbers, got dtype {values.dtype}")
    values = values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        samples = sorted(set(np.nonzero(bad)[0].tolist()))
        raise ValueError(
            f"{name}: expected finite values, got NaN or infinity in sample(s) {samples[:10]}"
        )
    return values


def _facts(count, labels=None, targets=None, predictions=None, scores=None, target_scores=None):
    columns = dict(label=labels, target=targets, prediction=predictions, score=scores,
                   target_score=target_scores)
    return [
        stored_format.SampleFacts(**{k: (v[i] if v is not None else None) for k, v in columns.items()})
        for i in range(count)
    ]


def _tensor_list(tensor, kind):
    if tensor is None:
        return None
    values = tensor.detach().cpu()
    return [int(v) for v in values] if kind == "class" else [float(v) for v in values.double()]


class SummaryWriter(torch_tensorboard.SummaryWriter):
    """torch's SummaryWriter, plus `add_saliency`, `add_saliency_map` and `add_activations`.

    Everything torch's writer does keeps working; the saliency frames go to the same event file, so
    one `tensorboard --logdir` shows them beside scalars and images.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._saliency_kinds = {}                   # tag → kind this writer stored there
        self._frames_written = collections.Counter()  # tag → frames this writer stored there
        self._image_sets = collections.OrderedDict()  # content key → "inline" or "shared"

    # Public API ----------------------------------------------------------------------------------

    def add_saliency_map(
        self,
        tag: str,
        images,
        maps,
        *,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        labels=None,
        predictions=None,
        scores=None,
        class_names: Optional[Sequence[str]] = None,
        method: str = "custom",
        mean=None,
        std=None,
        dataformats: str = "NCHW",
        dtype: str = "float16",
    ):
        """Logs maps computed anywhere (captum, pytorch-grad-cam, your own) over their images.

        Args:
          tag: name of the series in TensorBoard.
          images: N×C×H×W (or N×H×W×C with dataformats="NHWC") or N×H×W grayscale; float in [0, 1]
            (or de-normalised with `mean`/`std`) or uint8. A tensor or an array.
          maps: N×h×w (N×1×h×w accepted), or a dict {method name: N×h×w} to compare methods side
            by side. Any resolution; the dashboard upsamples. Stored raw.
          labels, predictions: N class ids; scores: N numbers (e.g. the probability of the
            prediction). All optional.
          class_names: names indexed by class id, shown instead of ids.
          method: the column name when `maps` is a single array.
          mean, std: per-channel normalisation of `images` to undo for display.
          dtype: "float16" (default, half the bytes) or "float32" for the stored maps.
        """
        names = _check_common(tag, global_step, dtype, class_names)
        self._check_tag_kind(tag, "saliency")
        display = stored_format.to_display(
            _to_numpy(images, "images"), mean=mean, std=std, layout=dataformats
        )
        count = display.count
        if isinstance(maps, Mapping):
            if not maps:
                raise ValueError("maps: expected at least one method in the dict, got an empty dict")
            named = list(maps.items())
        else:
            if not isinstance(method, str) or not method:
                raise TypeError(f"method: expected a non-empty string, got {method!r}")
            named = [(method, maps)]
        columns = []
        for key, values in named:
            if not isinstance(key, str) or not key:
                raise TypeError(f"maps: expected method names as non-empty strings, got {key!r}")
            array = _check_map_values(values, f"maps[{key!r}]" if len(named) > 1 else "maps", count)
            columns.append(stored_format.MapColumn(key=key, method=key, values=array))
        facts = _facts(
            count,
            labels=_per_sample(labels, "labels", count, "class", names),
            predictions=_per_sample(predictions, "predictions", count, "class", names),
            scores=_per_sample(scores, "scores", count, "number"),
        )
        self._write_frame(
            "saliency", tag, display, facts, names, global_step, walltime,
            lambda **common: stored_format.saliency_summary(tag, maps=columns, dtype=dtype, **common),
            map_keys=[c.key for c in columns],
        )

    def add_saliency(
        self,
        tag: str,
        model: torch.nn.Module,
        inputs: torch.Tensor,
        *,
        target=None,
        methods: Union[str, Sequence[str]] = "gradcam",
        layer=None,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        labels=None,
        class_names: Optional[Sequence[str]] = None,
        mean=None,
        std=None,
        denormalize: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
        images=None,
        dtype: str = "float16",
        **options,
    ):
        """Computes saliency maps of `model` on `inputs` and logs them as one frame.

        The model, its gradients, buffers, modes and hooks, and the global RNG are left exactly as
        they were, so this is safe to call inside a training loop and inside `torch.no_grad()`.

        Args:
          tag: name of the series in TensorBoard.
          model: the model to explain.
          inputs: N×C×H×W batch, as the model takes it (normalised as in training).
          target: None (the predicted class), an int, N ints, or a callable outputs → Tensor[N].
          methods: a method name or a list of them (see `tb_saliency.METHODS`); several methods
            share their passes and land side by side in one frame.
          layer: a module or its dotted name (a list for several), for CAM methods.
          labels: N ground-truth class ids, shown beside the prediction.
          class_names: names indexed by class id.
          mean, std: the input normalisation, undone for display; or `denormalize`, a function
            inputs → images in [0, 1].
          images: what to show instead of `inputs` (for inputs that are not pictures).
          dtype: "float16" or "float32" for the stored maps.
          **options: method options, see `tb_saliency.attribute`.

        Returns:
          The raw maps, {key: Tensor[N, h, w]} as `tb_saliency.attribute` returns them, for
          metrics of your own without computing them twice.
        """
        names, display, label_ids = self._check_model_call(
            "saliency", tag, global_step, dtype, class_names, inputs, images, mean, std, denormalize, labels)
        count = display.count
        explanation = attribution.explain(
            model, inputs, methods, target=target, layer=layer, **options
        )
        columns = [
            stored_format.MapColumn(
                key=result.key,
                method=result.method,
                layer=result.layer or "",
                values=result.values.detach().double().cpu().numpy(),
                options=result.options,
                statistics={k: v.detach().double().cpu().numpy()
                            for k, v in result.statistics.items()},
            )
            for result in explanation.maps.values()
        ]
        facts = _facts(
            count,
            labels=label_ids,
            targets=_tensor_list(explanation.targets, "class"),
            predictions=_tensor_list(explanation.predictions, "class"),
            scores=_tensor_list(explanation.probabilities, "number"),
            target_scores=_tensor_list(explanation.target_scores, "number"),
        )
        self._write_frame(
            "saliency", tag, display, facts, names, global_step, walltime,
            lambda **common: stored_format.saliency_summary(tag, maps=columns, dtype=dtype, **common),
            map_keys=[c.key for c in columns],
        )
        return {key: result.values for key, result in explanation.maps.items()}

    def add_activations(
        self,
        tag: str,
        model: torch.nn.Module,
        inputs: torch.Tensor,
        *,
        layer,
        max_channels: int = 16,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        labels=None,
        class_names: Optional[Sequence[str]] = None,
        mean=None,
        std=None,
        denormalize: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
        images=None,
        dtype: str = "float16",
        **options,
    ):
        """Logs a layer's most active channels per sample (most active first), with the inputs.

        Args as `add_saliency`; `layer` is one module or dotted name, and `max_channels` bounds how
        many channels each sample keeps.
        """
        names, display, label_ids = self._check_model_call(
            "activations", tag, global_step, dtype, class_names, inputs, images, mean, std, denormalize, labels)
        count = display.count
        result = attribution.activations(
            model, inputs, layer=layer, max_channels=max_channels, **options
        )
        channels = stored_format.ActivationChannels(
            layer=result.layer,
            values=result.values.detach().double().cpu().numpy(),
            channel_index=result.channel_index.detach().cpu().numpy(),
            channel_mean=result.channel_mean.detach().double().cpu().numpy(),
            total_channels=int(result.total_channels),
            options=result.options,
        )
        facts = _facts(
            count,
            labels=label_ids,
            predictions=_tensor_list(result.predictions, "class"),
            scores=_tensor_list(result.probabilities, "number"),
        )
        self._write_frame(
            "activations", tag, display, facts, names, global_step, walltime,
            lambda **common: stored_format.activations_summary(
                tag, activations=channels, dtype=dtype, **common
            ),
            map_keys=[],
        )

    # Internals -----------------------------------------------------------------------------------

    def _check_model_call(self, kind, tag, global_step, dtype, class_names, inputs, images, mean,
                          std, denormalize, labels):
        """The checks `add_saliency` and `add_activations` share, done before the model runs:
        returns (class names, display images, label ids)."""
        names = _check_common(tag, global_step, dtype, class_names)
        self._check_tag_kind(tag, kind)
        display = self._display_images(inputs, images, mean, std, denormalize)
        return names, display, _per_sample(labels, "labels", display.count, "class", names)

    @staticmethod
    def _display_images(inputs, images, mean, std, denormalize):
        """What the frame shows for `inputs`: `images` as given, `denormalize(inputs)`, or the
        inputs with `mean`/`std` undone."""
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"inputs: expected a torch.Tensor batch, got {type(inputs).__name__}")
        if images is not None and denormalize is not None:
            raise ValueError("images, denormalize: give one of them, not both")
        if images is not None:
            display = stored_format.to_display(_to_numpy(images, "images"), mean=mean, std=std)
        elif denormalize is not None:
            if mean is not None or std is not None:
                raise ValueError("denormalize, mean/std: give one way to de-normalise, not both")
            if not callable(denormalize):
                raise TypeError(f"denormalize: expected a function, got {denormalize!r}")
            with torch.no_grad():
                shown = denormalize(inputs.detach())
            display = stored_format.to_display(
                _to_numpy(shown, "denormalize(inputs)"), transformed=True,
                argument="denormalize(inputs)")
        else:
            display = stored_format.to_display(
                _to_numpy(inputs, "inputs"), mean=mean, std=std, argument="inputs")
        return SummaryWriter._check_count(display, inputs)

    @staticmethod
    def _check_count(display, inputs):
        if display.count != inputs.shape[0]:
            raise ValueError(
                f"images: expected one image per input ({inputs.shape[0]}), got {display.count}"
            )
        return display

    def _place_images(self, display):
        """Where a frame's images go: inline the first time a probe set is seen; from the second
        time on, in a shared INPUTS tag written once, so a fixed probe set logged at every step
        is stored twice, not at every step, and every frame that survives sampling can show it.

        Returns (content key, shared key or None, INPUTS summary to write first or None); the
        caller records the key's new state only once the frame is written.
        """
        key = display.content_key()
        state = self._image_sets.get(key)
        if state is None:
            return key, None, None
        if state == "inline":
            return key, key, stored_format.inputs_summary(
                key, display, summary_metadata=stored_format.create_summary_metadata("inputs")
            )
        return key, key, None

    def _remember_images(self, key, shared):
        self._image_sets[key] = "shared" if shared else self._image_sets.get(key, "inline")
        self._image_sets.move_to_end(key)
        while len(self._image_sets) > _REMEMBERED_IMAGE_SETS:
            self._image_sets.popitem(last=False)

    def _check_tag_kind(self, tag, kind):
        """Before any work: a tag holds one kind of frame."""
        known = self._saliency_kinds.get(tag)
        if known is not None and known != kind:
            raise ValueError(
                f"tag: {tag!r} already holds {known} frames in this writer; use another tag for "
                f"{kind}"
            )

    def _write_frame(self, kind, tag, display, facts, class_names, global_step, walltime, build,
                     map_keys):
        known = self._saliency_kinds.get(tag)
        content_key, shared_key, shared_summary = self._place_images(display)
        summary_metadata = None
        if known is None:
            # TensorBoard keeps the first metadata of a tag only, so write it once.
            summary_metadata = stored_format.create_summary_metadata(
                kind, map_keys=map_keys, class_names=class_names, num_samples=len(facts)
            )
        summary = build(
            samples=facts,
            images=display,
            shared_images_key=shared_key,
            frames_written=self._frames_written[tag] + 1,
            summary_metadata=summary_metadata,
        )
        file_writer = self._get_file_writer()
        if shared_summary is not None:
            file_writer.add_summary(shared_summary, global_step, walltime)
        file_writer.add_summary(summary, global_step, walltime)
        self._remember_images(content_key, shared=shared_key is not None)
        self._saliency_kinds[tag] = kind
        self._frames_written[tag] += 1
