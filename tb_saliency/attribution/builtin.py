"""The built-in methods, registered in this order (the order of `METHODS`): each module registers its own."""

from . import gradient, input_x_gradient, smoothgrad, integrated_gradients, occlusion, rise  # noqa: F401
from . import cams, scorecam, eigencam, ablationcam  # noqa: F401
