"""`explain`: validate, run the shared clean pass, then the chunked methods, and assemble the results."""

from __future__ import annotations

from typing import NamedTuple

import torch

from .baselines import check_baseline, make_baseline
from .cams import GRADIENT_CAMS, RECORDS
from .catalog import CAM_METHODS, CHUNKED_METHODS, GRADIENT_CAM_METHODS, SHARED_INPUT_METHODS
from .checks import check_inputs, check_inputs_match_model, check_methods, check_model, uses_layer
from .finite import check_finite
from .integrated_gradients import completeness_gap, integrated_gradients
from .layers import as_maps, capture, captured, reshape_record, resolve_layers
from .options import resolve_options
from .passes import GRADIENTS_HINT, GraphMeter, copies_per_chunk, gradients
from .reductions import accumulation_dtype, reduce_channels
from .results import Explanation, MapResult, detached_logits, prediction_facts
from .safety import untouched
from .scorecam import scorecam
from .smoothgrad import check_noise, noise_sigma, smoothgrad
from .targets import Scorer, check_target

MODEL_MODE = "eval"


def explain(model, inputs, methods, *, target=None, layer=None, **options) -> Explanation:
    """Compute the maps of `methods` for `inputs` and the facts about the batch they explain.

    See the package docstring for arguments and options. Every argument is validated before the
    model runs; the model, its gradients, modes, buffers, hooks and the global RNG are left as they
    were, also when a method raises.
    """
    call = check_call(model, inputs, methods, target=target, layer=layer, **options)
    generator, seed = _noise_source(call.options, call.inputs)
    with untouched(call.model):
        return _explain(call.model, call.inputs, call.methods, call.layers, call.target, call.options, generator, seed)


class CheckedCall(NamedTuple):
    """The arguments of an `explain` call, checked."""

    model: torch.nn.Module  # the module that runs (a DataParallel or DDP wrapper's own)
    inputs: torch.Tensor
    methods: list
    layers: list            # [(name, module)] of `layer`
    target: tuple           # as check_target gives it
    options: dict           # every option of the methods, defaults filled in


def check_call(model, inputs, methods, *, target=None, layer=None, **options) -> CheckedCall:
    """Every check `explain` makes of its arguments before the model runs, for callers that run it
    more than once on one call's arguments (the randomisation test)."""
    methods = check_methods(methods)
    given, model = model, check_model(model)
    x = check_inputs(inputs, methods)
    check_inputs_match_model(model, x)
    opts = resolve_options(methods, options)
    if "baseline" in opts:
        check_baseline(opts["baseline"], opts["blur_sigma"], x)
    if "smoothgrad" in methods:
        check_noise(x, opts["smoothgrad_noise"], opts["smoothgrad_noise_type"])
    layers = resolve_layers(model, layer, needed=uses_layer(methods), methods=methods, wrapper=given)
    return CheckedCall(model, x, methods, layers, check_target(target), opts)


def _noise_source(opts, x):
    """The engine's own generator, on the inputs' device: the global RNG is never drawn from."""
    if "seed" not in opts:
        return None, None
    given = opts["generator"]
    if given is not None:
        if given.device != x.device:
            raise ValueError(
                f"generator: expected a generator on the inputs' device {x.device}, got one on {given.device}"
            )
        return given, None
    return seeded_generator(opts["seed"], x.device)


def seeded_generator(seed, device):
    """(a generator of its own on `device`, its seed): seeded with `seed`, or a fresh seed for None."""
    generator = torch.Generator(device=device)
    if seed is None:
        return generator, generator.seed()
    generator.manual_seed(seed)
    return generator, seed


class _CleanPass:
    """The one forward (and backward) pass on the clean inputs that the shared methods read."""

    def __init__(self, model, x, methods, layers, target_spec, reshape):
        shared = any(m in SHARED_INPUT_METHODS for m in methods)
        grad_cams = any(m in GRADIENT_CAM_METHODS for m in methods)
        chunked = any(m in CHUNKED_METHODS for m in methods)
        x_leaf = x.detach().requires_grad_(shared or chunked)
        meter = GraphMeter(model)
        # Gradient CAMs alone need no graph upstream of their layers.
        layers_only = grad_cams and not (shared or chunked)
        # The meter sizes the chunks of the other methods from this pass's graph.
        with (
            capture(layers, graph_from_layers=layers_only, need_grad=grad_cams) as store,
            meter.measuring(enabled=chunked),
        ):
            outputs = model(x_leaf)
        self.bytes_per_copy = meter.bytes
        raw = {name: captured(store, name) for name, _ in layers}
        for name, a in raw.items():
            check_finite(a.detach(), x.shape[0], argument="model", what=f"activations of layer {name!r}")
        self.scorer = Scorer(target_spec, outputs, x.shape[0])
        score = self.scorer(outputs)
        self.activations = {name: as_maps(a.detach(), reshape, name) for name, a in raw.items()}
        wanted = ([x_leaf] if shared else []) + ([raw[name] for name, _ in layers] if grad_cams else [])
        grads = gradients(score, wanted)
        self.input_grad = grads.pop(0) if shared else None
        self.layer_grads = {name: as_maps(g, reshape, name) for (name, _), g in zip(layers, grads)}
        self.outputs = detached_logits(outputs)
        self.scores = score.detach()


def _explain(model, x, methods, layers, target_spec, opts, generator, seed) -> Explanation:
    dtype = accumulation_dtype(x)
    clean = _CleanPass(model, x, methods, layers, target_spec, opts.get("reshape"))
    run = _Run(model, x, clean, opts, generator, seed, dtype)
    maps = {}
    for key, method, name in map_entries(methods, layers):
        maps[key] = run.cam(method, name, key) if name is not None else run.input_space(method)

    outputs = clean.outputs
    predictions, probabilities = prediction_facts(outputs, dtype)
    return Explanation(
        maps=maps,
        outputs=outputs,
        targets=clean.scorer.targets,
        target_scores=clean.scores.to(dtype),
        predictions=predictions,
        probabilities=probabilities,
    )


def map_entries(methods, layers):
    """(key, method, layer name or None) of each map `explain` returns, in order."""
    for method in methods:
        if method in CAM_METHODS:
            for name, _ in layers:
                yield (method if len(layers) == 1 else f"{method}@{name}"), method, name
        else:
            yield method, method, None


class _Run:
    """Each method's map from the clean pass, or from its own chunked passes."""

    def __init__(self, model, x, clean, opts, generator, seed, dtype):
        self.model, self.x, self.clean, self.opts = model, x, clean, opts
        self.generator, self.seed, self.dtype = generator, seed, dtype
        self.noise_record = {"seed": seed, "generator": "user" if seed is None else "seeded"}

    def chunk(self, total: int) -> int:
        return copies_per_chunk(
            self.clean.bytes_per_copy, self.opts["memory_limit"], total, self.clean.scorer.max_copies
        )

    def cam(self, method, name, key) -> MapResult:
        a = self.clean.activations[name].to(self.dtype)
        if method == "scorecam":
            values = scorecam(self.model, self.x, a, self.clean.scorer, chunk=self.chunk(a.shape[1]))
        else:
            values = GRADIENT_CAMS[method](a, self.clean.layer_grads[name].to(self.dtype))
        if self.opts["cam_relu"]:
            values = values.clamp(min=0)
        record = {
            "relu": self.opts["cam_relu"],
            "upsampling": "none",
            "reshape": reshape_record(self.opts["reshape"]),
            "model_mode": MODEL_MODE,
            **RECORDS.get(method, {}),
        }
        return MapResult(key, method, name, self._finish(key, values), record, {})

    def input_space(self, method) -> MapResult:
        record = {"channel_reduction": self.opts["channel_reduction"], "model_mode": MODEL_MODE}
        statistics = {}
        if method == "gradient":
            per_channel = self.clean.input_grad.to(self.dtype)
        elif method == "input_x_gradient":
            per_channel = self.x.to(self.dtype) * self.clean.input_grad.to(self.dtype)
        elif method == "smoothgrad":
            per_channel = self._smoothgrad(record, statistics)
        else:
            per_channel = self._integrated_gradients(record, statistics)
        values = reduce_channels(per_channel, self.opts["channel_reduction"])
        statistics = {name: self._finish(f"{method} {name}", value) for name, value in statistics.items()}
        return MapResult(method, method, None, self._finish(method, values), record, statistics)

    def _finish(self, what: str, values: torch.Tensor) -> torch.Tensor:
        """The values as returned: detached, in the result dtype, and finite."""
        hint = GRADIENTS_HINT + (", in the model or the callable target" if self.clean.scorer.fn else "")
        check_finite(values.detach(), self.x.shape[0], argument="model", what=f"{what!r} values", hint=hint)
        return values.detach().to(self.dtype).contiguous()

    def _smoothgrad(self, record, statistics):
        opts = self.opts
        sigma = noise_sigma(self.x, opts["smoothgrad_noise"], opts["smoothgrad_noise_type"])
        per_channel = smoothgrad(
            self.model,
            self.x,
            self.clean.scorer,
            samples=opts["smoothgrad_samples"],
            sigma=sigma,
            variant=opts["smoothgrad_variant"],
            generator=self.generator,
            chunk=self.chunk(opts["smoothgrad_samples"]),
        )
        record.update(
            samples=opts["smoothgrad_samples"],
            noise=opts["smoothgrad_noise"],
            noise_type=opts["smoothgrad_noise_type"],
            variant=opts["smoothgrad_variant"],
            **self.noise_record,
        )
        if opts["smoothgrad_variant"] == "variance":
            record["variance"] = "population"
        statistics["noise_sigma"] = sigma.detach().to(self.dtype)
        return per_channel

    def _integrated_gradients(self, record, statistics):
        opts, scorer = self.opts, self.clean.scorer
        x0, baseline_record = make_baseline(
            opts["baseline"], self.x, blur_sigma=opts["blur_sigma"], generator=self.generator
        )
        with torch.no_grad():
            baseline_outputs = self.model(x0.contiguous())
            baseline_score = scorer(baseline_outputs, where="on the integrated_gradients baseline").detach()
        per_channel = integrated_gradients(
            self.model,
            self.x,
            x0,
            scorer,
            steps=opts["ig_steps"],
            rule=opts["ig_rule"],
            chunk=self.chunk(opts["ig_steps"]),
        )
        record.update(steps=opts["ig_steps"], rule=opts["ig_rule"], **baseline_record)
        if baseline_record["baseline"] == "uniform":
            record.update(self.noise_record)
        statistics["completeness_gap"] = completeness_gap(per_channel, self.clean.scores, baseline_score)
        statistics["baseline_score"] = baseline_score.to(self.dtype)
        return per_channel

