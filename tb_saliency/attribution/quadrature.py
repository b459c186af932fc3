"""Quadrature rules on [0, 1] for integrated gradients: nodes α_i and weights w_i such that
Σ_i w_i φ(α_i) ≈ ∫₀¹ φ(α) dα.

Gauss–Legendre with n nodes integrates polynomials of degree ≤ 2n - 1 exactly and converges
exponentially for analytic integrands; the Riemann rules are first order (left, right) or
second order (middle, trapezoid).
"""

from __future__ import annotations

import numpy as np

RULES = ("gauss_legendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")

# The trapezoid rule needs both ends of the path; the others work from one node.
MIN_STEPS = {"riemann_trapezoid": 2}


def nodes_and_weights(rule: str, steps: int) -> tuple:
    """(nodes, weights) as two lists of `steps` Python floats, nodes ascending in [0, 1].

    `rule` and `steps` are validated by the options layer (see `options.resolve_options`)."""
    if rule == "gauss_legendre":
        t, w = np.polynomial.legendre.leggauss(steps)
        return [float(a) for a in (t + 1.0) / 2.0], [float(b) for b in w / 2.0]
    if rule == "riemann_trapezoid":
        h = 1.0 / (steps - 1)
        nodes = [i * h for i in range(steps)]
        weights = [h] * steps
        weights[0] = weights[-1] = h / 2.0
        return nodes, weights
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[rule]
    return [(i + offset) / steps for i in range(steps)], [1.0 / steps] * steps
