"""A synthetic data set whose right answer to "where should the model look" is known.

Each image holds one shape (circle, square or triangle) in a random colour at a random place, on a
noisy background with a few distracting specks; the class is the shape. The mask of the shape is
returned beside the image, so the demo can score whether a saliency map points at it.
"""

import math

import torch

CLASS_NAMES = ("circle", "square", "triangle")


def _shape_mask(kind, size, centre_y, centre_x, radius):
    y = torch.arange(size, dtype=torch.float32).view(-1, 1)
    x = torch.arange(size, dtype=torch.float32).view(1, -1)
    dy, dx = y - centre_y, x - centre_x
    if kind == 0:  # circle
        return dy**2 + dx**2 <= radius**2
    if kind == 1:  # axis-aligned square
        half = radius * 0.85
        return (dy.abs() <= half) & (dx.abs() <= half)
    # triangle pointing up: below the two slanted edges, above the base
    height = radius * 1.8
    top = centre_y - height / 2
    inside_y = (y >= top) & (y <= top + height)
    half_width = (y - top) / height * radius * 1.15
    return inside_y & (dx.abs() <= half_width)


def make_shapes(count, size=32, seed=0):
    """Returns (images N×3×H×W in [0, 1], labels N, masks N×H×W bool)."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(low, high):
        return low + (high - low) * torch.rand((), generator=generator).item()

    images = torch.empty(count, 3, size, size)
    labels = torch.randint(0, len(CLASS_NAMES), (count,), generator=generator)
    masks = torch.zeros(count, size, size, dtype=torch.bool)
    for i in range(count):
        background = torch.rand(3, generator=generator) * 0.35
        image = background.view(3, 1, 1) + 0.08 * torch.randn(3, size, size, generator=generator)
        # Distractors: small specks a model must learn to ignore.
        for _ in range(3):
            sy, sx = (int(uniform(0, size - 2)) for _ in range(2))
            image[:, sy:sy + 2, sx:sx + 2] = torch.rand(3, 1, 1, generator=generator)
        radius = uniform(size * 0.16, size * 0.26)
        margin = math.ceil(radius) + 1
        centre_y, centre_x = uniform(margin, size - margin), uniform(margin, size - margin)
        mask = _shape_mask(int(labels[i]), size, centre_y, centre_x, radius)
        colour = 0.55 + 0.45 * torch.rand(3, generator=generator)
        image = torch.where(mask, colour.view(3, 1, 1), image)
        images[i] = image.clamp(0, 1)
        masks[i] = mask
    return images, labels, masks
