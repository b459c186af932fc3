"""Models whose scores are known functions of which pixels remain, and the attribution tests' helpers."""

import torch
from torch import nn

from ..attribution.helpers import assert_untouched, conv_net, images, snapshot, train_like  # noqa: F401

F64 = torch.float64


class PixelSum(nn.Module):
    """Two classes: logits (s, 0) with s = Σ weight ⊙ x, so p(class 0) = sigmoid(s) and the raw score
    of class 0 is s itself: a known function of which pixels remain."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight.to(F64))

    def forward(self, x):
        s = (x.flatten(1) * self.weight.flatten()).sum(dim=1)
        return torch.stack([s, torch.zeros_like(s)], dim=1)


class Counting(nn.Module):
    """Counts the forward passes and the rows they see."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.calls = []

    def forward(self, x):
        self.calls.append(x.shape[0])
        return self.model(x)
