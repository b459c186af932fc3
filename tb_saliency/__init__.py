"""tb_saliency: saliency maps from PyTorch training, shown in a Saliency tab of TensorBoard.

TensorBoard imports this package at start-up to reach `tb_saliency.plugin`, so nothing here may
import torch: every public name is loaded on first use. The names that compute maps need torch
(`pip install torch`); `read`, `render` and `tb_saliency.summary` need only NumPy.
"""

__version__ = "0.2.0"

__all__ = [
    "SummaryWriter", "log_saliency", "log_saliency_map", "log_activations", "read", "render",
    "attribute", "explain", "activations", "METHODS",
]

_LAZY = {
    "SummaryWriter": "tb_saliency.writer",
    "log_saliency": "tb_saliency.log",
    "log_saliency_map": "tb_saliency.log",
    "log_activations": "tb_saliency.log",
    "read": "tb_saliency.reader",
    "render": "tb_saliency.rendering",
    "attribute": "tb_saliency.attribution",
    "explain": "tb_saliency.attribution",
    "activations": "tb_saliency.attribution",
    "METHODS": "tb_saliency.attribution",
}


# Subpackages reachable as attributes, imported on first use: `tb_saliency.metrics.deletion(...)`.
_SUBMODULES = ("metrics", "summary", "integrations", "targets")


def __getattr__(name):
    import importlib

    if name in _SUBMODULES:
        value = importlib.import_module(f"tb_saliency.{name}")
        globals()[name] = value
        return value
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'tb_saliency' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_LAZY) + list(_SUBMODULES))
