"""A real `tensorboard` process, under both loaders, on a logdir written by the public API."""

import json

import numpy as np
import pytest

from tb_saliency import format as stored_format
from tests.support import logdirs
from tests.support.tensorboard import get, get_json, tensorboard

ROUTE = "data/plugin/saliency/"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    written = logdirs.write_custom_maps(logdir, steps=(0, 10, 20))
    logdirs.write_model_saliency(logdir, steps=(0, 3), methods=("gradient", "gradcam"))
    logdirs.write_scalars_only(logdir)
    return written


@pytest.fixture(scope="module", params=[False, True], ids=["load_fast=false", "load_fast=true"])
def server(request, written):
    with tensorboard(written.logdir, load_fast=request.param) as url:
        yield url


def test_plugin_is_listed_enabled_with_its_tab(server):
    listing = get_json(server + "data/plugins_listing")["saliency"]
    assert listing["enabled"] is True
    assert listing["tab_name"] == "Saliency"
    assert listing["loading_mechanism"] == {"type": "IFRAME",
                                            "module_path": "/data/plugin/saliency/index.js"}


def test_index_lists_every_saliency_tag(server):
    runs = get_json(server + ROUTE + "tags")["runs"]
    assert set(runs) == {"custom", "model"}
    assert runs["custom"]["probe"]["map_keys"] == ["gradient", "gradcam"]
    assert runs["custom"]["probe"]["steps_stored"] == 3
    assert runs["model"]["probe"]["kind"] == "saliency"
    assert runs["model"]["probe"]["map_keys"] == ["gradient", "gradcam"]
    assert runs["model"]["probe/activations"]["kind"] == "activations"
    assert runs["model"]["probe"]["steps_stored"] == 2


def test_frames_decode_to_the_maps_that_were_written(server, written):
    frames = get_json(server + ROUTE + "frames?run=custom&tag=probe")["frames"]
    assert [f["step"] for f in frames] == [0, 10, 20]
    for frame in frames:
        expected = written.maps[("custom", "probe", frame["step"])]
        for column in frame["maps"]:
            status, headers, body = get(server + ROUTE + "blob?key=" + column["blob"])
            assert status == 200
            values = stored_format.decode_values(
                body, column["dtype"], (frame["num_samples"], column["height"], column["width"]),
                column["scale"])
            truth = expected[column["key"]]
            peak = np.abs(truth).max(axis=(1, 2))[:, None, None]
            assert np.all(np.abs(values - truth) <= peak * 2 ** -11)
        for key, image in zip(frame["images"]["blobs"],
                              written.images[("custom", "probe", frame["step"])]):
            status, headers, body = get(server + ROUTE + "blob?key=" + key)
            assert headers["Content-Type"] == "image/png"
            np.testing.assert_array_equal(stored_format.decode_png(body), image)


def test_model_frames_carry_predictions_and_activations(server):
    frame = get_json(server + ROUTE + "frames?run=model&tag=probe")["frames"][-1]
    assert frame["num_samples"] == 4
    assert all({"label", "target", "prediction", "score", "target_score"} <= set(s)
               for s in frame["samples"])
    gradcam = next(m for m in frame["maps"] if m["key"] == "gradcam")
    assert gradcam["layer"] == "features.3" and (gradcam["height"], gradcam["width"]) == (8, 8)
    acts = get_json(server + ROUTE + "frames?run=model&tag=probe/activations")["frames"][-1]
    assert acts["activations"]["channels"] == 4
    assert acts["activations"]["total_channels"] == 8
    assert get(server + ROUTE + "blob?key=" + acts["activations"]["blob"])[0] == 200


def test_bundle_and_errors_are_served(server):
    status, headers, body = get(server + ROUTE + "index.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert b"render" in body
    assert get(server + ROUTE + "frames?run=custom")[0] == 400
    assert get(server + ROUTE + "frames?run=custom&tag=absent")[0] == 404
    assert get(server + ROUTE + "blob?key=not-a-key")[0] in (400, 404)
    assert get(server + ROUTE + "static/../plugin.py")[0] == 404
    assert get(server + ROUTE + "index.js/../plugin.py")[0] == 404


def test_a_logdir_without_saliency_keeps_the_tab_disabled_and_tensorboard_alive(tmp_path):
    logdirs.write_scalars_only(tmp_path)
    for load_fast in (False, True):
        with tensorboard(tmp_path, load_fast=load_fast, wait_for_plugin=False) as url:
            listing = get_json(url + "data/plugins_listing")
            assert listing["saliency"]["enabled"] is False
            assert get_json(url + ROUTE + "tags")["runs"] == {}


@pytest.mark.parametrize("load_fast", [True, False], ids=["load_fast=true", "load_fast=false"])
def test_a_run_written_again_shows_its_new_frames_not_cached_ones(tmp_path, load_fast):
    import shutil
    import time

    logdirs.write_custom_maps(tmp_path, steps=(0, 10))
    with tensorboard(tmp_path, load_fast=load_fast) as url:
        before = get_json(url + ROUTE + "frames?run=custom&tag=probe")["frames"]
        assert [len(f["maps"]) for f in before] == [2, 2]
        shutil.rmtree(tmp_path / "custom")
        time.sleep(1.1)  # a new wall time for the same steps
        rewritten = logdirs.write_single_map(tmp_path, steps=(0, 10))
        old_walls = {f["wall_time"] for f in before}
        deadline = time.monotonic() + 60
        while True:
            # While TensorBoard reloads, the run may briefly be gone (404) or half read.
            status, _, body = get(url + ROUTE + "frames?run=custom&tag=probe")
            frames = json.loads(body).get("frames", []) if status == 200 else []
            walls = {f["wall_time"] for f in frames}
            if (len(frames) == 2 and not walls & old_walls) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert [f["step"] for f in frames] == [0, 10]
        for frame in frames:
            assert "error" not in frame, frame["error"]
            assert [m["key"] for m in frame["maps"]] == ["saliency"]
            column = frame["maps"][0]
            body = get(url + ROUTE + "blob?key=" + column["blob"])[2]
            values = stored_format.decode_values(
                body, column["dtype"], (frame["num_samples"], column["height"], column["width"]),
                column["scale"])
            np.testing.assert_allclose(values, rewritten[frame["step"]], rtol=2 ** -10)
