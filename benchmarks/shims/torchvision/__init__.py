"""Stand-in for torchvision, used by benchmarks/attribution.py only when the real one cannot be imported.

torchvision's PyPI wheels are built against one torch release each and do not import beside this
project's CPU torch build, yet pytorch-grad-cam imports a few of its names at import time. None of
them is on the code path the benchmark measures (forward hooks, backward, the CAM weights,
cv2.resize, min-max scaling): calling any of them raises, so a shimmed name can never be used silently.
"""

__version__ = "0.0.0+tb_saliency_benchmark_shim"

from . import ops, transforms  # noqa: E402,F401
