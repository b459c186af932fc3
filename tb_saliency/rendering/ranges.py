"""From values to positions on a colormap, as the dashboard's render/normalise.ts defines them: the
sign modes, percentile and mass clipping, and the display range each normalisation scope shares.

Values come as in the dashboard: `stored` float32 values (|v| ≤ 1) and a float64 `unit`, raw = stored
× unit, so maps of 1e-50 or 1e300 keep their magnitude; every range is a double in raw units.
"""

import dataclasses

import numpy as np

SIGNS = ("positive", "negative", "absolute", "signed")
CLIPPINGS = ("none", "percentile", "mass")
SCOPES = ("map", "card", "tag")


@dataclasses.dataclass(frozen=True)
class DisplayRange:
    """The raw values at the colormap's ends; symmetric (lo = -hi) for signed maps, so that zero sits
    at a diverging colormap's neutral middle."""

    lo: float
    hi: float
    signed: bool


def apply_sign(values, sign):
    """A sign mode applied to each value; non-finite values count as 0, as in the dashboard."""
    x = np.where(np.isfinite(values), values, 0).astype(values.dtype, copy=False)
    if sign == "positive":
        return np.maximum(x, 0)
    if sign == "negative":
        return np.maximum(-x, 0)
    if sign == "absolute":
        return np.abs(x)
    return x


def sorted_for(stored, sign):
    """The sign-transformed values, ascending, as float64; the signed mode reads magnitudes (its range
    is symmetric, so only |v| matters)."""
    transformed = apply_sign(np.asarray(stored, np.float32).reshape(-1), "absolute" if sign == "signed" else sign)
    return np.sort(transformed).astype(np.float64)


def percentile_of(ascending, p):
    """numpy.percentile's default (linear) definition, p in [0, 100]."""
    n = ascending.size
    if n == 0:
        return 0.0
    pos = min(max(p, 0), 100) / 100 * (n - 1)
    i = int(np.floor(pos))
    a = ascending[i]
    return float(a + (ascending[i + 1] - a) * (pos - i)) if i + 1 < n else float(a)


def mass_threshold_of(ascending, p):
    """captum's `_cumulative_sum_threshold`: the smallest value at which the running sum reaches p
    percent of the total. An all-zero map gives 0."""
    n = ascending.size
    if n == 0:
        return 0.0
    running = np.cumsum(ascending)
    goal = running[-1] * min(max(p, 0), 100) / 100
    reached = np.flatnonzero(running >= goal)
    return float(ascending[reached[0]] if reached.size else ascending[-1])


def clip_value_of(ascending, clipping, percentile, mass_percent):
    if clipping == "percentile":
        return percentile_of(ascending, percentile)
    if clipping == "mass":
        return mass_threshold_of(ascending, 100 - mass_percent)
    return None


def range_of_sorted(ascending, unit, sign, clipping, percentile, mass_percent):
    """The display range of sorted sign-transformed values (in `unit`s), in raw units."""
    is_signed = sign == "signed"
    if ascending.size == 0:
        return DisplayRange(0.0, 0.0, is_signed)
    clipped = clip_value_of(ascending, clipping, percentile, mass_percent)
    hi = float(ascending[-1])
    if is_signed:
        if clipped is not None:
            hi = min(hi, clipped)
        return DisplayRange(-hi * unit, hi * unit, True)
    lo = float(ascending[0])
    if clipped is not None:
        hi = max(lo, min(hi, clipped))
    return DisplayRange(lo * unit, hi * unit, False)


def sorted_together(blocks, sign):
    """Several maps' sorted values in one unit, the largest, each scaled in float32 by its unit's share
    (the dashboard's sortedTogether). `blocks` are (stored, unit) pairs."""
    unit = max((u for _, u in blocks), default=0.0)
    if not unit > 0:
        unit = 1.0
    parts = []
    for stored, block_unit in blocks:
        own = sorted_for(stored, sign)
        share = block_unit / unit
        parts.append(own if share == 1 else (own * share).astype(np.float32).astype(np.float64))
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0), unit


def signed_extent(lowest, highest, sign):
    """The range of sign-transformed values known only from the raw minimum and maximum."""
    mn = lowest if np.isfinite(lowest) else 0.0
    mx = highest if np.isfinite(highest) else 0.0
    if sign == "positive":
        return max(mn, 0.0), max(mx, 0.0)
    if sign == "negative":
        return max(-mx, 0.0), max(-mn, 0.0)
    if sign == "absolute":
        lo = mn if mn >= 0 else (-mx if mx <= 0 else 0.0)
        return lo, max(abs(mn), abs(mx))
    return mn, mx


def range_from_extrema(mins, maxs, sign, clip_share=1.0):
    """A whole tag's range from every step's raw extrema; clipping, known only for the step drawn,
    carries over as its share of that step's unclipped range."""
    lo, hi = np.inf, -np.inf
    for a, b in (signed_extent(mn, mx, sign) for mn, mx in zip(mins, maxs)):
        lo, hi = min(lo, a), max(hi, b)
    if not lo <= hi:
        return DisplayRange(0.0, 0.0, sign == "signed")
    if sign == "signed":
        m = max(abs(lo), abs(hi)) * clip_share
        return DisplayRange(-m, m, True)
    return DisplayRange(lo, lo + (hi - lo) * clip_share, False)


def clip_share_of(clipped, unclipped):
    full = unclipped.hi - unclipped.lo
    if not full > 0:
        return 1.0
    return min(1.0, max(0.0, (clipped.hi - clipped.lo) / full))


def position_map(display_range, unit):
    """(a, b) with position t = stored × a + b before clamping to [0, 1]. A flat range puts every value
    at the low end, or at the neutral middle for signed maps."""
    if display_range.signed:
        if not (display_range.hi > 0 and np.isfinite(display_range.hi)):
            return 0.0, 0.5
        return unit / display_range.hi / 2, 0.5
    span = display_range.hi - display_range.lo
    if not (span > 0 and np.isfinite(span)):
        return 0.0, 0.0
    return unit / span, -display_range.lo / span
