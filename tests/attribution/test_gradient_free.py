"""Occlusion, RISE, Eigen-CAM and Ablation-CAM: each against its reference, a closed form that only it
meets, forward passes without autograd, and layers that return a dict of FPN levels."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tb_saliency.attribution import CAM_METHODS, METHODS, REGISTRY, attribute, explain
from tb_saliency.attribution.rise import rise_masks

from .helpers import C, H, N, W, assert_untouched, conv_net, images, snapshot, train_like

TARGETS = [0, 3, 1]
# Enough of every other method to tell it apart from the one a closed form is about.
FAST = {"smoothgrad_samples": 3, "ig_steps": 8, "rise_masks": 16}


def others(space, but):
    return [m for m in METHODS if REGISTRY[m].space == space and m != but]


def options_for(methods):
    used = {o for m in methods for o in REGISTRY[m].all_options}
    return {k: v for k, v in FAST.items() if k in used}


# ---- occlusion ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("window, stride, baseline", [(4, 4, "zeros"), (5, 3, 0.5), (3, 2, "zeros"), (12, 5, -1.0)])
def test_occlusion_equals_captum_on_the_first_channel(window, stride, baseline):
    captum = pytest.importorskip("captum.attr")
    model = conv_net().eval()
    x = images()
    ours = attribute(model, x, "occlusion", target=TARGETS, occlusion_window=window, occlusion_stride=stride,
                     baseline=baseline)["occlusion"]
    theirs = captum.Occlusion(model).attribute(
        x, sliding_window_shapes=(C, window, window), strides=(C, stride, stride),
        baselines=0.0 if baseline == "zeros" else baseline, target=TARGETS,
    )
    # captum occludes every channel at once here, so its channels are equal; ours is one map per pixel.
    torch.testing.assert_close(theirs[:, 1], theirs[:, 0])
    torch.testing.assert_close(ours, theirs[:, 0], rtol=1e-5, atol=1e-6)


def test_occlusion_of_a_linear_model_is_the_closed_form_and_no_other_method_gives_it():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * H * W, 4))
    x = images()
    window, stride = 4, 2
    result = attribute(model, x, list(METHODS[:6]), target=1, occlusion_window=window, occlusion_stride=stride,
                       smoothgrad_samples=3, ig_steps=4, rise_masks=16)
    # f is linear: occluding a patch P with zeros drops f by Σ_{c, q∈P} w_cq x_cq, and each pixel averages
    # the drops of the patches that cover it.
    contribution = (model[1].weight[1].view(C, H, W) * x).sum(dim=1)  # N×H×W, summed over channels
    starts = range(0, H - window + 1, stride)
    total, count = torch.zeros(N, H, W), torch.zeros(H, W)
    for top in starts:
        for left in starts:
            drop = contribution[:, top:top + window, left:left + window].sum(dim=(1, 2))
            total[:, top:top + window, left:left + window] += drop[:, None, None]
            count[top:top + window, left:left + window] += 1
    expected = (total / count).detach()
    torch.testing.assert_close(result["occlusion"], expected, rtol=1e-5, atol=1e-5)
    for method in others("input", "occlusion"):
        assert not torch.allclose(result[method], expected, rtol=1e-3, atol=1e-3), method


def test_occlusion_options_are_checked_before_the_model_runs():
    model = train_like(conv_net())
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"occlusion_window: expected at most the shorter image side \(12 pixels\)"):
        attribute(model, images(), "occlusion", occlusion_window=13)
    with pytest.raises(ValueError, match=r"occlusion_stride: expected at most occlusion_window \(4\)"):
        attribute(model, images(), "occlusion", occlusion_window=4, occlusion_stride=5)
    with pytest.raises(ValueError, match=r"occlusion_window: expected an int >= 1 \(pixels\) or None, got 0"):
        attribute(model, images(), "occlusion", occlusion_window=0)
    with pytest.raises(ValueError, match="blur_sigma: only used with baseline='blur'"):
        attribute(model, images(), "occlusion", blur_sigma=2.0)
    assert_untouched(model, before)


def test_occlusion_defaults_and_record():
    result = explain(conv_net(), images(), "occlusion", baseline="blur").maps["occlusion"]
    # An eighth of 12 pixels, rounded up, moved by half of it: ceil((12 - 2) / 1) + 1 = 11 positions a side.
    assert result.options["window"] == 2 and result.options["stride"] == 1 and result.options["patches"] == 121
    assert result.options["baseline"] == "blur" and result.options["channel_reduction"] == "signed_sum"


# ---- RISE ---------------------------------------------------------------------------------------------


def paper_masks(count, cells, p, height, width, generator):
    """Petsiuk et al. 2018, section 3.2, one mask at a time: a cells×cells grid whose cells are 1 with
    probability p, upsampled bilinearly to (cells + 1)·C_H × (cells + 1)·C_W with C = ⌈size / cells⌉,
    cropped to H×W at a uniform shift in [0, C_H) × [0, C_W) (drawn as one index of the C_H·C_W shifts)."""
    cell_h, cell_w = -(-height // cells), -(-width // cells)
    masks = []
    for _ in range(count):
        grid = (torch.rand(cells, cells, generator=generator) < p).float()
        shift = int(torch.randint(0, cell_h * cell_w, (1,), generator=generator))
        dy, dx = divmod(shift, cell_w)
        up = F.interpolate(grid[None, None], size=((cells + 1) * cell_h, (cells + 1) * cell_w), mode="bilinear",
                           align_corners=False)[0, 0]
        masks.append(up[dy:dy + height, dx:dx + width])
    return torch.stack(masks)


@pytest.mark.parametrize("cells, p", [(7, 0.5), (3, 0.25), (5, 1.0)])
def test_rise_is_the_papers_estimator_with_the_same_masks(cells, p):
    model = conv_net().eval()
    x = images()
    count, seed = 40, 11
    ours = attribute(model, x, "rise", target=TARGETS, rise_masks=count, rise_cells=cells, rise_p=p, seed=seed)["rise"]
    masks = paper_masks(count, cells, p, H, W, torch.Generator().manual_seed(seed))
    assert torch.equal(rise_masks(count, cells, p, (H, W), generator=torch.Generator().manual_seed(seed),
                                  dtype=torch.float32, device="cpu"), masks)
    with torch.no_grad():
        scores = torch.stack([model(x * m)[torch.arange(N), TARGETS] for m in masks])  # count × N
    expected = torch.einsum("kn,khw->nhw", scores, masks) / (count * p)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-6)
    assert masks.min() >= 0 and masks.max() <= 1


def test_rise_masks_do_not_depend_on_the_chunk_size_and_come_from_the_seed():
    model = conv_net()
    state = torch.get_rng_state()
    a = attribute(model, images(), "rise", rise_masks=12, seed=5)["rise"]
    b = attribute(model, images(), "rise", rise_masks=12, seed=5, memory_limit=1)["rise"]
    c = attribute(model, images(), "rise", rise_masks=12, seed=6)["rise"]
    assert torch.equal(torch.get_rng_state(), state)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    record = explain(model, images(), "rise", rise_masks=12, seed=5).maps["rise"].options
    assert record["masks"] == 12 and record["cells"] == 7 and record["p"] == 0.5 and record["seed"] == 5


def test_rise_of_a_model_that_reads_one_pixel_peaks_there():
    # f(x) = x[0, 5, 8]: each mask's score is its own value at that pixel times x there, so the map is
    # Σ M_i(5, 8) M_i / (N·p) · x: the masks' correlation with that pixel, highest at the pixel itself.
    class OnePixel(nn.Module):
        def forward(self, x):
            return x[:, 0, 5, 8, None] * torch.ones(1, 2)

    x = torch.ones(2, C, H, W)
    saliency = attribute(OnePixel(), x, "rise", target=0, rise_masks=400, rise_cells=4)["rise"]
    assert all(int(s.flatten().argmax()) == 5 * W + 8 for s in saliency)


# ---- Eigen-CAM ----------------------------------------------------------------------------------------


def grad_cam_projection(activations: np.ndarray) -> np.ndarray:
    """pytorch-grad-cam 1.5.7's get_2d_projection (utils/svd_on_activations.py), as EigenCAM calls it,
    transcribed: the package cannot be imported beside this torch build (it imports torchvision)."""
    projections = []
    for a in activations:
        reshaped = a.reshape(a.shape[0], -1).transpose()
        reshaped = reshaped - reshaped.mean(axis=0)
        _, _, vt = np.linalg.svd(reshaped, full_matrices=True)
        projections.append((reshaped @ vt[0, :]).reshape(a.shape[1:]))
    return np.float32(projections)


def layer_output(model, x, layer):
    seen = []
    handle = dict(model.named_modules())[layer].register_forward_hook(lambda m, i, o: seen.append(o.detach().clone()))
    with torch.no_grad():
        model.eval()(x)
    handle.remove()
    return seen[0]


def test_eigencam_is_grad_cams_projection_signed_by_the_mean_activation():
    model = conv_net(seed=3)
    x = images(n=6)
    signed = attribute(model, x, "eigencam", layer="6", cam_relu=False)["eigencam"]
    a = layer_output(model, x, "6")
    reference = torch.from_numpy(grad_cam_projection(a.double().numpy())).double()
    for ours, theirs, activity in zip(signed.double(), reference, a.double().mean(dim=1)):
        # The SVD fixes the direction up to its sign; ours is the one that follows the activity.
        sign = 1.0 if torch.allclose(ours, theirs, rtol=1e-4, atol=1e-5) else -1.0
        torch.testing.assert_close(ours, sign * theirs, rtol=1e-4, atol=1e-5)
        assert ((ours - ours.mean()) * (activity - activity.mean())).sum() >= 0
    relu = attribute(model, x, "eigencam", layer="6")["eigencam"]
    torch.testing.assert_close(relu, signed.clamp(min=0))


@pytest.mark.parametrize("shape", [(3, 16, 2, 3), (3, 4, 5, 5), (2, 8, 4, 2)])
def test_eigencam_projection_is_grad_cams_whether_positions_or_channels_are_fewer(shape):
    a = torch.randn(*shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    ours = REGISTRY["eigencam"].compute(a)
    theirs = torch.from_numpy(grad_cam_projection(a.numpy())).double()
    for mine, reference in zip(ours, theirs):
        sign = 1.0 if (mine * reference).sum() >= 0 else -1.0
        torch.testing.assert_close(mine, sign * reference, rtol=1e-4, atol=1e-5)


def test_eigencam_of_rank_one_activations_is_the_closed_form_and_no_other_cam_gives_it():
    # A_k(ij) = c_k + u_k s(ij): centred per channel, the activations are u (s - s̄), whose first right
    # singular vector is ±u/|u|; the projection is |u| (s - s̄), signed so it follows the mean activation
    # c̄ + ū s, i.e. by the sign of ū.
    u = torch.tensor([0.5, -2.0, 1.0, 3.0])
    c = torch.tensor([1.0, 4.0, 0.0, 2.0])
    s = torch.linspace(-1, 2, 16).view(4, 4) ** 2

    class RankOne(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Identity()
            self.head = nn.Linear(4, 3)

        def forward(self, x):
            a = self.layer(c.view(1, 4, 1, 1) + u.view(1, 4, 1, 1) * s * x.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1))
            return self.head(a.mean(dim=(2, 3)))

    x = torch.ones(2, 3, 4, 4)
    torch.manual_seed(0)
    model = RankOne()
    methods = [m for m in CAM_METHODS]
    result = attribute(model, x, methods, layer="layer", target=0, cam_relu=False)
    expected = (u.norm() * (s - s.mean())).expand(2, 4, 4)
    torch.testing.assert_close(result["eigencam"], expected, rtol=1e-5, atol=1e-5)
    for method in methods:
        if method != "eigencam":
            assert not torch.allclose(result[method], expected, rtol=1e-3, atol=1e-3), method


def test_eigencam_runs_one_forward_pass_without_autograd():
    model = conv_net()
    modes = []
    hook = model.register_forward_pre_hook(lambda m, args: modes.append((torch.is_grad_enabled(), args[0].shape[0])))
    result = explain(model, images(), "eigencam", layer="6")
    hook.remove()
    assert modes == [(False, N)]
    assert result.maps["eigencam"].values.grad_fn is None


# ---- Ablation-CAM -------------------------------------------------------------------------------------


def paper_ablation_cam(model, x, layer, targets):
    """Desai & Ramaswamy 2020, eq. 3 and pytorch-grad-cam 1.5.7's AblationCAM (with its ratio 1.0, and a
    layer whose output has zeros, where it zeroes too): w_k = (y - y_k) / y, y_k the score with channel k
    of the layer set to 0; the map Σ_k w_k A_k. One sample and one channel at a time."""
    module = dict(model.named_modules())[layer]
    a = layer_output(model, x, layer)
    rows = torch.arange(x.shape[0])
    with torch.no_grad():
        y = model(x)[rows, targets]
        weights = torch.zeros(a.shape[:2])
        for k in range(a.shape[1]):
            def zero_k(m, i, o, k=k):
                o = o.clone()
                o[:, k] = 0
                return o

            handle = module.register_forward_hook(zero_k)
            weights[:, k] = (y - model(x)[rows, targets]) / y
            handle.remove()
    return (weights[:, :, None, None] * a).sum(dim=1)


def test_ablationcam_is_the_papers_weighting():
    model = conv_net(seed=2).eval()
    x = images(n=4)
    targets = [0, 3, 1, 4]
    ours = attribute(model, x, "ablationcam", layer="6", target=targets, cam_relu=False)["ablationcam"]
    torch.testing.assert_close(ours, paper_ablation_cam(model, x, "6", targets), rtol=1e-4, atol=1e-6)
    chunked = attribute(model, x, "ablationcam", layer="6", target=targets, cam_relu=False, memory_limit=1)
    torch.testing.assert_close(chunked["ablationcam"], ours)


def test_ablationcam_of_a_linear_head_is_the_closed_form_and_no_other_cam_gives_it():
    # y = Σ_k v_k mean(A_k) + b: zeroing channel k drops y by v_k mean(A_k), so the map is
    # Σ_k v_k mean(A_k) A_k / y, where Grad-CAM has Σ_k v_k A_k / (h·w).
    model = conv_net(seed=4).eval()
    x = images()
    result = attribute(model, x, list(CAM_METHODS), layer="6", target=2, cam_relu=False)
    a = layer_output(model, x, "6")
    v, b = model[10].weight[2].detach(), model[10].bias[2].detach()
    y = (a.mean(dim=(2, 3)) * v).sum(dim=1) + b
    expected = ((v * a.mean(dim=(2, 3)))[:, :, None, None] * a).sum(dim=1) / y[:, None, None]
    torch.testing.assert_close(result["ablationcam"], expected, rtol=1e-4, atol=1e-6)
    for method in CAM_METHODS:
        if method != "ablationcam":
            assert not torch.allclose(result[method], expected, rtol=1e-3, atol=1e-3), method


def test_ablation_ratio_ablates_the_most_active_channels_only():
    model = conv_net(seed=2).eval()
    x = images()
    a = layer_output(model, x, "6")
    full = paper_ablation_cam(model, x, "6", TARGETS)
    counted = []
    hook = model.register_forward_pre_hook(lambda m, args: counted.append(args[0].shape[0]))
    half = attribute(model, x, "ablationcam", layer="6", target=TARGETS, cam_relu=False, ablation_ratio=0.4,
                     memory_limit=1)["ablationcam"]
    hook.remove()
    assert counted == [N] * (1 + 3)  # the clean pass, then ⌈0.4 · 6⌉ = 3 ablated copies
    # Rebuild the map from the full weights, keeping each sample's 3 channels of largest mean activation.
    keep = a.mean(dim=(2, 3)).argsort(dim=1, descending=True)[:, :3]
    module = model[6]
    rows = torch.arange(N)
    with torch.no_grad():
        y = model(x)[rows, TARGETS]
        expected = torch.zeros(N, *a.shape[2:])
        for n in range(N):
            for k in keep[n].tolist():
                handle = module.register_forward_hook(lambda m, i, o, k=k: o.index_fill(1, torch.tensor([k]), 0))
                drop = (y[n] - model(x)[n, TARGETS[n]]) / y[n]
                handle.remove()
                expected[n] += drop * a[n, k]
    torch.testing.assert_close(half, expected, rtol=1e-4, atol=1e-6)
    assert not torch.allclose(half, full)
    with pytest.raises(ValueError, match=r"ablation_ratio: expected a number in \(0, 1\], got 0"):
        attribute(model, x, "ablationcam", layer="6", ablation_ratio=0)


def test_ablationcam_refuses_a_callable_reshape_before_the_model_runs():
    model = train_like(conv_net())
    before = snapshot(model)
    with pytest.raises(ValueError, match="reshape: ablationcam zeroes channels in the layer's own output"):
        attribute(model, images(), "ablationcam", layer="6", reshape=lambda t: t)
    assert_untouched(model, before)


# ---- all four -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["occlusion", "rise", "ablationcam"])
def test_perturbed_copies_run_without_autograd_in_bounded_chunks(method):
    model = conv_net()
    passes = []
    hook = model.register_forward_pre_hook(lambda m, args: passes.append((torch.is_grad_enabled(), args[0].shape[0])))
    layer = {"layer": "6"} if method in CAM_METHODS else {}
    explain(model, images(), method, memory_limit=1, **layer, **options_for([method]))
    hook.remove()
    # The clean pass measures one copy's graph (that sizes the chunks); every copy after it runs alone.
    assert passes[0] == (True, N)
    assert passes[1:] and all(p == (False, N) for p in passes[1:])


# ---- reshape='fpn' and callables ------------------------------------------------------------------------


class Pyramid(nn.Module):
    """Two levels (K=4): 12×12 and 6×6, returned as an OrderedDict as torchvision's FPN does."""

    def __init__(self):
        super().__init__()
        self.fine = nn.Conv2d(C, 4, 3, padding=1)
        self.coarse = nn.Conv2d(4, 4, 3, stride=2, padding=1)

    def forward(self, x):
        fine = torch.relu(self.fine(x))
        return OrderedDict([("0", fine), ("pool", torch.relu(self.coarse(fine)))])


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.backbone = Pyramid()
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        levels = self.backbone(x)
        return self.head(torch.cat([levels["0"].mean(dim=(2, 3)), levels["pool"].mean(dim=(2, 3))], dim=1))


def averaged_levels(model, x):
    seen = []
    handle = model.backbone.register_forward_hook(lambda m, i, o: seen.append({k: v.detach() for k, v in o.items()}))
    with torch.no_grad():
        model(x)
    handle.remove()
    levels = seen[0]
    coarse = F.interpolate(levels["pool"], size=(H, W), mode="bilinear", align_corners=False)
    return (levels["0"] + coarse) / 2


def test_fpn_levels_are_resized_to_the_largest_and_averaged():
    model = Detector()
    x = images()
    before = snapshot(model)
    result = explain(model, x, ["eigencam", "ablationcam", "gradcam"], layer="backbone", reshape="fpn",
                     target=TARGETS, cam_relu=False)
    assert_untouched(model, before)
    averaged = averaged_levels(model, x)
    eigen = REGISTRY["eigencam"].compute(averaged)
    torch.testing.assert_close(result.maps["eigencam"].values, eigen, rtol=1e-4, atol=1e-5)
    assert result.maps["gradcam"].options["reshape"] == "fpn"
    # Ablating channel k zeroes it in every level, so the averaged map loses channel k.
    with torch.no_grad():
        y = model(x)[torch.arange(N), TARGETS]
        weights = torch.zeros(N, 4)
        for k in range(4):
            def zero_k(m, i, o, k=k):
                return OrderedDict((key, level.index_fill(1, torch.tensor([k]), 0)) for key, level in o.items())

            handle = model.backbone.register_forward_hook(zero_k)
            weights[:, k] = (y - model(x)[torch.arange(N), TARGETS]) / y
            handle.remove()
    torch.testing.assert_close(result.maps["ablationcam"].values, (weights[:, :, None, None] * averaged).sum(1),
                               rtol=1e-4, atol=1e-6)


def test_a_dict_of_levels_needs_fpn_or_a_callable_which_receives_the_dict():
    model = Detector()
    with pytest.raises(ValueError, match=r"layer: 'backbone' returns a dict of levels \(0, pool\); give reshape='fpn'"):
        attribute(model, images(), "eigencam", layer="backbone")
    given = []

    def finest(levels):
        given.append(type(levels))
        return levels["0"]

    maps = attribute(model, images(), ["eigencam", "gradcam"], layer="backbone", reshape=finest)
    assert set(given) == {OrderedDict} and maps["eigencam"].shape == (N, H, W)
    with pytest.raises(ValueError, match="reshape: 'fpn' expects a dict of N×K×h×w levels from layer '6'"):
        attribute(conv_net(), images(), "eigencam", layer="6", reshape="fpn")
