"""Every method against its closed-form answer on models whose maps are known exactly."""

import pytest
import torch
from torch import nn

from tb_saliency.attribution import ANY_MODEL_METHODS, attribute, explain
from tb_saliency.attribution.options import IG_RULES

torch.set_default_dtype(torch.float32)
F64 = torch.float64


class Linear(nn.Module):
    """f(x) = W flatten(x) + b."""

    def __init__(self, shape, classes=3):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.shape = shape
        self.weight = nn.Parameter(torch.randn(classes, *shape, generator=g, dtype=F64))
        self.bias = nn.Parameter(torch.randn(classes, generator=g, dtype=F64))

    def forward(self, x):
        return x.flatten(1) @ self.weight.flatten(1).t() + self.bias


class Quadratic(nn.Module):
    """f_c(x) = ½ Σ q_c ⊙ x², so ∂f_c/∂x = q_c ⊙ x."""

    def __init__(self, shape, classes=3, ones=False):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        q = (
            torch.ones(classes, *shape, dtype=F64)
            if ones
            else torch.rand(classes, *shape, generator=g, dtype=F64) + 0.5
        )
        self.q = nn.Parameter(q)

    def forward(self, x):
        return 0.5 * (x.flatten(1) ** 2) @ self.q.flatten(1).t()


SHAPE = (2, 4, 5)
X = torch.randn(3, *SHAPE, generator=torch.Generator().manual_seed(2), dtype=F64)
T = torch.tensor([0, 2, 1])


def per_target(tensor):
    """tensor[T[n]] for each sample n: the row of class parameters each sample is explained by."""
    return tensor[T]


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_linear_model_gradient_methods_are_the_weight_row():
    model = Linear(SHAPE)
    w = per_target(model.weight.detach())
    maps = attribute(model, X, ["gradient", "input_x_gradient", "smoothgrad"], target=T, smoothgrad_samples=5)
    close(maps["gradient"], w.sum(1))
    close(maps["input_x_gradient"], (X * w).sum(1))
    close(maps["smoothgrad"], w.sum(1))  # the gradient is the same at every noisy point
    squares = attribute(model, X, "smoothgrad", target=T, smoothgrad_variant="mean_of_squares", smoothgrad_samples=5)
    close(squares["smoothgrad"], (w * w).sum(1))
    variance = attribute(
        model, X, "smoothgrad", target=T, smoothgrad_variant="variance", smoothgrad_samples=5, memory_limit=1
    )
    assert torch.equal(variance["smoothgrad"], torch.zeros_like(variance["smoothgrad"]))


@pytest.mark.parametrize("how, reduce", [("abs_sum", lambda t: t.abs().sum(1)), ("max_abs", lambda t: t.abs().amax(1))])
def test_channel_reductions(how, reduce):
    model = Linear(SHAPE)
    result = explain(model, X, "gradient", target=T, channel_reduction=how).maps["gradient"]
    close(result.values, reduce(per_target(model.weight.detach())))
    assert result.options["channel_reduction"] == how


@pytest.mark.parametrize("rule", IG_RULES)
@pytest.mark.parametrize("baseline", ["zeros", "tensor"])
def test_linear_model_integrated_gradients_is_exact_for_every_rule(rule, baseline):
    model = Linear(SHAPE)
    w = per_target(model.weight.detach())
    x0 = torch.zeros_like(X) if baseline == "zeros" else torch.randn(SHAPE, dtype=F64)  # one baseline for all
    result = explain(
        model,
        X,
        "integrated_gradients",
        target=T,
        ig_rule=rule,
        ig_steps=2,
        baseline="zeros" if baseline == "zeros" else x0,
    ).maps["integrated_gradients"]
    close(result.values, ((X - x0) * w).sum(1))
    close(result.statistics["completeness_gap"], torch.zeros(3, dtype=F64))
    assert result.options["rule"] == rule and result.options["steps"] == 2


@pytest.mark.parametrize(
    "rule, factor",
    [
        ("gauss_legendre", lambda n: 0.5),
        ("riemann_middle", lambda n: 0.5),
        ("riemann_trapezoid", lambda n: 0.5),
        ("riemann_left", lambda n: (n - 1) / (2 * n)),
        ("riemann_right", lambda n: (n + 1) / (2 * n)),
    ],
)
def test_quadratic_model_integrated_gradients_matches_each_rule_in_closed_form(rule, factor):
    # ∫₀¹ q(αx) dα · x = ½ q x²; the left and right sums of α give (n ∓ 1)/(2n) instead of ½.
    model = Quadratic(SHAPE)
    q = per_target(model.q.detach())
    steps = 6
    maps = attribute(model, X, "integrated_gradients", target=T, ig_rule=rule, ig_steps=steps)
    close(maps["integrated_gradients"], (factor(steps) * q * X * X).sum(1))


def test_quadratic_model_gradient_methods():
    model = Quadratic(SHAPE)
    q = per_target(model.q.detach())
    maps = attribute(model, X, ["gradient", "input_x_gradient"], target=T)
    close(maps["gradient"], (q * X).sum(1))
    close(maps["input_x_gradient"], (q * X * X).sum(1))
    x0 = torch.randn_like(X)
    ig = explain(model, X, "integrated_gradients", target=T, baseline=x0, ig_steps=3).maps["integrated_gradients"]
    close(ig.values, (0.5 * q * (X * X - x0 * x0)).sum(1))


@pytest.mark.parametrize("noise_type", ["relative", "absolute"])
@pytest.mark.parametrize("variant", ["mean", "mean_of_squares", "variance"])
def test_quadratic_model_smoothgrad_with_the_drawn_noise(noise_type, variant):
    # The noise of copy i is torch.randn(inputs.shape, generator=...) in copy order, so drawing it again
    # from an equal generator gives the exact expected map: g_i = q (x + σ ε_i).
    model = Quadratic(SHAPE)
    q = per_target(model.q.detach())
    samples, noise = 7, 0.2
    result = explain(
        model,
        X,
        "smoothgrad",
        target=T,
        smoothgrad_samples=samples,
        smoothgrad_noise=noise,
        smoothgrad_noise_type=noise_type,
        smoothgrad_variant=variant,
        seed=3,
        memory_limit=1,
    ).maps["smoothgrad"]
    flat = X.flatten(1)
    sigma = noise * (flat.amax(1) - flat.amin(1)) if noise_type == "relative" else torch.full((3,), noise, dtype=F64)
    g = torch.Generator().manual_seed(3)
    eps = torch.stack([torch.randn(X.shape, generator=g, dtype=F64) for _ in range(samples)])
    grads = q * (X + sigma.view(3, 1, 1, 1) * eps)
    expected = {"mean": grads.mean(0), "mean_of_squares": (grads**2).mean(0), "variance": grads.var(0, unbiased=False)}[
        variant
    ]
    close(result.values, expected.sum(1))
    close(result.statistics["noise_sigma"], sigma)
    assert result.options["noise_type"] == noise_type and result.options["noise"] == noise
    assert result.options["variant"] == variant and result.options["seed"] == 3


def test_smoothgrad_with_zero_noise_equals_the_gradient():
    from .helpers import conv_net, images

    model = conv_net(dtype=F64)
    x = images(dtype=F64)
    maps = attribute(model, x, ["gradient", "smoothgrad"], smoothgrad_noise=0.0, smoothgrad_samples=4)
    close(maps["smoothgrad"], maps["gradient"])


# ---- CAMs on a hand-built conv net: one channel per pattern --------------------------------------------


class PatternNet(nn.Module):
    """Channel 0 fires (value 1) at the centre of a 3-pixel horizontal bar, channel 1 at the centre of a
    vertical one; global average pooling and an identity head make class k the mean of channel k."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.weight[0, 0, 1, :] = 1.0
            self.conv.weight[1, 0, :, 1] = 1.0
            self.conv.bias.fill_(-2.0)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(self.relu(self.conv(x))).flatten(1)


def pattern_images():
    x = torch.zeros(2, 1, 8, 8)
    x[:, 0, 2, 1:4] = 1.0  # horizontal bar centred at (2, 2)
    x[:, 0, 4:7, 6] = 1.0  # vertical bar centred at (5, 6)
    return x


def one_hot(row, col):
    m = torch.zeros(8, 8)
    m[row, col] = 1.0
    return m


def test_pattern_net_cams_are_known_in_closed_form():
    x, targets = pattern_images(), torch.tensor([0, 1])
    horizontal, vertical = one_hot(2, 2), one_hot(5, 6)
    expected_patterns = torch.stack([horizontal, vertical])  # the target's own pattern, per sample
    hw = 64.0
    maps = attribute(
        PatternNet(),
        x,
        ["gradcam", "hirescam", "layercam", "xgradcam", "gradcam_pp", "scorecam"],
        target=targets,
        layer="relu",
    )
    # g_k = δ_kc / hw everywhere, A_c is a one-hot map of value 1.
    for method in ("gradcam", "hirescam", "layercam", "xgradcam"):
        torch.testing.assert_close(maps[method], expected_patterns / hw, rtol=1e-6, atol=0)
    # Grad-CAM++: α = 1 / (2 + Σ A_c · g) = 1 / (2 + 1/hw), w_c = Σ_ij α g = α.
    torch.testing.assert_close(maps["gradcam_pp"], expected_patterns / (2 + 1 / hw), rtol=1e-6, atol=0)
    # Score-CAM: each mask keeps one pixel, which fires no detector, so both scores are 0 and the
    # softmax weighs both channels ½.
    torch.testing.assert_close(maps["scorecam"], 0.5 * (horizontal + vertical).expand(2, 8, 8), rtol=1e-6, atol=0)


def test_gradcam_equals_cam_up_to_a_positive_scale():
    # A layer right before global average pooling and a linear head: CAM_c = Σ_k W_ck A_k (Zhou et al. 2016).
    torch.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 5, 3, padding=1), nn.ReLU())
    head = nn.Linear(5, 4)
    model = nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head).double()
    x = torch.randn(3, 3, 10, 10, dtype=F64)
    targets = torch.tensor([0, 3, 1])
    a = features(x).detach()
    cam = torch.einsum("nk,nkhw->nhw", head.weight.detach()[targets], a)
    for relu, reference in ((False, cam), (True, cam.clamp(min=0))):
        gradcam = attribute(model, x, "gradcam", target=targets, layer="0", cam_relu=relu)["gradcam"]
        scale = (gradcam * reference).sum() / (reference * reference).sum()
        assert scale > 0
        torch.testing.assert_close(gradcam, scale * reference, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(scale, torch.tensor(1 / 100, dtype=F64))  # 1/(h·w) exactly


# ---- integrated gradients: completeness --------------------------------------------------------------


def relu_net():
    torch.manual_seed(3)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(6, 6, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 4 * 4, 3),
    ).double()


def smooth_net():
    torch.manual_seed(4)
    return nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.Softplus(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 6, 3, padding=1),
        nn.Softplus(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 3),
    ).double()


def test_completeness_gap_shrinks_with_steps_on_a_relu_net():
    model, x = relu_net(), torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(5), dtype=F64)
    gaps = []
    for steps in (10, 50, 200):
        result = explain(model, x, "integrated_gradients", target=1, ig_steps=steps)
        gaps.append(result.maps["integrated_gradients"].statistics["completeness_gap"].abs().sum().item())
    assert gaps[0] > gaps[1] > gaps[2] > 0


def test_completeness_is_exact_to_machine_precision_on_a_smooth_net():
    model, x = smooth_net(), torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(6), dtype=F64)
    result = explain(model, x, "integrated_gradients", target=2, ig_steps=50)
    ig = result.maps["integrated_gradients"]
    delta = result.target_scores - ig.statistics["baseline_score"]
    assert (ig.statistics["completeness_gap"].abs() / delta.abs()).max() < 1e-9
    assert ig.options["rule"] == "gauss_legendre" and ig.options["baseline"] == "zeros"


# ---- degenerate maps ------------------------------------------------------------------------------------


def test_all_zero_maps_are_zeros_not_nan():
    # A bias of -100 silences every unit: zero gradients, zero activations, constant Score-CAM masks.
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)
    )
    with torch.no_grad():
        model[0].bias.fill_(-100.0)
    x = torch.rand(2, 3, 6, 6)
    from tb_saliency.attribution import METHODS

    result = explain(model, x, list(ANY_MODEL_METHODS), layer="1", smoothgrad_samples=3, ig_steps=5, rise_masks=20)
    for key, m in result.maps.items():
        if key == "rise":
            # RISE weighs each mask by the score itself, not by a difference (the paper's definition): a
            # constant score c gives c · ΣM / (N·p), whose mean over pixels is c up to the draw of the masks.
            score = result.target_scores[:, None, None]
            assert torch.isfinite(m.values).all() and ((m.values / score).mean() - 1).abs() < 0.2
            continue
        assert torch.equal(m.values, torch.zeros_like(m.values)), key
        for stat in m.statistics.values():
            assert torch.isfinite(stat).all(), key


def test_every_map_is_finite_and_a_layer_off_the_target_path_is_an_error():
    from tb_saliency.attribution import METHODS

    from .helpers import conv_net, images

    model = conv_net()
    maps = attribute(model, images(), list(ANY_MODEL_METHODS), layer="6", smoothgrad_samples=3, ig_steps=5)
    for key, values in maps.items():
        assert torch.isfinite(values).all(), key
        assert values.abs().sum() > 0, key

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Conv2d(3, 2, 3), nn.Conv2d(3, 2, 3)

        def forward(self, x):
            self.unused(x)
            return self.used(x).mean(dim=(2, 3))

    # Its CAM would be zeros, written without a word: it is refused, naming the layer.
    with pytest.raises(ValueError, match="layer: the activations of layer 'unused' are not connected to the "
                                         "target's score through autograd"):
        attribute(TwoHeads(), images(), ["gradcam", "gradcam_pp", "xgradcam"], layer=["used", "unused"])
    cams = attribute(TwoHeads(), images(), ["gradcam", "scorecam"], layer="used")
    assert set(cams) == {"gradcam", "scorecam"}
