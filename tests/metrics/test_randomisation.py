"""The model-parameter randomisation test: stages, seeds, correlations, and the model left alone."""

import copy

import numpy as np
import pytest
import scipy.stats
import torch
from torch import nn

from tb_saliency.attribution import attribute
from tb_saliency.metrics import randomisation, spearman

from .helpers import assert_untouched, conv_net, images, snapshot, train_like


class TwoHeads(nn.Module):
    """A conv layer feeding two linear heads: classes 0-1 come from head `a`, classes 2-3 from `b`.
    Registered out of forward order (b before conv), so the order must come from the forward pass."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.b = nn.Linear(4 * 6 * 6, 2)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.a = nn.Linear(4 * 6 * 6, 2)

    def forward(self, x):
        features = torch.tanh(self.conv(x)).flatten(1)
        return torch.cat([self.a(features), self.b(features)], dim=1)


def two_heads_inputs():
    return torch.randn(3, 3, 6, 6, generator=torch.Generator().manual_seed(1))


def test_a_stage_the_map_does_not_depend_on_correlates_exactly_one_and_others_do_not():
    model, x = TwoHeads(), two_heads_inputs()
    result = randomisation(model, x, ["gradient", "smoothgrad"], target=0, smoothgrad_samples=3, seed=None)
    # Forward order conv, a, b; randomised from the output back.
    assert result.layers == ("b", "a", "conv") and result.order == "cascading" and result.skipped == {}
    for key in ("gradient", "smoothgrad"):
        corr = result.correlations[key]
        assert corr.shape == (3, 3)
        assert torch.equal(result.maps[key][0], result.original[key])  # head b is off the path of class 0
        assert corr[0].tolist() == [1.0, 1.0, 1.0]
        assert (corr[1:].abs() < 0.6).all(), corr
    # One fresh seed drawn for the SmoothGrad noise, shared by every stage.
    assert isinstance(result.options["methods"]["smoothgrad"]["seed"], int)


def test_each_stage_is_the_engine_on_a_copy_reinitialised_with_its_seed():
    model, x = conv_net(), images()
    result = randomisation(model, x, ["gradient", "gradcam"], layer=model[6], reinit_seed=7)
    assert result.layers == ("10", "5", "4", "1", "0")
    positions = {name: i for i, (name, _) in enumerate(model.named_modules())}
    assert result.options["layer_seeds"] == {name: 7 + positions[name] for name in result.layers}
    predicted = model.eval()(x).argmax(dim=1)
    model.train()
    assert torch.equal(result.targets, predicted)
    clone = copy.deepcopy(model)
    modules = dict(clone.named_modules())
    for stage, name in enumerate(result.layers):
        torch.manual_seed(7 + positions[name])
        modules[name].reset_parameters()
        # The randomised model explains the original model's classes.
        maps = attribute(clone, x, ["gradient", "gradcam"], target=predicted, layer="6")
        for key in maps:
            assert torch.equal(result.maps[key][stage], maps[key]), (key, name)
            a, b = result.original[key].abs().flatten(1), maps[key].abs().flatten(1)
            expected = [scipy.stats.spearmanr(a[i], b[i]).statistic for i in range(x.shape[0])]
            got, expected = result.correlations[key][stage].double(), torch.tensor(expected, dtype=torch.float64)
            torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6, equal_nan=True)


def test_independent_stages_randomise_one_layer_each_with_the_same_weights_as_cascading():
    model, x = conv_net(), images()
    cascading = randomisation(model, x, "gradient")
    independent = randomisation(model, x, "gradient", order="independent")
    assert independent.layers == cascading.layers and independent.order == "independent"
    assert torch.equal(independent.maps["gradient"][0], cascading.maps["gradient"][0])
    # The last cascading stage has everything random; the last independent one only the first layer.
    only_first = randomisation(model, x, "gradient", layers=["0"])
    assert torch.equal(independent.maps["gradient"][-1], only_first.maps["gradient"][0])
    assert not torch.equal(cascading.maps["gradient"][-1], only_first.maps["gradient"][0])


def test_layers_are_named_as_layer_names_them_through_a_wrapper():
    # A DataParallel wrapper's names ("module.0") and a checkpoint_wrapper's inner module, left out of
    # the name ("1.0"), name the same layers that layer= accepts.
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper

    model, x = conv_net(), images()
    plain = randomisation(model, x, "gradient", layers=["0"])
    wrapped = randomisation(nn.DataParallel(model), x, "gradient", layers=["module.0"])
    assert wrapped.layers == ("0",) and torch.equal(wrapped.maps["gradient"], plain.maps["gradient"])
    checkpointed = nn.Sequential(nn.Identity(), checkpoint_wrapper(copy.deepcopy(model)))
    short, full = (randomisation(checkpointed, x, "gradient", layers=[name]) for name in ("1.0", "1._checkpoint_wrapped_module.0"))
    assert short.layers == full.layers == ("1._checkpoint_wrapped_module.0",)
    assert torch.equal(short.maps["gradient"], full.maps["gradient"])


def test_absolute_or_raw_maps():
    model, x = conv_net(), images()
    raw = randomisation(model, x, "gradient", absolute=False, layers=["4"])
    absolute = randomisation(model, x, "gradient", layers=["4"])
    assert torch.equal(raw.maps["gradient"], absolute.maps["gradient"])
    a, b = raw.original["gradient"].flatten(1), raw.maps["gradient"][0].flatten(1)
    torch.testing.assert_close(raw.correlations["gradient"][0], spearman(a, b).float())
    torch.testing.assert_close(absolute.correlations["gradient"][0], spearman(a.abs(), b.abs()).float())
    assert not torch.allclose(raw.correlations["gradient"], absolute.correlations["gradient"])
    assert raw.options["absolute"] is False and absolute.options["absolute"] is True


def test_spearman_uses_average_ranks_and_is_nan_for_a_constant_map():
    a = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 1.0, 2.0], [5.0, 5.0, 5.0]])
    b = torch.tensor([[2.0, 4.0, 9.0], [3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    result = spearman(a, b)
    torch.testing.assert_close(result[:3], torch.tensor([1.0, -1.0, 1.5 / 3**0.5], dtype=torch.float64))
    assert torch.isnan(result[3])
    g = torch.Generator().manual_seed(0)
    a, b = torch.randint(0, 5, (4, 50), generator=g).float(), torch.randint(0, 5, (4, 50), generator=g).float()
    expected = [scipy.stats.spearmanr(a[i], b[i]).statistic for i in range(4)]
    torch.testing.assert_close(spearman(a, b), torch.tensor(expected, dtype=torch.float64), rtol=1e-12, atol=1e-12)


class WithExtras(nn.Module):
    """A parameter without reset_parameters (a learned scale) and a head that never runs."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.scale = Scale()
        self.unused = nn.Linear(3, 3)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.scale(self.conv(x)).mean(dim=(2, 3)))


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = nn.Parameter(torch.full((1, 4, 1, 1), 2.0))

    def forward(self, x):
        return x * self.gain


def test_parameterised_modules_that_cannot_be_randomised_are_listed():
    result = randomisation(WithExtras(), two_heads_inputs(), "gradient")
    assert result.layers == ("head", "conv")
    assert result.skipped == {"scale": "no reset_parameters() method", "unused": "did not run in the forward pass"}


def test_layers_given_in_order_and_a_cam_layer_that_is_randomised():
    model, x = conv_net(), images()
    result = randomisation(model, x, "gradcam", layer="4", layers=[model[4], "10"])
    assert result.layers == ("4", "10")
    assert result.maps["gradcam"].shape == (2, 3, 6, 6) and result.original["gradcam"].shape == (3, 6, 6)
    assert result.options["layer_selection"] == "given"


def test_model_and_process_are_untouched_also_inside_no_grad():
    model = train_like(conv_net())
    hook = model[4].register_forward_hook(lambda *args: None)
    x = images()
    before = snapshot(model)
    result = randomisation(model, x, ["gradient", "gradcam"], layer="6", order="independent")
    assert_untouched(model, before)
    with torch.no_grad():
        randomisation(model, x, "smoothgrad", smoothgrad_samples=2)
    assert_untouched(model, before)
    assert result.maps["gradient"].shape == (5, 3, 12, 12)
    hook.remove()


def test_model_is_untouched_when_a_stage_raises():
    model = train_like(conv_net())
    x = images()
    calls = []

    def target(outputs):
        calls.append(1)
        if len(calls) > 2:
            raise RuntimeError("failed at the second stage")
        return outputs[:, 0]

    before = snapshot(model)
    with pytest.raises(RuntimeError, match="second stage"):
        randomisation(model, x, "gradient", target=target)
    assert_untouched(model, before)


BAD = [
    ({"methods": "saliency"}, ValueError, r"methods: unknown method 'saliency'"),
    ({"order": "top_down"}, ValueError, r"order: expected one of 'cascading', 'independent', got 'top_down'"),
    ({"absolute": 1}, TypeError, r"absolute: expected True or False, got 1"),
    ({"reinit_seed": -1}, ValueError, r"reinit_seed: expected an int >= 0, got -1"),
    ({"layers": []}, ValueError, r"layers: expected at least one layer to randomise"),
    ({"layers": ["99"]}, ValueError, r"layers: no module named '99'"),
    ({"layers": ["2"]}, ValueError, r"layers: '2' \(ReLU\) has no reset_parameters\(\) method"),
    ({"layers": ["0", "0"]}, ValueError, r"layers: each layer may be given once"),
    ({"generator": torch.Generator()}, ValueError, r"generator: randomisation runs the engine once per stage"),
    ({"ig_step": 3}, TypeError, r"ig_step: unknown option \(did you mean 'ig_steps'\?\)"),
    ({"ig_steps": 3}, ValueError, r"ig_steps: not used by the requested methods"),
    ({"methods": "gradcam", "layer": "99"}, ValueError, r"layer: no module named '99'"),
    ({"target": "cat"}, TypeError, r"target: expected None, an int"),
    ({"inputs": torch.ones(3, 3, 12, 12, dtype=torch.int64)}, TypeError, r"inputs: expected a floating-point tensor"),
]


@pytest.mark.parametrize("change, error, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_fail_before_any_pass(change, error, message):
    from .helpers import Counting

    model = Counting(conv_net())
    arguments = {"inputs": images(), "methods": "gradient"}
    arguments.update({k: v for k, v in change.items() if k in arguments})
    keywords = {k: v for k, v in change.items() if k not in arguments}
    if "layers" in keywords:
        keywords["layers"] = [f"model.{n}" if isinstance(n, str) and n != "99" else n for n in keywords["layers"]]
        message = message.replace("'2'", "'model.2'")
    with pytest.raises(error, match=message):
        randomisation(model, arguments["inputs"], arguments["methods"], **keywords)
    assert model.calls == []


def test_average_ranks_and_pearson_row_by_row():
    from tb_saliency.metrics.ranks import average_ranks, pearson

    ranks = average_ranks(torch.tensor([[10.0, 20.0, 20.0, 5.0], [1.0, 1.0, 1.0, 0.0]]))
    assert ranks.dtype == torch.float64 and ranks.tolist() == [[2.0, 3.5, 3.5, 1.0], [3.0, 3.0, 3.0, 1.0]]
    # Rows with different means: each row is centred on its own mean; and a row of small spread, whose
    # norms multiply to less than 1 (two pixels' ranks, 1 and 2, already do).
    a = torch.tensor([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0], [0.01, 0.02, 0.04]])
    b = torch.tensor([[2.0, 4.0, 7.0], [0.0, 1.0, 1.0], [0.03, 0.01, 0.02]])
    expected = [float(np.corrcoef(a[i].numpy(), b[i].numpy())[0, 1]) for i in range(3)]
    torch.testing.assert_close(pearson(a, b), torch.tensor(expected, dtype=torch.float64), rtol=1e-14, atol=0)
