"""The engine on a CUDA device (marked `cuda`: deselected where none is present, as in CI; run them
on a GPU machine with `python -m pytest -m cuda`): the same maps as on the CPU, on the inputs'
device, with the model and both RNGs left alone."""

import re
import threading

import pytest
import torch
from torch import nn

from tb_saliency.attribution import ANY_MODEL_METHODS, METHODS, attribute, explain

from .helpers import assert_untouched, conv_net, images, snapshot, train_like

pytestmark = pytest.mark.cuda

FAST = {"smoothgrad_samples": 3, "ig_steps": 4, "rise_masks": 8, "layer": "6"}
DETERMINISTIC = [m for m in METHODS if m != "smoothgrad"]  # noise streams differ between devices


def test_maps_equal_the_cpu_ones_and_stay_on_the_device():
    model = train_like(conv_net())
    cpu = attribute(model, images(), list(ANY_MODEL_METHODS), **FAST)
    model.cuda()
    before = snapshot(model)
    cuda_rng = torch.cuda.get_rng_state()
    result = explain(model, images().cuda(), list(ANY_MODEL_METHODS), **FAST)
    assert_untouched(model, before)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_rng)
    for key in DETERMINISTIC:
        values = result.maps[key].values
        assert values.device.type == "cuda" and values.dtype == torch.float32
        torch.testing.assert_close(values.cpu(), cpu[key], rtol=1e-4, atol=1e-5)
    one_copy = attribute(model, images().cuda(), "smoothgrad", smoothgrad_samples=3, memory_limit=1)
    torch.testing.assert_close(one_copy["smoothgrad"], result.maps["smoothgrad"].values)


def test_inputs_on_the_cpu_for_a_cuda_model_name_inputs():
    model = conv_net().cuda()
    with pytest.raises(ValueError, match=re.escape("inputs: expected tensors on cuda:0, where the model's parameters")):
        attribute(model, images(), "gradient")
    with pytest.raises(ValueError, match="inputs: expected tensors on cuda:0"):
        attribute(nn.DataParallel(model), images(), "gradient")  # DataParallel would scatter; its module does not
    maps = attribute(nn.DataParallel(model), images().cuda(), "gradcam", layer="module.6")
    assert maps["gradcam"].device.type == "cuda"


def test_a_float16_overflow_names_the_samples():
    model = conv_net().cuda().half()
    with torch.no_grad():
        model[10].weight *= 1e3  # logits near 100 for ordinary inputs
    x = images().cuda().half()
    x[1] *= 1e4  # still finite in float16, but its logits (near 1e6) are not
    with pytest.raises(ValueError, match=re.escape("model: expected finite outputs, got NaN or Inf for sample 1;")):
        attribute(model, x, "gradient")


def test_validation_loop_labels_moved_to_the_device_inside_inference_mode():
    model = conv_net().cuda()
    reference = attribute(model, images().cuda(), list(ANY_MODEL_METHODS), target=[0, 3, 1], **FAST)
    with torch.inference_mode():
        labels = torch.tensor([0, 3, 1]).to("cuda")
        maps = attribute(model, images().to("cuda"), list(ANY_MODEL_METHODS), target=labels, **FAST)
    for key in reference:
        assert torch.equal(maps[key], reference[key]), key


def test_autocast_and_threads():
    model = train_like(conv_net()).cuda()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        maps = attribute(model, images().cuda(), ["gradient", "gradcam"], layer="6")
    assert all(torch.isfinite(v).all() for v in maps.values())
    before = snapshot(model)
    reference = attribute(model, images().cuda(), ["gradient", "gradcam", "scorecam"], layer="6")
    errors, results = [], []

    def worker():
        try:
            for _ in range(5):
                results.append(attribute(model, images().cuda(), ["gradient", "gradcam", "scorecam"], layer="6"))
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and len(results) == 20, errors
    for maps in results:
        for key in reference:
            torch.testing.assert_close(maps[key], reference[key])
    assert_untouched(model, before)
