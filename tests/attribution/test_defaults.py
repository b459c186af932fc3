"""What a tutorial's first call meets: the default layer, one image without its batch axis, failures
inside the model, and models whose score does not reach the inputs through autograd."""

import re

import pytest
import torch
from torch import nn

from tb_saliency.attribution import activations, attribute, explain
from tb_saliency.attribution.forward import ModelError
from tb_saliency.attribution.layers import DEFAULT_LAYER

from .helpers import Counting


def tutorial_mnist(seed=0):
    """The model of issue 15, as tutorials write it: layers unnamed, 28×28 grey inputs."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(256 * 3 * 3, 10))


def digits(n=3):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(2))


def test_cams_and_activations_default_to_the_last_2d_convolution():
    model, x = tutorial_mnist(), digits()
    result = explain(model, x, ["gradient", "gradcam", "scorecam"])
    for key in ("gradcam", "scorecam"):
        assert result.maps[key].layer == "6"  # the third convolution, 7×7 before its pooling
        assert result.maps[key].values.shape == (3, 7, 7)
        assert result.maps[key].options["layer_selection"] == DEFAULT_LAYER
        assert result.maps[key].options["layer"] == "6"
    assert result.maps["gradient"].layer is None and "layer_selection" not in result.maps["gradient"].options
    # The default is the layer named: the same maps, recorded as chosen.
    named = explain(model, x, ["gradcam"], layer="6").maps["gradcam"]
    torch.testing.assert_close(named.values, result.maps["gradcam"].values)
    assert "layer_selection" not in named.options
    acts = activations(model, x)
    assert acts.layer == "6" and acts.total_channels == 256 and acts.values.shape == (3, 16, 7, 7)
    assert acts.options["layer_selection"] == DEFAULT_LAYER
    assert activations(model, x, layer="3").options["layer_selection"] == "given"


def test_a_model_without_a_2d_convolution_or_a_transformer_keeps_the_candidate_list():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.ReLU(), nn.Linear(8, 10))
    with pytest.raises(ValueError, match=r"layer: gradcam needs a layer .*no 2-D convolution to default to; "
                                         r"candidate layers: 0, 1, 2, 3"):
        attribute(mlp, digits(), "gradcam")
    with pytest.raises(ValueError, match=r"layer: activations needs a layer .*candidate layers: 0, 1, 2, 3"):
        activations(mlp, digits())

    class ViT(nn.Module):  # a convolution embeds the patches; the maps are in the token layers
        def __init__(self):
            super().__init__()
            self.embed = nn.Conv2d(1, 8, 7, stride=7)
            self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
            self.head = nn.Linear(8, 10)

        def forward(self, x):
            tokens = self.embed(x).flatten(2).transpose(1, 2)
            return self.head(self.attention(tokens, tokens, tokens)[0].mean(1))

    with pytest.raises(ValueError, match=r"layer: gradcam needs a layer .*a transformer's maps are in its token "
                                         r"layers, given with reshape= .*candidate layers: embed, "):
        attribute(ViT(), digits(), "gradcam")


def test_reshape_without_a_layer_is_an_error_not_the_default_convolution():
    from .test_api import TinyViT  # no attention module: only reshape= says its maps are tokens

    with pytest.raises(ValueError, match=r"layer: reshape='vit' is for a token layer, which is never the default; "
                                         r"name the layer .*candidate layers: embed, "):
        attribute(TinyViT(), torch.randn(2, 3, 12, 12), "gradcam", reshape="vit")
    with pytest.raises(ValueError, match=r"layer: reshape='tokens' is for a token layer"):
        activations(TinyViT(), torch.randn(2, 3, 12, 12), reshape="tokens")


@pytest.mark.parametrize("call", ["gradient", "gradcam", "smoothgrad", "activations"])
def test_one_image_without_its_batch_axis_names_the_shape_and_the_fix(call):
    model, image = tutorial_mnist(), digits()[0]  # 1×28×28, as data[0] gives it
    with pytest.raises(RuntimeError) as info:
        if call == "activations":
            activations(model, image)
        else:
            attribute(model, image, call, **CHEAP.get(call, {}))
    message = str(info.value)
    assert message.startswith("inputs: the model failed on inputs of shape (1, 28, 28), one axis fewer than its "
                              "first layer '0' (Conv2d) takes for a batch (4 axes, N first)")
    assert "inputs[None] (shape (1, 1, 28, 28))" in message
    assert "mat1 and mat2 shapes cannot be multiplied" in message  # the model's own words, kept
    assert isinstance(info.value.__cause__, RuntimeError) and info.value.__cause__.__traceback__ is not None
    assert attribute(model, image[None], "gradient")["gradient"].shape == (1, 28, 28)


class Failing(nn.Module):
    def __init__(self, error):
        super().__init__()
        self.conv, self.error = nn.Conv2d(1, 2, 3), error

    def forward(self, x):
        self.conv(x)
        raise self.error


class NeedsTwoArguments(Exception):
    def __init__(self, code, text):
        super().__init__(f"{code}: {text}")


def test_other_failures_in_the_model_name_the_shapes_and_keep_their_traceback():
    original = KeyError("no such head")
    with pytest.raises(KeyError) as info:
        attribute(Failing(original), digits(), "gradient")
    assert re.search(r"model: failed on inputs of shape \(3, 1, 28, 28\) and dtype torch.float32: "
                     r"KeyError: 'no such head'", str(info.value))
    assert info.value.__cause__ is original
    assert any(frame.name == "forward" for frame in __import__("traceback").extract_tb(original.__traceback__))
    # A chunked pass names its copies, whose rows are k·N.
    with pytest.raises(ValueError, match=r"shape \(6, 1, 28, 28\) .*\(in smoothgrad's noisy copies 0–1\): "
                                         r"ValueError: bad"):
        explain(_FailsAfterFirst(ValueError("bad")), digits(), "smoothgrad", smoothgrad_samples=2)
    # An exception that cannot be rebuilt with one message is wrapped, with the original as its cause.
    odd = NeedsTwoArguments(7, "odd")
    with pytest.raises(ModelError, match=r"model: failed on inputs of shape .*NeedsTwoArguments: 7: odd") as info:
        activations(Failing(odd), digits(), layer="conv")
    assert info.value.__cause__ is odd


class _FailsAfterFirst(nn.Module):
    """Runs the clean pass, then fails in the next one."""

    def __init__(self, error):
        super().__init__()
        self.net, self.error, self.calls = tutorial_mnist(), error, 0

    def forward(self, x):
        self.calls += 1
        if self.calls > 1:
            raise self.error
        return self.net(x)


class Detached(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = tutorial_mnist()

    def forward(self, x):
        return self.net(x).detach()


class HeadWithoutGradients(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = tutorial_mnist()

    def forward(self, x):
        features = self.net[:9](x)
        with torch.no_grad():
            return self.net[9:](features)


CHEAP = {"smoothgrad": {"smoothgrad_samples": 2}, "integrated_gradients": {"ig_steps": 2}}
SCORE_ERROR = "target: the target's score does not depend on the inputs through autograd"


@pytest.mark.parametrize("model_kind", [Detached, HeadWithoutGradients])
@pytest.mark.parametrize("method", ["gradient", "input_x_gradient", "smoothgrad", "integrated_gradients"])
def test_a_score_without_autograd_is_an_error_not_zeros(model_kind, method):
    with pytest.raises(ValueError, match=re.escape(SCORE_ERROR) + r" \(the score of the predicted class"):
        attribute(model_kind(), digits(), method, **CHEAP.get(method, {}))
    with pytest.raises(ValueError, match=re.escape(SCORE_ERROR) + r" \(the score of the given class\)"):
        attribute(model_kind(), digits(), "gradient", target=3)


@pytest.mark.parametrize("model_kind", [Detached, HeadWithoutGradients])
def test_a_cam_layer_without_autograd_to_the_score_is_an_error_and_score_cam_still_works(model_kind):
    with pytest.raises(ValueError, match=r"layer: the activations of layer 'net.6' are not connected to the "
                                         r"target's score through autograd"):
        attribute(model_kind(), digits(), ["gradcam", "layercam"])
    # Score-CAM needs no gradient: it runs forward only.
    maps = attribute(model_kind(), digits(), "scorecam")
    assert maps["scorecam"].shape == (3, 7, 7) and bool((maps["scorecam"] > 0).any())


def test_activations_of_8_bit_images_into_a_float_model_fail_on_the_dtype_before_the_model_runs():
    model = Counting(tutorial_mnist())
    with pytest.raises(TypeError, match=r"inputs: expected dtype torch.float32, the dtype of the model's parameters, "
                                        r"got torch.uint8; .*inputs.to\(torch.float32\) / 255"):
        activations(model, (digits() * 255).to(torch.uint8), layer="inner.6")
    assert model.calls == 0
    # Integer ids into an embedding are what such a model takes.
    embedding = nn.Sequential(nn.Embedding(10, 4), nn.Unflatten(2, (2, 2)))
    ids = torch.randint(0, 10, (2, 3))
    assert activations(embedding, ids, layer="1", max_channels=2).values.shape == (2, 2, 2, 2)
