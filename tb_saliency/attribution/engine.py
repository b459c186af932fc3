"""`explain`: validate, run the shared clean pass, then the chunked methods, and assemble the results."""

from __future__ import annotations

from contextlib import nullcontext
from typing import NamedTuple

import torch

from . import builtin  # noqa: F401  (the built-in methods and input kinds, registered before any call)
from .catalog import method as method_record
from .checks import check_methods, check_model, uses_layer
from .extending import PassContext
from .finite import check_finite
from .kinds import Batch, prepare as prepare_batch
from .layers import DEFAULT_LAYER, capture, captured, like_output, output_tensors, reshape_record, resolve_layers
from .options import resolve_options
from .passes import GRADIENTS_HINT, GraphMeter, gradients
from .progress import resolve as resolve_progress
from .reductions import accumulation_dtype
from .results import Explanation, MapResult, detached_logits, prediction_facts
from .safety import untouched
from .targets import Scorer, check_target

MODEL_MODE = "eval"


def explain(model, inputs, methods, *, target=None, layer=None, input_kind=None, embeddings=None, tokenizer=None,
            sample_rate=None, progress=None, **options) -> Explanation:
    """Compute the maps of `methods` for `inputs` and the facts about the batch they explain.

    See the package docstring for arguments and options. Every argument is validated before the
    model runs; the model, its gradients, modes, buffers, hooks and the global RNG are left as they
    were, also when a method raises. `progress` (see `progress.resolve`) draws a bar over the chunked
    passes of each method that runs its own.
    """
    shown = resolve_progress(progress)
    call = check_call(model, inputs, methods, target=target, layer=layer, input_kind=input_kind,
                      embeddings=embeddings, tokenizer=tokenizer, sample_rate=sample_rate, **options)
    generator, seed = _noise_source(call.options, call.inputs.device)
    with untouched(call.model):
        explanation = _explain(call.model, call.batch, call.methods, call.layers, call.target, call.options,
                               generator, seed, options.get("channel_reduction"), shown)
    if layer is None and call.layers:
        # Named in the options too, so that `read` shows which layer the default was.
        for result in explanation.maps.values():
            if result.layer is not None:
                result.options.update(layer=result.layer, layer_selection=DEFAULT_LAYER)
    return explanation


class CheckedCall(NamedTuple):
    """The arguments of an `explain` call, checked."""

    model: torch.nn.Module  # the module that runs (a DataParallel or DDP wrapper's own)
    batch: Batch            # the inputs, as their input kind holds them
    methods: list
    layers: list            # [(name, module)] of `layer`
    target: tuple           # as check_target gives it
    options: dict           # every option of the methods, defaults filled in

    @property
    def inputs(self) -> torch.Tensor:
        """The input tensor (a token batch's ids: its embeddings exist only once the model has run)."""
        return self.batch.x if self.batch.x is not None else self.batch.ids


def check_call(model, inputs, methods, *, target=None, layer=None, input_kind=None, embeddings=None,
               tokenizer=None, sample_rate=None, **options) -> CheckedCall:
    """Every check `explain` makes of its arguments before the model runs, for callers that run it
    more than once on one call's arguments (the randomisation test)."""
    methods = check_methods(methods)
    given, model = model, check_model(model)
    arguments = {"input_kind": input_kind, "embeddings": embeddings, "tokenizer": tokenizer,
                 "sample_rate": sample_rate, "wrapper": given}
    batch = prepare_batch(model, inputs, methods, arguments)
    opts = resolve_options(methods, options)
    batch.check_options(options)
    if batch.x is not None:  # else (a token batch's embeddings) once the clean pass has made it
        _check_against_inputs(methods, batch.x, opts)
    layers = resolve_layers(model, layer, needed=uses_layer(methods), methods=methods, wrapper=given,
                            reshape=opts.get("reshape"))
    return CheckedCall(model, batch, methods, layers, check_target(target), opts)


def _check_against_inputs(methods, x, opts) -> None:
    """The methods' own checks of their options against the point where gradients are taken."""
    for record in map(method_record, methods):
        if record.check is not None:
            record.check(x, opts)


def _noise_source(opts, device):
    """The engine's own generator, on the inputs' device: the global RNG is never drawn from."""
    if "seed" not in opts:
        return None, None
    given = opts["generator"]
    if given is not None:
        if given.device != device:
            raise ValueError(
                f"generator: expected a generator on the inputs' device {device}, got one on {given.device}"
            )
        return given, None
    return seeded_generator(opts["seed"], device)


def seeded_generator(seed, device):
    """(a generator of its own on `device`, its seed): seeded with `seed`, or a fresh seed for None."""
    generator = torch.Generator(device=device)
    if seed is None:
        return generator, generator.seed()
    generator.manual_seed(seed)
    return generator, seed


class _CleanPass:
    """The one forward (and backward) pass on the clean inputs that the shared methods read."""

    def __init__(self, model, batch, methods, layers, target_spec, reshape):
        records = [method_record(m) for m in methods]
        clean = [r for r in records if r.shared_pass == "clean" and r.needs_gradients]
        shared = any(r.space == "input" for r in clean)
        grad_cams = any(r.space == "layer" for r in clean)
        chunked = any(r.chunked for r in records)
        meter = GraphMeter(model)
        # Gradient CAMs alone need no graph upstream of their layers.
        layers_only = grad_cams and not (shared or chunked)
        # Methods that read activations alone (EigenCAM) need no graph at all.
        no_graph = not (clean or chunked)
        # The meter sizes the chunks of the other methods from this pass's graph.
        with (
            torch.no_grad() if no_graph else nullcontext(),
            capture(layers, graph_from_layers=layers_only, need_grad=grad_cams) as store,
            meter.measuring(enabled=chunked),
        ):
            outputs = batch.clean_forward(shared or chunked)
        x_leaf, n = batch.leaf, batch.n
        self.bytes_per_copy = meter.bytes
        # A layer's output is a tensor, or a dict of them (an FPN's levels, for reshape='fpn').
        structure = {name: captured(store, name) for name, _ in layers}
        raw = {name: output_tensors(output) for name, output in structure.items()}
        for name, tensors in raw.items():
            for a in tensors:
                check_finite(a.detach(), n, argument="model", what=f"activations of layer {name!r}")
        self.scorer = Scorer(target_spec, outputs, n)
        score = self.scorer(outputs)
        self.activations = {
            name: batch.layer_maps(like_output(structure[name], [a.detach() for a in tensors]), reshape, name)
            for name, tensors in raw.items()
        }
        wanted = ([x_leaf] if shared else []) + ([a for name, _ in layers for a in raw[name]] if grad_cams else [])
        named = [name for name, _ in layers for _ in raw[name]] if grad_cams else []
        grads = gradients(score, wanted, self.scorer, layers=named)
        self.input_grad = grads.pop(0) if shared else None
        self.layer_grads = {}
        for name, _ in layers if grad_cams else []:
            own, grads = grads[:len(raw[name])], grads[len(raw[name]):]
            self.layer_grads[name] = batch.layer_maps(like_output(structure[name], own), reshape, name)
        self.outputs = detached_logits(outputs)
        self.scores = score.detach()


def _explain(model, batch, methods, layers, target_spec, opts, generator, seed, reduction, progress) -> Explanation:
    checked = batch.x is not None  # by check_call; a token batch's embeddings exist only after the clean pass
    clean = _CleanPass(model, batch, methods, layers, target_spec, opts.get("reshape"))
    if not checked:
        _check_against_inputs(methods, batch.x, opts)
    dtype = accumulation_dtype(batch.x)
    run = _Run(model, batch, clean, dict(layers), opts, generator, seed, dtype, reduction, progress)
    maps = {}
    for key, method, name in map_entries(methods, layers):
        maps[key] = run.map(method_record(method), name, key)

    outputs = clean.outputs
    predictions, probabilities = prediction_facts(outputs, dtype)
    return Explanation(
        maps=maps,
        outputs=outputs,
        targets=clean.scorer.targets,
        target_scores=clean.scores.to(dtype),
        predictions=predictions,
        probabilities=probabilities,
        input_kind=batch.kind.name,
        sample_rate=batch.sample_rate,
        special_tokens=batch.special,
        padding=batch.padding,
    )


def map_entries(methods, layers):
    """(key, method, layer name or None) of each map `explain` returns, in order."""
    for method in methods:
        if method_record(method).space == "layer":
            for name, _ in layers:
                yield (method if len(layers) == 1 else f"{method}@{name}"), method, name
        else:
            yield method, method, None


class _Run:
    """Each method's map from the clean pass, or from passes of its own."""

    def __init__(self, model, batch, clean, modules, opts, generator, seed, dtype, reduction, progress):
        self.model, self.batch, self.x, self.clean, self.opts = model, batch, batch.x, clean, opts
        self.modules = modules  # {layer name: module}
        self.reduction, self.progress = reduction, progress
        self.generator, self.dtype = generator, dtype
        self.noise_record = {"seed": seed, "generator": "user" if seed is None else "seeded"}

    def map(self, record, name, key) -> MapResult:
        """The map of one method (on layer `name` for the layer space). There is no default: a kind
        of method the engine does not know is an error, never another method's map."""
        if record.space not in ("layer", "input", "model"):
            raise ValueError(f"methods: {record.name!r} has space {record.space!r}, which the engine cannot compute")
        context = self._context(record, name)
        values = self._values(record, name, context)
        if record.space == "layer":
            if self.opts["cam_relu"]:
                values = values.clamp(min=0)
            options = {
                "relu": self.opts["cam_relu"],
                "upsampling": "none",
                "reshape": reshape_record(self.opts["reshape"]),
                "model_mode": MODEL_MODE,
            }
        elif record.space == "model":
            options = {"reshape": reshape_record(self.opts["reshape"]), "model_mode": MODEL_MODE}
        else:
            how = self.batch.default_reduction(record.name, self.reduction)
            values = self.batch.reduce(values, how)
            options = {"channel_reduction": how, "model_mode": MODEL_MODE}
        options.update(self.batch.record)
        options.update(record.record)
        if record.shared_pass is not None:
            # Decorated functions receive their own options as keywords: the map keeps their values.
            options.update(self._own_options(record))
        options.update(context.record)
        if set(context.statistics) != set(record.statistics):
            raise RuntimeError(
                f"{record.name}: returned statistics {sorted(context.statistics)}, but its record declares "
                f"{sorted(record.statistics)}"
            )
        statistics = {s: self._finish(f"{key} {s}", context.statistics[s]) for s in record.statistics}
        return MapResult(key, record.name, name, self._finish(key, values), options, statistics)

    def _values(self, record, name, context):
        """The method's values before the last step of its space (the CAM ReLU, the channel reduction)."""
        if record.shared_pass == "clean":
            own = self._own_options(record)
            if record.space == "layer" and not record.needs_gradients:
                return record.compute(context.activations, **own)
            if record.space == "layer":
                return record.compute(context.activations, self.clean.layer_grads[name].to(self.dtype), **own)
            if record.space == "input":
                return record.compute(self.x.to(self.dtype), self.clean.input_grad.to(self.dtype), **own)
        elif record.shared_pass is None:
            return record.compute(context)
        raise ValueError(
            f"methods: {record.name!r} reads the shared pass {record.shared_pass!r} in the {record.space!r} "
            "space, which the engine cannot compute"
        )

    def _own_options(self, record) -> dict:
        return {option: self.opts[option] for option in record.option_names}

    def _context(self, record, name):
        return PassContext(
            method=record,
            model=self.model,
            inputs=self.x,
            scorer=self.clean.scorer,
            clean_scores=self.clean.scores,
            bytes_per_copy=self.clean.bytes_per_copy,
            generator=self.generator,
            noise_record=dict(self.noise_record),
            options=self.opts,
            dtype=self.dtype,
            layer=name,
            layer_module=None if name is None else self.modules[name],
            activations=None if name is None else self.clean.activations[name].to(self.dtype),
            batch=self.batch,
            progress=self.progress,
        )

    def _finish(self, what: str, values: torch.Tensor) -> torch.Tensor:
        """The values as returned: detached, in the result dtype, and finite."""
        hint = GRADIENTS_HINT + (", in the model or the callable target" if self.clean.scorer.fn else "")
        check_finite(values.detach(), self.batch.n, argument="model", what=f"{what!r} values", hint=hint)
        return values.detach().to(self.dtype).contiguous()
