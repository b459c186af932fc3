"""Agreement with Quantus 0.6 wherever one of its metrics shares our definition (see the differences in
tb_saliency/metrics/__init__.py). Quantus is part of the `test` extra: without it these tests fail."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tb_saliency.attribution import attribute
from tb_saliency.metrics import (
    deletion,
    energy_pointing_game,
    insertion,
    pointing_game,
    randomisation,
    spearman,
)

from .helpers import conv_net, images

pytestmark = pytest.mark.quantus

QUANTUS_VERSION = "0.6.0"
N, C, H, W = 4, 3, 12, 12


@pytest.fixture(scope="module")
def quantus():
    try:
        import quantus
    except ImportError as error:
        pytest.fail(
            f"quantus is not installed ({error}): install the test extra, pip install -e '.[test]' (it pins "
            f"quantus=={QUANTUS_VERSION}, which needs no particular torch and leaves the installed one alone)",
            pytrace=False,
        )
    if quantus.__version__ != QUANTUS_VERSION:
        pytest.fail(f"these agreements are checked against quantus {QUANTUS_VERSION}, found {quantus.__version__}")
    return quantus


@pytest.fixture(scope="module")
def case():
    model = conv_net().eval()
    x = images(n=N)
    y = np.array([0, 1, 2, 3])
    # Distinct positive values: every ordering is unambiguous, also on the reversed (1 - map) order.
    maps = torch.randperm(H * W, generator=torch.Generator().manual_seed(3)).float().add(1).div(H * W + 1)
    maps = torch.stack([maps.roll(i) for i in range(N)]).view(N, H, W)
    return model, x, y, maps


def masks_of(seed):
    g = torch.Generator().manual_seed(seed)
    masks = torch.rand(N, H, W, generator=g) < 0.3
    masks[:, 0, 0] = True  # never empty
    return masks


def test_deletion_is_pixel_flipping_with_whole_pixels_per_step(quantus, case):
    model, x, y, maps = case
    steps = 12  # whole pixels per step (C·H·W/steps a multiple of C) that divide H·W, as Quantus asks
    metric = quantus.PixelFlipping(features_in_step=C * H * W // steps, perturb_baseline=0.0, disable_warnings=True)
    theirs = np.array(metric(model=model, x_batch=x.numpy(), y_batch=y, a_batch=maps[:, None].numpy(), softmax=True))
    ours = deletion(model, x, maps, target=torch.tensor(y), steps=steps, baseline=0.0)
    assert theirs.shape == (N, steps)
    np.testing.assert_allclose(ours.curve[:, 1:].numpy(), theirs, rtol=0, atol=0)


def test_insertion_is_pixel_flipping_of_the_least_relevant_first_reversed(quantus, case):
    model, x, y, maps = case
    steps = 12
    metric = quantus.PixelFlipping(features_in_step=C * H * W // steps, perturb_baseline=0.5, disable_warnings=True)
    # The least relevant pixel first (Quantus refuses all-negative maps); in float64, since 1 - map in
    # float32 rounds nearby values into ties, which the two break differently.
    reversed_maps = (1 - maps.double())[:, None].numpy()
    theirs = np.array(metric(model=model, x_batch=x.numpy(), y_batch=y, a_batch=reversed_maps, softmax=True))
    ours = insertion(model, x, maps, target=torch.tensor(y), steps=steps, baseline=0.5)
    # After j least-relevant steps, the steps - j most relevant remain on the baseline: insertion step steps - j.
    np.testing.assert_allclose(ours.curve[:, :steps].numpy(), theirs[:, ::-1], rtol=0, atol=0)


def test_deletion_of_blocks_is_region_perturbation_with_patches(quantus, case):
    model, x, y, maps = case
    # Maps constant on 2×2 blocks, distinct between blocks: deleting 4 pixels per step deletes one patch.
    blocks = maps[:, : H // 2, : W // 2].repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)
    patches = (H // 2) * (W // 2)
    metric = quantus.RegionPerturbation(
        patch_size=2, regions_evaluation=patches, perturb_baseline=0.0, disable_warnings=True
    )
    theirs = np.array(metric(model=model, x_batch=x.numpy(), y_batch=y, a_batch=blocks[:, None].numpy(), softmax=True))
    ours = deletion(model, x, blocks, target=torch.tensor(y), steps=patches, baseline=0.0)
    assert theirs.shape == (N, patches)
    # Quantus reports the drop from the clean score.
    np.testing.assert_allclose((ours.curve[:, :1] - ours.curve[:, 1:]).numpy(), theirs, rtol=1e-5, atol=1e-7)


def test_pointing_game_with_no_tolerance_and_a_unique_maximum(quantus, case):
    model, x, y, maps = case
    hits = []
    for seed in range(5):
        masks = masks_of(seed)
        metric = quantus.PointingGame(disable_warnings=True)
        s_batch = masks[:, None].numpy().astype(np.float32)
        theirs = metric(model=model, x_batch=x.numpy(), y_batch=y, a_batch=maps[:, None].numpy(), s_batch=s_batch)
        ours = pointing_game(maps, masks, tolerance=0)
        assert ours.hits.tolist() == [bool(h) for h in theirs]
        hits += ours.hits.tolist()
    assert any(hits) and not all(hits)  # both outcomes were compared


def test_energy_is_attribution_localisation_of_positive_values_and_relevance_mass_accuracy(quantus, case):
    model, x, y, maps = case
    signed = maps - 0.4
    for seed in range(3):
        masks = masks_of(seed)
        s_batch = masks[:, None].numpy().astype(np.float32)
        localisation = quantus.AttributionLocalisation(
            abs=False, positive_attributions=True, normalise=False, disable_warnings=True
        )
        a_batch = signed[:, None].numpy()
        theirs = localisation(model=model, x_batch=x.numpy(), y_batch=y, a_batch=a_batch, s_batch=s_batch)
        np.testing.assert_allclose(energy_pointing_game(signed, masks).energy.numpy(), theirs, rtol=1e-6, atol=1e-7)
        mass = quantus.RelevanceMassAccuracy(normalise=False, disable_warnings=True)
        theirs = mass(model=model, x_batch=x.numpy(), y_batch=y, a_batch=maps[:, None].numpy(), s_batch=s_batch)
        np.testing.assert_allclose(energy_pointing_game(maps, masks).energy.numpy(), theirs, rtol=1e-6, atol=1e-7)


def explain_func(model, inputs, targets, method="gradient", **options):
    """tb_saliency's maps for Quantus, upsampled to the input (Quantus needs input-sized maps)."""
    maps = attribute(model, torch.as_tensor(inputs), method, target=torch.as_tensor(targets), **options)[method]
    return F.interpolate(maps[:, None], size=inputs.shape[-2:], mode="bilinear", align_corners=False).numpy()


def input_resolution_spearman(result, method):
    """ρ of the first stage's |maps| upsampled to the input, as Quantus compares them."""

    def up(maps):
        return F.interpolate(maps[:, None], size=(H, W), mode="bilinear", align_corners=False).abs().flatten(1)

    return spearman(up(result.original[method]), up(result.maps[method][0]))


@pytest.mark.parametrize("method, options", [("gradient", {}), ("gradcam", {"layer": "4"})])
def test_randomisation_agrees_with_mprt_layer_by_layer(quantus, case, method, options):
    model, x, y, _ = case
    seed = 100
    # Quantus seeds every layer with torch.manual_seed(seed + 1); ours seeds layer i with reinit_seed + i.
    positions = {name: i for i, (name, _) in enumerate(model.named_modules())}
    kwargs = {"explain_func": explain_func, "explain_func_kwargs": {"method": method, **options}}
    mprt = quantus.MPRT(layer_order="independent", seed=seed, normalise=False, disable_warnings=True)
    theirs = mprt(model=model, x_batch=x.numpy(), y_batch=y, a_batch=None, **kwargs)
    assert list(theirs) == ["original", "0", "1", "4", "5", "10"]
    np.testing.assert_allclose(theirs["original"], 1.0)
    for name in ["0", "1", "4", "5", "10"]:
        ours = randomisation(
            model, x, method, target=torch.tensor(y), layers=[name], reinit_seed=seed + 1 - positions[name], **options
        )
        # Same maps, compared at the input's resolution as Quantus does (ours: the map's own).
        rho = input_resolution_spearman(ours, method)
        np.testing.assert_allclose(rho.numpy(), theirs[name], rtol=1e-9, atol=1e-9)
        if method == "gradient":
            np.testing.assert_allclose(ours.correlations[method][0].numpy(), theirs[name], rtol=1e-6, atol=1e-6)

    # Cascading from the top: the first stage randomises the head alone in both.
    top = quantus.MPRT(layer_order="top_down", seed=seed, normalise=False, disable_warnings=True)
    theirs = top(model=model, x_batch=x.numpy(), y_batch=y, a_batch=None, **kwargs)
    ours = randomisation(model, x, method, target=torch.tensor(y), reinit_seed=seed + 1 - positions["10"], **options)
    assert list(theirs)[1:] == list(ours.layers) == ["10", "5", "4", "1", "0"]
    np.testing.assert_allclose(input_resolution_spearman(ours, method).numpy(), theirs["10"], rtol=1e-9, atol=1e-9)
