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
    vector. An SVD leaves the vector's sign open (pytorch-grad-cam keeps whichever LAPACK returns); here
    it is the sign under which the projection correlates positively with the mean over channels of the
    activations, so that the map lights up where the layer is active (positive for a zero correlation)."""
    n, channels = a.shape[:2]
    spatial = a.shape[2:]
    positions = a.reshape(n, channels, -1).transpose(1, 2)  # N × h·w × K
    centred = positions - positions.mean(dim=1, keepdim=True)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    projection = torch.einsum("nsk,nk->ns", centred, vh[:, 0, :])
    activity = positions.mean(dim=2)
    correlation = (projection * (activity - activity.mean(dim=1, keepdim=True))).sum(dim=1)
    sign = torch.where(correlation < 0, -torch.ones_like(correlation), torch.ones_like(correlation))
    return (projection * sign[:, None]).reshape(n, *spatial)
