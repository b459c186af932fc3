"""Each method against a hand computation that no other method's map matches.

The maps come through the public `explain`; the expected maps are written out here from the papers'
formulas (loops over samples and channels, the Grad-CAM++ α in its published form, bilinear
upsampling as interpolation matrices), never by calling the code under test. Every test first checks
that its expected maps differ from one another, so that a method computing another's formula fails.
"""

import pytest
import torch
from torch import nn

from tb_saliency.attribution import explain

F64 = torch.float64
GRADIENT_CAMS = ("gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam")
INPUT_METHODS = ("gradient", "input_x_gradient", "smoothgrad", "integrated_gradients")


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def differ(a, b) -> bool:
    """Far apart in every sample: a method that computes `b` instead of `a` fails `close` on each one."""
    return all(not torch.allclose(x, y, rtol=1e-3, atol=1e-6) for x, y in zip(a, b))


def assert_pairwise_distinct(expected: dict) -> None:
    names = list(expected)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert differ(expected[first], expected[second]), f"{first} and {second} expect the same map"


# ---- one model on which all ten closed forms are known, layer at the input's size -------------------------


class QuadraticOnALayer(nn.Module):
    """A = layer(x) = x + β (a 1×1 convolution with identity weights and a bias β_k per channel; without
    β, HiResCAM would equal input × gradient), and f_c(A) = ½ Σ Q_c ⊙ A² + Σ W_c ⊙ A + b_c, so
    ∂f_c/∂A = ∂f_c/∂x = Q_c ⊙ A + W_c: a gradient that differs from pixel to pixel, channel to
    channel and sample to sample, and takes both signs."""

    def __init__(self, channels, height, width, classes=3):
        super().__init__()
        g = torch.Generator().manual_seed(11)
        self.layer = nn.Conv2d(channels, channels, 1).to(F64)
        with torch.no_grad():
            self.layer.weight.copy_(torch.eye(channels, dtype=F64).view(channels, channels, 1, 1))
            self.layer.bias.copy_(torch.randn(channels, generator=g, dtype=F64))
        shape = (classes, channels, height, width)
        self.q = nn.Parameter(torch.rand(shape, generator=g, dtype=F64) + 0.5)
        self.w = nn.Parameter(torch.randn(shape, generator=g, dtype=F64))
        self.b = nn.Parameter(torch.randn(classes, generator=g, dtype=F64))

    def forward(self, x):
        a = self.layer(x).flatten(1)
        return 0.5 * (a * a) @ self.q.flatten(1).t() + a @ self.w.flatten(1).t() + self.b

    def shift(self):
        """β, shaped to add to one sample: A = x + β."""
        return self.layer.bias.detach().view(-1, 1, 1)

    def score(self, x, c):
        """f_c(x) for one sample, written out."""
        q, w, b = self.q.detach()[c], self.w.detach()[c], self.b.detach()[c]
        a = x + self.shift()
        return float((0.5 * q * a * a + w * a).sum() + b)


K, H, W = 3, 4, 5
X = torch.randn(2, K, H, W, generator=torch.Generator().manual_seed(12), dtype=F64)
TARGETS = [2, 0]


def cam_by_hand(method, a, g):
    """One sample's map before the final ReLU, from A (K×h×w) and g = ∂f/∂A, loop by loop."""
    out = torch.zeros(a.shape[1:], dtype=F64)
    for k in range(a.shape[0]):
        if method == "gradcam":
            out += g[k].mean() * a[k]
        elif method == "gradcam_pp":
            # α = g² / (2g² + Σ_ab A_ab g³) as published, 0 where g = 0.
            g2, g3 = g[k] ** 2, g[k] ** 3
            alpha = torch.where(g[k] != 0, g2 / (2 * g2 + a[k].sum() * g3), torch.zeros_like(g2))
            out += (alpha * g[k].clamp(min=0)).sum() * a[k]
        elif method == "layercam":
            out += g[k].clamp(min=0) * a[k]
        elif method == "hirescam":
            out += g[k] * a[k]
        elif method == "xgradcam":
            out += (g[k] * a[k]).sum() / a[k].sum() * a[k]
    return out


def minmax(m):
    return (m - m.min()) / (m.max() - m.min())


def softmax(scores):
    e = [torch.exp(torch.tensor(s - max(scores), dtype=F64)) for s in scores]
    total = sum(e)
    return [v / total for v in e]


def expected_maps(model, x, targets, *, samples, sigma, seed):
    q, w, beta = model.q.detach(), model.w.detach(), model.shift()
    g_eps = torch.Generator().manual_seed(seed)
    eps = [torch.randn(x.shape, generator=g_eps, dtype=F64) for _ in range(samples)]
    expected = {m: [] for m in INPUT_METHODS + GRADIENT_CAMS + ("scorecam",)}
    for n, c in enumerate(targets):
        xn = x[n]
        a = xn + beta
        grad = q[c] * a + w[c]  # ∂f_c/∂x = ∂f_c/∂A, as A = x + β
        expected["gradient"].append(grad.sum(0))
        expected["input_x_gradient"].append((xn * grad).sum(0))
        # ∫₀¹ (Q (α x + β) + W) dα · x from the zero baseline.
        expected["integrated_gradients"].append(((q[c] * (0.5 * xn + beta) + w[c]) * xn).sum(0))
        noisy = sum(q[c] * (a + sigma * e[n]) + w[c] for e in eps) / samples
        expected["smoothgrad"].append(noisy.sum(0))
        for method in GRADIENT_CAMS:
            expected[method].append(cam_by_hand(method, a, grad))
        # Score-CAM: mask k = channel k of A min-max normalised, over every input channel.
        scores = [model.score(xn * minmax(a[k]), c) for k in range(K)]
        weights = softmax(scores)
        expected["scorecam"].append(sum(weights[k] * a[k] for k in range(K)))
    return {m: torch.stack(v) for m, v in expected.items()}


@pytest.mark.parametrize("cam_relu", [False, True])
def test_every_method_matches_its_own_closed_form_and_no_other(cam_relu):
    model = QuadraticOnALayer(K, H, W)
    samples, noise, seed = 4, 0.1, 5
    result = explain(
        model,
        X,
        INPUT_METHODS + GRADIENT_CAMS + ("scorecam",),
        target=TARGETS,
        layer="layer",
        smoothgrad_samples=samples,
        smoothgrad_noise=noise,
        smoothgrad_noise_type="absolute",
        seed=seed,
        ig_steps=3,
        cam_relu=cam_relu,
    )
    expected = expected_maps(model, X, TARGETS, samples=samples, sigma=noise, seed=seed)
    if cam_relu:
        for method in GRADIENT_CAMS + ("scorecam",):
            expected[method] = expected[method].clamp(min=0)
    assert_pairwise_distinct(expected)
    assert set(result.maps) == set(expected)
    for method, values in expected.items():
        close(result.maps[method].values, values)
    # The samples differ, so a map computed from the wrong sample's gradient fails too.
    for method, values in expected.items():
        assert differ(values[0:1], values[1:2]), method


def test_gradient_cams_keep_every_sample_apart_in_a_batch():
    # The same two samples alone and together: each sample's map depends on its own A and g only.
    model = QuadraticOnALayer(K, H, W)
    batch = explain(model, X, GRADIENT_CAMS, target=TARGETS, layer="layer", cam_relu=False).maps
    for n in range(2):
        alone = explain(model, X[n : n + 1], GRADIENT_CAMS, target=TARGETS[n], layer="layer", cam_relu=False).maps
        for method in GRADIENT_CAMS:
            close(batch[method].values[n : n + 1], alone[method].values)


def test_gradient_cams_where_the_gradient_is_exactly_zero_or_one():
    # Q_c = 0 on a channel makes g = W_c there: 0 on channel 0 (α is 0, not 0/0) and 1 on channel 1
    # (where α = 1 / (2 + Σ A) counts in full), in the target class of sample 0.
    model = QuadraticOnALayer(K, H, W)
    c = TARGETS[0]
    with torch.no_grad():
        model.q[c, :2] = 0.0
        model.w[c, 0] = 0.0
        model.w[c, 1] = 1.0
    maps = explain(model, X, GRADIENT_CAMS, target=TARGETS, layer="layer", cam_relu=False).maps
    q, w, beta = model.q.detach(), model.w.detach(), model.shift()
    for n, target in enumerate(TARGETS):
        a = X[n] + beta
        grad = q[target] * a + w[target]
        if n == 0:
            assert torch.equal(grad[0], torch.zeros(H, W, dtype=F64)) and torch.equal(grad[1], torch.ones(H, W, dtype=F64))
        for method in GRADIENT_CAMS:
            close(maps[method].values[n], cam_by_hand(method, a, grad))


# ---- Score-CAM on a layer smaller than the input, with distinct channel scores --------------------------


class PooledFeatures(nn.Module):
    """A = conv1×1(avgpool₂(x)): K channels at half the input's resolution. The logits read both the
    input and A, f_c = Σ V_c ⊙ x + Σ U_c ⊙ A, so a masked copy's score depends on its mask everywhere."""

    def __init__(self, channels_in=2, channels=3, classes=3, height=6, width=8):
        super().__init__()
        g = torch.Generator().manual_seed(31)
        self.pool = nn.AvgPool2d(2)
        self.features = nn.Conv2d(channels_in, channels, 1).to(F64)
        with torch.no_grad():
            self.features.weight.copy_(torch.randn(channels, channels_in, 1, 1, generator=g, dtype=F64))
            self.features.bias.copy_(torch.randn(channels, generator=g, dtype=F64))
        self.v = nn.Parameter(0.3 * torch.randn(classes, channels_in, height, width, generator=g, dtype=F64))
        self.u = nn.Parameter(0.3 * torch.randn(classes, channels, height // 2, width // 2, generator=g, dtype=F64))

    def forward(self, x):
        a = self.features(self.pool(x))
        return x.flatten(1) @ self.v.flatten(1).t() + a.flatten(1) @ self.u.flatten(1).t()


def pooled_activations(model, x):
    """A of one sample (C×H×W -> K×H/2×W/2), written out: 2×2 means, then the 1×1 convolution."""
    c, h, w = x.shape
    pooled = x.reshape(c, h // 2, 2, w // 2, 2).mean(dim=(2, 4))
    weight, bias = model.features.weight.detach()[:, :, 0, 0], model.features.bias.detach()
    return torch.stack([sum(weight[k, i] * pooled[i] for i in range(c)) + bias[k] for k in range(weight.shape[0])])


def bilinear_matrix(out_size, in_size):
    """out×in matrix of bilinear interpolation with align_corners=False (PyTorch's convention: the
    source coordinate (i + ½)·in/out - ½, clamped at 0, edges replicated)."""
    m = torch.zeros(out_size, in_size, dtype=F64)
    for i in range(out_size):
        src = max((i + 0.5) * in_size / out_size - 0.5, 0.0)
        low = min(int(src), in_size - 1)
        high = min(low + 1, in_size - 1)
        frac = src - low
        m[i, low] += 1 - frac
        m[i, high] += frac
    return m


def scorecam_by_hand(model, x, target, *, weights_rule="softmax", normalise=True):
    a = pooled_activations(model, x)
    rows, cols = bilinear_matrix(x.shape[1], a.shape[1]), bilinear_matrix(x.shape[2], a.shape[2])
    masks = [rows @ a[k] @ cols.t() for k in range(a.shape[0])]
    if normalise:
        masks = [minmax(m) for m in masks]
    scores = []
    for m in masks:
        masked = x * m
        logits = model(masked.unsqueeze(0)).detach()[0]
        # The model's own forward pass gives the logits; check it against the formula once per mask.
        by_hand = (model.v[target] * masked).sum() + (model.u[target] * pooled_activations(model, masked)).sum()
        close(logits[target], by_hand.detach())
        scores.append(float(logits[target]))
    weights = softmax(scores) if weights_rule == "softmax" else [1.0 / len(scores)] * len(scores)
    return sum(wk * ak for wk, ak in zip(weights, a)), scores


def test_scorecam_on_a_smaller_layer_weighs_normalised_masks_by_the_softmax_of_distinct_scores():
    model = PooledFeatures()
    x = torch.randn(2, 2, 6, 8, generator=torch.Generator().manual_seed(22), dtype=F64)
    targets = [1, 2]
    result = explain(model, x, ["scorecam"] + list(GRADIENT_CAMS), target=targets, layer="features", cam_relu=False)
    scorecam = result.maps["scorecam"]
    assert scorecam.values.shape == (2, 3, 4)
    for n, c in enumerate(targets):
        expected, scores = scorecam_by_hand(model, x[n], c)
        # Distinct scores, far enough apart that the softmax is neither uniform nor one-hot.
        weights = softmax(scores)
        assert min(abs(s - t) for i, s in enumerate(scores) for t in scores[i + 1 :]) > 0.1, scores
        assert 0.1 < float(min(weights)) and float(max(weights)) < 0.9, weights
        # The two simplifications a wrong implementation might make give other maps.
        uniform, _ = scorecam_by_hand(model, x[n], c, weights_rule="uniform")
        raw_masks, _ = scorecam_by_hand(model, x[n], c, normalise=False)
        assert differ(expected[None], uniform[None]) and differ(expected[None], raw_masks[None])
        close(scorecam.values[n], expected)
        for method in GRADIENT_CAMS:
            assert differ(scorecam.values[n : n + 1], result.maps[method].values[n : n + 1]), method
    assert scorecam.options["mask_normalisation"] == "min_max per channel, 0 if constant"
    assert scorecam.options["mask_upsampling"] == "bilinear" and scorecam.options["align_corners"] is False


def test_scorecam_constant_channel_gives_a_zero_mask():
    # A channel of A that is constant over the layer gives the mask 0 (not 0/0): its copy is all
    # zeros, and its score is f(0).
    model = PooledFeatures()
    with torch.no_grad():
        model.features.weight[0].zero_()  # channel 0 = its bias everywhere
    x = torch.randn(2, 2, 6, 8, generator=torch.Generator().manual_seed(23), dtype=F64)
    values = explain(model, x, "scorecam", target=0, layer="features", cam_relu=False).maps["scorecam"].values
    zero_score = float(model(torch.zeros(1, 2, 6, 8, dtype=F64)).detach()[0, 0])
    for n in range(2):
        a = pooled_activations(model, x[n])
        rows, cols = bilinear_matrix(6, 3), bilinear_matrix(8, 4)
        scores = [zero_score] + [
            float(model((x[n] * minmax(rows @ a[k] @ cols.t())).unsqueeze(0)).detach()[0, 0]) for k in (1, 2)
        ]
        weights = softmax(scores)
        close(values[n], sum(w * ak for w, ak in zip(weights, a)))


# ---- the blurred integrated-gradients baseline, by hand --------------------------------------------------


def blur_by_hand(image, sigma):
    """One H×W image blurred with a normalised Gaussian cut at radius max(1, ⌈3σ⌉), edges replicated
    (an index beyond the edge reads the edge pixel)."""
    radius = max(1, int(torch.tensor(3.0 * sigma).ceil()))
    taps = {d: float(torch.exp(torch.tensor(-(d * d) / (2.0 * sigma * sigma), dtype=F64))) for d in range(-radius, radius + 1)}
    total = sum(taps.values())
    height, width = image.shape
    out = torch.zeros_like(image)
    for i in range(height):
        for j in range(width):
            out[i, j] = sum(
                taps[a] * taps[b] * image[min(max(i + a, 0), height - 1), min(max(j + b, 0), width - 1)]
                for a in taps
                for b in taps
            ) / (total * total)
    return out


class Weighted(nn.Module):
    """f_c(x) = Σ V_c ⊙ x for inputs N×H×W or N×C×H×W: integrated gradients is (x - x0) ⊙ V_c exactly."""

    def __init__(self, shape, classes=2):
        super().__init__()
        self.v = nn.Parameter(torch.randn(classes, *shape, generator=torch.Generator().manual_seed(41), dtype=F64))

    def forward(self, x):
        return x.flatten(1) @ self.v.flatten(1).t()


@pytest.mark.parametrize("shape", [(5, 6), (1, 5, 6), (2, 5, 6)], ids=["NHW", "N1HW", "NCHW"])
@pytest.mark.parametrize("sigma", [1 / 3, 0.8])
def test_integrated_gradients_from_a_blurred_baseline(shape, sigma):
    # σ = 1/3 is the largest σ with radius 1, where the next taps would weigh e^-18 each.
    model = Weighted(shape)
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(42), dtype=F64)
    ig = explain(model, x, "integrated_gradients", target=[1, 0], baseline="blur", blur_sigma=sigma, ig_steps=2)
    ig = ig.maps["integrated_gradients"]
    images = x.reshape(2, -1, *shape[-2:])
    x0 = torch.stack([torch.stack([blur_by_hand(im, sigma) for im in sample]) for sample in images]).reshape(x.shape)
    v = model.v.detach()[[1, 0]]
    per_channel = (x - x0) * v
    close(ig.values, per_channel if len(shape) == 2 else per_channel.sum(1))
    close(ig.statistics["baseline_score"], (x0 * v).flatten(1).sum(1))
    assert ig.options["baseline"] == "blur" and ig.options["blur_sigma"] == sigma


# ---- SmoothGrad's variance merged over chunks of several copies -----------------------------------------


@pytest.mark.parametrize("memory_limit", [1, 2**13, 2**15, None], ids=["one", "few", "more", "all"])
def test_smoothgrad_variance_is_the_same_for_any_chunking(memory_limit):
    # Chunks of one copy have no spread of their own; chunks of several test Chan's merge.
    model = QuadraticOnALayer(K, H, W)
    samples, noise, seed = 7, 0.3, 9
    options = {} if memory_limit is None else {"memory_limit": memory_limit}
    result = explain(
        model,
        X,
        "smoothgrad",
        target=TARGETS,
        smoothgrad_samples=samples,
        smoothgrad_noise=noise,
        smoothgrad_noise_type="absolute",
        smoothgrad_variant="variance",
        seed=seed,
        **options,
    ).maps["smoothgrad"]
    q, w, beta = model.q.detach(), model.w.detach(), model.shift()
    g = torch.Generator().manual_seed(seed)
    eps = torch.stack([torch.randn(X.shape, generator=g, dtype=F64) for _ in range(samples)])
    expected = []
    for n, c in enumerate(TARGETS):
        grads = [q[c] * (X[n] + beta + noise * eps[i, n]) + w[c] for i in range(samples)]
        mean = sum(grads) / samples
        expected.append((sum((gi - mean) ** 2 for gi in grads) / samples).sum(0))
    close(result.values, torch.stack(expected))


def test_noisy_copies_are_checked_ten_sigma_out():
    # |x| + 10σ at 95 % of float32's headroom passes (11σ would not); at 105 % it is refused before
    # the model runs, naming the option, though |x| - 10σ is finite.
    class Bounded(nn.Module):
        def forward(self, x):
            return torch.tanh(x.flatten(1) * 1e-38)[:, :2]

    x = torch.zeros(1, 1, 2, 2)
    x[0, 0, 0, 0] = 3.0e38
    largest = torch.finfo(torch.float32).max
    fits = (largest - 3.0e38) / 10 * 0.95
    common = dict(target=0, smoothgrad_samples=2, smoothgrad_noise_type="absolute")
    explain(Bounded(), x, "smoothgrad", smoothgrad_noise=fits, **common)
    too_far = (largest - 3.0e38) / 10 * 1.05
    with pytest.raises(ValueError, match="smoothgrad_noise: expected finite noisy copies"):
        explain(Bounded(), x, "smoothgrad", smoothgrad_noise=too_far, **common)


# ---- Score-CAM on inputs without a channel axis -----------------------------------------------------------


class PlaneFeatures(nn.Module):
    """N×H×W inputs: A = conv1×1(avgpool₂(x[:, None])) at half resolution, f_c = Σ V_c ⊙ x."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(51)
        self.pool = nn.AvgPool2d(2)
        self.features = nn.Conv2d(1, 3, 1).to(F64)
        with torch.no_grad():
            self.features.weight.copy_(torch.randn(3, 1, 1, 1, generator=g, dtype=F64))
            self.features.bias.copy_(torch.randn(3, generator=g, dtype=F64))
        self.v = nn.Parameter(0.3 * torch.randn(2, 4, 6, generator=g, dtype=F64))

    def forward(self, x):
        self.features(self.pool(x[:, None]))
        return x.flatten(1) @ self.v.flatten(1).t()


def test_scorecam_on_inputs_without_a_channel_axis():
    model = PlaneFeatures()
    x = torch.randn(2, 4, 6, generator=torch.Generator().manual_seed(52), dtype=F64)
    values = explain(model, x, "scorecam", target=[0, 1], layer="features", cam_relu=False).maps["scorecam"].values
    weight, bias = model.features.weight.detach()[:, 0, 0, 0], model.features.bias.detach()
    rows, cols = bilinear_matrix(4, 2), bilinear_matrix(6, 3)
    for n, c in enumerate([0, 1]):
        pooled = x[n].reshape(2, 2, 3, 2).mean(dim=(1, 3))
        a = torch.stack([weight[k] * pooled + bias[k] for k in range(3)])
        scores = [float((model.v.detach()[c] * x[n] * minmax(rows @ a[k] @ cols.t())).sum()) for k in range(3)]
        weights = softmax(scores)
        close(values[n], sum(wk * ak for wk, ak in zip(weights, a)))


# ---- half-precision inputs accumulate in float32 ----------------------------------------------------------


def test_bfloat16_inputs_give_float32_maps_close_to_the_float32_ones():
    # Masks, path weights and noise sums are cast between the inputs' dtype and the float32 in which
    # maps accumulate; a missing cast either fails (a float32 copy fed to a bfloat16 model) or rounds.
    from .helpers import conv_net, images

    methods = ["smoothgrad", "integrated_gradients", "scorecam"]
    options = dict(target=1, layer="6", smoothgrad_samples=3, smoothgrad_noise=0.0, ig_steps=4)
    full = explain(conv_net(), images(), methods, **options).maps
    half = explain(conv_net().to(torch.bfloat16), images().to(torch.bfloat16), methods, **options).maps
    for method in methods:
        assert half[method].values.dtype == torch.float32, method
        # bfloat16 keeps about 3 digits, and a ReLU may switch on a rounded input: the same map, roughly.
        cosine = torch.nn.functional.cosine_similarity(half[method].values.flatten(), full[method].values.flatten(), dim=0)
        assert cosine > 0.95, (method, float(cosine))


def test_integrated_gradients_from_uniform_constant_and_tensor_baselines():
    shape = (2, 5, 6)
    model = Weighted(shape)
    x = torch.randn(3, *shape, generator=torch.Generator().manual_seed(43), dtype=F64)
    v = model.v.detach()[[1, 0, 1]]
    common = dict(target=[1, 0, 1], ig_steps=2)

    # 'uniform': the engine's own generator, seeded, draws U[0, 1) in the inputs' dtype, scaled to
    # each sample's [min, max].
    ig = explain(model, x, "integrated_gradients", baseline="uniform", seed=7, **common).maps["integrated_gradients"]
    flat = x.flatten(1)
    low, high = flat.amin(1).view(3, 1, 1, 1), flat.amax(1).view(3, 1, 1, 1)
    x0 = low + (high - low) * torch.rand(x.shape, generator=torch.Generator().manual_seed(7), dtype=F64)
    close(ig.values, ((x - x0) * v).sum(1))
    assert ig.options["baseline"] == "uniform" and ig.options["baseline_range"] == "sample_min_max"
    assert ig.options["seed"] == 7

    constant = explain(model, x, "integrated_gradients", baseline=0.5, **common).maps["integrated_gradients"]
    close(constant.values, ((x - 0.5) * v).sum(1))
    assert constant.options["baseline"] == "constant" and constant.options["baseline_value"] == 0.5

    # A float32 baseline for float64 inputs (and model) is cast to the inputs' dtype.
    given = torch.randn(shape, generator=torch.Generator().manual_seed(44))
    tensor = explain(model, x, "integrated_gradients", baseline=given, **common).maps["integrated_gradients"]
    close(tensor.values, ((x - given.double()) * v).sum(1))
    close(tensor.statistics["baseline_score"], (given.double() * v).flatten(1).sum(1))


def test_the_default_blur_is_a_tenth_of_the_larger_image_side():
    # N×H×W inputs with N > H > W: the side is H, not W or N.
    model = Weighted((5, 4))
    x = torch.randn(12, 5, 4, generator=torch.Generator().manual_seed(45), dtype=F64)
    ig = explain(model, x, "integrated_gradients", target=0, baseline="blur", ig_steps=2).maps["integrated_gradients"]
    assert ig.options["blur_sigma"] == 0.5
    x0 = torch.stack([blur_by_hand(image, 0.5) for image in x])
    close(ig.values, (x - x0) * model.v.detach()[0])
