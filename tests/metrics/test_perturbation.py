"""Deletion and insertion against closed-form curves, an independent reference, and their contract."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tb_saliency.attribution.baselines import gaussian_blur
from tb_saliency.metrics import deletion, insertion

from .helpers import F64, Counting, PixelSum, assert_untouched, conv_net, images, snapshot, train_like


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def test_hand_computed_curves_and_areas():
    # One 2×2 image of ones; the model's class-0 logit is the sum of the kept weights 4, 3, 2, 1.
    weight = torch.tensor([[4.0, 3.0], [2.0, 1.0]])
    model, x, maps = PixelSum(weight), torch.ones(1, 1, 2, 2, dtype=F64), weight[None]
    gone = deletion(model, x, maps, target=0, steps=2)
    # Step 1 deletes the two largest (4 and 3): s = 10, 3, 0.
    expected = [sigmoid(10), sigmoid(3), 0.5]
    torch.testing.assert_close(gone.curve, torch.tensor([expected], dtype=F64), rtol=1e-15, atol=0)
    auc = 0.5 * (expected[0] + expected[1]) / 2 + 0.5 * (expected[1] + expected[2]) / 2
    torch.testing.assert_close(gone.auc, torch.tensor([auc], dtype=F64), rtol=1e-15, atol=0)
    assert gone.pixels.tolist() == [0, 2, 4] and gone.kind == "deletion"

    put = insertion(model, x, maps, target=0, steps=2, baseline=0.0)
    expected = [0.5, sigmoid(7), sigmoid(10)]
    torch.testing.assert_close(put.curve, torch.tensor([expected], dtype=F64), rtol=1e-15, atol=0)
    auc = (expected[0] + 2 * expected[1] + expected[2]) / 4
    torch.testing.assert_close(put.auc, torch.tensor([auc], dtype=F64), rtol=1e-15, atol=0)


def test_order_is_by_value_then_pixel_index_and_steps_round_down():
    # Weights 2^p identify exactly which pixels remain: the raw score is their sum.
    weight = 2.0 ** torch.arange(9, dtype=F64).view(3, 3)
    maps = torch.tensor([[[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 2.0]]])
    order = [8, 1, 3, 5, 0, 2, 4, 6, 7]  # highest first, ties by row-major index
    model, x = PixelSum(weight), torch.ones(1, 1, 3, 3, dtype=F64)
    for steps in (9, 4, 2, 12):
        counts = [k * 9 // steps for k in range(steps + 1)]
        gone = deletion(model, x, maps, target=0, steps=steps, score="raw")
        expected = [511 - sum(2**p for p in order[:c]) for c in counts]
        assert gone.curve[0].tolist() == expected
        assert gone.pixels.tolist() == counts
        put = insertion(model, x, maps, target=0, steps=steps, baseline=0.0, score="raw")
        assert put.curve[0].tolist() == [sum(2**p for p in order[:c]) for c in counts]


def reference(model, x, maps, target, steps, x0, kind):
    """Each step's input built on its own with Python's stable sort, one forward pass each."""
    n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
    up = F.interpolate(maps[:, None].to(F64), size=(h, w), mode="bilinear", align_corners=False)[:, 0]
    curve = torch.empty(n, steps + 1, dtype=F64)
    for i in range(n):
        values = up[i].flatten().tolist()
        order = sorted(range(h * w), key=lambda p: -values[p])
        for k in range(steps + 1):
            chosen = torch.zeros(h * w, dtype=torch.bool)
            chosen[order[: k * h * w // steps]] = True
            chosen = chosen.view(h, w)
            if kind == "deletion":
                row = torch.where(chosen, x0[i], x[i])
            else:
                row = torch.where(chosen, x[i], x0[i])
            with torch.no_grad():
                curve[i, k] = torch.softmax(model(row[None]), dim=1)[0, target[i]]
    return curve


@pytest.mark.parametrize("kind", ["deletion", "insertion"])
@pytest.mark.parametrize("baseline", ["zeros", "blur", 0.5, "tensor"])
def test_matches_a_reference_on_a_conv_net_with_low_resolution_maps(kind, baseline):
    model = conv_net(dtype=F64).eval()
    x = images(dtype=F64)
    maps = torch.rand(x.shape[0], 3, 4, generator=torch.Generator().manual_seed(7), dtype=F64)
    target = [1, 4, 0]
    if baseline == "tensor":
        baseline = torch.linspace(-1, 1, x.shape[-1], dtype=F64)  # broadcasts along the last axis
        x0 = baseline.expand_as(x)
    elif baseline == "blur":
        x0 = gaussian_blur(x, 1.2)
    else:
        x0 = torch.full_like(x, 0.0 if baseline == "zeros" else baseline)
    options = {"blur_sigma": 1.2} if isinstance(baseline, str) and baseline == "blur" else {}
    metric = deletion if kind == "deletion" else insertion
    result = metric(model, x, maps, target=target, steps=7, baseline=baseline, **options)
    torch.testing.assert_close(result.curve, reference(model, x, maps, target, 7, x0, kind), rtol=1e-12, atol=1e-14)
    assert result.options["upsampling"] == "bilinear, align_corners=False" and result.options["map_size"] == [3, 4]


def test_area_is_the_trapezoidal_rule_over_fractions_of_steps():
    model, x = conv_net().eval(), images()
    maps = torch.rand(3, 12, 12, generator=torch.Generator().manual_seed(3))
    result = deletion(model, x, maps, steps=5)
    c = result.curve.double()
    expected = (c.sum(dim=1) - (c[:, 0] + c[:, -1]) / 2) / 5
    torch.testing.assert_close(result.auc.double(), expected, rtol=1e-6, atol=1e-7)
    assert result.curve.shape == (3, 6) and result.auc.shape == (3,) and result.curve.dtype == torch.float32


def test_images_without_a_channel_axis_and_numpy_maps():
    weight = torch.arange(16, dtype=F64).view(4, 4)
    model, x = PixelSum(weight), torch.ones(2, 4, 4, dtype=F64)
    maps = np.stack([weight.numpy(), -weight.numpy()])[:, None]  # N×1×h×w arrays are accepted
    result = deletion(model, x, maps, target=0, steps=4, score="raw")
    assert result.curve[0].tolist() == [120, 120 - 54, 120 - 54 - 38, 120 - 54 - 38 - 22, 0]
    assert result.curve[1].tolist() == [120, 120 - 6, 120 - 6 - 22, 120 - 6 - 22 - 38, 0]


def test_deletion_removes_every_channel_of_a_pixel():
    weight = torch.ones(3, 2, 2, dtype=F64)
    model, x = PixelSum(weight), torch.ones(1, 3, 2, 2, dtype=F64)
    result = deletion(model, x, torch.tensor([[[3.0, 2.0], [1.0, 0.0]]]), target=0, steps=4, score="raw")
    assert result.curve[0].tolist() == [12, 9, 6, 3, 0]


def test_targets_none_int_and_per_sample():
    model, x = conv_net().eval(), images()
    maps = torch.rand(3, 6, 6, generator=torch.Generator().manual_seed(1))
    predicted = model(x).argmax(dim=1)
    clean = torch.softmax(model(x), dim=1)
    by_default = deletion(model, x, maps, steps=2)
    assert torch.equal(by_default.targets, predicted)
    torch.testing.assert_close(by_default.curve[:, 0], clean.gather(1, predicted[:, None])[:, 0])
    assert torch.equal(deletion(model, x, maps, target=2, steps=2).targets, torch.tensor([2, 2, 2]))
    per_sample = insertion(model, x, maps, target=[4, 0, 1], steps=2)
    torch.testing.assert_close(per_sample.curve[:, -1], clean[[0, 1, 2], [4, 0, 1]])
    raw = deletion(model, x, maps, target=torch.tensor([4, 0, 1]), steps=2, score="raw")
    torch.testing.assert_close(raw.curve[:, 0], model(x)[[0, 1, 2], [4, 0, 1]].detach())


def test_a_callable_target_needs_the_raw_score_and_is_the_curve():
    model, x = conv_net().eval(), images()
    maps = torch.rand(3, 6, 6, generator=torch.Generator().manual_seed(1))
    with pytest.raises(ValueError, match="score: a callable target .* score='raw'"):
        deletion(model, x, maps, target=lambda out: out[:, 0])
    probability = deletion(model, x, maps, target=lambda out: out.softmax(1)[:, 3], score="raw", steps=3)
    assert probability.targets is None
    torch.testing.assert_close(probability.curve, deletion(model, x, maps, target=3, steps=3).curve)


def test_chunks_give_identical_curves_and_cost_exactly_steps_plus_one_passes():
    model, x = Counting(conv_net().eval()), images()
    maps = torch.rand(3, 12, 12, generator=torch.Generator().manual_seed(2))
    for metric in (deletion, insertion):
        results = []
        for limit, passes in ((1, 1 + 10), (2**40, 1 + 1)):
            model.calls.clear()
            results.append(metric(model, x, maps, steps=10, memory_limit=limit))
            assert len(model.calls) == passes and sum(model.calls) == 11 * 3
        small, large = results
        assert small.options["copies_per_pass"] == 1 and large.options["copies_per_pass"] == 10
        assert torch.equal(small.curve, large.curve) and torch.equal(small.auc, large.auc)


def test_a_dict_of_maps_shares_the_clean_and_baseline_passes_and_gives_each_maps_own_curve():
    model, x = Counting(conv_net().eval()), images()
    generator = torch.Generator().manual_seed(3)
    maps = {"gradient": torch.rand(3, 12, 12, generator=generator), "gradcam": torch.rand(3, 3, 3, generator=generator)}
    for metric in (deletion, insertion):
        alone = {key: metric(model, x, value, steps=10) for key, value in maps.items()}
        for limit, passes in ((1, 1 + 1 + 2 * 9), (2**40, 1 + 1)):
            model.calls.clear()
            together = metric(model, x, maps, steps=10, memory_limit=limit)
            # One clean pass, one baseline row, and each map's 9 interior steps: 21 rows where two
            # calls would run 22.
            assert len(model.calls) == passes and sum(model.calls) == (2 + 2 * 9) * 3
            assert list(together) == list(maps)
            for key in maps:
                # Equal up to the rounding of a differently stacked batch.
                torch.testing.assert_close(together[key].curve, alone[key].curve,
                                           msg=f"{metric.__name__} of {key}, memory_limit={limit}")
                torch.testing.assert_close(together[key].auc, alone[key].auc)
                assert together[key].options["map_size"] == list(maps[key].shape[1:])
        assert together["gradcam"].options["upsampling"].startswith("bilinear")
        assert together["gradient"].options["upsampling"] == "none"


def test_a_dict_of_maps_names_the_entry_that_is_wrong():
    model, x = conv_net().eval(), images()
    with pytest.raises(ValueError, match=r"maps: .* got an empty dict"):
        deletion(model, x, {})
    with pytest.raises(ValueError, match=r"maps\['gradcam'\]: expected 3 maps \(one per input\), got 2"):
        insertion(model, x, {"gradient": torch.rand(3, 4, 4), "gradcam": torch.rand(2, 4, 4)})


def test_uniform_baseline_is_seeded_and_leaves_the_global_rng_alone():
    model, x = conv_net().eval(), images()
    maps = torch.rand(3, 6, 6, generator=torch.Generator().manual_seed(1))
    state = torch.get_rng_state()
    a = deletion(model, x, maps, baseline="uniform", seed=5, steps=3)
    b = deletion(model, x, maps, baseline="uniform", seed=5, steps=3)
    c = deletion(model, x, maps, baseline="uniform", seed=6, steps=3)
    assert torch.equal(a.curve, b.curve) and not torch.equal(a.curve, c.curve)
    assert a.options["seed"] == 5 and a.options["baseline"] == "uniform"
    fresh = deletion(model, x, maps, baseline="uniform", seed=None, steps=3)
    assert isinstance(fresh.options["seed"], int)
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("metric", [deletion, insertion])
@pytest.mark.parametrize("grad_mode", ["enabled", "no_grad", "inference_mode"])
def test_model_is_untouched(metric, grad_mode):
    model = train_like(conv_net())
    hook = model[4].register_forward_hook(lambda *args: None)
    x = images()
    maps = torch.rand(3, 6, 6, generator=torch.Generator().manual_seed(1))
    before = snapshot(model)
    context = {"enabled": torch.enable_grad, "no_grad": torch.no_grad, "inference_mode": torch.inference_mode}
    with context[grad_mode]():
        result = metric(model, x, maps, baseline="uniform", steps=3, memory_limit=1)
    assert_untouched(model, before)
    assert result.curve.shape == (3, 4)
    hook.remove()


class Boom(Exception):
    pass


def test_model_is_untouched_when_a_pass_raises_midway():
    model = train_like(conv_net())
    calls = []

    def target(outputs):
        calls.append(1)
        if len(calls) > 2:
            raise Boom("failed in the second chunk")
        return outputs[:, 0]

    x, maps = images(), torch.rand(3, 6, 6)
    before = snapshot(model)
    with pytest.raises(Boom):
        deletion(model, x, maps, target=target, score="raw", steps=4, memory_limit=1)
    assert_untouched(model, before)


def test_float64_inputs_give_float64_results():
    model, x = conv_net(dtype=F64).eval(), images(dtype=F64)
    result = insertion(model, x, torch.rand(3, 6, 6), steps=2)
    assert result.curve.dtype == F64 and result.auc.dtype == F64


BAD = [
    ({"steps": 0}, ValueError, r"steps: expected an int >= 1, got 0"),
    ({"steps": 2.5}, ValueError, r"steps: expected an int >= 1, got 2.5"),
    ({"steps": True}, ValueError, r"steps: expected an int >= 1, got True"),
    ({"baseline": "black"}, ValueError, r"baseline: expected one of 'zeros', 'blur', 'uniform'.*got 'black'"),
    ({"baseline": torch.zeros(2, 3, 12, 12)}, ValueError, r"baseline: a tensor of shape \(2, 3, 12, 12\) does not"),
    ({"blur_sigma": 2.0, "baseline": "zeros"}, ValueError, r"blur_sigma: only used with baseline='blur'"),
    ({"blur_sigma": -1.0, "baseline": "blur"}, ValueError, r"blur_sigma: expected a finite number > 0"),
    ({"blur_sigma": 13.0, "baseline": "blur"}, ValueError, r"blur_sigma: expected at most the larger image side \(12"),
    ({"seed": -1}, ValueError, r"seed: expected an int >= 0 or None"),
    ({"score": "logit"}, ValueError, r"score: expected one of 'probability', 'raw', got 'logit'"),
    ({"memory_limit": 0}, ValueError, r"memory_limit: expected an int >= 1, got 0"),
    ({"target": 1.5}, TypeError, r"target: expected None, an int"),
    ({"target": 7}, ValueError, r"target: class 7 is out of range for 5 outputs"),
    ({"maps": torch.rand(2, 6, 6)}, ValueError, r"maps: expected 3 maps \(one per input\), got 2"),
    ({"maps": torch.rand(3, 2, 6, 6)}, ValueError, r"maps: expected one map per sample shaped N×h×w"),
    ({"maps": torch.full((3, 6, 6), float("nan"))}, ValueError, r"maps: map 0 holds NaN or infinite values"),
    ({"maps": [[0.0]]}, TypeError, r"maps: expected a torch.Tensor or a numpy array, got \[\[0.0\]\]"),
    ({"inputs": torch.ones(3, 3, 12, 12, dtype=torch.uint8)}, TypeError, r"inputs: expected a floating-point"),
    ({"inputs": torch.ones(3, 12)}, ValueError, r"inputs: expected images shaped N×C×H×W"),
    ({"model": "net"}, TypeError, r"model: expected a torch.nn.Module, got str"),
]


@pytest.mark.parametrize("metric", [deletion, insertion])
@pytest.mark.parametrize("change, error, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_fail_naming_the_argument(metric, change, error, message):
    model = Counting(conv_net().eval())
    arguments = {"model": model, "inputs": images(), "maps": torch.rand(3, 6, 6)}
    keywords = {k: v for k, v in change.items() if k not in arguments}
    arguments.update({k: v for k, v in change.items() if k in arguments})
    with pytest.raises(error, match=message):
        metric(arguments["model"], arguments["inputs"], arguments["maps"], **keywords)
    if "target" not in change:  # a class out of range shows only once the model has run
        assert model.calls == []


def test_chunks_are_sized_by_the_bytes_every_module_outputs_on_the_clean_pass():
    from torch import nn

    from tb_saliency.metrics.memory import ActivationMeter

    # Input 2×64 floats; outputs: Linear 2×256, ReLU 2×256, Linear 2×256, ReLU 2×256, Flatten (a view, no
    # new storage), Linear 2×3; the Sequential returns its last child's tensor. Under no_grad freed
    # outputs are reused by the allocator, and a reused address still counts as a new tensor.
    model = nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Flatten(), nn.Linear(256, 3)
    ).eval()
    x = torch.randn(2, 64)
    expected = 4 * (2 * 64 + 4 * 2 * 256 + 2 * 3)
    for _ in range(3):
        meter = ActivationMeter()
        meter.add(x)
        with torch.no_grad(), meter.measuring(model):
            model(x)
        assert meter.bytes == expected
    assert all(not m._forward_hooks for m in model.modules())
    images_model = conv_net().eval()
    maps = torch.rand(3, 6, 6)
    per_copy = deletion(images_model, images(), maps, steps=10, memory_limit=2**40).options
    meter = ActivationMeter()
    meter.add(images())
    with torch.no_grad(), meter.measuring(images_model):
        images_model(images())
    for copies in (1, 3, 7):
        limit = copies * meter.bytes + meter.bytes // 2
        assert deletion(images_model, images(), maps, steps=10, memory_limit=limit).options["copies_per_pass"] == copies
    assert per_copy["copies_per_pass"] == 10


@pytest.mark.parametrize("metric", [deletion, insertion])
def test_a_relative_curve_is_the_curve_over_the_clean_inputs_probability(metric):
    model, x = _relative_case()
    maps = torch.rand(x.shape[0], 4, 4, generator=torch.Generator().manual_seed(3))
    plain = metric(model, x, maps, steps=5)
    relative = metric(model, x, maps, steps=5, relative=True)
    clean = plain.curve[:, 0] if metric is deletion else plain.curve[:, -1]
    assert relative.curve.dtype == torch.float64, "a relative curve is computed in float64"
    torch.testing.assert_close(relative.curve, plain.curve.double() / clean.double()[:, None], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(relative.auc, torch.trapezoid(relative.curve, dx=0.2, dim=1))
    assert relative.options["relative"] is True and plain.options["relative"] is False
    with pytest.raises(ValueError, match="relative: divides by the clean input's probability, so it needs score='probability'"):
        metric(model, x, maps, score="raw", relative=True)


def _relative_case():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 4)).eval()
    return model, torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(1))


class _Confident(torch.nn.Module):
    """Logits (0, -gap): class 1 trails class 0 by `gap`, whatever the input's pixels (plus a pixel sum
    so that deleting pixels changes them a little)."""

    def __init__(self, gap):
        super().__init__()
        self.gap = gap

    def forward(self, x):
        total = x.flatten(1).sum(1, keepdim=True) * 1e-3
        return torch.cat([total, total - self.gap], dim=1)


def test_a_relative_curve_survives_a_probability_that_float32_rounds_to_zero():
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    maps = torch.rand(2, 4, 4, generator=torch.Generator().manual_seed(1))
    result = deletion(_Confident(200.0), x, maps, target=1, steps=4, relative=True)
    assert torch.isfinite(result.curve).all() and torch.isfinite(result.auc).all()
    torch.testing.assert_close(result.curve[:, 0], torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"relative: the target class has probability 0 on the clean input of sample\(s\) \[0, 1\]"):
        deletion(_Confident(800.0), x, maps, target=1, steps=4, relative=True)


class _AsDict(torch.nn.Module):
    """The wrapped model's logits under a ModelOutput-like dict's "logits"."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, inputs):
        return {"logits": self.inner(inputs)}


def test_class_scores_come_from_the_logits_of_dict_and_tuple_outputs():
    model, x = _relative_case()
    maps = torch.rand(x.shape[0], 4, 4, generator=torch.Generator().manual_seed(3))

    class AsTuple(_AsDict):
        def forward(self, inputs):
            return (self.inner(inputs), inputs.mean())

    plain = deletion(model, x, maps, steps=4)
    for wrapped in (_AsDict(model), AsTuple(model)):
        torch.testing.assert_close(deletion(wrapped, x, maps, steps=4).curve, plain.curve)


def test_non_square_images_without_a_channel_axis_each_sample_its_own_image_and_map():
    # N×H×W with H ≠ W ≠ N, and every sample a different image and map: a mix-up of the height and
    # width, of N and an image axis, or of one sample's mask with another's image changes the curve.
    weight = 2.0 ** torch.arange(6, dtype=F64).view(2, 3)
    x = torch.stack([torch.full((2, 3), float(i + 1), dtype=F64) for i in range(4)])
    maps = torch.stack([torch.arange(6, dtype=F64).roll(i).view(2, 3) for i in range(4)])
    result = deletion(PixelSum(weight), x, {"m": maps}, target=0, steps=3, score="raw")["m"]
    for i in range(4):
        order = sorted(range(6), key=lambda p: -maps[i].flatten()[p].item())
        expected = [(i + 1) * (63 - sum(2**p for p in order[:k])) for k in (0, 2, 4, 6)]
        assert result.curve[i].tolist() == expected
    assert result.options["map_size"] == [2, 3] and result.options["upsampling"] == "none"


def test_integer_maps_at_low_resolution_are_upsampled_as_floats():
    weight = 2.0 ** torch.arange(16, dtype=F64).view(4, 4)
    model, x = PixelSum(weight), torch.ones(1, 1, 4, 4, dtype=F64)
    maps = torch.tensor([[[3, 0], [1, 2]]])
    as_int = deletion(model, x, maps, target=0, steps=4, score="raw")
    as_float = deletion(model, x, maps.to(torch.float32), target=0, steps=4, score="raw")
    assert as_int.curve.tolist() == as_float.curve.tolist()
    assert as_int.curve[0, 1].item() == 2**16 - 1 - (1 + 2 + 16 + 32)  # the top-left quarter went first


def test_defaults_and_the_options_each_curve_records():
    model, x = conv_net().eval(), images()
    maps = torch.rand(3, 6, 6, generator=torch.Generator().manual_seed(5))
    gone = deletion(model, x, maps)
    put = insertion(model, x, maps, baseline="uniform")
    assert gone.kind == "deletion" and put.kind == "insertion"
    assert gone.curve.shape == (3, 21) and put.curve.shape == (3, 21)
    for result in (gone, put):
        recorded = {key: result.options[key] for key in ("steps", "score", "relative", "order", "memory_limit",
                                                          "model_mode")}
        assert recorded == {"steps": 20, "score": "probability", "relative": False,
                            "order": "descending, ties by pixel index", "memory_limit": 64 * 2**20,
                            "model_mode": "eval"}
    assert put.options["seed"] == 0 and "seed" not in gone.options
    assert deletion(model, x, maps, steps=2, baseline="uniform").options["seed"] == 0


def test_a_callable_target_on_dict_outputs_sees_one_copy_of_the_batch_at_a_time():
    model, x = _relative_case()
    maps = torch.rand(x.shape[0], 4, 4, generator=torch.Generator().manual_seed(4))

    def picked(outputs):
        assert outputs["logits"].shape[0] == x.shape[0]  # N rows: the dict cannot be sliced into copies
        return outputs["logits"][:, 1]

    wrapped = deletion(_AsDict(model), x, maps, target=picked, score="raw", steps=4)
    plain = deletion(model, x, maps, target=1, score="raw", steps=4)
    torch.testing.assert_close(wrapped.curve, plain.curve)
    assert wrapped.options["copies_per_pass"] == 1
