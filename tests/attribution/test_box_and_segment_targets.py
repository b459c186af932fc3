"""tb_saliency.targets' classes, box_score, segment and each_box, on small torch models that return
torchvision-style outputs (a list of detection dicts; a dict with "out"), without torchvision."""

import pytest
import torch
from torch import nn

from tb_saliency import attribute, targets
from tb_saliency.metrics import deletion, insertion

from .helpers import conv_net, images


class TinyDetector(nn.Module):
    """Two anchors per image, shifted by the image's mean and scored from its pooled features:
    outputs as torchvision's detection models give them in eval mode."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.features = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)
        self.register_buffer("anchors", torch.tensor([[1.0, 1.0, 7.0, 7.0], [4.0, 4.0, 11.0, 12.0]]))
        self.register_buffer("labels", torch.tensor([1, 2]))

    def forward(self, x):
        pooled = torch.relu(self.features(x)).mean(dim=(2, 3))
        scores = torch.sigmoid(self.head(pooled))
        shift = x.mean(dim=(1, 2, 3))
        return [{"boxes": self.anchors + shift[i], "labels": self.labels, "scores": scores[i]}
                for i in range(x.shape[0])]


class TinySegmenter(nn.Module):
    """A 1×1 convolution to K classes per pixel, as logits N×K×H×W or {"out": them}."""

    def __init__(self, classes=3, as_dict=True, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(3, classes, 3, padding=1)
        self.as_dict = as_dict

    def forward(self, x):
        out = self.conv(x)
        return {"out": out} if self.as_dict else out


def detection(boxes, labels, scores):
    return {"boxes": torch.tensor(boxes, dtype=torch.float64, requires_grad=True),
            "labels": torch.tensor(labels), "scores": torch.tensor(scores, dtype=torch.float64, requires_grad=True)}


def test_the_registry_names_every_constructor():
    assert {"classes", "box_score", "segment", "each_box", "sequence_logprob"} <= set(targets.TARGETS)
    assert targets.TARGETS["box_score"] is targets.box_score


def test_classes_is_the_plain_class_target():
    model, x = conv_net(), images()
    logits = model.eval()(x)
    assert torch.equal(targets.classes([1, 0, 4])(logits), logits[[0, 1, 2], [1, 0, 4]])
    assert torch.equal(targets.classes(2)(logits), logits[:, 2])
    plain = attribute(model, x, ["gradient"], target=[1, 0, 4])["gradient"]
    explicit = attribute(model, x, ["gradient"], target=targets.classes([1, 0, 4]))["gradient"]
    assert torch.equal(plain, explicit)
    maps = plain
    # Still the softmax probability curve, as for target=ids.
    assert torch.equal(deletion(model, x, maps, target=targets.classes(torch.tensor([1, 0, 4])), steps=3).curve,
                       deletion(model, x, maps, target=[1, 0, 4], steps=3).curve)
    with pytest.raises(TypeError, match="ids: expected one class id"):
        targets.classes([1.5])


def test_box_score_matches_the_hand_computation():
    out = detection([[0, 0, 10, 10], [5, 5, 15, 15]], [1, 2], [0.9, 0.8])
    empty = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long), "scores": torch.zeros(0)}
    # IoU([0,0,10,5], box 0) = 50/100 = 0.5: not above 0.5, above 0.4 (then 0.5 + 0.9).
    half = [[0, 0, 10, 5]]
    assert float(targets.box_score([half], [[1]])([out])[0].detach()) == 0.0
    assert float(targets.box_score([half], [[1]], iou=0.4)([out])[0].detach()) == pytest.approx(1.4)
    # Box 1 itself: IoU 1 + score 0.8; with another label, nothing; two references add up.
    assert float(targets.box_score([[[5, 5, 15, 15]]], [[2]])([out])[0].detach()) == pytest.approx(1.8)
    assert float(targets.box_score([[[5, 5, 15, 15]]], [[1]])([out])[0].detach()) == 0.0
    # IoU([0,0,10,10], [1,1,10,10]) = 81/100.
    both = targets.box_score([[[1, 1, 10, 10], [5, 5, 15, 15]], [[0, 0, 3, 3]]], [[1, 2], [1]])
    scores = both([out, empty])
    assert scores.shape == (2,)
    assert scores.tolist() == pytest.approx([0.81 + 0.9 + 1.8, 0.0])
    scores[0].backward()
    assert out["scores"].grad.tolist() == [1.0, 1.0]
    assert out["boxes"].grad.abs().sum() > 0  # through the IoU


def test_box_score_refuses_what_is_not_a_detection():
    with pytest.raises(ValueError, match="labels\\[0\\]: expected 2 integer labels"):
        targets.box_score([[[0, 0, 1, 1], [0, 0, 2, 2]]], [[1]])
    with pytest.raises(ValueError, match="iou: expected a threshold"):
        targets.box_score([[[0, 0, 1, 1]]], [[1]], iou=1.5)
    with pytest.raises(ValueError, match="a list of one dict per image"):
        targets.box_score([[[0, 0, 1, 1]]], [[1]])(torch.zeros(1, 5))


def test_a_detector_is_explained_and_deleted_with_box_score():
    model, x = TinyDetector(), images(2)
    with torch.no_grad():
        clean = model(x)
    reference = [d["boxes"][:1] for d in clean]
    target = targets.box_score(reference, [[1], [1]])
    maps = attribute(model, x, ["gradient", "integrated_gradients"], target=target, ig_steps=4)
    assert maps["gradient"].shape == (2, 12, 12) and maps["gradient"].abs().sum() > 0
    curve = deletion(model, x, maps["gradient"], target=target, steps=4)  # raw by default: no softmax
    assert curve.options["score"] == "raw"
    assert curve.curve[:, 0].tolist() == pytest.approx(target(clean).tolist())
    # The reference box is the anchor itself: IoU 1 + its score.
    assert curve.curve[:, 0].tolist() == pytest.approx((1 + torch.stack([d["scores"][0] for d in clean])).tolist())
    assert insertion(model, x, maps["gradient"], target=target, steps=4).curve.shape == (2, 5)
    with pytest.raises(ValueError, match="score: a callable target"):
        deletion(model, x, maps["gradient"], target=lambda out: target(out), steps=4)


@pytest.mark.parametrize("as_dict", [True, False])
def test_segment_sums_the_class_logits_over_the_region(as_dict):
    model, x = TinySegmenter(as_dict=as_dict), images(2)
    with torch.no_grad():
        out = model(x)
    logits = out["out"] if as_dict else out
    mask = torch.zeros(2, 12, 12, dtype=torch.bool)
    mask[0, :4, :4] = True
    mask[1, 6:, 2:9] = True
    given = targets.segment(1, mask)(out)
    assert given.tolist() == pytest.approx([float(logits[0, 1, :4, :4].sum()), float(logits[1, 1, 6:, 2:9].sum())])
    predicted = logits.argmax(dim=1) == 2
    assert targets.segment(2)(out).tolist() == pytest.approx(
        [float((logits[i, 2] * predicted[i]).sum()) for i in range(2)])
    maps = attribute(model, x, ["gradient"], target=targets.segment(2))["gradient"]
    assert maps.shape == (2, 12, 12) and maps.abs().sum() > 0
    # The predicted pixels are chosen on the clean inputs and kept for every step.
    curve = deletion(model, x, maps, target=targets.segment(2), steps=4)
    assert curve.curve[:, 0].tolist() == pytest.approx(targets.segment(2)(out).tolist(), rel=1e-5)
    bound = targets.segment(2).bind(out)
    assert float(bound(model(torch.zeros_like(x)))[0]) == pytest.approx(
        float((model(torch.zeros_like(x))["out" if as_dict else slice(None)][0, 2] * predicted[0]).sum()), rel=1e-5)
    assert curve.curve[:, -1].tolist() == pytest.approx(bound(model(torch.zeros_like(x))).tolist(), rel=1e-5)


def test_segment_refuses_a_class_out_of_range_and_odd_masks():
    model, x = TinySegmenter(), images(1)
    with pytest.raises(ValueError, match="class_id: class 7 is out of range for 3 classes"):
        targets.segment(7)(model(x))
    with pytest.raises(TypeError, match="mask: expected N×H×W booleans"):
        targets.segment(0, torch.full((1, 12, 12), 0.5))
    with pytest.raises(ValueError, match="mask: expected 1×12×12"):
        targets.segment(0, torch.ones(1, 5, 5, dtype=torch.bool))(model(x))


def test_each_box_scores_every_detected_object_and_explains_one_row_per_object():
    model, x = TinyDetector(), images(2)
    with torch.no_grad():
        clean = model(x)
    per_object = targets.each_box(top_k=3).bind(clean)(clean)
    assert per_object.shape == (2, 3)
    # Each object matches itself: IoU 1 + its score; a third slot is empty.
    for i in range(2):
        ordered = clean[i]["scores"].sort(descending=True).values
        assert per_object[i].tolist() == pytest.approx([1 + float(ordered[0]), 1 + float(ordered[1]), 0.0])

    explanation, objects = targets.explain_each_box(model, x, ["gradient"], top_k=1)
    assert objects["image"].tolist() == [0, 1]
    maps = explanation.maps["gradient"].values
    assert maps.shape == (2, 12, 12)
    for row in range(2):
        box, label = objects["boxes"][row : row + 1], objects["labels"][row : row + 1]
        alone = attribute(model, x[row : row + 1], ["gradient"], target=targets.box_score([box], [label]))
        assert torch.allclose(maps[row], alone["gradient"][0])
    explanation, objects = targets.explain_each_box(model, x, ["gradient"], top_k=2)
    assert objects["image"].tolist() == [0, 0, 1, 1] and explanation.maps["gradient"].values.shape == (4, 12, 12)
    with pytest.raises(ValueError, match="top_k: expected an int ≥ 1"):
        targets.each_box(0)


def test_log_saliency_logs_a_detector_with_box_score_and_its_deletion(tmp_path):
    import tb_saliency
    from tb_saliency import SummaryWriter

    model, x = TinyDetector(), images(2)
    with torch.no_grad():
        clean = model(x)
    target = targets.box_score([d["boxes"][:1] for d in clean], [d["labels"][:1] for d in clean])
    with SummaryWriter(str(tmp_path)) as writer:
        maps = tb_saliency.log_saliency(writer, "det", model, x, target=target, methods="gradient",
                                        metrics=["deletion"], global_step=0)
        with pytest.raises(ValueError, match="metrics: deletion scores the softmax probability"):
            tb_saliency.log_saliency(writer, "det", model, x, target=target, methods="gradient",
                                     metrics={"deletion": {"score": "probability"}}, global_step=1)
    (frame,) = [f for f in tb_saliency.read(str(tmp_path)) if f.tag == "det"]
    assert frame.maps["gradient"].shape == (2, 12, 12) and maps["gradient"].shape == (2, 12, 12)
    # A classes target logs the probability curve, as target=ids.
    with SummaryWriter(str(tmp_path / "classes")) as writer:
        tb_saliency.log_saliency(writer, "cls", conv_net(), images(), target=targets.classes([1, 0, 4]),
                                 methods="gradient", metrics=["deletion"], global_step=0)


def test_each_box_as_target_points_to_explain_each_box():
    with pytest.raises(ValueError, match="target: each_box .*explain_each_box"):
        attribute(TinyDetector(), images(2), ["gradient"], target=targets.each_box(2))
