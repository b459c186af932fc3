"""Eigen-CAM (Muhammad & Yeasin 2020): the layer's activations projected on their first principal
direction. No gradient, no pass of its own: it reads the clean pass's activations."""

from __future__ import annotations

import torch

from .extending import activation_cam


@activation_cam(
    "eigencam",
    definition="ReLU(Ā v₁), Ā = the h·w × K activations centred per channel, v₁ its first right singular "
               "vector, signed so that Ā v₁ correlates positively with the mean activation over channels",
    citation="Muhammad & Yeasin 2020",
    record={
        "weights": "first right singular vector of the centred activations",
        "centring": "per channel",
        "sign": "positive correlation with the channel-mean activation",
    },
)
def eigencam(a):
    """Eigen-CAM: the projection of the per-channel centred activations on their first right singular
    vector. The SVD leaves the vector's sign open (pytorch-grad-cam keeps whichever LAPACK returns); here
    it is the sign under which the projection correlates positively with the mean over channels of the
    activations, so that the map lights up where the layer is active (positive for a zero correlation)."""
    n, channels = a.shape[:2]
    spatial = a.shape[2:]
    positions = a.reshape(n, channels, -1).transpose(1, 2)  # N × h·w × K
    centred = positions - positions.mean(dim=1, keepdim=True)
    projection = _first_component(centred)
    activity = positions.mean(dim=2)
    correlation = (projection * (activity - activity.mean(dim=1, keepdim=True))).sum(dim=1)
    sign = torch.where(correlation < 0, -torch.ones_like(correlation), torch.ones_like(correlation))
    return (projection * sign[:, None]).reshape(n, *spatial)


def _first_component(centred: torch.Tensor) -> torch.Tensor:
    """X v₁ for each N × S × K matrix X, v₁ its first right singular vector, up to sign.

    From the eigenvectors of the smaller Gram matrix (S×S or K×K, in float64 so that squaring X loses
    nothing in float32), which LAPACK solves several times faster than the SVD of X itself: with
    X Xᵀ u₁ = σ₁² u₁, X v₁ = σ₁ u₁."""
    x = centred.double()
    if x.shape[1] <= x.shape[2]:
        values, vectors = torch.linalg.eigh(x @ x.transpose(1, 2))
        projection = vectors[:, :, -1] * values[:, -1:].clamp(min=0).sqrt()
    else:
        _, vectors = torch.linalg.eigh(x.transpose(1, 2) @ x)
        projection = torch.einsum("nsk,nk->ns", x, vectors[:, :, -1])
    return projection.to(centred.dtype)
