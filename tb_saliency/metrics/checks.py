"""Validation of the metrics' arguments, before any work: each message names the argument, what was
expected and what came."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from tb_saliency.attribution.checks import check_batch
from tb_saliency.value_checks import describe


def as_tensor(value, name: str) -> torch.Tensor:
    """A tensor from a tensor or a NumPy array (anything else is an error naming `name`)."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected a numeric or boolean array, got dtype {value.dtype}")
        return torch.from_numpy(np.ascontiguousarray(value))
    raise TypeError(f"{name}: expected a torch.Tensor or a numpy array, got {describe(value)}")


def check_images(inputs) -> torch.Tensor:
    """A non-empty floating-point batch of images N×C×H×W (or N×H×W), detached."""
    check_batch(inputs)
    if not inputs.is_floating_point():
        raise TypeError(
            f"inputs: expected a floating-point tensor, got dtype {inputs.dtype} (convert and normalise the "
            "images as the model expects, e.g. inputs.float())"
        )
    if inputs.dim() not in (3, 4):
        raise ValueError(f"inputs: expected images shaped N×C×H×W (or N×H×W), got shape {tuple(inputs.shape)}")
    if inputs.is_inference():
        with torch.inference_mode(False):
            inputs = inputs.clone()
    return inputs.detach()


def check_maps(maps, n=None, name: str = "maps") -> torch.Tensor:
    """Saliency maps N×h×w (N×1×h×w accepted), real and finite, as a tensor of their own dtype."""
    maps = as_tensor(maps, name)
    if maps.dim() == 4 and maps.shape[1] == 1:
        maps = maps[:, 0]
    if maps.dim() != 3 or maps.shape[0] == 0 or maps.shape[1] == 0 or maps.shape[2] == 0:
        raise ValueError(
            f"{name}: expected one map per sample shaped N×h×w (or N×1×h×w), got shape {tuple(maps.shape)}"
        )
    if maps.dtype == torch.bool or maps.is_complex():
        raise TypeError(f"{name}: expected real-valued maps, got dtype {maps.dtype}")
    if n is not None and maps.shape[0] != n:
        raise ValueError(f"{name}: expected {n} maps (one per input), got {maps.shape[0]} (shape {tuple(maps.shape)})")
    if maps.is_floating_point():
        bad = ~torch.isfinite(maps)
        if bool(bad.any()):
            index = int(bad.flatten(1).any(dim=1).nonzero()[0])
            raise ValueError(f"{name}: map {index} holds NaN or infinite values; every map value must be finite")
    return maps


def check_masks(masks, n: int) -> torch.Tensor:
    """Boolean N×H×W masks (N×1×H×W accepted; numbers must be 0 or 1), each with at least one pixel."""
    masks = as_tensor(masks, "masks")
    if masks.dim() == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    if masks.dim() != 3 or masks.shape[1] == 0 or masks.shape[2] == 0:
        raise ValueError(
            f"masks: expected boolean masks shaped N×H×W (or N×1×H×W), got shape {tuple(masks.shape)}"
        )
    if masks.shape[0] != n:
        raise ValueError(f"masks: expected {n} masks (one per map), got {masks.shape[0]} (shape {tuple(masks.shape)})")
    if masks.dtype != torch.bool:
        if masks.is_complex() or not bool(((masks == 0) | (masks == 1)).all()):
            raise ValueError(
                f"masks: expected booleans (or numbers that are all 0 or 1), got dtype {masks.dtype} with other values"
            )
        masks = masks != 0
    return _nonempty(masks, "masks", "mask")


def check_boxes(boxes, n: int, size) -> torch.Tensor:
    """Boxes (x0, y0, x1, y1) in pixels of an image of `size` (H, W), turned into N×H×W masks.

    `boxes` is N×4 (one box per sample) or a list of N items, each 4 numbers or K×4 (the union of K
    boxes). Pixel (row i, column j) belongs to a box when its centre (j + ½, i + ½) lies in
    [x0, x1) × [y0, y1): for integer boxes, columns x0..x1-1 and rows y0..y1-1 (x1 and y1 exclusive,
    as in slicing and in torchvision's box coordinates).
    """
    per_box, samples = box_masks(boxes, n, size)
    masks = torch.zeros(n, *per_box.shape[1:], dtype=torch.bool)
    for row, sample in enumerate(samples.tolist()):
        masks[sample] |= per_box[row]
    return _nonempty(masks, "boxes", "box")


def box_masks(boxes, n: int, size):
    """(B×H×W masks, long[B] the sample of each): every box of `boxes` (as `check_boxes` takes them)
    as its own mask, ordered by sample then as given."""
    height, width = _check_size(size)
    if isinstance(boxes, (list, tuple)):
        if len(boxes) != n:
            raise ValueError(f"boxes: expected {n} items (one per map), got a list of {len(boxes)}")
        items = []
        for i, item in enumerate(boxes):
            item = as_tensor(item, f"boxes[{i}]") if not isinstance(item, (list, tuple)) else torch.tensor(item)
            if item.dim() == 1:
                item = item[None]
            if item.dim() != 2 or item.shape[1] != 4 or item.shape[0] == 0:
                raise ValueError(
                    f"boxes[{i}]: expected 4 numbers (x0, y0, x1, y1) or K×4 of them, got shape {tuple(item.shape)}"
                )
            items.append(item)
    else:
        boxes = as_tensor(boxes, "boxes")
        if boxes.dim() != 2 or boxes.shape[1] != 4:
            raise ValueError(f"boxes: expected N×4 boxes (x0, y0, x1, y1), got shape {tuple(boxes.shape)}")
        if boxes.shape[0] != n:
            raise ValueError(f"boxes: expected {n} boxes (one per map), got {boxes.shape[0]}")
        items = [boxes[i : i + 1] for i in range(n)]
    rows = torch.arange(height, dtype=torch.float64) + 0.5
    cols = torch.arange(width, dtype=torch.float64) + 0.5
    masks, samples = [], []
    for i, item in enumerate(items):
        if item.dtype == torch.bool or item.is_complex():
            raise TypeError(f"boxes[{i}]: expected numbers, got dtype {item.dtype}")
        item = item.to(torch.float64)
        if not bool(torch.isfinite(item).all()):
            raise ValueError(f"boxes[{i}]: expected finite coordinates, got {item.tolist()}")
        for x0, y0, x1, y1 in item.tolist():
            if not (x1 > x0 and y1 > y0):
                raise ValueError(f"boxes[{i}]: expected x1 > x0 and y1 > y0, got (x0, y0, x1, y1) = {(x0, y0, x1, y1)}")
            inside_rows = (rows >= y0) & (rows < y1)
            inside_cols = (cols >= x0) & (cols < x1)
            masks.append(inside_rows[:, None] & inside_cols[None, :])
            samples.append(i)
    return torch.stack(masks), torch.tensor(samples, dtype=torch.long)


def _nonempty(masks: torch.Tensor, name: str, what: str) -> torch.Tensor:
    empty = ~masks.flatten(1).any(dim=1)
    if bool(empty.any()):
        index = int(empty.nonzero()[0])
        raise ValueError(
            f"{name}: the {what} of sample {index} covers no pixel of the {masks.shape[1]}×{masks.shape[2]} image; "
            "each sample needs at least one object pixel (leave samples without the object out)"
        )
    return masks


def _check_size(size):
    if (
        not isinstance(size, (tuple, list, torch.Size))
        or len(size) != 2
        or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in size)
    ):
        raise ValueError(
            f"size: expected the image size (H, W) as two ints >= 1 (needed with boxes), got {describe(size)}"
        )
    return int(size[0]), int(size[1])
