"""Class activation maps from a layer's activations A (N×K×h×w) and the gradients g = ∂f/∂A.

Every formula is written over the spatial axes, whatever their number: a Conv1d's or a transformer
layer's A is N×K×T (a transformer's N×T×D output with its hidden units as channels), and its map is
N×T, by the same formula with sums and means over T alone (Grad-CAM's weights are the mean over time).

Each method is one small function of (A, g) giving the map before its final ReLU, registered with
`gradient_cam`; the engine does the passes, the ReLU and the bookkeeping. Divisions that the papers
guard with an eps are exact here, with 0 where the denominator is 0, so that no eps changes the
published formula.
"""

from __future__ import annotations

import torch

from .catalog import REGISTRY
from .extending import gradient_cam
from .reductions import safe_divide


def _spatial(a: torch.Tensor) -> tuple:
    """The axes after N and K: (2, 3) for N×K×h×w, (2,) for N×K×T."""
    return tuple(range(2, a.dim()))


def _weighted(weights: torch.Tensor, activations: torch.Tensor) -> torch.Tensor:
    return torch.einsum("nk,nk...->n...", weights, activations)


def gradcam(a, g):
    """Grad-CAM (Selvaraju et al. 2017): w_k = mean_ij g_kij; Σ_k w_k A_k."""
    return _weighted(g.mean(dim=_spatial(g)), a)


def gradcam_pp(a, g):
    """Grad-CAM++ (Chattopadhyay et al. 2018): α = g² / (2g² + (Σ_ab A_ab) g³), 0 where g = 0;
    w_k = Σ_ij α ReLU(g); Σ_k w_k A_k. For g ≠ 0, α = 1 / (2 + (Σ_ab A_ab) g), computed so."""
    total = a.sum(dim=_spatial(a), keepdim=True)
    alpha = torch.where(g != 0, safe_divide(torch.ones_like(g), 2 + total * g), torch.zeros_like(g))
    return _weighted((alpha * g.clamp(min=0)).sum(dim=_spatial(g)), a)


def layercam(a, g):
    """LayerCAM (Jiang et al. 2021): Σ_k ReLU(g_k) ⊙ A_k."""
    return (g.clamp(min=0) * a).sum(dim=1)


def hirescam(a, g):
    """HiResCAM (Draelos & Carin 2020): Σ_k g_k ⊙ A_k."""
    return (g * a).sum(dim=1)


def xgradcam(a, g):
    """XGrad-CAM (Fu et al. 2020): w_k = Σ_ij g A / Σ_ij A; Σ_k w_k A_k."""
    return _weighted(safe_divide((g * a).sum(dim=_spatial(a)), a.sum(dim=_spatial(a))), a)


# Registered by a call rather than a decorator, so that the mutation run (tests/README.md), which
# skips decorated functions, mutates each definition: (function, definition, citation, record).
_REGISTRATIONS = (
    (gradcam, "ReLU(Σ_k mean_ij(g_k) A_k)", "Selvaraju et al. 2017", {"weights": "mean_gradient"}),
    (gradcam_pp, "ReLU(Σ_k Σ_ij α ReLU(g_k) A_k), α = g² / (2g² + Σ_ab A_ab g³)", "Chattopadhyay et al. 2018",
     {"weights": "sum(alpha*relu(g)), alpha=g^2/(2g^2+sum(A)g^3), 0 where g=0 or denominator=0"}),
    (layercam, "ReLU(Σ_k ReLU(g_k) ⊙ A_k)", "Jiang et al. 2021", {"weights": "elementwise relu(g)"}),
    (hirescam, "ReLU(Σ_k g_k ⊙ A_k)", "Draelos & Carin 2020", {"weights": "elementwise g"}),
    (xgradcam, "ReLU(Σ_k (Σ_ij g A / Σ_ij A) A_k)", "Fu et al. 2020",
     {"weights": "sum(g*A)/sum(A), 0 where sum(A)=0"}),
)
for _function, _definition, _citation, _record in _REGISTRATIONS:
    gradient_cam(_function.__name__, definition=_definition, citation=_citation, record=_record)(_function)

# This family's methods by name (for tests of the definitions alone).
GRADIENT_CAMS = {name: m.compute for name, m in REGISTRY.items() if m.compute.__module__ == __name__}
