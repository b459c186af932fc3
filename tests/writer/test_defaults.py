"""The tutorial's first calls through the writer: the issue-15 model logged with no layer named, read
back; and inputs that cannot be logged (no data, 8-bit) named before anything is written."""

import pytest
import torch
from torch import nn

import tb_saliency
from tb_saliency import SummaryWriter
from tests.support.events import summary_tags


def tutorial_mnist():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(256 * 3 * 3, 10))


@pytest.fixture
def writer(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    yield writer
    writer.close()


def digits():
    return torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(3))


def test_the_tutorial_model_logs_gradcam_and_activations_with_no_layer_named(writer, tmp_path):
    model, images = tutorial_mnist(), digits()
    maps = tb_saliency.log_saliency(writer, "grad", model, images)  # the default method: Grad-CAM
    result = tb_saliency.log_activations(writer, "act", model, images)
    writer.close()
    assert set(maps) == {"gradcam"} and maps["gradcam"].shape == (4, 7, 7)
    assert result.layer == "6"
    frames = {frame.tag: frame for frame in tb_saliency.read(str(tmp_path))}
    grad, act = frames["grad"], frames["act"]
    assert grad.maps["gradcam"].shape == (4, 7, 7)
    assert grad.options["gradcam"]["layer"] == "6"
    assert grad.options["gradcam"]["layer_selection"] == "default: the last 2-D convolution"
    assert act.activations.layer == "6" and act.activations.total_channels == 256
    assert act.activations.values.shape == (4, 16, 7, 7)


def test_inputs_without_data_or_of_8_bits_are_named_and_nothing_is_written(writer, tmp_path):
    model = tutorial_mnist()
    with pytest.raises(ValueError, match=r"inputs: expected a tensor that holds values, got one on the 'meta' "
                                         r"device \(a shape without data, \(4, 1, 28, 28\)\)"):
        tb_saliency.log_saliency(writer, "grad", model, digits().to("meta"))
    with pytest.raises(ValueError, match=r"inputs: expected a tensor that holds values, got one on the 'meta'"):
        tb_saliency.log_activations(writer, "act", model, digits().to("meta"))
    with pytest.raises(ValueError, match=r"maps: expected a tensor that holds values, got one on the 'meta'"):
        tb_saliency.log_saliency_map(writer, "mine", digits(), torch.rand(4, 28, 28, device="meta"))
    with pytest.raises(TypeError, match=r"inputs: expected dtype torch.float32, the dtype of the model's "
                                        r"parameters, got torch.uint8"):
        tb_saliency.log_activations(writer, "act", model, (digits() * 255).to(torch.uint8))
    writer.flush()
    assert summary_tags(tmp_path) == []
