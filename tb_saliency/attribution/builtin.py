"""The built-in methods, registered in this order (the order of `METHODS`): each module registers its own."""

from . import gradient, input_x_gradient, smoothgrad, integrated_gradients, cams, scorecam  # noqa: F401
