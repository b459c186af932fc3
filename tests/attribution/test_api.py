"""The public contract: keys, shapes, targets, layers, options records, shared and chunked passes."""

import json

import numpy as np
import pytest
import torch
from torch import nn

import tb_saliency
from tb_saliency.attribution import ANY_MODEL_METHODS, CAM_METHODS, METHODS, activations, attribute, explain

from .helpers import C, H, N, W, conv_net, images

FAST = {"smoothgrad_samples": 3, "ig_steps": 4, "rise_masks": 8}


def test_method_names_are_the_contract():
    assert METHODS == (
        "gradient",
        "input_x_gradient",
        "smoothgrad",
        "integrated_gradients",
        "occlusion",
        "rise",
        "gradcam",
        "gradcam_pp",
        "layercam",
        "hirescam",
        "xgradcam",
        "scorecam",
        "eigencam",
        "ablationcam",
        "attention_rollout",
    )
    assert ANY_MODEL_METHODS == tuple(m for m in METHODS if m != "attention_rollout")
    assert CAM_METHODS == {"gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam", "scorecam", "eigencam", "ablationcam"}
    assert tb_saliency.attribute is attribute and tb_saliency.METHODS is METHODS


def test_shapes_keys_order_and_records():
    model = conv_net()
    result = explain(model, images(), list(ANY_MODEL_METHODS), layer=model[6], **FAST)
    assert list(result.maps) == list(ANY_MODEL_METHODS)
    for key, m in result.maps.items():
        assert m.key == key and m.method == key
        expected = (N, H // 2, W // 2) if key in CAM_METHODS else (N, H, W)
        assert tuple(m.values.shape) == expected
        assert m.layer == ("6" if key in CAM_METHODS else None)
        json.dumps(m.options)  # JSON-serialisable
        assert m.options["model_mode"] == "eval"
        if key in CAM_METHODS:
            assert m.options["relu"] is True and m.options["upsampling"] == "none"
            assert (m.values >= 0).all()
        else:
            assert m.options["channel_reduction"] == "signed_sum"
    ig = result.maps["integrated_gradients"]
    assert set(ig.statistics) == {"completeness_gap", "baseline_score"} and ig.statistics["completeness_gap"].shape == (
        N,
    )
    assert result.maps["smoothgrad"].statistics["noise_sigma"].shape == (N,)
    plain = attribute(model, images(), list(ANY_MODEL_METHODS), layer="6", **FAST)
    for key in plain:
        torch.testing.assert_close(plain[key], result.maps[key].values, rtol=0, atol=0)


def test_explanation_facts_about_the_batch():
    model = conv_net()
    x = images()
    result = explain(model, x, "gradient")
    with torch.no_grad():
        logits = model.eval()(x)
    torch.testing.assert_close(result.outputs, logits)
    assert torch.equal(result.targets, logits.argmax(1)) and torch.equal(result.predictions, logits.argmax(1))
    torch.testing.assert_close(result.target_scores, logits.max(1).values)
    torch.testing.assert_close(result.probabilities, logits.softmax(1).max(1).values)
    given = explain(model, x, "gradient", target=[1, 2, 3])
    assert given.targets.tolist() == [1, 2, 3] and given.targets.dtype == torch.long
    torch.testing.assert_close(given.target_scores, logits[torch.arange(N), torch.tensor([1, 2, 3])])


@pytest.mark.parametrize(
    "target",
    [2, [2, 2, 2], (2, 2, 2), torch.tensor([2, 2, 2]), torch.tensor(2), np.array([2, 2, 2]), np.int64(2)],
    ids=["int", "list", "tuple", "tensor", "0-d tensor", "numpy array", "numpy int"],
)
def test_every_form_of_target_picks_the_same_score(target):
    model = conv_net()
    # The callable says what every other form means: explain class 2's score of each sample.
    reference = attribute(
        model, images(), ["gradient", "gradcam", "integrated_gradients"], target=lambda out: out[:, 2],
        layer="6", ig_steps=4,
    )
    maps = attribute(
        model, images(), ["gradient", "gradcam", "integrated_gradients"], target=target, layer="6", ig_steps=4
    )
    for key in reference:
        torch.testing.assert_close(maps[key], reference[key])


def test_a_callable_target_always_sees_the_n_rows_of_the_batch_in_order():
    model = conv_net()
    labels = torch.tensor([0, 3, 1])
    shapes = []

    def target(outputs):
        shapes.append(tuple(outputs.shape))
        return outputs[torch.arange(N), labels]  # uses per-sample labels, as a region mask would

    maps = attribute(
        model, images(), ["integrated_gradients", "smoothgrad", "rise", "scorecam"], target=target, layer="6", **FAST
    )
    assert set(shapes) == {(N, 5)}
    reference = attribute(
        model, images(), ["integrated_gradients", "smoothgrad", "rise", "scorecam"], target=labels, layer="6", **FAST
    )
    for key in reference:
        torch.testing.assert_close(maps[key], reference[key])
    result = explain(model, images(), "gradient", target=target)
    assert result.targets is None


def test_a_callable_target_receives_structured_outputs_as_they_are():
    class DictModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = conv_net()

        def forward(self, x):
            return {"scores": self.net(x), "aux": x.mean()}

    model = DictModel()
    result = explain(
        model, images(), ["gradient", "integrated_gradients"], target=lambda out: out["scores"][:, 1], ig_steps=4
    )
    assert result.outputs is None and result.predictions is None and result.targets is None
    reference = attribute(model.net, images(), ["gradient", "integrated_gradients"], target=1, ig_steps=4)
    for key in reference:
        torch.testing.assert_close(result.maps[key].values, reference[key])


def test_several_layers_give_one_key_per_method_and_layer():
    model = conv_net()
    maps = attribute(model, images(), ["gradient", "gradcam", "scorecam"], layer=["2", model[6]])
    assert list(maps) == ["gradient", "gradcam@2", "gradcam@6", "scorecam@2", "scorecam@6"]
    assert maps["gradcam@2"].shape == (N, H, W) and maps["gradcam@6"].shape == (N, H // 2, W // 2)
    single = attribute(model, images(), "gradcam", layer="2")
    torch.testing.assert_close(maps["gradcam@2"], single["gradcam"])


def test_shared_methods_run_one_forward_and_one_backward(monkeypatch):
    model = conv_net()
    forwards = []
    hook = model.register_forward_pre_hook(lambda m, args: forwards.append(args[0].shape[0]))
    backwards = []
    real_grad = torch.autograd.grad

    def counting_grad(*args, **kwargs):
        backwards.append(1)
        return real_grad(*args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", counting_grad)
    attribute(
        model,
        images(),
        ["gradient", "input_x_gradient", "gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam"],
        layer=["2", "6"],
    )
    hook.remove()
    assert forwards == [N] and len(backwards) == 1


@pytest.mark.parametrize("method, copies", [("integrated_gradients", 10), ("smoothgrad", 10), ("scorecam", 6),
                                           ("occlusion", 4), ("rise", 5), ("ablationcam", 6)])
def test_chunked_methods_stack_whole_copies_within_the_memory_bound(method, copies):
    model = conv_net()
    kwargs = {
        "integrated_gradients": {"ig_steps": 10},
        "smoothgrad": {"smoothgrad_samples": 10},
        "scorecam": {"layer": "6"},
        "occlusion": {"occlusion_window": 8, "occlusion_stride": 4},
        "rise": {"rise_masks": 5},
        "ablationcam": {"layer": "6"},
    }[method]
    batches = []
    hook = model.register_forward_pre_hook(lambda m, args: batches.append(args[0].shape[0]))
    one_copy = explain(model, images(), method, memory_limit=1, **kwargs).maps[method].values
    tight = batches[:]
    batches.clear()
    default = explain(model, images(), method, **kwargs).maps[method].values
    hook.remove()
    # Clean pass (and the baseline for IG), then one copy of the batch per pass: never one sample at a time.
    extra = 2 if method == "integrated_gradients" else 1
    assert tight == [N] * (copies + extra)
    # The default bound fits all copies of this tiny model in one pass: never more passes than needed.
    assert batches == [N] * extra + [copies * N]
    torch.testing.assert_close(one_copy, default, rtol=1e-5, atol=1e-7)


def test_cam_relu_off_keeps_signed_maps():
    model = conv_net()
    signed = explain(model, images(), "hirescam", layer="6", cam_relu=False).maps["hirescam"]
    assert (signed.values < 0).any() and signed.options["relu"] is False
    relu = attribute(model, images(), "hirescam", layer="6")["hirescam"]
    torch.testing.assert_close(relu, signed.values.clamp(min=0))


class TinyViT(nn.Module):
    """Patch embedding, a class token and one token-mixing block: token outputs N×T×D."""

    def __init__(self, grid=3, dim=8, classes=4):
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Conv2d(C, dim, kernel_size=H // grid, stride=H // grid)
        self.cls = nn.Parameter(torch.randn(1, 1, dim))
        self.block = nn.Sequential(nn.Linear(dim, dim), nn.GELU())
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        tokens = self.embed(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], dim=1)
        tokens = self.block(tokens)
        return self.head(tokens[:, 0] + tokens[:, 1:].mean(1))


def test_token_layers_fold_into_a_square_grid():
    model = TinyViT()
    maps = attribute(model, images(), ["gradcam", "layercam", "scorecam"], layer="block", reshape="vit")
    for values in maps.values():
        assert values.shape == (N, 3, 3)

    def fold(tokens):
        return tokens[:, 1:, :].reshape(len(tokens), 3, 3, -1).permute(0, 3, 1, 2)

    custom = explain(model, images(), ["gradcam", "layercam", "scorecam"], layer="block", reshape=fold)
    for key in maps:
        torch.testing.assert_close(custom.maps[key].values, maps[key])
    assert custom.maps["gradcam"].options["reshape"].startswith("callable:")


def test_activations_most_active_channels_first():
    model = conv_net()
    x = images()
    result = activations(model, x, layer="2", max_channels=3)
    with torch.no_grad():
        a = model.eval()[:3](x)
    means = a.mean(dim=(2, 3))
    assert result.layer == "2" and result.total_channels == 4
    assert result.values.shape == (N, 3, H, W) and result.channel_index.shape == (N, 3)
    assert result.channel_index.dtype == torch.long
    for n in range(N):
        order = means[n].argsort(descending=True)[:3]
        assert result.channel_index[n].tolist() == order.tolist()
        torch.testing.assert_close(result.values[n], a[n, order])
        torch.testing.assert_close(result.channel_mean[n], means[n, order])
    assert (result.channel_mean[:, :-1] >= result.channel_mean[:, 1:]).all()
    assert torch.equal(result.predictions, model(x).argmax(1))
    assert result.probabilities.shape == (N,)
    json.dumps(result.options)
    everything = activations(model, x, layer=model[6], max_channels=100)
    assert everything.values.shape == (N, 6, H // 2, W // 2) and everything.total_channels == 6
    tokens = activations(TinyViT(), x, layer="block", reshape="vit", max_channels=2)
    assert tokens.values.shape == (N, 2, 3, 3)


def test_cam_only_calls_skip_the_graph_upstream_of_the_layers_with_the_same_maps():
    model = conv_net()
    cams = ["gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam"]
    # "5" is a BatchNorm whose output an in-place ReLU overwrites next.
    alone = attribute(model, images(), cams, layer=["5", "2"])
    with_input = attribute(model, images(), ["gradient"] + cams, layer=["5", "2"])
    for key, values in alone.items():
        torch.testing.assert_close(values, with_input[key], rtol=1e-6, atol=1e-8)
        assert values.abs().sum() > 0
    with torch.no_grad():
        inside = attribute(model, images(), cams, layer=["5", "2"])
        assert not torch.is_grad_enabled()
    for key, values in alone.items():
        assert torch.equal(values, inside[key])
