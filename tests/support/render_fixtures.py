"""The golden fixtures of `tb_saliency.render` and the dashboard's render pipeline (render.json in
frontend/test/fixtures/, written with the others by `python -m tests.support.fixtures`).

Inputs (images, maps as the dashboard holds them: float32 `stored` values of peak magnitude 1 and a
float64 `scale` per map) and option sets that together take every value of every sidebar option;
`expected` is what `render` draws. tests/reading/test_render_fixtures.py and the frontend's
render_fixtures.test.ts both draw every case and compare within one level per channel.
"""

import numpy as np

from tb_saliency.rendering import render

DEFAULTS = {"view": "overlay", "colormap": "viridis", "opacity": 0.5, "sign": "absolute", "clipping": "percentile",
            "percentile": 99, "normalise": "map", "upsampling": "bilinear", "mass_percent": 2}


def _peak_one(values):
    """float32 values whose largest magnitude is exactly 1 in each map (the last two axes)."""
    values = np.asarray(values, np.float64)
    peak = np.abs(values).max(axis=(-2, -1), keepdims=True)
    return (values / peak).astype(np.float32)


def _images():
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:10, 0:12]
    base = np.stack([x * 20, y * 25, (x + y) * 10], axis=-1)
    rgb = np.clip(base[None] + rng.integers(0, 40, size=(2, 10, 12, 3)), 0, 255).astype(np.uint8)
    grey = rgb[..., :1] // 2 + 60
    return {"rgb": rgb, "grey": grey}


def _maps():
    rng = np.random.default_rng(9)
    return {
        # Two samples at different scales (a card's shared range weighs them by their units).
        "signed": (_peak_one(rng.normal(size=(2, 4, 5))), np.array([1.5, 3e-3])),
        # Raw values below float32's range: the unit carries the magnitude.
        "tiny": (_peak_one(rng.uniform(-0.2, 1.0, size=(2, 3, 3))), np.array([1e-40, 4e-41])),
        # K maps per sample, as activation channels: N×K×h×w.
        "channels": (_peak_one(rng.uniform(0.0, 1.0, size=(2, 3, 2, 3))), np.array([[2.0, 1.0, 0.5], [4.0, 8.0, 1.0]])),
    }


def _tag_steps(maps):
    """Every step's raw maps for the "tag" scope: this step and two others of larger extrema."""
    stored, scale = maps
    raw = stored * scale.reshape(*scale.shape, 1, 1)
    return [raw, raw * 1.5 - 0.25 * np.abs(raw).max(), raw * 0.5]


# (images, maps, options beyond the defaults): together every value of every option.
CASES = [
    ("rgb", "signed", {}),
    ("rgb", "signed", {"view": "heatmap", "colormap": "inferno"}),
    ("rgb", "signed", {"view": "masked"}),
    ("rgb", "signed", {"view": "masked", "sign": "signed", "colormap": "RdBu"}),
    ("rgb", "signed", {"view": "side", "colormap": "magma", "upsampling": "nearest"}),
    ("grey", "signed", {"opacity": 0.3, "colormap": "turbo", "sign": "positive"}),
    ("grey", "signed", {"opacity": 1.0, "colormap": "jet", "sign": "negative", "clipping": "none"}),
    ("rgb", "signed", {"opacity": 0.0, "colormap": "gray"}),
    ("rgb", "signed", {"sign": "signed", "colormap": "coolwarm", "clipping": "mass", "mass_percent": 10}),
    ("rgb", "signed", {"clipping": "mass"}),
    ("rgb", "signed", {"clipping": "percentile", "percentile": 50, "upsampling": "nearest"}),
    ("rgb", "signed", {"clipping": "percentile", "percentile": 100, "sign": "negative"}),
    ("rgb", "signed", {"normalise": "card"}),
    ("rgb", "signed", {"normalise": "card", "sign": "signed", "colormap": "RdBu", "clipping": "mass"}),
    ("rgb", "signed", {"normalise": "tag", "percentile": 90}),
    ("rgb", "signed", {"normalise": "tag", "clipping": "none", "sign": "signed", "colormap": "coolwarm"}),
    ("rgb", "signed", {"normalise": "tag", "sign": "positive", "view": "heatmap"}),
    (None, "signed", {}),
    (None, "signed", {"view": "masked", "upsampling": "nearest", "sign": "signed", "colormap": "RdBu"}),
    ("rgb", "tiny", {"normalise": "card", "view": "heatmap"}),
    ("grey", "tiny", {"sign": "signed", "colormap": "coolwarm", "view": "masked", "normalise": "tag"}),
    ("rgb", "channels", {}),
    ("rgb", "channels", {"normalise": "card", "view": "side", "clipping": "mass", "mass_percent": 20}),
]


def _hex(array):
    return np.ascontiguousarray(array, dtype=np.uint8).tobytes().hex()


def document():
    """render.json's content."""
    images, maps = _images(), _maps()
    cases = []
    for number, (image_name, map_name, changes) in enumerate(CASES):
        options = {**DEFAULTS, **changes}
        stored, scale = maps[map_name]
        raw = stored.astype(np.float64) * scale.reshape(*scale.shape, 1, 1)
        pictures = None if image_name is None else images[image_name]
        tag_maps = _tag_steps(maps[map_name]) if options["normalise"] == "tag" else None
        expected = render(pictures, raw, **options, tag_maps=tag_maps)
        cases.append({"name": f"{number:02d}_{image_name or 'no_images'}_{map_name}", "images": image_name,
                      "maps": map_name, "options": options, "shape": list(expected.shape), "expected": _hex(expected)})
    return {
        "about": "tests/support/render_fixtures.py",
        "images": {name: {"shape": list(a.shape), "pixels": _hex(a)} for name, a in images.items()},
        "maps": {name: {"shape": list(stored.shape), "stored": stored.astype(np.float64).reshape(-1).tolist(),
                        "scale": scale.reshape(-1).tolist(),
                        "tag_steps": [step.reshape(-1).tolist() for step in _tag_steps((stored, scale))]}
                 for name, (stored, scale) in maps.items()},
        "cases": cases,
    }
