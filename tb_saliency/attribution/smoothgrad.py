"""SmoothGrad (Smilkov et al. 2017) and its variants SmoothGrad-Squared and VarGrad."""

from __future__ import annotations

import torch

from tb_saliency.value_checks import check_nonnegative

from .extending import MethodWithPasses, method_with_passes
from .finite import check_finite
from .option_spec import Option
from .options import MAX_COPIES, choice, copies
from .reductions import accumulation_dtype

NOISE_TYPES = ("relative", "absolute")
SMOOTHGRAD_VARIANTS = ("mean", "mean_of_squares", "variance")

SAMPLES = Option("smoothgrad_samples", 50, copies, f"noisy copies averaged (the paper's n), at most {MAX_COPIES:,}")
NOISE = Option(
    "smoothgrad_noise",
    0.15,
    check_nonnegative,
    "noise standard deviation: a fraction of each sample's value range (max - min) when "
    '`smoothgrad_noise_type="relative"`, the σ itself when `"absolute"`',
)
NOISE_TYPE = Option(
    "smoothgrad_noise_type", "relative", choice(NOISE_TYPES), '`"relative"` (the paper\'s) or `"absolute"`'
)
VARIANT = Option(
    "smoothgrad_variant",
    "mean",
    choice(SMOOTHGRAD_VARIANTS),
    '`"mean"` (SmoothGrad), `"mean_of_squares"` (SmoothGrad-Squared) or `"variance"` (VarGrad, population variance)',
)


def noise_sigma(x: torch.Tensor, noise: float, noise_type: str) -> torch.Tensor:
    """σ per sample: `noise` × (max - min) of the sample ('relative', the paper's convention) or `noise`."""
    n = x.shape[0]
    if noise_type == "absolute":
        return torch.full((n,), noise, dtype=x.dtype, device=x.device)
    flat = x.reshape(n, -1)
    return noise * (flat.amax(dim=1) - flat.amin(dim=1))


def check_noise(x: torch.Tensor, noise: float, noise_type: str) -> None:
    """A σ whose noisy copies stay finite in the inputs' dtype, checked before the model runs, so that
    an overflow is blamed on the option rather than on the model. A normal draw beyond 10σ is rarer
    than 1 in 10²³."""
    n = x.shape[0]
    reach = x.reshape(n, -1).abs().amax(dim=1) + 10 * noise_sigma(x, noise, noise_type)
    check_finite(reach, n, argument="smoothgrad_noise", what=f"noisy copies in {x.dtype} (|x| + 10σ)",
                 hint="give a smaller noise")


def smoothgrad(x, gradient_chunks, *, samples, sigma, variant, generator) -> torch.Tensor:
    """Per-channel statistic of ∂f/∂x over `samples` noisy copies x + ε, ε ~ N(0, σ²): N×C×H×W.

    'mean' is E[g], 'mean_of_squares' E[g²], 'variance' E[(g - E[g])²] (population variance, merged
    chunk by chunk with Chan's update, so that equal gradients give exactly zero). Each copy's noise
    is drawn on its own, so a seed gives the same maps whatever the chunk size. `gradient_chunks` is
    `PassContext.gradient_chunks`.
    """
    dtype = accumulation_dtype(x)
    scale = sigma.view(-1, *([1] * (x.dim() - 1)))

    def make_rows(start, stop):
        noise = torch.stack(
            [torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device) for _ in range(stop - start)]
        )
        return (x.unsqueeze(0) + noise * scale).reshape(-1, *x.shape[1:])

    total = torch.zeros(x.shape, dtype=dtype, device=x.device)
    spread = torch.zeros(x.shape, dtype=dtype, device=x.device) if variant == "variance" else None
    count = 0
    label = "smoothgrad's noisy copies"
    for start, stop, grads in gradient_chunks(make_rows, samples, label):
        grads = grads.to(dtype)
        k = stop - start
        if variant == "mean":
            total += grads.sum(dim=0)
        elif variant == "mean_of_squares":
            total += (grads * grads).sum(dim=0)
        else:
            chunk_mean = grads.mean(dim=0)
            chunk_spread = ((grads - chunk_mean) ** 2).sum(dim=0)
            delta = chunk_mean - total  # `total` holds the running mean for this variant
            merged = count + k
            total += delta * (k / merged)
            spread += chunk_spread + delta * delta * (count * k / merged)
        count += k
    if variant == "variance":
        return spread / samples
    return total / samples


@method_with_passes("smoothgrad")
class SmoothGrad(MethodWithPasses):
    options = (SAMPLES, NOISE, NOISE_TYPE, VARIANT, "seed", "generator")
    statistics = ("noise_sigma",)
    input_kinds = ("image", "signal", "tokens")
    citation = "Smilkov et al. 2017"
    definition = ("mean of ∂f/∂x over noisy copies x + ε, ε ~ N(0, σ²); also mean of squares and variance "
                  "(VarGrad)")

    def check(self, inputs, options):
        check_noise(inputs, options["smoothgrad_noise"], options["smoothgrad_noise_type"])

    def compute(self, context):
        x, opts = context.inputs, context.options
        sigma = noise_sigma(x, opts["smoothgrad_noise"], opts["smoothgrad_noise_type"])
        per_channel = smoothgrad(
            x,
            context.gradient_chunks,
            samples=opts["smoothgrad_samples"],
            sigma=sigma,
            variant=opts["smoothgrad_variant"],
            generator=context.generator,
        )
        context.record.update(
            samples=opts["smoothgrad_samples"],
            noise=opts["smoothgrad_noise"],
            noise_type=opts["smoothgrad_noise_type"],
            variant=opts["smoothgrad_variant"],
            **context.noise_record,
        )
        if opts["smoothgrad_variant"] == "variance":
            context.record["variance"] = "population"
        context.statistics["noise_sigma"] = sigma.detach().to(context.dtype)
        return per_channel
