"""Methods a user adds from outside the package, one of each kind, registered on import.

Each has a closed form on `linear_model` (a layer "0" that passes the input on, then one linear
layer): there A = x and g = ∂f/∂x = W[target] (C×H×W) for every sample, and f(0) = b[target].
"""

import torch
from torch import nn

import tb_saliency.attribution as attribution

NAMES = ("gradcam_max", "gradient_squared", "blackout")


@attribution.gradient_cam("gradcam_max", citation="a test", record={"weights": "max_ij g"})
def gradcam_max(a, g):
    """Σ_k max_ij(g_k) A_k"""
    return torch.einsum("nk,nkhw->nhw", g.amax(dim=(2, 3)), a)


@attribution.input_method("gradient_squared")
def gradient_squared(x, g):
    """(∂f/∂x)²"""
    return g * g


@attribution.method_with_passes("blackout")
class Blackout(attribution.MethodWithPasses):
    """(f(x) - f(0)) / (C·H·W) at every element; statistics["blackout_score"] = f(0)"""

    needs_gradients = False
    statistics = ("blackout_score",)
    record = {"fill": "zeros"}

    def compute(self, context):
        x = context.inputs
        rows = lambda start, stop: torch.zeros_like(x).repeat(stop - start, *[1] * (x.dim() - 1))  # noqa: E731
        ((_, _, dark),) = list(context.score_chunks(rows, 1, "blackout's dark copy"))
        dark = dark[0].to(context.dtype)
        context.statistics["blackout_score"] = dark
        drop = (context.clean_scores.to(context.dtype) - dark) / x[0].numel()
        return drop.view(-1, *[1] * (x.dim() - 1)).expand(x.shape)


def linear_model(channels=3, size=4, classes=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Identity(), nn.Flatten(), nn.Linear(channels * size * size, classes))
