"""The small pure pieces: quadrature rules, baselines, chunk sizing, CAM weight functions."""

import math

import numpy as np
import pytest
import torch

from tb_saliency.attribution import cams
from tb_saliency.attribution.baselines import gaussian_blur, make_baseline
from tb_saliency.attribution.passes import copies_per_chunk
from tb_saliency.attribution.quadrature import RULES, gauss_legendre, nodes_and_weights


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("steps", [2, 7, 50])
def test_rules_have_ascending_nodes_in_the_unit_interval_and_unit_total_weight(rule, steps):
    nodes, weights = nodes_and_weights(rule, steps)
    assert len(nodes) == len(weights) == steps
    assert all(0.0 <= a <= 1.0 for a in nodes) and nodes == sorted(nodes)
    assert math.isclose(sum(weights), 1.0, rel_tol=1e-13)


@pytest.mark.parametrize("steps", [1, 3, 10, 50])
def test_gauss_legendre_is_exact_up_to_degree_2n_minus_1(steps):
    gauss_legendre.cache_clear()  # computed here, not taken from an earlier caller's cache
    nodes, weights = nodes_and_weights("gauss_legendre", steps)
    for degree in range(2 * steps):
        approx = sum(w * a**degree for a, w in zip(nodes, weights))
        assert math.isclose(approx, 1.0 / (degree + 1), rel_tol=1e-12), degree


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5, 8, 33, 50, 101])
def test_gauss_legendre_agrees_with_numpy_for_small_n(steps):
    gauss_legendre.cache_clear()  # computed here, not taken from an earlier caller's cache
    t, w = np.polynomial.legendre.leggauss(steps)
    nodes, weights = nodes_and_weights("gauss_legendre", steps)
    np.testing.assert_allclose(nodes, (t + 1) / 2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(weights, w / 2, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("steps", [2000, 10_000])
def test_gauss_legendre_is_exact_on_polynomials_for_large_n(steps):
    nodes, weights = (np.array(v) for v in gauss_legendre(steps))
    assert len(nodes) == steps and np.all(np.diff(nodes) > 0) and nodes[0] > 0 and nodes[-1] < 1
    for degree in (0, 1, 2, 7, 100, steps, 2 * steps - 1):
        assert math.isclose(np.sum(weights * nodes**degree), 1.0 / (degree + 1), rel_tol=1e-12), degree
    # Orthogonality: ∫ P_k(2α - 1) dα = 0 for 1 ≤ k ≤ 2n - 1, up to the rule's own degree.
    for k in (1, 3, steps - 1, 2 * steps - 1):
        p_k = np.polynomial.legendre.Legendre.basis(k)(2 * nodes - 1)
        assert abs(np.sum(weights * p_k)) < 1e-12, k


def test_gauss_legendre_rules_are_computed_once():
    assert gauss_legendre(64) is gauss_legendre(64)


def test_riemann_rules_on_a_linear_integrand():
    n = 8
    integral = {rule: sum(w * a for a, w in zip(*nodes_and_weights(rule, n))) for rule in RULES}
    assert math.isclose(integral["riemann_left"], (n - 1) / (2 * n))
    assert math.isclose(integral["riemann_right"], (n + 1) / (2 * n))
    for rule in ("riemann_middle", "riemann_trapezoid", "gauss_legendre"):
        assert math.isclose(integral[rule], 0.5)


def test_blur_pads_like_a_replicate_padded_two_dimensional_convolution():
    x = torch.randn(2, 3, 7, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sigma = 4.0  # a radius of 12: wider than the image, so the padding repeats edges many times
    radius = 12
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    padded = torch.nn.functional.pad(x, (radius,) * 4, mode="replicate")
    full = torch.nn.functional.conv2d(padded, (kernel[:, None] * kernel[None, :]).expand(3, 1, -1, -1), groups=3)
    torch.testing.assert_close(gaussian_blur(x, sigma), full, rtol=1e-12, atol=1e-12)


def test_blur_keeps_constant_images_and_smooths_others():
    flat = torch.full((2, 3, 9, 9), 0.7)
    torch.testing.assert_close(gaussian_blur(flat, 2.0), flat)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    blurred = gaussian_blur(x, 2.0)
    assert blurred.shape == x.shape and blurred.var() < 0.3 * x.var()
    torch.testing.assert_close(blurred.mean(dim=(2, 3)), x.mean(dim=(2, 3)), atol=0.1, rtol=0)


def test_baselines_and_their_records():
    x = torch.randn(2, 3, 10, 20, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    zeros, record = make_baseline("zeros", x, blur_sigma=None, generator=g)
    assert torch.equal(zeros, torch.zeros_like(x)) and record == {"baseline": "zeros"}
    _, record = make_baseline("blur", x, blur_sigma=None, generator=g)
    assert record == {"baseline": "blur", "blur_sigma": 2.0}  # a tenth of the larger side
    uniform, record = make_baseline("uniform", x, blur_sigma=None, generator=g)
    low, high = x.flatten(1).amin(1), x.flatten(1).amax(1)
    assert (uniform.flatten(1).amin(1) >= low).all() and (uniform.flatten(1).amax(1) <= high).all()
    assert record["baseline"] == "uniform"
    constant, record = make_baseline(0.5, x, blur_sigma=None, generator=g)
    assert torch.equal(constant, torch.full_like(x, 0.5)) and record["baseline_value"] == 0.5
    per_image, record = make_baseline(torch.ones(3, 10, 20), x, blur_sigma=None, generator=g)
    assert per_image.shape == x.shape and record == {"baseline": "tensor"}
    with pytest.raises(ValueError, match="baseline: a tensor of shape"):
        make_baseline(torch.ones(4, 10, 20), x, blur_sigma=None, generator=g)


def test_chunks_hold_whole_copies_within_the_memory_bound():
    assert copies_per_chunk(bytes_per_copy=10, memory_limit=35, total=50) == 3
    assert copies_per_chunk(bytes_per_copy=10, memory_limit=5, total=50) == 1  # never less than one copy
    assert copies_per_chunk(bytes_per_copy=10, memory_limit=10**9, total=50) == 50
    assert copies_per_chunk(bytes_per_copy=10, memory_limit=2**200, total=50) == 50
    assert copies_per_chunk(bytes_per_copy=10, memory_limit=10**9, total=50, max_copies=1) == 1
    assert copies_per_chunk(bytes_per_copy=0, memory_limit=10, total=4) == 4


def test_cam_definitions_on_random_tensors_match_their_formulas():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 4, 5, generator=g, dtype=torch.float64)
    grad = torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64)
    n = 1
    torch.testing.assert_close(cams.gradcam(a, grad)[n], sum(grad[n, c].mean() * a[n, c] for c in range(3)))
    torch.testing.assert_close(cams.hirescam(a, grad)[n], sum(grad[n, c] * a[n, c] for c in range(3)))
    torch.testing.assert_close(cams.layercam(a, grad)[n], sum(grad[n, c].clamp(min=0) * a[n, c] for c in range(3)))
    xw = [(grad[n, c] * a[n, c]).sum() / a[n, c].sum() for c in range(3)]
    torch.testing.assert_close(cams.xgradcam(a, grad)[n], sum(xw[c] * a[n, c] for c in range(3)))
    # Grad-CAM++ with the paper's α = g² / (2g² + Σ_ab A_ab g³).
    weights = []
    for c in range(3):
        g2, g3 = grad[n, c] ** 2, grad[n, c] ** 3
        alpha = g2 / (2 * g2 + a[n, c].sum() * g3)
        weights.append((alpha * grad[n, c].clamp(min=0)).sum())
    torch.testing.assert_close(cams.gradcam_pp(a, grad)[n], sum(weights[c] * a[n, c] for c in range(3)))


def test_cam_definitions_guard_zero_denominators():
    a = torch.zeros(1, 2, 3, 3)
    grad = torch.zeros(1, 2, 3, 3)
    for name, fn in cams.GRADIENT_CAMS.items():
        out = fn(a, grad)
        assert torch.equal(out, torch.zeros(1, 3, 3)), name


def test_inputs_without_a_channel_axis_keep_the_sign_only_for_the_signed_sum():
    from tb_saliency.attribution.reductions import reduce_channels

    values = torch.tensor([[[-2.0, 1.0], [0.5, -0.25]]])
    assert reduce_channels(values, "signed_sum", axis=None).tolist() == values.tolist()
    for how in ("abs_sum", "max_abs"):
        assert reduce_channels(values, how, axis=None).tolist() == [[[2.0, 1.0], [0.5, 0.25]]]
