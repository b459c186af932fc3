"""Tiny models and a full snapshot of everything an attribution call must leave alone."""

import torch
from torch import nn

N, C, H, W = 3, 3, 12, 12


def conv_net(classes=5, seed=0, dtype=torch.float32) -> nn.Sequential:
    """Two conv blocks with BatchNorm, Dropout, global average pooling and a linear head.

    Layer names: "0" conv, "1" bn, "2" relu, "3" pool, "4" conv, "5" bn, "6" relu (last conv block),
    "7" dropout, "8" GAP, "9" flatten, "10" linear.
    """
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(C, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(inplace=True),
        nn.Dropout(0.5),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, classes),
    ).to(dtype)
    # Non-trivial running statistics, so that eval and train mode differ.
    with torch.no_grad():
        for bn in (model[1], model[5]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    return model


def images(n=N, seed=1, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(n, C, H, W, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.detach().reshape(-1).contiguous().view(torch.uint8).clone()


_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_pre_hooks_with_kwargs",
)


def snapshot(model: nn.Module) -> dict:
    """Everything about a model and the process that a call must leave bit-identical."""
    from torch.nn.modules import module as module_globals

    return {
        "tensors": {name: _bits(t) for name, t in list(model.named_parameters()) + list(model.named_buffers())},
        "grads": {name: (p.grad, None if p.grad is None else _bits(p.grad)) for name, p in model.named_parameters()},
        "requires_grad": {name: p.requires_grad for name, p in model.named_parameters()},
        "training": {name: m.training for name, m in model.named_modules()},
        "hooks": {
            name: tuple(tuple(getattr(m, d, {}).keys()) for d in _HOOK_DICTS) for name, m in model.named_modules()
        },
        "global_hooks": tuple(
            len(getattr(module_globals, d))
            for d in dir(module_globals)
            if d.startswith("_global_") and d.endswith("hooks")
        ),
        "rng": torch.get_rng_state().clone(),
        "grad_enabled": torch.is_grad_enabled(),
    }


def assert_untouched(model: nn.Module, before: dict) -> None:
    after = snapshot(model)
    for name, bits in before["tensors"].items():
        assert torch.equal(bits, after["tensors"][name]), f"{name} changed"
    for name, (grad, bits) in before["grads"].items():
        now = dict(model.named_parameters())[name].grad
        assert now is grad, f"{name}.grad was replaced"
        if bits is not None:
            assert torch.equal(bits, _bits(now)), f"{name}.grad changed"
    for key in ("requires_grad", "training", "hooks", "global_hooks", "grad_enabled"):
        assert before[key] == after[key], f"{key} changed"
    assert torch.equal(before["rng"], after["rng"]), "global RNG state changed"


def train_like(model: nn.Module) -> nn.Module:
    """Put a model in the state a training loop leaves it: train mode, some frozen and some .grad set."""
    model.train()
    params = list(model.parameters())
    params[0].requires_grad_(False)
    params[2].grad = torch.full_like(params[2], 0.25)
    model[1].eval()  # a submodule in another mode than its parent
    return model


class Counting(nn.Module):
    """Wraps a model and counts its forward passes, to check that a bad argument fails before any."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.inner = model
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.inner(x)
