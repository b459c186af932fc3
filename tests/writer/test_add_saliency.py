"""`add_saliency` and `add_activations`: frames from a model, and errors that write nothing."""

import numpy as np
import pytest
import torch

from tb_saliency import SummaryWriter
from tb_saliency import format as stored_format
from tests.support.events import summary_tags, summary_values
from tests.support.logdirs import TinyNet

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


@pytest.fixture
def writer(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    yield writer
    writer.close()


@pytest.fixture
def model():
    torch.manual_seed(0)
    return TinyNet()


@pytest.fixture
def images():
    return torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def _inputs(images):
    return (images - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def _last_frame(logdir, tag):
    step, value = summary_values(logdir, tag)[-1]
    return step, stored_format.decode_frame(list(value.tensor.string_val))


def test_one_frame_holds_every_method_the_facts_and_the_denormalised_images(writer, tmp_path, model,
                                                                            images):
    labels = torch.tensor([0, 1, 2])
    maps = writer.add_saliency("probe", model, _inputs(images), target=labels, labels=labels,
                               methods=["gradient", "integrated_gradients", "gradcam"],
                               layer="features.3", mean=MEAN, std=STD, global_step=4,
                               class_names=["a", "b", "c"], ig_steps=8)
    writer.flush()
    step, frame = _last_frame(tmp_path, "probe")
    assert step == 4
    assert list(frame.maps) == ["gradient", "integrated_gradients", "gradcam"]
    for key, values in maps.items():
        expected = values.numpy()
        peak = np.abs(expected).max(axis=(1, 2))[:, None, None]
        assert np.all(np.abs(frame.maps[key] - expected) <= peak * 2 ** -11)
    by_key = {m["key"]: m for m in frame.header["maps"]}
    assert by_key["gradcam"]["layer"] == "features.3"
    assert by_key["integrated_gradients"]["options"]["steps"] == 8
    assert len(by_key["integrated_gradients"]["statistics"]["completeness_gap"]) == 3
    with torch.no_grad():
        logits = model.eval()(_inputs(images))
    for i, sample in enumerate(frame.header["samples"]):
        assert sample["label"] == sample["target"] == i
        assert sample["prediction"] == int(logits[i].argmax())
        assert sample["score"] == pytest.approx(float(logits[i].softmax(0).max()), rel=1e-6)
        assert sample["target_score"] == pytest.approx(float(logits[i, i]), rel=1e-5)
    assert frame.header["images"]["display_transform"] == "mean_std"
    # The probe images are in the shared INPUTS tag the frame names, from its first frame on.
    assert frame.images is None
    _, inputs = _last_frame(tmp_path, stored_format.inputs_tag(frame.header["images"]["shared_key"]))
    expected_pixels = np.rint(images.permute(0, 2, 3, 1).numpy() * 255)
    for image, expected in zip(inputs.images, expected_pixels):
        assert np.abs(image.astype(int) - expected).max() <= 1


def test_denormalize_callable_and_images_override(writer, tmp_path, model, images):
    writer.add_saliency("called", model, _inputs(images), methods="gradient",
                        denormalize=lambda x: x * torch.tensor(STD).view(1, 3, 1, 1)
                        + torch.tensor(MEAN).view(1, 3, 1, 1))
    writer.add_saliency("shown", model, _inputs(images), methods="gradient",
                        images=np.zeros((3, 8, 8), np.uint8))
    writer.flush()
    assert _last_frame(tmp_path, "called")[1].header["images"]["display_transform"] == "callable"
    assert _last_frame(tmp_path, "shown")[1].header["images"]["channels"] == 1


def test_training_is_untouched_by_logging(writer, model, images):
    model.train()
    loss = model(_inputs(images)).sum()
    loss.backward()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    rng = torch.get_rng_state()
    with torch.no_grad():
        writer.add_saliency("probe", model, _inputs(images), methods=["gradient", "gradcam"],
                            layer="features.3")
        writer.add_activations("acts", model, _inputs(images), layer="features.0")
    assert model.training and all(m.training for m in model.modules())
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    for key, parameter in model.named_parameters():
        assert torch.equal(parameter.grad, grads[key]), key
    assert torch.equal(torch.get_rng_state(), rng)


def test_activations_frame_keeps_the_most_active_channels(writer, tmp_path, model, images):
    writer.add_activations("acts", model, _inputs(images), layer="features.0", max_channels=3,
                           labels=[0, 1, 2], mean=MEAN, std=STD)
    writer.flush()
    _, frame = _last_frame(tmp_path, "acts")
    acts = frame.header["activations"]
    assert acts["layer"] == "features.0" and acts["channels"] == 3 and acts["total_channels"] == 8
    for means in acts["channel_mean"]:
        assert means == sorted(means, reverse=True)
    assert frame.activations.shape == (3, 3, 16, 16)


def test_a_tag_keeps_one_kind(writer, model, images):
    writer.add_saliency("probe", model, _inputs(images), methods="gradient")
    with pytest.raises(ValueError, match="tag: 'probe' already holds saliency frames"):
        writer.add_activations("probe", model, _inputs(images), layer="features.0")


BAD_CALLS = [
    ("unknown method", dict(methods=["gradient", "gradcan"]), ValueError,
     r"methods: unknown method 'gradcan'; valid methods: gradient, input_x_gradient"),
    ("CAM layer that is no module", dict(methods="gradcam", layer=3.5), TypeError,
     r"layer: expected a module, a dotted module name or a list of them, got 3.5"),
    ("unknown layer", dict(methods="gradcam", layer="features.9"), ValueError,
     r"layer: no module named 'features\.9' in the model; close names: .*candidate layers: "),
    ("target out of range", dict(methods="gradient", target=7), ValueError,
     r"target: class 7 is out of range for 3 outputs"),
    ("target of wrong length", dict(methods="gradient", target=[0, 1]), ValueError,
     r"target: expected 3 class indices"),
    ("labels of wrong length", dict(methods="gradient", labels=[0]), ValueError,
     r"labels: expected one value per sample \(3\)"),
    ("mean for the wrong channels", dict(methods="gradient", mean=(0.5, 0.5), std=(0.2, 0.2)),
     ValueError, r"mean: expected one number or one per image channel \(3\), got 2"),
    ("images of another count", dict(methods="gradient", images=np.zeros((2, 8, 8), np.uint8)),
     ValueError, r"images: expected one image per input \(3\), got 2"),
    ("unknown option", dict(methods="gradient", ig_stesp=3), TypeError, r"ig_stesp: unknown option"),
]


@pytest.mark.parametrize("case, kwargs, error, message", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_a_clear_error_writes_nothing_and_leaves_the_model(writer, tmp_path, model,
                                                                            images, case, kwargs,
                                                                            error, message):
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(error, match=message):
        writer.add_saliency("probe", model, _inputs(images), **kwargs)
    writer.flush()
    assert summary_tags(tmp_path) == []
    assert model.training
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_integer_inputs_are_refused_before_anything_is_written(writer, tmp_path, model):
    with pytest.raises(TypeError, match="inputs: expected a floating-point tensor"):
        writer.add_saliency("probe", model, torch.zeros(2, 3, 16, 16, dtype=torch.uint8),
                            methods="gradient")
    with pytest.raises(ValueError, match="layer: .*nope"):
        writer.add_activations("acts", model, torch.zeros(2, 3, 16, 16), layer="nope")
    writer.flush()
    assert summary_tags(tmp_path) == []
