"""NaN and Inf are refused, never returned: the error names the argument to blame and the samples."""

import re

import pytest
import torch
from torch import nn

from tb_saliency.attribution import ANY_MODEL_METHODS, CAM_METHODS, METHODS, activations, attribute

from .helpers import C, H, N, W, Counting, assert_untouched, conv_net, images, snapshot, train_like

FAST = {"smoothgrad": {"smoothgrad_samples": 3}, "integrated_gradients": {"ig_steps": 4}, "rise": {"rise_masks": 6}}
CHUNKED = {"smoothgrad": "smoothgrad's noisy copies", "integrated_gradients": "integrated_gradients' path nodes",
           "scorecam": "scorecam's masked copies", "occlusion": "occlusion's occluded copies",
           "rise": "rise's masked copies", "ablationcam": "ablationcam's ablated copies"}


class Poison(nn.Module):
    """The identity, except that the rows of `samples` become `value` from the `start`-th call on.

    Rows are copy-major (row = copy·N + sample), as the engine stacks perturbed copies."""

    def __init__(self, samples, value=float("nan"), start=1):
        super().__init__()
        self.samples, self.value, self.start, self.calls = samples, value, start, 0

    def forward(self, x):
        self.calls += 1
        if self.calls < self.start:
            return x
        rows = torch.tensor([row % N in self.samples for row in range(x.shape[0])])
        return torch.where(rows.view(-1, *[1] * (x.dim() - 1)), torch.full_like(x, self.value), x)


def poisoned(samples, value=float("nan"), start=1, at=None):
    """conv_net whose layer `at` (None: the logits) ends in a Poison."""
    model = train_like(conv_net())
    if at is None:
        return nn.Sequential(*model, Poison(samples, value, start))
    model[at] = nn.Sequential(model[at], Poison(samples, value, start))
    return model


def refused(model, pattern, methods, **kwargs):
    before = snapshot(model)
    options = {k: v for m in methods for k, v in FAST.get(m, {}).items()}
    with pytest.raises(ValueError, match=pattern):
        attribute(model, images(), methods, **options, **kwargs)
    assert_untouched(model, before)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("method", ANY_MODEL_METHODS)
def test_outputs_with_nan_or_inf_name_the_samples(method, value):
    layer = {"layer": "6"} if method in CAM_METHODS else {}
    refused(
        poisoned([0, 2], value),
        re.escape("model: expected finite outputs, got NaN or Inf for samples 0, 2; the model overflowed"),
        [method],
        **layer,
    )


@pytest.mark.parametrize("method", CHUNKED)
def test_nan_in_a_chunk_names_the_copies_and_stops_at_that_chunk(method):
    model = poisoned([1], start=3)  # the clean pass (and IG's baseline) are fine
    counting = Counting(model)
    layer = {"layer": "inner.6"} if method in CAM_METHODS else {}
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        attribute(counting, images(), method, memory_limit=1, **layer, **FAST.get(method, {}))
    # One copy per pass; the third pass is IG's first node (its second is the baseline), or the second copy.
    copy = 0 if method == "integrated_gradients" else 1
    assert str(info.value).startswith(
        f"model: expected finite outputs, got NaN or Inf for sample 1 in {CHUNKED[method]} {copy}; "
    )
    assert counting.calls == 3, "the call went on after the chunk that gave NaN"
    assert_untouched(model, before)


def test_nan_on_the_integrated_gradients_baseline():
    refused(
        poisoned([2], start=2),
        "model: expected finite outputs, got NaN or Inf for sample 2 on the integrated_gradients baseline",
        ["integrated_gradients"],
    )


class SqrtNet(nn.Module):
    """√x then a linear head: finite outputs on inputs ≥ 0, but an infinite gradient wherever an input is
    exactly 0. The inputs are made non-negative by the test, not by the model: a `clamp(min=0)` in front
    would decide the gradient at 0 by clamp's gradient at its bound, which torch 2.14 changed to zero."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(C, 4, 3, padding=1)
        self.head = nn.Linear(4 * H * W, 3)

    def forward(self, x):
        return self.head(self.conv(x.sqrt()).flatten(1))


def zero_in_sample_1():
    x = images().abs() + 0.1
    x[1, 0, 4, 4] = 0.0
    return x


@pytest.mark.parametrize(
    "method, pattern",
    [
        ("gradient",
         "model: expected finite 'gradient' values, got NaN or Inf for sample 1; the backward pass overflowed"),
        ("input_x_gradient", "model: expected finite 'input_x_gradient' values, got NaN or Inf for sample 1"),
        ("integrated_gradients", "model: expected finite gradients, got NaN or Inf for sample 1 in "
                                 "integrated_gradients' path nodes 0–3; the backward pass overflowed"),
    ],
)
def test_a_gradient_that_overflows_names_the_method_and_the_samples(method, pattern):
    model = SqrtNet()
    before = snapshot(model)
    with pytest.raises(ValueError, match=re.escape(pattern)):
        attribute(model, zero_in_sample_1(), method, **FAST.get(method, {}))
    assert_untouched(model, before)
    # CAMs on a layer after the square root have finite gradients, and are returned.
    maps = attribute(model, zero_in_sample_1(), ["gradcam", "hirescam"], layer="conv")
    assert all(torch.isfinite(v).all() for v in maps.values())


def test_a_callable_target_returning_nan_is_blamed():
    def target(outputs):
        return outputs[:, 0] * torch.tensor([1.0, float("nan"), 1.0])

    for methods in (["gradient"], ["gradcam"], ["integrated_gradients"], ["scorecam"]):
        layer = {"layer": "6"} if methods[0] in ("gradcam", "scorecam") else {}
        refused(
            train_like(conv_net()),
            re.escape("target: expected finite scores from the callable, got NaN or Inf for sample 1"),
            methods,
            target=target,
            **layer,
        )


def test_nan_activations_of_the_layer_are_named():
    pattern = re.escape("model: expected finite activations of layer '4', got NaN or Inf for sample 2")
    refused(poisoned([2], at=4), pattern, ["gradcam"], layer="4")
    model = poisoned([2], at=4)
    before = snapshot(model)
    with pytest.raises(ValueError, match=pattern):
        activations(model, images(), layer="4")
    assert_untouched(model, before)


def test_activations_refuse_nan_outputs_too():
    model = poisoned([0])
    with pytest.raises(ValueError, match=re.escape("model: expected finite outputs, got NaN or Inf for sample 0")):
        activations(model, images(), layer="4")


def test_inputs_with_nan_or_inf_are_refused_before_the_model_runs():
    x = images()
    x[1, 0, 0, 0] = float("inf")
    model = Counting(conv_net())
    for call in (lambda: attribute(model, x, "gradient"), lambda: activations(model, x, layer="inner.4")):
        with pytest.raises(ValueError, match=re.escape("inputs: expected finite values, got NaN or Inf for sample 1")):
            call()
    assert model.calls == 0


def test_many_bad_samples_are_counted_not_all_listed():
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, 2), Poison(range(N)))
    x = torch.randn(10 * N, C, H, W)
    with pytest.raises(ValueError, match=re.escape("got NaN or Inf for samples 0, 1, 2, 3, 4, 5, 6, 7 and 22 more;")):
        attribute(model, x, "gradient")
