"""Frames read back draw themselves: `Frame.render` (the tab's pictures of one map), `Frame.save` and
`_repr_png_` (a grid of samples × maps as PNG, without matplotlib), `Frame.figure` and `Frame.show`
(matplotlib, an optional extra that is named when missing)."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import tb_saliency
from tests.support import viewer_logdirs

pytestmark = pytest.mark.viewer


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    viewer_logdirs.write_custom_maps(logdir, run="custom", steps=(0, 10), count=3)
    viewer_logdirs.write_activations(logdir, run="model", steps=(0,), count=2)
    return {(f.run, f.tag, f.step): f for f in tb_saliency.read(logdir)}


def test_render_of_a_frame_is_render_over_its_images(frames):
    frame = frames[("custom", "probe", 10)]
    assert frame.images.shape == (3, 16, 16, 3)
    got = frame.render("gradcam", sign="signed", colormap="RdBu", normalise="card")
    assert got.shape == (3, 16, 16, 3) and got.dtype == np.uint8
    assert np.array_equal(got, tb_saliency.render(frame.images, frame.maps["gradcam"], sign="signed",
                                                  colormap="RdBu", normalise="card"))


def test_a_frame_of_several_maps_needs_a_key(frames):
    frame = frames[("custom", "probe", 0)]
    with pytest.raises(ValueError, match=r"key: this frame holds 2 maps, name one of \['gradcam', 'gradient'\]"):
        frame.render()
    with pytest.raises(KeyError, match="gradient"):
        frame.render("saliency")


def test_an_activations_frame_renders_its_channels(frames):
    frame = frames[("model", "probe/activations", 0)]
    got = frame.render(view="heatmap")
    assert got.shape == (2, 4, 16, 16, 3)
    assert np.array_equal(got, tb_saliency.render(frame.images, frame.activations.values, view="heatmap"))


def _png(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_save_and_repr_png_draw_the_grid_of_samples_by_columns(frames, tmp_path):
    frame = frames[("custom", "probe", 10)]
    shown = _png(frame._repr_png_())
    # 3 samples × (input, gradient, gradcam), 16-pixel tiles enlarged 6× to 96, 2-pixel gaps.
    assert shown.shape == (3 * 96 + 2 * 2, 3 * 96 + 2 * 2, 3)
    tile = shown[98:98 + 96, 196:196 + 96]  # sample 1, gradcam
    expected = frame.render("gradcam")[1].repeat(6, axis=0).repeat(6, axis=1)
    assert np.array_equal(tile, expected)
    assert np.array_equal(shown[:96, :96], frame.images[0].repeat(6, axis=0).repeat(6, axis=1))
    frame.save(tmp_path / "grid.png", view="heatmap", colormap="magma")
    saved = _png((tmp_path / "grid.png").read_bytes())
    assert saved.shape == shown.shape
    assert np.array_equal(saved[98:98 + 96, 196:196 + 96],
                          frame.render("gradcam", view="heatmap", colormap="magma")[1].repeat(6, 0).repeat(6, 1))


def test_figure_is_a_grid_with_named_columns_and_sample_facts(frames):
    pytest.importorskip("matplotlib")
    frame = frames[("custom", "probe", 10)]
    fig = frame.figure(view="masked")
    axes = fig.get_axes()
    assert len(axes) == 9
    assert [a.get_title() for a in axes[:3]] == ["input", "gradient", "gradcam"]
    assert axes[0].get_ylabel().startswith("0  label ")
    assert "pred " in axes[3].get_ylabel() and "score " in axes[3].get_ylabel()
    assert np.array_equal(axes[2].get_images()[0].get_array(), frame.render("gradcam", view="masked")[0])


def test_show_draws_through_pyplot(frames, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib import pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    frames[("model", "probe/activations", 0)].show(colormap="inferno")
    assert len(shown) == 1 and len(shown[0].get_axes()) == 2 * 5
    plt.close("all")


def test_without_matplotlib_show_says_what_to_install(tmp_path):
    viewer_logdirs.write_single_map(tmp_path, count=2)
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "import tb_saliency\n"
            f"frame = tb_saliency.read({str(tmp_path)!r})[0]\n"
            "frame.save('grid.png')\n"
            "frame.show()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0
    assert "ImportError: Frame.figure and Frame.show need matplotlib: pip install 'tb_saliency[plot]'" in result.stderr
    assert (tmp_path / "grid.png").stat().st_size > 0
