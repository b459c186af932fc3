"""The `metrics=` of `log_saliency`: which metrics one call computes, checked before any work, and
their results as the stored format and TensorBoard scalars take them.

    log_saliency(writer, "probe", model, images, methods=["gradient", "gradcam"], layer="layer4",
                 metrics=["deletion", "pointing_game"], masks=object_masks, global_step=step)

stores each map's per-sample metric values (and deletion/insertion curves) in the frame, and writes
their mean over samples as scalars `<tag>/<metric>/<map key>` at the same step, so the Scalars and
Time Series tabs plot them too. "randomisation" also writes a RANDOMISATION frame, the cascade of the
sanity check, under `<tag>/randomisation`.
"""

import dataclasses
import inspect
import math
from collections.abc import Mapping
import numbers
from typing import Optional

import tb_saliency.needs_torch  # noqa: F401  (first: a clear ImportError without torch)
import torch

from tb_saliency import format as stored_format
from tb_saliency import metrics as saliency_metrics
from tb_saliency.attribution.options import OPTIONS as ENGINE_OPTIONS
from tb_saliency.metrics import checks
from tb_saliency.metrics.perturbation import SCORES
from tb_saliency.metrics.randomisation import ORDERS, check_randomisable
from tb_saliency.targets import Target
from tb_saliency.value_checks import check_bool, check_choice, check_int, check_nonnegative

MAP_METRICS = ("deletion", "insertion", "pointing_game", "energy_pointing_game")
NAMES = (*MAP_METRICS, "randomisation")
NEEDS_REGIONS = ("pointing_game", "energy_pointing_game")
RANDOMISATION_TAG_SUFFIX = "/randomisation"


_PERTURBATION_CHECKS = {
    "steps": lambda v: check_int("steps", v, 1),
    "baseline": lambda v: ENGINE_OPTIONS["baseline"].check("baseline", v),
    "blur_sigma": lambda v: ENGINE_OPTIONS["blur_sigma"].check("blur_sigma", v),
    "seed": lambda v: ENGINE_OPTIONS["seed"].check("seed", v),
    "score": lambda v: check_choice("score", v, SCORES),
    "relative": lambda v: check_bool("relative", v),
    "memory_limit": lambda v: check_int("memory_limit", v, 1),
}
# Per metric: the options a user may give it, each checked as the metric itself would.
_OPTION_CHECKS = {
    "deletion": _PERTURBATION_CHECKS,
    "insertion": _PERTURBATION_CHECKS,
    "pointing_game": {"tolerance": lambda v: check_nonnegative("tolerance", v)},
    "energy_pointing_game": {},
    "randomisation": {
        "order": lambda v: check_choice("order", v, ORDERS),
        "absolute": lambda v: check_bool("absolute", v),
        "reinit_seed": lambda v: check_int("reinit_seed", v, 0),
        "layers": lambda v: v,  # checked against the model by the metric, before it runs
    },
}
_FUNCTIONS = {
    "deletion": saliency_metrics.deletion,
    "insertion": saliency_metrics.insertion,
    "pointing_game": saliency_metrics.pointing_game,
    "energy_pointing_game": saliency_metrics.energy_pointing_game,
    "randomisation": saliency_metrics.randomisation,
}
# Arguments a logged call sets itself; the rest of each function's keyword arguments are its options.
_SET_BY_THE_CALL = {"model", "inputs", "maps", "masks", "boxes", "size", "target", "methods", "layer", "options", "original",
                   "progress", "baseline_token", "tokenizer"}  # the last two: the call's own, for token games


def check_metrics_every(value, metrics) -> int:
    """`metrics_every` of `log_saliency`: an int ≥ 1, and more than 1 only with metrics to space out."""
    every = check_int("metrics_every", value, 1)
    if every != 1 and metrics is None:
        raise ValueError(f"metrics_every: spaces out the calls that compute metrics=, and none are asked for "
                         f"(metrics=None); got metrics_every={every}")
    return every


def _accepted(name):
    parameters = inspect.signature(_FUNCTIONS[name]).parameters.values()
    return [p.name for p in parameters if p.kind == p.KEYWORD_ONLY and p.name not in _SET_BY_THE_CALL]


@dataclasses.dataclass(frozen=True)
class LoggedMetrics:
    """What a plan computed for one call, as the stored format and TensorBoard scalars take it."""

    per_map: dict             # map key → [format.MetricValues], in the order the metrics were given
    scalars: dict             # scalar tag → mean over samples
    cascade: Optional[tuple]  # (format.MapColumns, format.Randomisation) of the RANDOMISATION frame, or None


@dataclasses.dataclass(frozen=True)
class MetricPlan:
    """The metrics one call computes, with their options, and the regions the pointing games need."""

    options: dict                    # metric name → its options, in the order given
    masks: Optional[torch.Tensor]
    boxes: Optional[object]
    size: tuple

    @classmethod
    def parse(cls, metrics, masks, boxes, inputs, target, *, model=None, engine_options=None) -> Optional["MetricPlan"]:
        """The plan of `metrics=`, `masks=` and `boxes=`, every argument checked before any work;
        None when no metric is asked for. With the model (and the call's engine options), what the
        randomisation test needs of them is checked too."""
        if metrics is None:
            if masks is not None or boxes is not None:
                raise ValueError(
                    f"{'masks' if masks is not None else 'boxes'}: only the pointing games use them; "
                    f"add metrics=['pointing_game'] or metrics=['energy_pointing_game']"
                )
            return None
        options = _named_options(metrics)
        over_tokens = isinstance(inputs, Mapping) and isinstance(inputs.get("input_ids"), torch.Tensor) \
            and inputs["input_ids"].dim() == 2
        if not over_tokens and (not isinstance(inputs, torch.Tensor) or inputs.dim() not in (3, 4)):
            raise ValueError(f"inputs: metrics need images shaped N×C×H×W (or N×H×W) or a token batch with "
                             f"input_ids N×T, got {_shape(inputs)}")
        if "randomisation" in options and model is not None:
            # What the test would refuse only after the call's methods have run.
            check_randomisable(model, options["randomisation"].get("layers"), engine_options or {})
        ids = inputs["input_ids"] if over_tokens else inputs
        n, size = ids.shape[0], tuple(ids.shape[-2:])
        regions = [m for m in options if m in NEEDS_REGIONS]
        if regions and masks is None and boxes is None:
            raise ValueError(
                f"metrics: {', '.join(regions)} needs masks= (N×H×W booleans: where the object is) or "
                f"boxes= (N×4, x0 y0 x1 y1 in pixels), got neither"
            )
        if (masks is not None or boxes is not None) and not regions:
            raise ValueError(
                f"{'masks' if masks is not None else 'boxes'}: only the pointing games use them, and metrics "
                f"asks for {', '.join(options)}"
            )
        if masks is not None and boxes is not None:
            raise ValueError("masks, boxes: give the object's place one way, not both")
        if over_tokens and boxes is not None:
            raise ValueError("boxes: token batches take masks= as N×T booleans (the tokens of the object), not boxes")
        checked_masks = None
        if masks is not None:
            checked_masks = _token_masks(masks, n, size) if over_tokens else checks.check_masks(masks, n)
        if boxes is not None:
            checks.check_boxes(boxes, n, size)
        # targets.classes(ids) means ids; tb_saliency.targets' other targets are scored raw by default.
        if callable(target) and not isinstance(target, torch.Tensor) and not (
                isinstance(target, Target) and target.name == "classes"):
            default = "raw" if isinstance(target, Target) else "probability"
            for name in ("deletion", "insertion"):
                if name in options and options[name].get("score", default) != "raw":
                    raise ValueError(
                        f"metrics: {name} scores the softmax probability of a class, and a callable target has "
                        f"none; give metrics={{'{name}': {{'score': 'raw'}}}} to score the callable's output"
                    )
        return cls(options=options, masks=checked_masks, boxes=boxes, size=size)

    @property
    def randomisation(self) -> Optional[dict]:
        return self.options.get("randomisation")

    def _regions(self):
        """Boxes come with the image size they are in; masks carry their own."""
        return {} if self.boxes is None else {"boxes": self.boxes, "size": self.size}

    def compute(self, tag, model, inputs, methods, explanation, *, target, layer, engine_options,
                progress=None) -> "LoggedMetrics":
        """The metrics of one `log_saliency` call, once its methods have explained `inputs`
        (`explanation`, from `explain` with the call's `methods`, `layer` and `engine_options`): they
        score the classes the maps explain (the prediction, for target=None), and the randomisation
        test starts from those very maps. `progress` is the call's (see `tb_saliency.attribute`)."""
        target = explanation.targets if explanation.targets is not None else target
        maps = {key: result.values for key, result in explanation.maps.items()}
        per_map, scalars = {}, {}
        for key, (values, means) in self._map_metrics(model, inputs, maps, target, progress, engine_options).items():
            per_map[key] = values
            scalars.update({f"{tag}/{name}/{key}": mean for name, mean in means.items()})
        cascade = None
        if self.randomisation is not None:
            tested = saliency_metrics.randomisation(model, inputs, methods, target=target, layer=layer,
                                                    original=explanation, progress=progress, **self.randomisation,
                                                    **engine_options)
            columns, randomisation, correlations = _randomisation_frame(tested)
            scalars.update({f"{tag}/randomisation/{key}": rho for key, rho in correlations.items()})
            cascade = (columns, randomisation)
        return LoggedMetrics(per_map=per_map, scalars=scalars, cascade=cascade)

    def _map_metrics(self, model, inputs, maps, target, progress, engine_options=None):
        """Each MAP_METRICS metric of every map column ({key: N×h×w}): {key: ([format.MetricValues],
        {name: mean})}. Deletion and insertion score all columns together, sharing their clean and
        baseline passes."""
        computed = {key: ([], {}) for key in maps}
        for name, options in self.options.items():
            if name == "randomisation":
                continue
            if name in ("deletion", "insertion"):
                # Token games replace ids by the engine's baseline token and spare its special tokens.
                token_options = {k: v for k, v in (engine_options or {}).items()
                                 if k in ("baseline_token", "tokenizer") and v is not None} \
                    if isinstance(inputs, Mapping) else {}
                games = _FUNCTIONS[name](model, inputs, maps, target=target, progress=progress, **token_options,
                                         **options)
                results = {key: (game, game.auc, game.curve) for key, game in games.items()}
            else:  # the pointing games: masks carry their size, boxes come with it
                results = {}
                for key, values in maps.items():
                    result = _FUNCTIONS[name](values, self.masks, **self._regions(), **options)
                    results[key] = (result, result.hits.double() if name == "pointing_game" else result.energy, None)
            for key, (result, values, curve) in results.items():
                values = values.detach().double().cpu()
                stored, means = computed[key]
                stored.append(stored_format.MetricValues(
                    name=name, values=values.numpy(),
                    curve=None if curve is None else curve.detach().double().cpu().numpy(),
                    options=_json_ready(result.options),
                ))
                means[name] = float(values.mean())
        return computed


def _named_options(metrics):
    """{name: options} from a name, a list of names, or a dict {name: {option: value}}."""
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, dict):
        items = list(metrics.items())
    elif isinstance(metrics, (list, tuple)) and metrics:
        items = [(name, {}) for name in metrics]
    else:
        raise TypeError(
            f"metrics: expected a metric name, a list of them or a dict {{name: options}} ({', '.join(NAMES)}), "
            f"got {metrics!r:.80}"
        )
    options = {}
    for name, given in items:
        if name not in NAMES:
            raise ValueError(f"metrics: unknown metric {name!r}; known metrics: {', '.join(NAMES)}")
        if name in options:
            raise ValueError(f"metrics: {name!r} is given twice")
        if not isinstance(given, dict):
            raise TypeError(f"metrics[{name!r}]: expected a dict of options, got {given!r:.80}")
        accepted = _accepted(name)
        checked = {}
        for option, value in given.items():
            if option not in accepted:
                raise ValueError(
                    f"metrics[{name!r}]: unknown option {option!r}; {name} takes "
                    f"{', '.join(accepted) if accepted else 'no options'}"
                )
            checked[option] = _OPTION_CHECKS[name][option](value)
        options[name] = checked
    return options


def _json_ready(value):
    """A metric's options as JSON takes them (tensors become their shape, for the record)."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, torch.Tensor):
        return f"tensor{tuple(value.shape)}"
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else str(value)
    return repr(value)


def _token_masks(masks, n, size):
    """N×T boolean token masks (numbers all 0 or 1 accepted), each with a token."""
    checked = checks.check_masks(torch.as_tensor(masks)[:, None] if torch.as_tensor(masks).dim() == 2 else masks, n)
    if tuple(checked.shape[1:]) != (1,) + size[-1:]:
        raise ValueError(f"masks: expected N×T = {n}×{size[-1]} token masks like input_ids, got shape "
                         f"{tuple(torch.as_tensor(masks).shape)}")
    return checked[:, 0]


def _shape(value):
    return f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__


def _randomisation_frame(result):
    """The RANDOMISATION frame of a `metrics.randomisation` result: (map columns, format.Randomisation,
    {key: summary correlation}). A constant map has no ranking: its correlation, undefined (NaN), is
    stored as 0 and counted in the options."""
    columns, correlations, summary = [], {}, {}
    constant = 0
    for key, original in result.original.items():
        method = key.split("@", 1)[0]
        columns.append(stored_format.MapColumn(key=key, method=method, values=original.detach().double().cpu().numpy()))
        rho = result.correlations[key].detach().double().cpu()
        constant += int(torch.isnan(rho).sum())
        rho = torch.nan_to_num(rho, nan=0.0)
        for stage, (layer, maps) in enumerate(zip(result.layers, result.maps[key])):
            columns.append(stored_format.MapColumn(
                key=key, method=method, stage=layer, values=maps.detach().double().cpu().numpy()))
            correlations[(key, layer)] = rho[stage].numpy()
        # Over training, how much of the map survives randomising the model: the last stage of the
        # cascade (every layer random), or the mean over layers randomised one at a time.
        summary[key] = float(rho[-1].mean() if result.order == "cascading" else rho.mean())
    options = dict(_json_ready(result.options), constant_maps=constant,
                   skipped={name: str(why) for name, why in result.skipped.items()})
    return columns, stored_format.Randomisation(order=result.order, layers=list(result.layers),
                                                correlations=correlations, options=options), summary
