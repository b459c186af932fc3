"""box_score and segment on torchvision's own models, built without weights (no download). Runs in
CI's job on the newest torch (.ci/newest_torch.sh), where torchvision imports."""

import pytest
import torch

from tb_saliency import attribute, targets
from tb_saliency.box_targets import box_iou
from tb_saliency.metrics import deletion

pytestmark = pytest.mark.torchvision


def test_box_iou_is_torchvisions():
    from torchvision.ops import box_iou as reference

    a = torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 3.0, 7.5, 9.0]])
    b = torch.tensor([[5.0, 5.0, 15.0, 15.0], [0.0, 0.0, 10.0, 5.0], [20.0, 20.0, 21.0, 22.0]])
    assert torch.allclose(box_iou(a, b), reference(a, b))


def test_a_faster_rcnn_is_explained_with_box_score():
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn

    torch.manual_seed(0)
    # Untrained scores are about 1/num_classes: a threshold of 0 keeps detections to explain.
    model = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=3,
                                                  box_score_thresh=0.0).eval()
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        detections = model(images)
    assert all(d["boxes"].shape[0] > 0 for d in detections)
    target = targets.box_score([d["boxes"][:1] for d in detections], [d["labels"][:1] for d in detections])
    expected = torch.stack([1 + d["scores"][0] for d in detections])
    assert target(detections).tolist() == pytest.approx(expected.tolist(), rel=1e-5)
    maps = attribute(model, images, ["gradient"], target=target)["gradient"]
    assert maps.shape == (2, 64, 64) and maps.abs().sum() > 0
    curve = deletion(model, images, maps, target=target, steps=2)
    assert curve.curve[:, 0].tolist() == pytest.approx(expected.tolist(), rel=1e-4)


def test_a_deeplab_is_explained_with_segment():
    from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large

    torch.manual_seed(0)
    model = deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3).eval()
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(images)["out"]
    mask = torch.zeros(2, 64, 64, dtype=torch.bool)
    mask[:, 10:30, 20:50] = True
    target = targets.segment(1, mask)
    assert target({"out": out}).tolist() == pytest.approx(out[:, 1, 10:30, 20:50].sum(dim=(1, 2)).tolist(), rel=1e-5)
    maps = attribute(model, images, ["gradient"], target=target)["gradient"]
    assert maps.shape == (2, 64, 64) and maps.abs().sum() > 0
    assert deletion(model, images, maps, target=targets.segment(1), steps=2).curve.shape == (2, 3)
