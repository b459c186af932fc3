"""Arrays to pixels as the dashboard's render/pixels.ts draws them: upsampling, colouring and the
composites of the views."""

import math

import numpy as np

from tb_saliency.rendering import colormaps
from tb_saliency.rendering.ranges import apply_sign

VIEWS = ("overlay", "heatmap", "masked", "side")
UPSAMPLINGS = ("bilinear", "nearest")


def base_size(height, width, image_size):
    """The size a map is drawn at: its input's, or for a map without one a small integer multiple."""
    if image_size is not None and image_size[0] > 0 and image_size[1] > 0:
        return image_size
    k = max(1, math.ceil(64 / max(height, width, 1)))
    return height * k, width * k


def upsample(stored, out_height, out_width, mode, sign):
    """An h×w float32 map, sign-transformed, resized to H×W in float32. Bilinear uses half-pixel
    centres with clamped edges (cv2.resize, torch's align_corners=False); nearest picks floor(x·w/W)."""
    h, w = stored.shape
    src = apply_sign(np.asarray(stored, np.float32), sign).astype(np.float32)
    if (h, w) == (out_height, out_width):
        return src
    if mode == "nearest":
        rows = np.minimum(h - 1, (np.arange(out_height) * h) // out_height)
        cols = np.minimum(w - 1, (np.arange(out_width) * w) // out_width)
        return src[rows[:, None], cols[None, :]]

    def axis(size, out_size):
        pos = np.clip((np.arange(out_size) + 0.5) * size / out_size - 0.5, 0, size - 1)
        first = np.floor(pos).astype(np.int64)
        return first, np.minimum(first + 1, size - 1), pos - first

    x0, x1, fx = axis(w, out_width)
    y0, y1, fy = axis(h, out_height)
    # The dashboard keeps the column fractions in float32 and the row fraction in double.
    fx = fx.astype(np.float32).astype(np.float64)
    grid = src.astype(np.float64)
    a, b = grid[y0][:, x0], grid[y0][:, x1]
    c, d = grid[y1][:, x0], grid[y1][:, x1]
    top = a + (b - a) * fx
    bottom = c + (d - c) * fx
    return (top + (bottom - top) * fy[:, None]).astype(np.float32)


def _positions(values, a, b):
    t = values.astype(np.float64) * a + b
    return np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)


def _table_index(t):
    return np.floor(t * 255 + 0.5).astype(np.int64)


def heat_layer(values, a, b, colormap):
    """H×W×3 uint8: each value's colour at position t = v × a + b, clamped to [0, 1]."""
    return colormaps.table(colormap)[_table_index(_positions(values, a, b))]


def mask_layer(values, a, b, signed_range):
    """H×W uint8: the grey the masked view multiplies its input by, t (or |2t − 1| on signed ranges)."""
    t = _positions(values, a, b)
    weight = np.abs(2 * t - 1) if signed_range else t
    return _table_index(weight).astype(np.uint8)


def _round_half_up(x):
    return np.floor(x + 0.5).astype(np.uint8)


def overlay(image, layer, opacity):
    return _round_half_up((1 - opacity) * image.astype(np.float64) + opacity * layer.astype(np.float64))


def masked(image, grey):
    return _round_half_up(image.astype(np.float64) * grey[..., None].astype(np.float64) / 255)
