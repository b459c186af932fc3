"""Registering the methods of tests/support/custom_method.py for a while, as a user's module would."""

import contextlib
import importlib
import sys

import tb_saliency.attribution as attribution

MODULE = "tests.support.custom_method"


@contextlib.contextmanager
def custom_methods(module_name=MODULE):
    """The freshly imported module (which registers its methods); they are unregistered on exit, so
    that the rest of the session sees the built-in methods only."""
    sys.modules.pop(module_name, None)
    module = importlib.import_module(module_name)
    try:
        yield module
    finally:
        for name in module.NAMES:
            if name in attribution.REGISTRY:
                attribution.unregister(name)
        sys.modules.pop(module_name, None)
