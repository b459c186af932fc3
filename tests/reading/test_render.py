"""`tb_saliency.render` draws as the Saliency tab draws: the golden fixtures the dashboard's tests draw
too (frontend/test/fixtures/render.json), the options' definitions, and the argument checks."""

import json

import numpy as np
import pytest

import tb_saliency
from tb_saliency.rendering import colormaps
from tests.support import fixtures, render_fixtures

pytestmark = pytest.mark.viewer

FIXTURE_FILE = fixtures.OUTPUT / "render.json"


def _fixture():
    return json.loads(FIXTURE_FILE.read_text(encoding="utf-8"))


def _pixels(entry):
    return np.frombuffer(bytes.fromhex(entry["pixels"]), np.uint8).reshape(entry["shape"])


@pytest.mark.parametrize("case", _fixture()["cases"], ids=lambda case: case["name"])
def test_render_draws_the_golden_fixtures_within_one_level(case):
    document = _fixture()
    maps = document["maps"][case["maps"]]
    stored = np.asarray(maps["stored"], np.float64).reshape(maps["shape"])
    raw = stored * np.asarray(maps["scale"]).reshape(*maps["shape"][:-2], 1, 1)
    images = None if case["images"] is None else _pixels(document["images"][case["images"]])
    tag_maps = [np.asarray(step) for step in maps["tag_steps"]]
    got = tb_saliency.render(images, raw, **case["options"], tag_maps=tag_maps)
    expected = np.frombuffer(bytes.fromhex(case["expected"]), np.uint8).reshape(case["shape"])
    assert got.shape == expected.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - expected).max() <= 1


def test_the_fixtures_take_every_option_value_and_differ_from_each_other():
    cases = _fixture()["cases"]
    seen = {name: {case["options"][name] for case in cases} for name in render_fixtures.DEFAULTS}
    assert seen["view"] == {"overlay", "heatmap", "masked", "side"}
    assert seen["colormap"] == set(colormaps.names())
    assert seen["sign"] == {"positive", "negative", "absolute", "signed"}
    assert seen["clipping"] == {"none", "percentile", "mass"}
    assert seen["normalise"] == {"map", "card", "tag"}
    assert seen["upsampling"] == {"bilinear", "nearest"}
    assert len({case["expected"] for case in cases}) == len(cases)


def _flat_images(value=100, n=1, size=(4, 4)):
    return np.full((n, *size, 3), value, np.uint8)


def test_defaults_are_the_tabs():
    maps = np.random.default_rng(0).normal(size=(2, 3, 3))
    images = _flat_images(n=2, size=(6, 6))
    assert np.array_equal(tb_saliency.render(images, maps), tb_saliency.render(
        images, maps, view="overlay", colormap="viridis", opacity=0.5, sign="absolute", clipping="percentile",
        percentile=99, normalise="map", upsampling="bilinear", mass_percent=2))


def test_heatmap_ends_are_the_colormaps_ends_and_overlay_blends_by_opacity():
    maps = np.array([[[0.0, 1.0]]])
    images = np.full((1, 1, 2, 3), 200, np.uint8)
    heat = tb_saliency.render(images, maps, view="heatmap", clipping="none")
    viridis = colormaps.table("viridis")
    assert heat[0, 0].tolist() == [viridis[0].tolist(), viridis[255].tolist()]
    over = tb_saliency.render(images, maps, opacity=0.25, clipping="none")
    expected = np.floor(0.75 * 200 + 0.25 * viridis[[0, 255]].astype(float) + 0.5)
    assert over[0, 0].tolist() == expected.tolist()
    assert np.array_equal(tb_saliency.render(images, maps, opacity=0.0, clipping="none")[0], images[0])


def test_masked_view_lets_through_the_normalised_magnitude():
    maps = np.array([[[0.0, 0.5, 1.0]]])
    images = np.full((1, 1, 3, 3), 200, np.uint8)
    masked = tb_saliency.render(images, maps, view="masked", clipping="none")
    assert masked[0, 0, :, 0].tolist() == [0, 100, 200]
    # Signed: the neutral middle (zero) is dark, both ends bright.
    signed = tb_saliency.render(images, np.array([[[-1.0, 0.0, 1.0]]]), view="masked", sign="signed",
                                clipping="none")
    assert signed[0, 0, :, 0].tolist() == [200, 0, 200]


def test_signs_pick_parts_of_the_map():
    maps = np.array([[[-2.0, 0.0, 1.0]]])
    gray = dict(view="heatmap", colormap="gray", clipping="none")
    assert tb_saliency.render(None, maps, sign="positive", upsampling="nearest", **gray)[0, 0, ::22, 0].tolist() == [0, 0, 255]
    assert tb_saliency.render(None, maps, sign="negative", upsampling="nearest", **gray)[0, 0, ::22, 0].tolist() == [255, 0, 0]
    assert tb_saliency.render(None, maps, sign="absolute", upsampling="nearest", **gray)[0, 0, ::22, 0].tolist() == [255, 0, 128]
    # Signed: symmetric around zero, so 0 sits at the middle and +1 at three quarters.
    assert tb_saliency.render(None, maps, sign="signed", upsampling="nearest", **gray)[0, 0, ::22, 0].tolist() == [0, 128, 191]


def test_percentile_clipping_is_numpys_and_mass_clipping_is_captums():
    values = np.random.default_rng(1).exponential(size=(1, 10, 10))
    for p in (50, 90, 99.5):
        top = np.percentile(values, p)
        expected = np.floor(np.clip((values - values.min()) / (top - values.min()), 0, 1) * 255 + 0.5)
        got = tb_saliency.render(None, values, view="heatmap", colormap="gray", percentile=p, upsampling="nearest")
        assert np.abs(got[0, ::7, ::7, 0].astype(int) - expected[0]).max() <= 1
    # captum's _cumulative_sum_threshold(values, 100 - outlier_perc)
    ordered = np.sort(values.reshape(-1))
    running = np.cumsum(ordered)
    threshold = ordered[np.where(running >= running[-1] * 0.9)[0][0]]
    got = tb_saliency.render(None, values, view="heatmap", colormap="gray", clipping="mass", mass_percent=10,
                             upsampling="nearest")
    expected = np.floor(np.clip((values - values.min()) / (threshold - values.min()), 0, 1) * 255 + 0.5)
    assert np.abs(got[0, ::7, ::7, 0].astype(int) - expected[0]).max() <= 1


def test_card_scope_shares_one_range_where_map_scope_gives_each_its_own():
    maps = np.stack([np.linspace(0, 1, 4).reshape(2, 2), np.linspace(0, 10, 4).reshape(2, 2)])
    options = dict(view="heatmap", colormap="gray", clipping="none", upsampling="nearest")
    own = tb_saliency.render(None, maps, **options)
    card = tb_saliency.render(None, maps, normalise="card", **options)
    assert np.array_equal(own[0], own[1])
    assert card[0].max() <= 26 and card[1].max() == 255
    # The tag's range spans every step given: this step's values draw darker beside a brighter one.
    tag = tb_saliency.render(None, maps, normalise="tag", tag_maps=[maps, maps * 2], **options)
    assert tag[1].max() == 128


def test_maps_beyond_float32_draw_like_ordinary_ones():
    maps = np.random.default_rng(2).normal(size=(2, 3, 4))
    for scale in (1e-300, 1e300):
        assert np.array_equal(tb_saliency.render(None, maps * scale, normalise="card"),
                              tb_saliency.render(None, maps, normalise="card"))


def test_non_finite_values_draw_as_zero():
    maps = np.array([[[np.nan, 1.0], [np.inf, 0.0]]])
    expected = tb_saliency.render(None, np.array([[[0.0, 1.0], [0.0, 0.0]]]))
    assert np.array_equal(tb_saliency.render(None, maps), expected)


def test_sizes_images_and_channels():
    maps = np.ones((2, 4, 5))
    assert tb_saliency.render(_flat_images(n=2, size=(8, 10)), maps).shape == (2, 8, 10, 3)
    assert tb_saliency.render(_flat_images(n=2, size=(8, 10)), maps, view="side").shape == (2, 8, 20, 3)
    assert tb_saliency.render(None, maps).shape == (2, 52, 65, 3)
    grey = np.full((2, 8, 10), 0.5)
    assert np.array_equal(tb_saliency.render(grey, maps, opacity=0.0), np.full((2, 8, 10, 3), 128, np.uint8))
    assert tb_saliency.render(_flat_images(n=2), np.ones((2, 3, 2, 2))).shape == (2, 3, 4, 4, 3)


@pytest.mark.parametrize("call, words", [
    (dict(view="blend"), ["view", "'overlay'", "'blend'"]),
    (dict(colormap="hot"), ["colormap", "'viridis'", "'hot'"]),
    (dict(sign="both"), ["sign", "'signed'"]),
    (dict(clipping="top"), ["clipping", "'mass'"]),
    (dict(normalise="step"), ["normalise", "'card'"]),
    (dict(upsampling="cubic"), ["upsampling", "'nearest'"]),
    (dict(opacity=50), ["opacity", "0 to 1", "50"]),
    (dict(percentile=10), ["percentile", "50 to 100"]),
    (dict(mass_percent=60), ["mass_percent", "0 to 50"]),
    (dict(maps=np.ones((4, 4))), ["maps", "N×h×w", "(4, 4)"]),
    (dict(images=np.ones((3, 4, 4, 3), np.uint8)), ["images", "(2)", "3"]),
    (dict(images=np.full((2, 4, 4, 3), 2.0)), ["images", "outside [0, 1]"]),
    (dict(images=np.ones((2, 4, 4, 5), np.uint8)), ["images", "N×H×W×C", "(2, 4, 4, 5)"]),
])
def test_bad_arguments_are_named(call, words):
    arguments = {"images": _flat_images(n=2), "maps": np.ones((2, 3, 3)), **call}
    with pytest.raises(ValueError) as error:
        tb_saliency.render(arguments.pop("images"), arguments.pop("maps"), **arguments)
    for word in words:
        assert word in str(error.value)
