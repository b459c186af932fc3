"""Test markers. Slow tests (a real browser, a real `tensorboard` process, a framework's training
loop, several processes) carry a marker naming what makes them slow, and all of them `slow`, so that
day-to-day work runs `python -m pytest -m "not slow"` and CI runs everything."""

import pathlib

import pytest

SLOW_MARKERS = ("browser", "tensorboard", "training", "distributed")
# Whole folders whose tests are all of one slow kind.
_FOLDER_MARKERS = {"browser": "browser", "integration": "tensorboard"}


def pytest_collection_modifyitems(items):
    for item in items:
        folder = pathlib.Path(str(item.fspath)).parent.name
        if folder in _FOLDER_MARKERS:
            item.add_marker(_FOLDER_MARKERS[folder])
        if any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)
