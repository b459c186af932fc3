"""Integrated-gradients baselines x0, the record of which one was used, and the `baseline` and
`blur_sigma` options that choose one (integrated gradients and the perturbation metrics share them)."""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

from tb_saliency.value_checks import describe

from .option_spec import Option

BASELINES = ("zeros", "blur", "uniform")


def _baseline(name, value):
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")
        if value.device.type != "meta" and not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name}: expected finite values, got a tensor with NaN or Inf")
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"{name}: expected a finite number, got {describe(value)}")
        return float(value)
    if isinstance(value, str) and value in BASELINES:
        return value
    raise ValueError(
        f"{name}: expected one of {', '.join(map(repr, BASELINES))}, a number or a tensor broadcastable "
        f"to the inputs, got {describe(value)}"
    )


def _optional_positive(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value < float("inf")):
        raise ValueError(f"{name}: expected a finite number > 0 or None, got {describe(value)}")
    return float(value)


BASELINE = Option(
    "baseline",
    "zeros",
    _baseline,
    '`"zeros"`, `"blur"` (a Gaussian blur of each input), `"uniform"` (uniform noise over each sample\'s '
    "[min, max], drawn from `seed`), a number, or a tensor broadcastable to the inputs",
)
BLUR_SIGMA = Option(
    "blur_sigma",
    None,
    _optional_positive,
    'σ in pixels of the `"blur"` baseline, at most the larger image side; only with `baseline="blur"`',
    default_text="a tenth of the larger image side",
)


def check_blur_sigma_use(baseline, blur_sigma) -> None:
    """`blur_sigma` given with another baseline than blur is a mistake, not an option to ignore."""
    if blur_sigma is not None and not (isinstance(baseline, str) and baseline == "blur"):
        raise ValueError(f"blur_sigma: only used with baseline='blur', got baseline={describe(baseline)}")


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of N×C×H×W (or N×H×W) images, edges replicated, kernel cut at 3σ."""
    images = x if x.dim() == 4 else x.unsqueeze(1)
    channels = images.shape[1]
    radius = max(1, math.ceil(3.0 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-(offsets**2) / (2.0 * sigma**2))
    kernel = kernel / kernel.sum()
    size = 2 * radius + 1
    # Padding one axis at a time keeps the padded copy linear in the radius, not quadratic.
    out = F.pad(images, (radius, radius, 0, 0), mode="replicate")
    out = F.conv2d(out, kernel.view(1, 1, 1, size).expand(channels, 1, 1, size), groups=channels)
    out = F.pad(out, (0, 0, radius, radius), mode="replicate")
    out = F.conv2d(out, kernel.view(1, 1, size, 1).expand(channels, 1, size, 1), groups=channels)
    return out if x.dim() == 4 else out.squeeze(1)


def check_baseline(spec, blur_sigma, x: torch.Tensor) -> None:
    """What `make_baseline` would refuse, checked before the model runs."""
    if isinstance(spec, torch.Tensor):
        try:
            shape = torch.broadcast_shapes(spec.shape, x.shape)
        except RuntimeError:
            shape = None
        if shape != x.shape:
            raise ValueError(
                f"baseline: a tensor of shape {tuple(spec.shape)} does not broadcast to the inputs' "
                f"shape {tuple(x.shape)}"
            )
    side = max(x.shape[-2:]) if x.dim() >= 3 else None
    if isinstance(spec, str) and spec == "blur" and blur_sigma is not None and side is not None and blur_sigma > side:
        raise ValueError(
            f"blur_sigma: expected at most the larger image side ({side} pixels) for inputs of shape "
            f"{tuple(x.shape)}, got {blur_sigma:g}; a wider blur removes no more structure, and its edge "
            "padding grows with sigma"
        )


def make_baseline(spec, x: torch.Tensor, *, blur_sigma, generator) -> tuple:
    """(x0 shaped like x, the options that describe it)."""
    check_baseline(spec, blur_sigma, x)
    if isinstance(spec, torch.Tensor):
        return spec.detach().to(device=x.device, dtype=x.dtype).expand_as(x), {"baseline": "tensor"}
    if isinstance(spec, float):
        return torch.full_like(x, spec), {"baseline": "constant", "baseline_value": spec}
    if spec == "zeros":
        return torch.zeros_like(x), {"baseline": "zeros"}
    if spec == "blur":
        sigma = blur_sigma if blur_sigma is not None else max(x.shape[-2:]) / 10.0
        return gaussian_blur(x, sigma), {"baseline": "blur", "blur_sigma": float(sigma)}
    if spec == "uniform":
        flat = x.reshape(x.shape[0], -1)
        view = (x.shape[0],) + (1,) * (x.dim() - 1)
        low, high = flat.min(dim=1).values.view(view), flat.max(dim=1).values.view(view)
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return low + (high - low) * noise, {"baseline": "uniform", "baseline_range": "sample_min_max"}
    raise ValueError(f"baseline: unsupported value {spec!r}")


def _optional_token_id(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: expected a token id (an int >= 0) or None (the config's pad_token_id), "
                         f"got {describe(value)}")
    return int(value)


BASELINE_TOKEN = Option(
    "baseline_token", None, _optional_token_id,
    "token batches: the id whose embedding replaces every token but special and padding ones in the "
    "integrated-gradients baseline; None means the model config's pad_token_id",
)
