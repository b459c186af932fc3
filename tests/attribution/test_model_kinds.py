"""Models built in ways a training script does: activation checkpointing, frozen parallel branches."""

import pytest
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from tb_saliency.attribution import attribute

from .helpers import assert_untouched, conv_net, images, snapshot, train_like

GRADIENT_CAMS = ["gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam"]
FAST = {"integrated_gradients": {"ig_steps": 3}, "smoothgrad": {"smoothgrad_samples": 2}, "rise": {"rise_masks": 4}}


def run(model, methods, layer=None):
    options = {k: v for m in methods for k, v in FAST.get(m, {}).items()}
    return attribute(model, images(), methods, **options, **({"layer": layer} if layer else {}))


class Checkpointed(nn.Module):
    """conv_net whose second conv block (net.4 to net.6) runs under torch.utils.checkpoint."""

    def __init__(self, use_reentrant):
        super().__init__()
        self.net = train_like(conv_net())
        self.use_reentrant = use_reentrant

    def forward(self, x):
        h = self.net[:4](x)
        h = checkpoint(self.net[4:7], h, use_reentrant=self.use_reentrant)
        return self.net[7:](h)


@pytest.mark.parametrize(
    "methods, layer",
    [
        (["gradient", "integrated_gradients", "smoothgrad"], None),
        (GRADIENT_CAMS, "net.5"),  # inside the checkpointed block, gradient CAMs alone
        (GRADIENT_CAMS, "net.1"),  # before it
        (["gradient", "gradcam", "scorecam"], "net.6"),
    ],
)
def test_non_reentrant_checkpointing_gives_the_maps_of_the_plain_model(methods, layer):
    model = Checkpointed(use_reentrant=False)
    before = snapshot(model)
    maps = run(model, methods, layer)
    assert_untouched(model, before)
    reference = run(model.net, methods, layer and layer.removeprefix("net."))
    for key in reference:
        torch.testing.assert_close(maps[key], reference[key], rtol=1e-5, atol=1e-7)
        assert reference[key].abs().sum() > 0, key


AUTOGRAD = (
    "model: expected a model whose backward pass works with torch.autograd.grad, got one that uses "
    "torch.utils.checkpoint with use_reentrant=True, .*; checkpoint with use_reentrant=False"
)
INSIDE = (
    "model: layer 'net.5' runs where the model turns gradients off .inside torch.utils.checkpoint with "
    "use_reentrant=True, .*checkpoint with use_reentrant=False, or choose a layer outside that region"
)


@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad=True")
@pytest.mark.parametrize(
    "methods, layer, pattern",
    [
        (["gradient"], None, AUTOGRAD),
        (["integrated_gradients"], None, AUTOGRAD),
        (["gradcam"], "net.1", AUTOGRAD),  # the layer is before the block; the block is on the path
        (["gradcam"], "net.5", INSIDE),
        (["gradient", "gradcam"], "net.5", INSIDE),
    ],
)
def test_reentrant_checkpointing_is_refused_with_what_to_do(methods, layer, pattern):
    model = Checkpointed(use_reentrant=True)
    before = snapshot(model)
    with pytest.raises(ValueError, match=pattern):
        run(model, methods, layer)
    assert_untouched(model, before)


def test_torch_s_checkpoint_wrapper_works_and_its_layers_keep_their_names():
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper

    model = train_like(conv_net())
    wrapped = nn.Sequential(*list(model)[:4], checkpoint_wrapper(model[4:7]), *list(model)[7:])
    methods = ["gradient", "gradcam", "integrated_gradients"]
    reference = attribute(model, images(), methods, layer="5", ig_steps=3)
    for layer in ("4.5", "4._checkpoint_wrapped_module.5"):  # a slice keeps its names: 4, 5, 6
        result = attribute(wrapped, images(), methods, layer=layer, ig_steps=3)
        for key in reference:
            torch.testing.assert_close(result[key], reference[key], rtol=1e-5, atol=1e-7)
    assert list(attribute(wrapped, images(), "gradcam", layer=["4.5", "2"])) == ["gradcam@4.5", "gradcam@2"]


@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad=True")
def test_score_cam_needs_no_gradients_and_works_under_reentrant_checkpointing():
    maps = run(Checkpointed(use_reentrant=True), ["scorecam"], "net.5")
    reference = run(conv_net(), ["scorecam"], "5")
    torch.testing.assert_close(maps["scorecam"], reference["scorecam"])


class TwoBranches(nn.Module):
    """A stem, then two parallel branches whose pooled features a linear head reads together."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        self.left = nn.Sequential(nn.Conv2d(4, 5, 3, padding=1), nn.ReLU())
        self.right = nn.Sequential(nn.Conv2d(4, 3, 5, padding=2), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        h = self.stem(x)
        pooled = [branch(h).mean(dim=(2, 3)) for branch in (self.left, self.right)]
        return self.head(torch.cat(pooled, dim=1))


@pytest.mark.parametrize("layers", [["left", "right"], ["right", "left"], ["stem", "left", "right"]])
def test_cams_on_parallel_branches_of_a_frozen_model(layers):
    model = TwoBranches().requires_grad_(False)
    before = snapshot(model)
    alone = attribute(model, images(), GRADIENT_CAMS, layer=layers)
    assert_untouched(model, before)
    with_input = attribute(model, images(), ["gradient"] + GRADIENT_CAMS, layer=layers)
    for key, values in alone.items():
        torch.testing.assert_close(values, with_input[key], rtol=1e-6, atol=1e-8)
        assert values.abs().sum() > 0, key
    with torch.no_grad():
        inside = attribute(model, images(), GRADIENT_CAMS, layer=layers)
    for key, values in alone.items():
        assert torch.equal(values, inside[key]), key
