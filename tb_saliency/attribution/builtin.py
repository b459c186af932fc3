"""The built-in methods, registered in this order (the order of `METHODS`): each module registers its
own; then the built-in input kinds (image and signal in `kinds`, tokens in `token_kind`)."""

from . import gradient, input_x_gradient, smoothgrad, integrated_gradients, occlusion, rise  # noqa: F401
from . import cams, scorecam, eigencam, ablationcam, rollout  # noqa: F401
from . import kinds, token_kind  # noqa: F401
