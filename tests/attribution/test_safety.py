"""An attribution call inside a training loop leaves the training run exactly as it was."""

import gc
import weakref

import numpy as np
import pytest
import torch
from torch import nn

from tb_saliency.attribution import ANY_MODEL_METHODS, CAM_METHODS, METHODS, REGISTRY, activations, attribute, explain

from .helpers import assert_untouched, conv_net, images, snapshot, train_like

FAST = {"smoothgrad": {"smoothgrad_samples": 3}, "integrated_gradients": {"ig_steps": 4}, "rise": {"rise_masks": 6}}
CASES = [[m] for m in ANY_MODEL_METHODS] + [list(ANY_MODEL_METHODS)]
CHUNKED = [m for m in ANY_MODEL_METHODS if REGISTRY[m].chunked]


def call_kwargs(methods):
    kwargs = {}
    for m in methods:
        kwargs.update(FAST.get(m, {}))
    if any(m in CAM_METHODS for m in methods):
        kwargs["layer"] = "6"
    return kwargs


@pytest.mark.parametrize("methods", CASES, ids=lambda m: "+".join(m) if len(m) < 3 else "all")
def test_model_process_and_hooks_are_untouched(methods):
    model = train_like(conv_net())
    user_hook = model[4].register_forward_hook(lambda *args: None)  # the caller's own hooks stay
    before = snapshot(model)
    maps = attribute(model, images(), methods, **call_kwargs(methods))
    assert_untouched(model, before)
    assert len(maps) == len(methods)
    user_hook.remove()


class Boom(Exception):
    pass


def raising_target(after_calls):
    calls = {"n": 0}

    def target(outputs):
        calls["n"] += 1
        if calls["n"] > after_calls:
            raise Boom("target failed midway")
        return outputs[:, 1]

    return target


@pytest.mark.parametrize("methods", CASES, ids=lambda m: "+".join(m) if len(m) < 3 else "all")
def test_untouched_when_a_method_raises_midway(methods):
    model = train_like(conv_net())
    before = snapshot(model)
    # The clean pass succeeds; the next scoring (a chunk, or the baseline) raises. Methods that need
    # no second scoring raise in the clean pass itself.
    after = 0 if all(m not in CHUNKED for m in methods) else 1
    with pytest.raises(Boom):
        attribute(model, images(), methods, target=raising_target(after), **call_kwargs(methods))
    gc.collect()
    assert_untouched(model, before)


class FailsOnThirdForward(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model, self.calls = model, 0

    def forward(self, x):
        self.calls += 1
        if self.calls == 3:
            raise Boom("forward failed")
        return self.model(x)


@pytest.mark.parametrize("method", CHUNKED)
def test_untouched_when_the_model_raises_in_a_chunk(method):
    model = FailsOnThirdForward(train_like(conv_net()))
    before = snapshot(model)
    kwargs = {**call_kwargs([method]), "memory_limit": 1}
    if "layer" in kwargs:
        kwargs["layer"] = "model.6"
    with pytest.raises(Boom):
        attribute(model, images(), method, **kwargs)
    gc.collect()
    assert_untouched(model, before)


def test_works_inside_no_grad_and_inference_mode_like_a_validation_loop():
    model = train_like(conv_net())
    x = images()
    reference = attribute(model, x, list(ANY_MODEL_METHODS), **call_kwargs(ANY_MODEL_METHODS))
    before = snapshot(model)
    with torch.no_grad():
        inside = attribute(model, x, list(ANY_MODEL_METHODS), **call_kwargs(ANY_MODEL_METHODS))
        assert not torch.is_grad_enabled()
    assert_untouched(model, before)
    with torch.inference_mode():
        x_inference = x.clone()
        in_inference = attribute(model, x_inference, list(ANY_MODEL_METHODS), **call_kwargs(ANY_MODEL_METHODS))
        assert torch.is_inference_mode_enabled()
    assert_untouched(model, before)
    for key in reference:
        torch.testing.assert_close(inside[key], reference[key], rtol=0, atol=0)
        torch.testing.assert_close(in_inference[key], reference[key], rtol=0, atol=0)


def test_targets_made_inside_inference_mode_like_a_validation_loop_s_labels():
    model = train_like(conv_net())
    kwargs = call_kwargs(ANY_MODEL_METHODS)
    reference = attribute(model, images(), list(ANY_MODEL_METHODS), target=[0, 3, 1], **kwargs)
    before = snapshot(model)
    with torch.inference_mode():
        for batch_labels in (torch.tensor([0, 3, 1]), [0, 3, 1], np.array([0, 3, 1])):
            x = images()  # the batch and its labels, as a DataLoader gives them inside the loop
            labels = batch_labels.to("cpu") if isinstance(batch_labels, torch.Tensor) else batch_labels
            maps = attribute(model, x, list(ANY_MODEL_METHODS), target=labels, **kwargs)
            for key in reference:
                assert torch.equal(maps[key], reference[key]), key
    assert_untouched(model, before)


def test_maps_are_computed_in_eval_mode_so_dropout_and_batch_statistics_do_not_leak_in():
    model = train_like(conv_net())
    x = images()
    a = attribute(model, x, ["gradient", "gradcam"], layer="6")
    b = attribute(model, x, ["gradient", "gradcam"], layer="6")
    for key in a:
        assert torch.equal(a[key], b[key])
    # One sample's map does not depend on the rest of the batch.
    single = attribute(model, x[:1], ["gradient", "gradcam"], layer="6")
    for key in a:
        torch.testing.assert_close(single[key][0], a[key][0], rtol=1e-5, atol=1e-7)
    assert explain(model, x, "gradient").maps["gradient"].options["model_mode"] == "eval"


class Probe(nn.Module):
    """Keeps a weak reference to every tensor that flows through it."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(weakref.ref(x))
        return x


@pytest.mark.parametrize("methods", CASES, ids=lambda m: "+".join(m) if len(m) < 3 else "all")
def test_nothing_keeps_the_autograd_graph_alive(methods):
    base = conv_net()
    probe = Probe()
    model = nn.Sequential(*list(base)[:7], probe, *list(base)[7:])
    layer_outputs = []
    # Registered before the engine's own hook, so it sees the very tensor the engine captures.
    hook = model[6].register_forward_hook(lambda m, i, o: layer_outputs.append(weakref.ref(o)))
    x = images()
    gc.collect()
    gc.disable()  # every tensor must be freed by reference counting alone: no cycle holds a graph
    try:
        result = explain(model, x, methods, **call_kwargs(methods))
        assert probe.seen and layer_outputs
        assert all(ref() is None for ref in probe.seen), "a tensor of a forward pass is still alive"
        assert all(ref() is None for ref in layer_outputs), "the captured activations are still alive"
    finally:
        gc.enable()
        hook.remove()
    tensors = [m.values for m in result.maps.values()] + [
        s for m in result.maps.values() for s in m.statistics.values()
    ]
    tensors += [result.outputs, result.target_scores, result.probabilities]
    for t in tensors:
        assert t.grad_fn is None and not t.requires_grad


def test_inputs_are_not_modified_and_keep_their_requires_grad():
    model = conv_net()
    x = images().requires_grad_(True)
    copy = x.detach().clone()
    attribute(model, x, list(ANY_MODEL_METHODS), **call_kwargs(ANY_MODEL_METHODS))
    assert x.requires_grad and x.grad is None and x.is_leaf
    assert torch.equal(x.detach(), copy)


def test_maps_come_back_on_the_inputs_device_and_dtype():
    model = conv_net()
    for dtype, expected in ((torch.float32, torch.float32), (torch.float64, torch.float64)):
        maps = attribute(model.to(dtype), images(dtype=dtype), list(ANY_MODEL_METHODS), **call_kwargs(ANY_MODEL_METHODS))
        for values in maps.values():
            assert values.device == images().device and values.dtype == expected


def test_maps_stay_on_a_device_other_than_the_cpu():
    # No GPU is lent to CI, but the "meta" device runs the same code paths without data: a stray
    # .cpu() or a tensor made on the default device would show up here. Noise methods are left
    # out (those that take a seed) only because a torch.Generator cannot live on "meta".
    model = conv_net().to("meta")
    methods = [m for m in ANY_MODEL_METHODS if "seed" not in REGISTRY[m].all_options]
    result = explain(model, images().to("meta"), methods, layer="6")
    for key, value in result.maps.items():
        assert value.values.device.type == "meta", key
    assert result.target_scores.device.type == "meta"


def test_noise_comes_from_its_own_seedable_generator():
    model = conv_net()
    x = images()
    state = torch.get_rng_state()
    a = attribute(model, x, "smoothgrad", smoothgrad_samples=4, seed=7)
    b = attribute(model, x, "smoothgrad", smoothgrad_samples=4, seed=7, memory_limit=1)
    c = attribute(model, x, "smoothgrad", smoothgrad_samples=4, seed=8)
    assert torch.equal(torch.get_rng_state(), state)
    torch.testing.assert_close(a["smoothgrad"], b["smoothgrad"])  # chunking does not change the noise
    assert not torch.allclose(a["smoothgrad"], c["smoothgrad"])
    generator = torch.Generator().manual_seed(7)
    d = explain(model, x, "smoothgrad", smoothgrad_samples=4, generator=generator)
    torch.testing.assert_close(d.maps["smoothgrad"].values, a["smoothgrad"])
    assert d.maps["smoothgrad"].options["generator"] == "user"
    fresh = explain(model, x, "smoothgrad", smoothgrad_samples=2, seed=None).maps["smoothgrad"].options["seed"]
    assert isinstance(fresh, int)  # a drawn seed is recorded, so the maps can be reproduced


def test_smoothgrad_noise_depends_on_the_dtype_as_documented():
    from tb_saliency.attribution.options import OPTIONS

    x = images(n=2)
    single = attribute(conv_net(), x, "smoothgrad", smoothgrad_samples=2, seed=3)["smoothgrad"]
    double = attribute(conv_net(dtype=torch.float64), x.double(), "smoothgrad", smoothgrad_samples=2, seed=3)
    # Not the same noise at another precision: the difference is far above float32 rounding.
    assert (double["smoothgrad"] - single.double()).abs().max() > 1e-3 * single.abs().max()
    assert "float64 inputs get other noise than float32" in OPTIONS["seed"].doc


def test_activations_leave_the_model_untouched_and_run_under_inference_mode():
    model = train_like(conv_net())
    before = snapshot(model)
    result = activations(model, images(), layer="4", max_channels=3)
    assert_untouched(model, before)
    with torch.inference_mode():
        again = activations(model, images(), layer="4", max_channels=3)
    assert torch.equal(result.values, again.values)
    assert_untouched(model, before)
