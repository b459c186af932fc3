"""Probe images for the browser tests and the dashboard benchmark: shapes whose place is known, so a
map drawn over them can be checked by eye and by its pixels."""

import numpy as np


def coloured_shapes(count, size, rng):
    """Coloured discs, squares and triangles on a dark ground (count×3×size×size float32), and the
    (row, column) centre of each."""
    yy, xx = np.mgrid[0:size, 0:size]
    images = np.full((count, 3, size, size), 0.08, np.float32)
    centres = []
    for i in range(count):
        cy, cx = rng.integers(size // 4, 3 * size // 4, size=2)
        r = size // 6
        kind = i % 3
        if kind == 0:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        elif kind == 1:
            mask = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        else:
            mask = (yy - cy <= r) & (yy - cy >= -r) & (abs(xx - cx) <= (yy - cy + r) / 2)
        images[i, kind][mask] = 0.95
        images[i, (kind + 1) % 3][mask] = 0.35
        centres.append((cy, cx))
    return images, centres
