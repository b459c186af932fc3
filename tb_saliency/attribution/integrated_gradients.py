"""Integrated gradients (Sundararajan et al. 2017) by quadrature along the straight path x0 -> x."""

from __future__ import annotations

import torch

from .baselines import BASELINE, BASELINE_TOKEN, BLUR_SIGMA, check_baseline, check_blur_sigma_use, make_baseline
from .extending import MethodWithPasses, method_with_passes
from .forward import run_model
from .option_spec import Option
from .options import MAX_COPIES, choice, copies
from .quadrature import MIN_STEPS, RULES, nodes_and_weights
from .reductions import accumulation_dtype

STEPS = Option(
    "ig_steps", 50, copies, f"quadrature nodes along the path, at most {MAX_COPIES:,} (Gauss–Legendre nodes are "
    "computed fast and cached)"
)
RULE = Option("ig_rule", "gauss_legendre", choice(RULES), "quadrature rule: " + ", ".join(f'`"{r}"`' for r in RULES))


def integrated_gradients(x, x0, gradient_chunks, *, steps, rule) -> torch.Tensor:
    """(x - x0) · Σ_i w_i ∂f/∂x(x0 + α_i (x - x0)), per element: N×C×H×W. `gradient_chunks` is
    `PassContext.gradient_chunks`."""
    dtype = accumulation_dtype(x)
    nodes, weights = nodes_and_weights(rule, steps)
    alphas = torch.tensor(nodes, dtype=x.dtype, device=x.device)
    weights = torch.tensor(weights, dtype=dtype, device=x.device)
    diff = x - x0
    shape = (-1,) + (1,) * x.dim()

    def make_rows(start, stop):
        return (x0.unsqueeze(0) + alphas[start:stop].view(shape) * diff.unsqueeze(0)).reshape(-1, *x.shape[1:])

    path_mean = torch.zeros(x.shape, dtype=dtype, device=x.device)
    label = "integrated_gradients' path nodes"
    for start, stop, grads in gradient_chunks(make_rows, steps, label):
        path_mean += torch.tensordot(weights[start:stop], grads.to(dtype), dims=1)
    return diff.to(dtype) * path_mean


def completeness_gap(attribution: torch.Tensor, score: torch.Tensor, baseline_score: torch.Tensor) -> torch.Tensor:
    """Σ attribution - (f(x) - f(x0)) per sample: zero for exact integration."""
    n = attribution.shape[0]
    return attribution.reshape(n, -1).sum(dim=1) - (score.to(attribution.dtype) - baseline_score.to(attribution.dtype))


@method_with_passes("integrated_gradients")
class IntegratedGradients(MethodWithPasses):
    options = (STEPS, RULE, BASELINE, BLUR_SIGMA, BASELINE_TOKEN, "seed", "generator")
    input_kinds = ("image", "signal", "tokens")
    statistics = ("completeness_gap", "baseline_score")
    citation = "Sundararajan et al. 2017"
    definition = ("(x − x0) · ∫₀¹ ∂f/∂x(x0 + α(x − x0)) dα by quadrature (Gauss–Legendre by default); "
                  "completeness_gap = Σ attribution − (f(x) − f(x0)) per sample")

    def check_options(self, options):
        check_blur_sigma_use(options["baseline"], options["blur_sigma"])
        if options["ig_steps"] < MIN_STEPS.get(options["ig_rule"], 1):
            raise ValueError(
                f"ig_steps: {options['ig_rule']} needs at least {MIN_STEPS[options['ig_rule']]} steps, "
                f"got {options['ig_steps']}"
            )

    def check(self, inputs, options):
        check_baseline(options["baseline"], options["blur_sigma"], inputs)

    def compute(self, context):
        x, opts, scorer, model = context.inputs, context.options, context.scorer, context.forward
        if context.batch is None:
            x0, baseline_record = make_baseline(opts["baseline"], x, blur_sigma=opts["blur_sigma"],
                                                generator=context.generator)
        else:
            # The input kind knows its baseline: a blur along time for signals, a token's embedding for tokens.
            x0, baseline_record = context.batch.baseline(opts, context.generator)
        with torch.no_grad():
            baseline_outputs = run_model(model, x0.contiguous(), where="on the integrated_gradients baseline")
            baseline_score = scorer(baseline_outputs, where="on the integrated_gradients baseline").detach()
        per_channel = integrated_gradients(x, x0, context.gradient_chunks, steps=opts["ig_steps"], rule=opts["ig_rule"])
        context.record.update(steps=opts["ig_steps"], rule=opts["ig_rule"], **baseline_record)
        if baseline_record["baseline"] == "uniform":
            context.record.update(context.noise_record)
        context.statistics["completeness_gap"] = completeness_gap(per_channel, context.clean_scores, baseline_score)
        context.statistics["baseline_score"] = baseline_score.to(context.dtype)
        return per_channel
