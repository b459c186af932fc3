"""`log_saliency`, `log_saliency_map`, `log_activations`: saliency frames into any TensorBoard writer.

    from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter("runs/exp1")
    tb_saliency.log_saliency(writer, "probe", model, images, methods=["gradient", "gradcam"],
                             layer="layer4", global_step=step)

`writer` may be torch's `SummaryWriter`, tensorboardX's, `tb_saliency.SummaryWriter`, a Lightning
logger with such an `.experiment`, or None (compute and return the maps, write nothing: the other
ranks of a distributed job). Frames go into that writer's own event file, never a second file in the
run folder, so TensorBoard shows them beside the writer's scalars. Under torch.distributed only rank
zero writes.

What a writer has logged (each tag's kind, its frame and step counts, the probe sets it has seen)
lives beside the writer, weakly keyed by it, so that a probe set logged at every step is stored once
and TensorBoard gets each tag's metadata once.

Every argument is checked, and every array computed and encoded, before anything is written: a call
that fails leaves the event file as it was.
"""

import dataclasses
from typing import Callable, Optional, Sequence, Union

import tb_saliency.needs_torch  # noqa: F401  (first: a clear ImportError without torch)
import torch

from tb_saliency import arguments, attribution, sequence_arguments, sinks, summary
from tb_saliency import format as stored_format
from tb_saliency.attribution.progress import resolve as resolve_progress
from tb_saliency.value_checks import check_int, describe

# Public API ---------------------------------------------------------------------------------------


def log_saliency_map(
    writer,
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
    tokens=None,
    tokenizer=None,
    sample_rate: Optional[float] = None,
):
    """Logs maps computed anywhere (captum, pytorch-grad-cam, your own) over their inputs: images,
    text or signals.

    Args:
      writer: see the module docstring.
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
      dtype: how the maps are stored, each byte-shuffled and deflated: "float16" (default; 11
        significant bits per value), "float32" (lossless for float32 maps), or "uint8" (256 levels
        of each sample's [min, max], within (max − min) / 510 of each value; about half the bytes
        of float16).
      tokens, tokenizer: for text, N×T maps (one value per token) over `tokens`, N lists of T
        strings, or over the token ids of `images` (a batch dict with "input_ids", or N×T ids)
        turned into strings by `tokenizer.convert_ids_to_tokens`. Special tokens (the batch's
        "special_tokens_mask", else the tokenizer's `all_special_ids`) and padding (the batch's
        "attention_mask") are dimmed and kept out of the colour range.
      sample_rate: signals: `images` is N×C×T (or N×T), the maps N×T; samples per second for audio.
    """
    sink = sinks.Sink(writer)
    frame = _Frame(sink, "saliency", tag, global_step, walltime, dtype, class_names)
    kind = sequence_arguments.input_kind(images, maps, tokens=tokens, tokenizer=tokenizer, sample_rate=sample_rate)
    if kind == "images":
        display, columns, facts = arguments.maps_over_images(
            images, maps, method=method, labels=labels, predictions=predictions, scores=scores,
            names=frame.class_names, mean=mean, std=std, dataformats=dataformats)
    else:
        display, columns, facts = sequence_arguments.maps_over_sequences(
            kind, images, maps, method=method, tokens=tokens, tokenizer=tokenizer, sample_rate=sample_rate,
            special=None, padding=None, labels=labels, predictions=predictions, scores=scores,
            names=frame.class_names)
    sinks.write(sink, [frame.saliency(display, facts, columns)])


def log_saliency(
    writer,
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
    metrics=None,
    masks=None,
    boxes=None,
    metrics_every: int = 1,
    progress=None,
    tokens=None,
    tokenizer=None,
    sample_rate: Optional[float] = None,
    **options,
):
    """Computes saliency maps of `model` on `inputs` and logs them as one frame.

    The model, its gradients, buffers, modes and hooks, and the global RNG are left exactly as
    they were, so this is safe to call inside a training loop and inside `torch.no_grad()`.

    Args:
      writer: see the module docstring.
      tag: name of the series in TensorBoard.
      model: the model to explain (a DistributedDataParallel wrapper runs on its `.module`).
      inputs: N×C×H×W batch, as the model takes it (normalised as in training); for text, the batch
        dict a tokenizer returns (with "input_ids"); for 1-D models, signals N×C×T.
      target: None (the predicted class), an int, N ints, or a callable outputs → Tensor[N].
      methods: a method name or a list of them (see `tb_saliency.METHODS`); several methods
        share their passes and land side by side in one frame.
      layer: a module or its dotted name (a list for several), for CAM methods; None (default): the
        model's last 2-D convolution, recorded as the maps' layer (transformers need `layer` and
        `reshape`).
      labels: N ground-truth class ids, shown beside the prediction.
      class_names: names indexed by class id.
      mean, std: the input normalisation, undone for display; or `denormalize`, a function
        inputs → images in [0, 1].
      images: what to show instead of `inputs` (for inputs that are not pictures).
      dtype: "float16" (default), "float32" (lossless) or "uint8" (within (max − min) / 510 of each
        value) for the stored maps; see `log_saliency_map`.
      metrics: metrics of each map to compute and log (see `tb_saliency.metrics`): a name, a list of
        names, or a dict {name: {option: value}} — "deletion", "insertion", "pointing_game",
        "energy_pointing_game", "randomisation". Each map's per-sample values (and deletion and
        insertion curves) are stored in the frame, and their means over samples written as scalars
        `<tag>/<metric>/<map key>` at the same step. "randomisation" also writes the sanity check's
        cascade as a frame of its own under `<tag>/randomisation`, and as scalars the mean Spearman
        correlation with the original maps (at the cascade's last stage, or over the layers
        randomised one at a time). Cost, in passes of the N inputs besides the maps' own: deletion
        and insertion each run forward passes only, of 2 + M·(steps - 1) copies of the batch for M
        maps (steps=20: 21 copies for one map, 40 for two), stacked as `memory_limit` allows; the
        pointing games run no pass; randomisation runs a forward pass, then per randomised layer the
        whole of `methods` again (every parameterised layer by default: a ResNet-18 has 41).
      metrics_every: compute `metrics` at the first call of this tag and then every k-th one (counted
        per writer and tag; per model where nothing is written, so that every rank of a sharded
        model agrees); the frames between are logged without metrics, and the tab's charts skip them.
      masks, boxes: where the object is, for the pointing games: N×H×W booleans, or N×4 boxes (x0,
        y0, x1, y1 in pixels, x1 and y1 exclusive).
      progress: None (a tqdm bar when stderr is a terminal or in a notebook), True or False: bars
        over the chunked passes of the methods and metrics; never on a rank other than zero.
      tokens, tokenizer: text models: `inputs` is the batch (a dict with "input_ids") the engine
        takes (`embeddings=`, `baseline_token=` among the options). The tokenizer gives the stored
        token strings and, to the engine too, the special ids (unless the batch has a
        "special_tokens_mask"); `tokens=` gives the strings instead. Padding is where the batch's
        "attention_mask" is 0. Maps are N×T, stored as `log_saliency_map` says.
      sample_rate: 1-D models (N×C×T inputs, N×T maps): samples per second, for audio, passed to the
        engine as well; `input_kind="signal"` stores signals without one.
      **options: method options, see `tb_saliency.attribute`.

    Returns:
      The raw maps, {key: Tensor[N, h, w]} as `tb_saliency.attribute` returns them, for
      metrics of your own without computing them twice.
    """
    sink = sinks.Sink(writer)
    frame = _Frame(sink, "saliency", tag, global_step, walltime, dtype, class_names)
    kind = _kind_of(inputs, options.get("input_kind"), tokens, tokenizer, sample_rate)
    display = _display_images(inputs, images, mean, std, denormalize) if kind == "images" else None
    count = display.count if display is not None else sequence_arguments.batch_count(inputs)
    label_ids = arguments.per_sample(labels, "labels", count, "class", frame.class_names)
    shown = resolve_progress(progress)
    # The engine (and the metrics' own passes) take the kind's arguments too: the tokenizer's special
    # ids, the sample rate.
    kind_arguments = {"tokenizer": tokenizer, "sample_rate": sample_rate}
    engine_options = {**{k: v for k, v in kind_arguments.items() if v is not None}, **options}
    every = check_int("metrics_every", metrics_every, 1)
    plan, counted = None, None
    if metrics is not None or masks is not None or boxes is not None or every != 1:
        from tb_saliency import logged_metrics

        logged_metrics.check_metrics_every(every, metrics)
        plan = logged_metrics.MetricPlan.parse(metrics, masks, boxes, inputs, target, model=model,
                                               engine_options=engine_options)
        if plan is not None:
            counted = _metric_calls(sink, model)
            with counted.lock:
                plan = plan if counted.metric_calls[frame.tag] % every == 0 else None
    cascade = None
    if plan is not None and plan.randomisation is not None:
        cascade = _Frame(sink, "randomisation", tag + logged_metrics.RANDOMISATION_TAG_SUFFIX, global_step,
                         walltime, dtype, class_names)
    explanation = attribution.explain(model, inputs, methods, target=target, layer=layer, progress=shown,
                                      **engine_options)
    logged = None
    if plan is not None:
        logged = plan.compute(tag, model, inputs, methods, explanation, target=target, layer=layer,
                              engine_options=engine_options, progress=shown)
    if kind == "images" and any(result.values.dim() == 2 for result in explanation.maps.values()):
        kind = "signals"  # N×T maps of N×C×T inputs: a 1-D model
    columns = [
        stored_format.MapColumn(
            key=result.key,
            method=result.method,
            layer=result.layer or "",
            values=_numpy(result.values)[:, None, :] if result.values.dim() == 2 else _numpy(result.values),
            options=result.options,
            statistics={k: _numpy(v) for k, v in result.statistics.items()},
            metrics=logged.per_map[result.key] if logged is not None else [],
        )
        for result in explanation.maps.values()
    ]
    if kind != "images":
        display = sequence_arguments.sequence_inputs(kind, inputs, tokens, tokenizer, sample_rate,
                                                     count=count, columns=columns)
    facts = arguments.sample_facts(
        count,
        labels=label_ids,
        targets=_tensor_list(explanation.targets, "class"),
        predictions=_tensor_list(explanation.predictions, "class"),
        scores=_tensor_list(explanation.probabilities, "number"),
        target_scores=_tensor_list(explanation.target_scores, "number"),
    )
    frames = [frame.saliency(display, facts, columns)]
    if cascade is not None:
        columns, randomisation = logged.cascade
        # N×T maps of tokens and signals are stored as N×1×T, as the frame's own columns are.
        columns = [dataclasses.replace(c, values=c.values[:, None, :]) if c.values.ndim == 2 else c for c in columns]
        frames.append(cascade.saliency(display, facts, columns, randomisation))
    sinks.write(sink, frames, logged.scalars if logged is not None else None)
    if counted is not None:
        with counted.lock:
            counted.metric_calls[frame.tag] += 1
    return {key: result.values for key, result in explanation.maps.items()}


def log_activations(
    writer,
    tag: str,
    model: torch.nn.Module,
    inputs: torch.Tensor,
    *,
    layer=None,
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

    Args as `log_saliency` (`dtype` included: "float16", "float32" or "uint8"); `layer` is one
    module or dotted name (None: the last 2-D convolution, as for `log_saliency`), and
    `max_channels` bounds how many channels each sample keeps. Returns the `ActivationResult` of
    `tb_saliency.activations`.
    """
    sink = sinks.Sink(writer)
    frame = _Frame(sink, "activations", tag, global_step, walltime, dtype, class_names)
    display = _display_images(inputs, images, mean, std, denormalize)
    label_ids = arguments.per_sample(labels, "labels", display.count, "class", frame.class_names)
    result = attribution.activations(model, inputs, layer=layer, max_channels=max_channels, **options)
    channels = stored_format.ActivationChannels(
        layer=result.layer,
        values=_numpy(result.values),
        channel_index=result.channel_index.detach().cpu().numpy(),
        channel_mean=_numpy(result.channel_mean),
        total_channels=int(result.total_channels),
        options=result.options,
    )
    facts = arguments.sample_facts(
        display.count,
        labels=label_ids,
        predictions=_tensor_list(result.predictions, "class"),
        scores=_tensor_list(result.probabilities, "number"),
    )
    sinks.write(sink, [frame.activations(display, facts, channels)])
    return result


# Internals ----------------------------------------------------------------------------------------


def _metric_calls(sink, model):
    """The state whose `metric_calls` counts a tag's calls for `metrics_every`: the writer's, or the
    model's where this process writes nothing (writer=None, a rank other than zero), so that every
    rank of a sharded model, which must run the same passes, counts the same calls."""
    return sink.state if sink.state is not None else sinks.state_of(model)


def _numpy(tensor):
    return tensor.detach().double().cpu().numpy()


def _tensor_list(tensor, kind):
    if tensor is None:
        return None
    values = tensor.detach().cpu()
    return [int(v) for v in values] if kind == "class" else [float(v) for v in values.double()]


def _kind_of(inputs, input_kind, tokens, tokenizer, sample_rate):
    """"images", "tokens" or "signals": how the frame stores `inputs`, as the engine's `input_kind`
    names them when it is given."""
    kind = sequence_arguments.input_kind(inputs, {}, tokens=tokens, tokenizer=tokenizer, sample_rate=sample_rate)
    named = {"tokens": "tokens", "signal": "signals", "image": "images"}.get(input_kind)
    if named is not None and kind != "images" and named != kind:
        raise ValueError(f"input_kind: {input_kind!r} contradicts the other arguments, which give {kind} inputs")
    return named or kind


def _display_images(inputs, images, mean, std, denormalize):
    """What the frame shows for `inputs`: `images` as given, `denormalize(inputs)`, or the inputs with
    `mean`/`std` undone; checked before the model runs."""
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs: expected a torch.Tensor batch, got {type(inputs).__name__}")
    if images is not None and denormalize is not None:
        raise ValueError("images, denormalize: give one of them, not both")
    if images is not None:
        display = arguments.display_images(images, mean=mean, std=std)
    elif denormalize is not None:
        if mean is not None or std is not None:
            raise ValueError("denormalize, mean/std: give one way to de-normalise, not both")
        if not callable(denormalize):
            raise TypeError(f"denormalize: expected a function, got {describe(denormalize)}")
        with torch.no_grad():
            shown = denormalize(inputs.detach())
        display = arguments.display_images(shown, argument="denormalize(inputs)", transformed=True)
    else:
        display = arguments.display_images(inputs, mean=mean, std=std, argument="inputs")
    if inputs.dim() == 0 or display.count != inputs.shape[0]:
        count = inputs.shape[0] if inputs.dim() else "no"
        raise ValueError(f"images: expected one image per input ({count}), got {display.count}")
    return display


class _Frame:
    """One frame of a call on its way into a writer: the checks every call starts with (before any
    model runs), and what to build once everything is computed (see `sinks.write`)."""

    def __init__(self, sink, kind, tag, global_step, walltime, dtype, class_names):
        self.tag = arguments.check_tag(tag)
        self.global_step = arguments.check_global_step(global_step)
        self.walltime = arguments.check_walltime(walltime)
        self.dtype = arguments.check_dtype(dtype)
        self.class_names = arguments.class_names(class_names)
        self.kind = kind
        self.sink = sink
        self.build = None
        if sink.state is not None:
            sinks.check_kind(sink.state, self.tag, kind)

    def saliency(self, display, facts, columns, randomisation=None):
        self.display = display
        self.build = lambda **written: summary.saliency_frame(
            self.tag, display, facts, columns, class_names=self.class_names, dtype=self.dtype,
            randomisation=randomisation, **written)
        return self

    def activations(self, display, facts, channels):
        self.display = display
        self.build = lambda **written: summary.activations_frame(
            self.tag, display, facts, channels, class_names=self.class_names, dtype=self.dtype, **written)
        return self


