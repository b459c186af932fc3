"""Bad arguments: a clear error that names the argument, and the model left untouched."""

import re

import numpy as np
import pytest
import torch
from torch import nn

from tb_saliency.attribution import METHODS, activations, attribute

from .helpers import C, H, W, Counting, assert_untouched, conv_net, images, snapshot, train_like
from .test_api import TinyViT


def fails(error, pattern, *args, model=None, **kwargs):
    model = model if model is not None else train_like(conv_net())
    before = snapshot(model)
    with pytest.raises(error, match=pattern):
        attribute(model, *args, **kwargs)
    assert_untouched(model, before)


def test_layer_not_in_the_model_lists_close_names_and_candidates():
    model = train_like(conv_net())
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        attribute(model, images(), "gradcam", layer="60")
    message = str(info.value)
    assert message.startswith("layer: no module named '60'")
    assert "close names: 6" in message and "candidate layers: 4, 0," in message
    assert_untouched(model, before)
    fails(
        ValueError,
        "layer: the given Conv2d module is not part of the model",
        images(),
        "gradcam",
        layer=nn.Conv2d(1, 1, 1),
    )
    fails(TypeError, "layer: expected a module, a dotted module name", images(), "gradcam", layer=6)


def test_cam_method_without_a_layer_in_a_model_without_a_2d_convolution():
    # A convolutional model gets its last 2-D convolution (tests/attribution/test_defaults.py).
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, 6), nn.ReLU(), nn.Linear(6, 5))
    fails(
        ValueError,
        "layer: gradcam, scorecam need a layer .*no 2-D convolution to default to; candidate layers: 0, 1, 2, 3",
        images(),
        ["gradient", "gradcam", "scorecam"],
        model=mlp,
    )


def test_layer_given_to_input_space_methods_only():
    fails(ValueError, "layer: none of the requested methods", images(), "gradient", layer="6")


def test_layer_output_that_is_not_4d_needs_a_reshape():
    fails(
        ValueError,
        re.escape("layer: the output of '10' has shape (3, 5), not N×K×h×w; for token layers give reshape='vit'"),
        images(),
        "gradcam",
        layer="10",
    )
    fails(
        ValueError,
        re.escape("layer: the output of 'block' has shape (3, 10, 8)"),
        images(),
        "gradcam",
        layer="block",
        model=TinyViT(),
    )
    fails(
        ValueError,
        "reshape: 'tokens' needs 10 tokens to form a square grid",
        images(),
        "gradcam",
        layer="block",
        reshape="tokens",
        model=TinyViT(),
    )
    fails(
        ValueError,
        "reshape: the callable must return N×K×h×w",
        images(),
        "gradcam",
        layer="block",
        reshape=lambda t: t,
        model=TinyViT(),
    )


@pytest.mark.parametrize(
    "target, error, pattern",
    [
        (5, ValueError, r"target: class 5 is out of range for 5 outputs \(expected 0..4\)"),
        (-1, ValueError, "target: class -1 is out of range"),
        ([0, 1], ValueError, "target: expected 3 class indices .one per sample., got 2"),
        ([0, 1, 7], ValueError, "target: class 7 is out of range"),
        (torch.tensor([0.0, 1.0, 2.0]), TypeError, "target: expected an integer tensor"),
        (torch.zeros(3, 1, dtype=torch.long), ValueError, "target: expected a 1-D tensor"),
        (np.array([0.0, 1.0, 2.0]), TypeError, "target: expected an integer array"),
        (np.array([0, 1, 9]), ValueError, "target: class 9 is out of range"),
        (True, TypeError, "target: expected None, an int"),
        ("cat", TypeError, "target: expected None, an int"),
        (
            lambda out: out,
            ValueError,
            r"target: the callable must return a Tensor\[N\] with N=3, it returned shape \(3, 5\)",
        ),
        (lambda out: 1.0, TypeError, "target: the callable must return a Tensor"),
        (lambda out: out.argmax(1), TypeError, "target: the callable must return floating-point scores"),
    ],
)
def test_bad_targets(target, error, pattern):
    fails(
        error, pattern, images(), ["gradient", "gradcam", "integrated_gradients"], target=target, layer="6", ig_steps=2
    )


def test_inputs_that_do_not_support_gradients():
    fails(
        TypeError,
        "inputs: expected a floating-point tensor, got dtype torch.int64",
        torch.zeros(3, 3, 12, 12, dtype=torch.long),
        "gradient",
    )
    fails(TypeError, "inputs: expected a torch.Tensor", [[1.0]], "gradient")
    fails(ValueError, "inputs: expected a non-empty batch", torch.zeros(0, 3, 12, 12), "gradient")
    fails(
        ValueError,
        "inputs: gradient need images shaped N×C×H×W",
        torch.zeros(3, 432),
        "gradient",
        model=nn.Linear(432, 2),
    )


class NoLogitsModel(nn.Module):
    """Returns outputs in which no logits can be found without the user's help."""

    def __init__(self, wrap):
        super().__init__()
        self.net = conv_net()
        self.wrap = wrap

    def forward(self, x):
        return self.wrap(self.net(x))


@pytest.mark.parametrize(
    "wrap, kind",
    [
        (lambda logits: {"scores": logits}, "dict"),
        (lambda logits: ("aux", logits), "tuple"),
        (lambda logits: [], "list"),
        (lambda logits: object(), "object"),
    ],
    ids=["dict without logits", "tuple with a string first", "empty list", "object"],
)
@pytest.mark.parametrize(
    "methods, kwargs",
    [(["gradient"], {}), (["integrated_gradients"], {"ig_steps": 2}), (["gradcam"], {"layer": "net.6"})],
)
def test_outputs_without_logits_need_a_callable_target(wrap, kind, methods, kwargs):
    fails(
        TypeError,
        f"target: the model returned {kind} without logits .expected a tensor, a Mapping with a 'logits' tensor.*"
        "give target as a callable",
        images(),
        methods,
        model=NoLogitsModel(wrap),
        **kwargs,
    )


def test_methods_argument():
    fails(
        ValueError,
        "methods: unknown method 'grad_cam'; valid methods: " + ", ".join(METHODS),
        images(),
        "grad_cam",
        layer="6",
    )
    fails(TypeError, "methods: expected a method name or a non-empty list", images(), [])
    fails(ValueError, "methods: each method may be given once", images(), ["gradient", "gradient"])


def test_a_rule_that_cannot_run_with_so_few_steps_fails_before_the_model_runs():
    model = Counting(conv_net())
    fails(ValueError, "ig_steps: riemann_trapezoid needs at least 2 steps, got 1", images(),
          "integrated_gradients", model=model, ig_rule="riemann_trapezoid", ig_steps=1)
    assert model.calls == 0


IG = "integrated_gradients"


@pytest.mark.parametrize(
    "method, options, pattern",
    [
        (IG, {"ig_steps": 10_001}, "ig_steps: expected an int from 1 to 10,000 .each is a forward and backward pass"),
        (IG, {"ig_steps": 10**9, "ig_rule": "riemann_left"}, "ig_steps: expected an int from 1 to 10,000"),
        ("smoothgrad", {"smoothgrad_samples": 10**6}, "smoothgrad_samples: expected an int from 1 to 10,000"),
        (
            IG,
            {"baseline": "blur", "blur_sigma": 1e9},
            r"blur_sigma: expected at most the larger image side \(12 pixels\) for inputs of shape "
            r"\(3, 3, 12, 12\), got 1e\+09",
        ),
        (IG, {"baseline": torch.zeros(5, 5)}, "baseline: a tensor of shape .5, 5. does not broadcast"),
        (IG, {"baseline": float("nan")}, "baseline: expected a finite number, got nan"),
        (IG, {"baseline": torch.full((3, 12, 12), float("inf"))}, "baseline: expected finite values, got a tensor"),
        ("smoothgrad", {"seed": 2**64}, r"seed: expected an int >= 0 or None \(a fresh random seed\), at most 2\*\*64 - 1, got 18446744073709551616"),
        (
            "smoothgrad",
            {"smoothgrad_noise": 1e38, "smoothgrad_noise_type": "absolute"},
            r"smoothgrad_noise: expected finite noisy copies in torch.float32 \(\|x\| \+ 10σ\), got NaN or Inf for "
            "samples 0, 1, 2; give a smaller noise",
        ),
    ],
)
def test_options_that_would_run_for_days_or_allocate_without_bound_fail_before_the_model_runs(
    method, options, pattern
):
    model = Counting(conv_net())
    fails(ValueError, pattern, images(), method, model=model, **options)
    assert model.calls == 0


def test_the_largest_allowed_values_are_accepted_and_cost_nothing_up_front():
    # A blur as wide as the image, and a memory bound far beyond any machine, still run normally: the
    # chunk never holds more copies than there are.
    model = Counting(conv_net())
    result = attribute(model, images(), "integrated_gradients", ig_steps=3, baseline="blur", blur_sigma=12.0,
                       memory_limit=2**100)
    assert torch.isfinite(result["integrated_gradients"]).all()
    assert model.calls == 3  # the clean pass, the baseline, and one chunk of the three nodes


def test_options_are_checked_by_name_value_and_use():
    fails(
        TypeError,
        r"ig_step: unknown option \(did you mean 'ig_steps'\?\); accepted options: ablation_ratio, baseline,",
        images(),
        "integrated_gradients",
        ig_step=10,
    )
    fails(
        ValueError,
        "smoothgrad_samples: not used by the requested methods .gradient.; it applies to smoothgrad",
        images(),
        "gradient",
        smoothgrad_samples=10,
    )
    fails(ValueError, "ig_steps: expected an int from 1 to 10,000 .* got 0", images(), IG, ig_steps=0)
    fails(ValueError, "ig_rule: expected one of 'gauss_legendre'", images(), "integrated_gradients", ig_rule="simpson")
    fails(
        ValueError,
        "smoothgrad_noise: expected a finite number >= 0, got -0.1",
        images(),
        "smoothgrad",
        smoothgrad_noise=-0.1,
    )
    fails(ValueError, "smoothgrad_variant: expected one of", images(), "smoothgrad", smoothgrad_variant="sq")
    fails(
        ValueError,
        "baseline: expected one of 'zeros', 'blur', 'uniform'",
        images(),
        "integrated_gradients",
        baseline="black",
    )
    fails(
        ValueError,
        "baseline: a tensor of shape .5, 5. does not broadcast",
        images(),
        "integrated_gradients",
        baseline=torch.zeros(5, 5),
    )
    fails(ValueError, "blur_sigma: only used with baseline='blur'", images(), "integrated_gradients", blur_sigma=3.0)
    fails(
        ValueError,
        "generator: give either seed or generator",
        images(),
        "smoothgrad",
        seed=1,
        generator=torch.Generator(),
    )
    fails(TypeError, "cam_relu: expected True or False", images(), "gradcam", layer="6", cam_relu=1)
    fails(ValueError, "memory_limit: expected an int >= 1", images(), "scorecam", layer="6", memory_limit=0)
    fails(ValueError, "channel_reduction: expected one of", images(), "gradient", channel_reduction="l1")
    fails(
        ValueError,
        "reshape: expected None, a callable or one of 'vit', 'tokens'",
        images(),
        "gradcam",
        layer="6",
        reshape="square",
    )


def test_model_argument():
    with pytest.raises(TypeError, match="model: expected a torch.nn.Module, got function"):
        attribute(lambda x: x, images(), "gradient")


def test_activations_arguments():
    model = train_like(conv_net())
    before = snapshot(model)
    with pytest.raises(ValueError, match="layer: no module named 'conv'"):
        activations(model, images(), layer="conv")
    with pytest.raises(ValueError, match="max_channels: expected an int >= 1, got 0"):
        activations(model, images(), layer="6", max_channels=0)
    with pytest.raises(TypeError, match="layer: activations take one layer"):
        activations(model, images(), layer=["2", "6"])
    with pytest.raises(TypeError, match="reshape_fn: unknown option for activations"):
        activations(model, images(), layer="6", reshape_fn=None)
    with pytest.raises(ValueError, match="layer: the output of '10' has shape"):
        activations(model, images(), layer="10")
    assert_untouched(model, before)


def test_inputs_of_another_dtype_than_the_model_fail_before_it_runs():
    model = Counting(conv_net(dtype=torch.float64))
    fails(
        TypeError,
        re.escape("inputs: expected dtype torch.float64, the dtype of the model's parameters, got torch.float32; "
                  "convert them with inputs.to(torch.float64)"),
        images(),
        ["gradient", "gradcam"],
        layer="inner.6",
        model=model,
    )
    with pytest.raises(TypeError, match="inputs: expected dtype torch.float64"):
        activations(model, images(), layer="inner.6")
    assert model.calls == 0


def test_inputs_on_another_device_than_the_model_fail_before_it_runs():
    model = Counting(conv_net().to("meta"))
    pattern = re.escape("inputs: expected tensors on meta, where the model's parameters are, got cpu; "
                        "move them with inputs.to('meta')")
    with pytest.raises(ValueError, match=pattern):
        attribute(model, images(), "gradient")
    with pytest.raises(ValueError, match=pattern):
        activations(model, images(), layer="inner.6")
    assert model.calls == 0


def test_the_dtype_is_not_checked_where_the_model_may_cast_the_inputs_itself():
    # Under autocast, operations cast their inputs.
    model = conv_net()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        maps = attribute(model, images(dtype=torch.bfloat16), ["gradient", "gradcam"], layer="6")
    assert all(torch.isfinite(v).all() and v.dtype == torch.float32 for v in maps.values())

    # Parameters of several dtypes: the model casts between them, so nothing is assumed.
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.Conv2d(3, 4, 3).double()
            self.rest = nn.Sequential(nn.Flatten(), nn.Linear(4 * 10 * 10, 2))

        def forward(self, x):
            return self.rest(self.first(x.double()).float())

    assert attribute(Mixed(), images(), "gradient")["gradient"].shape == (3, 12, 12)


def test_the_device_is_not_checked_where_accelerate_moves_the_inputs():
    from tb_saliency.attribution.checks import check_inputs_match_model

    model = conv_net().to("meta")
    with pytest.raises(ValueError, match="inputs: expected tensors on meta"):
        check_inputs_match_model(model, images())
    model[4]._hf_hook = object()  # accelerate's AlignDevicesHook moves each module's inputs itself
    check_inputs_match_model(model, images())
