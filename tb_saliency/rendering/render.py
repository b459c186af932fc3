"""`tb_saliency.render`: maps drawn as the Saliency tab draws them, as N×H×W×3 uint8 pictures.

Every option is one of the tab's sidebar, with its name and its definition (the dashboard's
render/normalise.ts and render/pixels.ts); the golden fixtures in frontend/test/fixtures/render/
hold both to the same pixels, within one level per channel. NumPy only: no torch.
"""

import numbers

import numpy as np

from tb_saliency.rendering import colormaps, pixels, ranges


def render(images, maps, *, view="overlay", colormap="viridis", opacity=0.5, sign="absolute",
           clipping="percentile", percentile=99, normalise="map", upsampling="bilinear", mass_percent=2,
           tag_maps=None):
    """Saliency maps as pictures, drawn as the Saliency tab draws them.

    Args:
      images: the inputs, N×H×W×C (C = 1 to 4; alpha is ignored) or N×H×W, uint8 or floats in [0, 1];
        None for maps alone (every view then draws the heatmap).
      maps: raw attribution values, N×h×w (one map per sample, upsampled to H×W), or N×K×h×w (K maps
        per sample, such as a frame's activation channels).
      view: "overlay" (the heatmap over the input at `opacity`), "heatmap" (the heatmap alone),
        "masked" (the input times the normalised magnitude) or "side" (input and heatmap side by side:
        N×H×2W×3).
      colormap: "viridis", "inferno", "magma", "turbo", "jet", "gray", or for signed maps the diverging
        "RdBu" and "coolwarm".
      opacity: the overlay's opacity, 0 to 1.
      sign: "positive" (negative values drawn as 0), "negative" (its magnitude; positive values as 0),
        "absolute" (|v|) or "signed" (a range symmetric around 0, for a diverging colormap).
      clipping: "none", "percentile" (the top of the range at the `percentile`-th percentile of the
        sign-transformed values, numpy's linear definition) or "mass" (where the largest values hold
        `mass_percent` percent of the total: captum's outlier_perc).
      percentile: 50 to 100.
      normalise: the values that share one range: "map" (each map its own), "card" (all the maps
        given, as the tab's card of one step) or "tag" (every step's raw extrema, from `tag_maps`,
        with the clipping's share of this step's range carried over).
      upsampling: "bilinear" (half-pixel centres, clamped edges) or "nearest" (cells).
      mass_percent: the mass clipping's outlier percent, 0 to 50.
      tag_maps: for normalise="tag", every step's maps (a list of arrays); by default the maps given.

    Returns:
      N×H×W×3 uint8 (N×K×H×W×3 for N×K×h×w maps); without images, H×W is h×w times the smallest
      integer that reaches 64 pixels, as in the tab.
    """
    _check_choice("view", view, pixels.VIEWS)
    _check_choice("colormap", colormap, colormaps.names())
    _check_choice("sign", sign, ranges.SIGNS)
    _check_choice("clipping", clipping, ranges.CLIPPINGS)
    _check_choice("normalise", normalise, ranges.SCOPES)
    _check_choice("upsampling", upsampling, pixels.UPSAMPLINGS)
    opacity = _check_number("opacity", opacity, 0, 1)
    percentile = _check_number("percentile", percentile, 50, 100)
    mass_percent = _check_number("mass_percent", mass_percent, 0, 50)
    values = _check_maps(maps)
    rgb = _check_images(images, values.shape[0])
    grid = values.reshape(-1, *values.shape[-2:])
    blocks = [_stored_and_unit(m) for m in grid]

    if normalise == "map":
        display = [ranges.range_of_sorted(ranges.sorted_for(s, sign), u, sign, clipping, percentile, mass_percent)
                   for s, u in blocks]
    else:
        together, unit = ranges.sorted_together(blocks, sign)
        card = ranges.range_of_sorted(together, unit, sign, clipping, percentile, mass_percent)
        if normalise == "tag":
            card = _tag_range(card, together, unit, sign, clipping, percentile, mass_percent,
                              values if tag_maps is None else tag_maps)
        display = [card] * len(blocks)

    per_sample = values.shape[1] if values.ndim == 4 else 1
    height, width = pixels.base_size(*values.shape[-2:], None if rgb is None else rgb.shape[1:3])
    out = []
    for i, ((stored, unit), display_range) in enumerate(zip(blocks, display)):
        image = None if rgb is None else rgb[i // per_sample]
        a, b = ranges.position_map(display_range, unit)
        upsampled = pixels.upsample(stored, height, width, upsampling, sign)
        if image is not None and view == "masked":
            out.append(pixels.masked(image, pixels.mask_layer(upsampled, a, b, display_range.signed)))
            continue
        layer = pixels.heat_layer(upsampled, a, b, colormap)
        if image is not None and view == "overlay":
            out.append(pixels.overlay(image, layer, opacity))
        elif image is not None and view == "side":
            out.append(np.concatenate([image, layer], axis=1))
        else:
            out.append(layer)
    return np.stack(out).reshape(*values.shape[:-2], *out[0].shape)


def _tag_range(card, together, unit, sign, clipping, percentile, mass_percent, tag_maps):
    if isinstance(tag_maps, np.ndarray):
        tag_maps = [tag_maps]
    mins, maxs = [], []
    for step, step_maps in enumerate(tag_maps):
        step_values = np.asarray(step_maps, dtype=np.float64)
        finite = step_values[np.isfinite(step_values)]
        if finite.size == 0:
            raise ValueError(f"tag_maps: expected arrays holding finite values, got none in entry {step}")
        mins.append(float(finite.min()))
        maxs.append(float(finite.max()))
    share = 1.0
    if clipping != "none":
        share = ranges.clip_share_of(card, ranges.range_of_sorted(together, unit, sign, "none", percentile,
                                                                  mass_percent))
    return ranges.range_from_extrema(mins, maxs, sign, share)


def _stored_and_unit(raw):
    """A map as the dashboard holds it: float32 values of magnitude ≤ 1 and the float64 unit, its peak
    magnitude, that gives raw = stored × unit (non-finite values count as 0)."""
    finite = np.where(np.isfinite(raw), raw, 0.0)
    peak = float(np.max(np.abs(finite), initial=0.0))
    unit = peak if peak > 0 else 1.0
    return (finite / unit).astype(np.float32), unit


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")


def _check_number(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not lo <= float(value) <= hi:
        raise ValueError(f"{name}: expected a number from {lo} to {hi}, got {value!r}")
    return float(value)


def _check_maps(maps):
    values = np.asarray(maps)
    if values.dtype.kind not in "fiu" or values.ndim not in (3, 4):
        raise ValueError(f"maps: expected real numbers N×h×w or N×K×h×w, got {values.dtype} of shape {values.shape}")
    if 0 in values.shape:
        raise ValueError(f"maps: expected at least one non-empty map, got shape {values.shape}")
    return values.astype(np.float64)


def _check_images(images, count):
    """N×H×W×3 uint8 RGB, or None."""
    if images is None:
        return None
    pictures = np.asarray(images)
    if pictures.ndim == 3:
        pictures = pictures[..., None]
    if pictures.ndim != 4 or pictures.shape[3] not in (1, 2, 3, 4) or 0 in pictures.shape:
        raise ValueError(f"images: expected N×H×W×C (C from 1 to 4) or N×H×W, got shape {pictures.shape}")
    if pictures.shape[0] != count:
        raise ValueError(f"images: expected one per map's sample ({count}), got {pictures.shape[0]}")
    if pictures.dtype.kind == "f":
        if not (np.all(np.isfinite(pictures)) and pictures.min() >= 0 and pictures.max() <= 1):
            raise ValueError("images: expected uint8, or floats from 0 to 1, got floats outside [0, 1]")
        pictures = np.floor(pictures * 255 + 0.5)
    elif pictures.dtype != np.uint8:
        raise ValueError(f"images: expected uint8, or floats from 0 to 1, got {pictures.dtype}")
    return as_rgb(pictures).astype(np.uint8)


def as_rgb(pictures):
    """N×H×W×C (or N×H×W) pictures as N×H×W×3, as the tab shows them: grey repeated, alpha left out."""
    pictures = np.asarray(pictures)
    if pictures.ndim == 3:
        pictures = pictures[..., None]
    return pictures[..., :1].repeat(3, axis=3) if pictures.shape[3] <= 2 else pictures[..., :3]
