"""The method names (a public contract) and how the engine groups them."""

METHODS = (
    "gradient",
    "input_x_gradient",
    "smoothgrad",
    "integrated_gradients",
    "gradcam",
    "gradcam_pp",
    "layercam",
    "hirescam",
    "xgradcam",
    "scorecam",
)

# Maps at the input's resolution, one per sample.
INPUT_METHODS = frozenset({"gradient", "input_x_gradient", "smoothgrad", "integrated_gradients"})
# Maps at a layer's resolution.
CAM_METHODS = frozenset({"gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam", "scorecam"})
# Served by the one forward+backward pass on the clean inputs.
SHARED_INPUT_METHODS = frozenset({"gradient", "input_x_gradient"})
GRADIENT_CAM_METHODS = CAM_METHODS - {"scorecam"}
# Run many perturbed copies of the batch, in chunks bounded by `memory_limit`.
CHUNKED_METHODS = frozenset({"smoothgrad", "integrated_gradients", "scorecam"})
