"""Input images for display: de-normalisation to 8 bits, lossless PNG, and a content key.

NumPy and Pillow only. Errors name the argument as the writer's user knows it (`images` by default,
`argument` where the pixels came from elsewhere, and `mean`, `std`), so that they read right from
`SummaryWriter.add_saliency*`.
"""

import dataclasses
import hashlib
import io

import numpy as np

# Tolerance for floats that are meant to lie in [0, 1] but carry rounding from a transform.
_UNIT_RANGE_SLACK = 1e-3


@dataclasses.dataclass(frozen=True)
class DisplayImages:
    """Images ready to store: 8-bit pixels N×H×W×C (C in 1 to 4: grey, grey+alpha, RGB, RGBA) and
    how floats were mapped."""

    pixels: np.ndarray
    display_transform: str

    @property
    def count(self):
        return self.pixels.shape[0]

    @property
    def height(self):
        return self.pixels.shape[1]

    @property
    def width(self):
        return self.pixels.shape[2]

    @property
    def channels(self):
        return self.pixels.shape[3]

    def content_key(self):
        """A short digest of the pixels, equal for equal probe sets, to share them across frames."""
        digest = hashlib.sha256()
        digest.update(repr(self.pixels.shape).encode())
        digest.update(np.ascontiguousarray(self.pixels).tobytes())
        return digest.hexdigest()[:24]

    def encode_png(self):
        """One PNG per image, in order."""
        from PIL import Image

        encoded = []
        for image in self.pixels:
            if image.shape[2] == 1:
                image = image[:, :, 0]
            buffer = io.BytesIO()
            # compress_level 6 is Pillow's default: small files without slowing a training loop.
            Image.fromarray(image).save(buffer, format="PNG", compress_level=6)
            encoded.append(buffer.getvalue())
        return encoded


def to_channels_last(images, *, layout="NCHW", argument="images"):
    """N×C×H×W, N×H×W×C or N×H×W → N×H×W×C, checking rank and channel count."""
    images = np.asarray(images)
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f"dataformats: expected 'NCHW' or 'NHWC', got {layout!r}")
    if images.ndim == 3:
        images = images[:, :, :, None]
    elif images.ndim == 4:
        if layout == "NCHW":
            images = images.transpose(0, 2, 3, 1)
    else:
        raise ValueError(
            f"{argument}: expected a batch N×C×H×W ({layout} layout) or N×H×W (grayscale), got an array "
            f"of shape {tuple(images.shape)}"
        )
    if images.shape[3] not in (1, 2, 3, 4):
        raise ValueError(
            f"{argument}: expected 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) channels in {layout} "
            f"layout, got "
            f"{images.shape[3]} in shape {tuple(images.shape)}; pass images=... to show a picture of "
            "non-image inputs"
        )
    if images.shape[0] == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f"{argument}: expected at least one non-empty image, got shape {images.shape}")
    return images


def _per_channel(value, name, channels):
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.size == 1:
        array = np.repeat(array, channels)
    if array.size != channels:
        raise ValueError(
            f"{name}: expected one number or one per image channel ({channels}), got {array.size} "
            f"values"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite numbers, got {array.tolist()}")
    return array


def to_display(images, *, mean=None, std=None, layout="NCHW", transformed=False,
               argument="images"):
    """Maps a batch of images to 8-bit pixels for display.

    uint8 images are kept as they are. Float images are de-normalised with `mean`/`std`
    (x * std + mean, per channel) when given, then clipped to [0, 1]; without them, values already in
    [0, 1] are kept and any other range is stretched per image (min-max), which is recorded.
    `transformed=True` says the caller already applied its own de-normalising function.
    `argument` names the images in error messages.
    """
    pixels = to_channels_last(images, layout=layout, argument=argument)
    channels = pixels.shape[3]
    if (mean is None) != (std is None):
        raise ValueError(
            "mean, std: expected both or neither to de-normalise the images, got only "
            + ("mean" if std is None else "std")
        )
    if pixels.dtype == np.uint8:
        if mean is not None:
            raise ValueError("mean, std: uint8 images are already in display range; drop mean/std")
        return DisplayImages(np.ascontiguousarray(pixels), "none")
    if pixels.dtype == np.bool_:
        pixels = pixels.astype(np.float32)
    if not np.issubdtype(pixels.dtype, np.floating) and not np.issubdtype(pixels.dtype, np.integer):
        raise TypeError(f"{argument}: expected float or uint8 values, got dtype {pixels.dtype}")
    pixels = pixels.astype(np.float64)
    if not np.all(np.isfinite(pixels)):
        raise ValueError(f"{argument}: expected finite values, got NaN or infinity")
    if mean is not None:
        mean_values = _per_channel(mean, "mean", channels)
        pixels = pixels * _per_channel(std, "std", channels) + mean_values
        transform = "mean_std"
    elif transformed:
        transform = "callable"
    else:
        transform = "none"
    low, high = pixels.min(), pixels.max()
    if transform == "none" and (low < -_UNIT_RANGE_SLACK or high > 1 + _UNIT_RANGE_SLACK):
        lows = pixels.min(axis=(1, 2, 3), keepdims=True)
        spans = pixels.max(axis=(1, 2, 3), keepdims=True) - lows
        pixels = (pixels - lows) / np.where(spans > 0, spans, 1.0)
        transform = "minmax"
    pixels = np.clip(pixels, 0.0, 1.0)
    return DisplayImages(np.rint(pixels * 255.0).astype(np.uint8), transform)


def decode_png(data):
    """PNG bytes → H×W×C uint8 array."""
    from PIL import Image

    with Image.open(io.BytesIO(bytes(data))) as image:
        image.load()
        pixels = np.asarray(image)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels
