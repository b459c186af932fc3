"""Detection targets: scores of torchvision-style detections (one dict per image with "boxes" K×4 as
(x0, y0, x1, y1), "labels" K and "scores" K), and the per-object expansion of `each_box`.

Importing this module needs no torch, as `tb_saliency.targets`, which registers these names.
"""

from __future__ import annotations

import numbers

from tb_saliency.targets import Target, target_constructor
from tb_saliency.value_checks import describe


def box_iou(reference, predicted):
    """IoU of every reference box (R×4) with every predicted box (P×4): R×P, as torchvision.ops.box_iou
    computes it (areas (x1 − x0)·(y1 − y0), the intersection clamped at 0). Differentiable."""
    import torch

    area_r = (reference[:, 2] - reference[:, 0]) * (reference[:, 3] - reference[:, 1])
    area_p = (predicted[:, 2] - predicted[:, 0]) * (predicted[:, 3] - predicted[:, 1])
    top_left = torch.max(reference[:, None, :2], predicted[None, :, :2])
    bottom_right = torch.min(reference[:, None, 2:], predicted[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area_r[:, None] + area_p[None, :] - inter)


def _detections(outputs, n=None):
    """The outputs as a list of detection dicts, checked."""
    import torch

    if not isinstance(outputs, (list, tuple)) or not all(isinstance(d, dict) for d in outputs):
        raise ValueError(f"target: expected a detector's outputs, a list of one dict per image with 'boxes', "
                         f"'labels' and 'scores' (torchvision's detection models), got {describe(outputs)}")
    for i, d in enumerate(outputs):
        for key in ("boxes", "labels", "scores"):
            if not isinstance(d.get(key), torch.Tensor):
                raise ValueError(f"target: detection {i} has no {key!r} tensor (keys: {sorted(d)})")
    if n is not None and len(outputs) != n:
        raise ValueError(f"boxes: expected {len(outputs)} items (one per image), got {n}")
    return outputs


def _image_box_score(detection, boxes, labels, iou):
    """pytorch-grad-cam's FasterRCNNBoxScoreTarget on one image: for each reference box the predicted
    box of highest IoU (the first on ties) adds IoU + score when IoU > `iou` and the labels match."""
    predicted, scores = detection["boxes"], detection["scores"]
    # Zero, but on the scores' graph: an image without a match explains nothing rather than breaking
    # autograd, while a detached model still has no graph (the engine's error).
    total = scores.sum() * 0
    if predicted.shape[0] == 0 or boxes.shape[0] == 0:
        return total
    ious = box_iou(boxes.to(predicted.device, predicted.dtype), predicted)
    best = ious.detach().argmax(dim=1)
    for k in range(boxes.shape[0]):
        value = ious[k, best[k]]
        if float(value.detach()) > iou and int(detection["labels"][best[k]]) == int(labels[k]):
            total = total + value + scores[best[k]]
    return total


def _reference(boxes, labels):
    """Per image: (K×4 float64 boxes, K long labels) on the CPU."""
    import torch

    if isinstance(boxes, torch.Tensor) and boxes.dim() == 3:
        boxes = list(boxes)
    if isinstance(labels, torch.Tensor) and labels.dim() == 2:
        labels = list(labels)
    if not isinstance(boxes, (list, tuple)) or not isinstance(labels, (list, tuple)):
        raise TypeError(f"boxes: expected N items (one per image), each K×4 boxes (x0, y0, x1, y1), and labels N "
                        f"items each K ints; got boxes {describe(boxes)}, labels {describe(labels)}")
    if len(boxes) != len(labels):
        raise ValueError(f"labels: expected {len(boxes)} items (one per image of boxes), got {len(labels)}")
    rows = []
    for i, (b, lab) in enumerate(zip(boxes, labels)):
        b = torch.as_tensor(b, dtype=torch.float64).detach().cpu()
        if b.dim() == 1 and b.numel() == 4:
            b = b[None]
        if b.numel() == 0:
            b = b.reshape(0, 4)
        if b.dim() != 2 or b.shape[1] != 4:
            raise ValueError(f"boxes[{i}]: expected K×4 boxes (x0, y0, x1, y1), got shape {tuple(b.shape)}")
        lab = torch.as_tensor(lab).detach().cpu().reshape(-1)
        if lab.is_floating_point() or lab.dtype == torch.bool or lab.numel() != b.shape[0]:
            raise ValueError(f"labels[{i}]: expected {b.shape[0]} integer labels (one per box), got {describe(lab)}")
        rows.append((b, lab.long()))
    return rows


def _check_iou(iou):
    if isinstance(iou, bool) or not isinstance(iou, numbers.Real) or not 0 <= iou < 1:
        raise ValueError(f"iou: expected a threshold in [0, 1), got {describe(iou)}")
    return float(iou)


@target_constructor("box_score")
def box_score(boxes, labels, *, iou=0.5) -> Target:
    """A detector's score of reference boxes (pytorch-grad-cam's FasterRCNNBoxScoreTarget, batched).

    For each reference box of an image, the predicted box of highest IoU (the first on ties) adds
    IoU + its score when that IoU is above `iou` (strictly) and its label matches; the sum is the
    image's score (0 without a match). Differentiable through the predicted scores and boxes.

    boxes: N items (one per image), each K×4 (x0, y0, x1, y1) in the model's input pixels (K may be
        0), or an N×K×4 tensor. labels: N items of K ints, or N×K.
    """
    rows = _reference(boxes, labels)
    iou = _check_iou(iou)

    def score(outputs):
        import torch

        detections = _detections(outputs, len(rows))
        return torch.stack([_image_box_score(d, b, lab, iou) for d, (b, lab) in zip(detections, rows)])

    record = {"boxes": [b.tolist() for b, _ in rows], "labels": [lab.tolist() for _, lab in rows], "iou": iou}
    return Target("box_score", score, reads="outputs", record=record)


def top_detections(outputs, top_k):
    """Per image, its `top_k` detections of highest score: [(K×4 boxes, K labels, K scores)], detached."""
    found = []
    for d in _detections(outputs):
        order = d["scores"].detach().argsort(descending=True, stable=True)[:top_k]
        found.append((d["boxes"].detach()[order], d["labels"].detach()[order], d["scores"].detach()[order]))
    return found


@target_constructor("each_box")
def each_box(top_k=5, *, iou=0.5) -> Target:
    """One score per detected object: the `top_k` detections of highest score on the clean inputs,
    each scored on every copy as `box_score` scores that one box with its label.

    Called on outputs it returns N×top_k scores (0 where an image has fewer objects), which the
    engine's `target=` does not take (it explains one scalar per row): `explain_each_box` gives one
    map per object, one row per (image, object).
    """
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1:
        raise ValueError(f"top_k: expected an int ≥ 1, got {describe(top_k)}")
    return _each_box(int(top_k), _check_iou(iou), None)


def _each_box(top_k, iou, objects):
    """`each_box` scoring the detections `objects` (None: each call's own top detections)."""

    def score(outputs):
        import torch

        detections = _detections(outputs)
        chosen = objects if objects is not None else top_detections(outputs, top_k)
        if len(chosen) != len(detections):
            raise ValueError(f"target: each_box was bound to {len(chosen)} images, got outputs of {len(detections)}")
        rows = []
        for d, (b, lab, _) in zip(detections, chosen):
            per_object = [_image_box_score(d, b[j : j + 1].double(), lab[j : j + 1], iou) for j in range(b.shape[0])]
            zero = d["scores"].sum() * 0
            rows.append(torch.stack(per_object + [zero] * (top_k - len(per_object))))
        return torch.stack(rows)

    def bind(clean_outputs):
        return _each_box(top_k, iou, top_detections(clean_outputs, top_k))

    return Target("each_box", score, reads="outputs", record={"top_k": top_k, "iou": iou}, bind=bind)


def explain_each_box(model, images, methods, *, top_k=5, iou=0.5, **options):
    """One map per detected object: the model's `top_k` detections per image (by score, on the clean
    images), and each explained by `box_score` of its box and label, one row per (image, object).

    Runs the model once without gradients to find the objects, then one `explain` call on the images
    repeated once per object (rows ordered by image, then by score). Returns (explanation, objects):
    `objects` holds "image" (long[R], each row's image), "boxes" (R×4), "labels" (R) and "scores" (R)
    of the detections explained. Images without detections have no row; with none at all, R = 0 and
    explanation is None.
    """
    import torch

    from tb_saliency.attribution import explain
    from tb_saliency.attribution.checks import check_model
    from tb_saliency.attribution.forward import run_model
    from tb_saliency.attribution.safety import untouched

    each_box(top_k, iou=iou)  # checks top_k and iou before the model runs
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images: expected an N×C×H×W batch, got {describe(images)}")
    module = check_model(model)
    with untouched(module, gradients=False), torch.no_grad():
        found = top_detections(run_model(module, images), top_k)
    image_index = torch.tensor([i for i, (b, _, _) in enumerate(found) for _ in range(b.shape[0])], dtype=torch.long)
    objects = {
        "image": image_index,
        "boxes": torch.cat([b for b, _, _ in found]).cpu() if found else torch.zeros(0, 4),
        "labels": torch.cat([lab for _, lab, _ in found]).cpu() if found else torch.zeros(0, dtype=torch.long),
        "scores": torch.cat([s for _, _, s in found]).cpu() if found else torch.zeros(0),
    }
    if image_index.numel() == 0:
        return None, objects
    target = box_score([b[None] for b in objects["boxes"]], [lab[None] for lab in objects["labels"]], iou=iou)
    rows = images[image_index.to(images.device)]
    return explain(model, rows, methods, target=target, **options), objects
