"""Test markers. Slow tests (a real browser, a real `tensorboard` process, a framework's training
loop, several processes) carry a marker naming what makes them slow, and all of them `slow`, so that
day-to-day work runs `python -m pytest -m "not slow"` and CI runs everything. Tests that need no
torch are marked `viewer`: CI runs them again on the oldest stack the viewer side supports."""

import importlib.util
import pathlib
import re

import pytest

SLOW_MARKERS = ("browser", "tensorboard", "training", "distributed", "packaging")
# Whole folders whose tests all carry a marker.
_FOLDER_MARKERS = {"browser": "browser", "integration": "tensorboard", "format": "viewer"}


def pytest_collection_modifyitems(config, items):
    _deselect(config, items, "cuda", _a_gpu_is_here)
    _deselect(config, items, "torchvision", _torchvision_imports)
    for item in items:
        folder = pathlib.Path(str(item.fspath)).parent.name
        if folder in _FOLDER_MARKERS:
            item.add_marker(_FOLDER_MARKERS[folder])
        if any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)


# Where torch is missing (CI's run on the oldest viewer stack), test modules that import it, directly
# or through the torch-based logdir writers, are not collected; the `viewer` tests are the rest.
_TORCH_IMPORT = re.compile(r"^\s*(?:import|from)\s+(?:torch\b|tests\.support(?:\.logdirs| import logdirs))", re.M)


def pytest_ignore_collect(collection_path):
    if collection_path.suffix != ".py" or importlib.util.find_spec("torch") is not None:
        return None
    return bool(_TORCH_IMPORT.search(collection_path.read_text(encoding="utf-8"))) or None


def _deselect(config, items, marker, available):
    """Tests marked `marker` run where `available()` holds and are deselected elsewhere: a skip would
    read as a test that ran. `cuda` tests run where a GPU is (`python -m pytest -m cuda` on a GPU
    machine; CI has none); `torchvision` tests run in CI's job on the newest torch
    (.ci/newest_torch.sh), as CI's main environment (torch 2.13.0+cpu) has no torchvision."""
    marked = [item for item in items if item.get_closest_marker(marker)]
    if not marked or available():
        return
    config.hook.pytest_deselected(items=marked)
    items[:] = [item for item in items if not item.get_closest_marker(marker)]


def _a_gpu_is_here():
    import torch

    return torch.cuda.is_available()


def _torchvision_imports():
    try:
        import torchvision  # noqa: F401
    except Exception:  # noqa: BLE001 - a torchvision built for another torch fails with RuntimeError or OSError
        return False
    return True
