"""Results stay on the inputs' (or maps') device and match the CPU's.

No GPU is lent to CI, but the "meta" device runs the same code paths without data: a stray .cpu() or
a tensor made on the default device shows up there. On a machine with CUDA the same checks also run
on "cuda" (marked `cuda`: `python -m pytest -m cuda`), against the CPU's numbers, and the CUDA RNG
must be left alone too.
"""

import pytest
import torch

from tb_saliency.attribution import explain
from tb_saliency.metrics import deletion, energy_pointing_game, insertion, pointing_game, randomisation

from .helpers import assert_untouched, conv_net, images, snapshot, train_like

# Deselected, not skipped, where there is no GPU (tests/conftest.py); run them with -m cuda there.
needs_cuda = pytest.mark.cuda


@pytest.mark.parametrize("metric", [deletion, insertion])
def test_perturbation_games_stay_on_the_meta_device(metric):
    model = conv_net().to("meta").eval()
    maps = torch.rand(3, 6, 6)  # maps from anywhere go to the inputs' device
    result = metric(model, images().to("meta"), maps, steps=3, baseline=0.0, memory_limit=1)
    assert result.curve.device.type == "meta" and result.auc.device.type == "meta"
    assert result.curve.shape == (3, 4) and result.targets.device.type == "meta"
    several = metric(model, images().to("meta"), {"a": maps, "b": maps.flip(-1)}, steps=3, baseline=0.0)
    assert {key: (r.curve.device.type, tuple(r.curve.shape)) for key, r in several.items()} == \
        {"a": ("meta", (3, 4)), "b": ("meta", (3, 4))}


@needs_cuda
@pytest.mark.parametrize("metric", [deletion, insertion])
@pytest.mark.parametrize("baseline", ["zeros", "blur", "uniform", 0.25])
def test_perturbation_games_on_a_gpu_match_the_cpu(metric, baseline):
    device = "cuda"
    model = train_like(conv_net(dtype=torch.float64))
    x, maps = images(dtype=torch.float64), torch.rand(3, 6, 6, generator=torch.Generator().manual_seed(4))
    cpu = metric(model, x, maps, steps=5, baseline=baseline)
    model.to(device)
    torch.cuda.synchronize()
    before, cuda_rng = snapshot(model), torch.cuda.get_rng_state()
    result = metric(model, x.to(device), maps.to(device), steps=5, baseline=baseline, memory_limit=1)
    assert_untouched(model, before)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_rng)
    assert result.curve.device.type == device and result.auc.device.type == device
    if baseline != "uniform":  # the uniform noise comes from the device's own generator
        torch.testing.assert_close(result.curve.cpu(), cpu.curve, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(result.auc.cpu(), cpu.auc, rtol=1e-9, atol=1e-12)


@needs_cuda
def test_localisation_on_a_gpu_matches_the_cpu():
    device = "cuda"
    maps = torch.rand(4, 5, 5, generator=torch.Generator().manual_seed(2))
    masks = torch.rand(4, 20, 20, generator=torch.Generator().manual_seed(3)) < 0.2
    masks[:, 0, 0] = True
    for metric, field in ((pointing_game, "hits"), (energy_pointing_game, "energy")):
        cpu = getattr(metric(maps, masks), field)
        gpu = getattr(metric(maps.to(device), masks), field)  # masks follow the maps
        assert gpu.device.type == device
        torch.testing.assert_close(gpu.cpu(), cpu)
    boxes = pointing_game(maps.to(device), boxes=[[1, 1, 9, 9]] * 4, size=(20, 20))
    assert boxes.points.device.type == device and boxes.distances.device.type == device


@needs_cuda
def test_randomisation_on_a_gpu_randomises_the_same_weights_and_leaves_the_cuda_rng():
    device = "cuda"
    model = train_like(conv_net(dtype=torch.float64))
    x = images(dtype=torch.float64)
    cpu = randomisation(model, x, ["gradient", "gradcam"], layer="6")
    model.to(device)
    before, cuda_rng = snapshot(model), torch.cuda.get_rng_state()
    result = randomisation(model, x.to(device), ["gradient", "gradcam"], layer="6")
    assert_untouched(model, before)
    assert torch.equal(torch.cuda.get_rng_state(), cuda_rng)
    assert result.layers == cpu.layers
    for key in ("gradient", "gradcam"):
        assert result.maps[key].device.type == device and result.correlations[key].device.type == device
        torch.testing.assert_close(result.maps[key].cpu(), cpu.maps[key], rtol=1e-7, atol=1e-10)
        torch.testing.assert_close(result.correlations[key].cpu(), cpu.correlations[key], equal_nan=True)
    assert torch.equal(result.targets.cpu(), explain(model, x.to(device), "gradient").targets.cpu())
