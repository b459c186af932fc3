"""A real `tensorboard` process, under both loaders, on a logdir written without torch."""

import io
import json
import shutil
import time

import numpy as np
import pytest

from tb_saliency import format as stored_format
from tb_saliency.format import step_data
from tests.support import schema, viewer_logdirs
from tests.support.tensorboard import get, tensorboard

pytestmark = pytest.mark.viewer

ROUTE = "data/plugin/saliency/"
LOADERS = pytest.mark.parametrize("load_fast", [True, False], ids=["load_fast=true", "load_fast=false"])


def get_json(url, definition=None, status=200):
    """The JSON of an answer with `status`, validated against http_schema.json."""
    code, headers, body = get(url)
    assert code == status, (url, code, body[:500])
    assert headers["Content-Type"].startswith("application/json")
    document = json.loads(body)
    if definition is not None:
        schema.validate(document, definition)
    return document


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    written = viewer_logdirs.write_custom_maps(logdir, steps=(0, 10, 20))
    written.activations = viewer_logdirs.write_activations(logdir)
    viewer_logdirs.write_scalars_only(logdir)
    return written


@pytest.fixture(scope="module", params=[False, True], ids=["load_fast=false", "load_fast=true"])
def server(request, written):
    with tensorboard(written.logdir, load_fast=request.param) as url:
        yield url


def test_plugin_is_listed_enabled_with_its_tab(server):
    listing = get_json(server + "data/plugins_listing")["saliency"]
    assert listing["enabled"] is True
    assert listing["tab_name"] == "Saliency"
    assert listing["loading_mechanism"] == {"type": "IFRAME", "module_path": "/data/plugin/saliency/index.js"}


def test_tags_list_every_frame_tag(server):
    tags = get_json(server + ROUTE + "tags", "Tags")
    assert tags["runs"].keys() == {"custom", "model"}
    assert tags["runs"]["custom"]["probe"]["map_keys"] == ["gradient", "gradcam"]
    assert tags["runs"]["custom"]["probe"]["max_step"] == 20
    assert tags["runs"]["model"]["probe/activations"]["kind"] == "activations"
    assert tags["run_errors"] == {}


def test_steps_list_the_stored_steps_with_their_index(server, written):
    steps = get_json(server + ROUTE + "steps?run=custom&tag=probe", "Steps")
    assert [s["step"] for s in steps["steps"]] == [0, 10, 20]
    assert steps["written"] == {"frames": 3, "steps": 3}
    assert steps["sampling"] == {"limit": 10, "stored": 3}
    for entry in steps["steps"]:
        gradcam = written.maps[("custom", "probe", entry["step"])]["gradcam"]
        assert entry["index"]["arrays"][1] == {"key": "gradcam", "stage": "", "min": gradcam.min(),
                                               "max": gradcam.max(), "metrics": {}}
    again = get_json(server + ROUTE + "steps?run=custom&tag=probe&token=" + steps["token"], "Steps")
    assert again["append"] is True and again["steps"] == []


def test_frames_decode_to_the_maps_and_images_that_were_written(server, written):
    for step in (0, 10, 20):
        frame = get_json(server + ROUTE + f"frame?run=custom&tag=probe&step={step}", "Frame")
        assert "error" not in frame, frame
        expected = written.maps[("custom", "probe", step)]
        for column in frame["maps"]:
            status, headers, body = get(server + ROUTE + "blob?key=" + column["blob"])
            assert status == 200 and headers["Content-Type"] == "application/octet-stream"
            values = stored_format.decode_array(body, column, (3, column["height"], column["width"]))
            truth = expected[column["key"]]
            peak = np.abs(truth).max(axis=(1, 2))[:, None, None]
            assert np.all(np.abs(values - truth) <= peak * 2 ** -11)
        for key, image in zip(frame["images"]["blobs"], written.images[("custom", "probe", step)]):
            status, headers, body = get(server + ROUTE + "blob?key=" + key)
            assert headers["Content-Type"] == "image/png"
            np.testing.assert_array_equal(stored_format.decode_png(body), image)


def test_a_step_in_one_request_is_its_frame_and_every_blob_byte_for_byte(server, written):
    """/step_data under this loader: the /frame JSON and the bytes /blob gives for every blob it names,
    shared probe images included, read from the data server (in parallel under the fast loader)."""
    for run, tag, steps in (("custom", "probe", (0, 10, 20, 10)), ("model", "probe/activations", (3,))):
        for step in steps:
            status, headers, body = get(server + ROUTE + f"step_data?run={run}&tag={tag}&step={step}")
            assert status == 200 and headers["Content-Type"] == "application/octet-stream"
            text, blobs = step_data.decode(body)
            document = schema.validate(json.loads(text), "StepData")
            frame = get_json(server + ROUTE + f"frame?run={run}&tag={tag}&step={step}", "Frame")
            assert document == {"frame": frame, "unreadable": {}}
            named = (frame["images"]["blobs"] if frame["images"] else []) + [m["blob"] for m in frame["maps"]]
            named += [frame["activations"]["blob"]] if frame["activations"] else []
            assert list(blobs) == named
            for key, data in blobs.items():
                assert get(server + ROUTE + "blob?key=" + key)[2] == data
    get_json(server + ROUTE + "step_data?run=custom&tag=probe&step=5", "Error", status=404)
    get_json(server + ROUTE + "step_data?run=custom&tag=absent&step=0", "Error", status=404)
    get_json(server + ROUTE + "step_data?run=custom&tag=probe", "Error", status=400)


def test_activation_frames_and_exports(server, written):
    frame = get_json(server + ROUTE + "frame?run=model&tag=probe/activations&step=3", "Frame")
    assert frame["activations"]["channels"] == 4 and frame["activations"]["total_channels"] == 8
    status, headers, body = get(server + ROUTE + "export?run=model&tag=probe/activations&step=3")
    assert status == 200 and headers["Content-Disposition"].startswith("attachment")
    archive = np.load(io.BytesIO(body), allow_pickle=False)
    assert archive["activations"].shape == (4, 4, 16, 16)
    assert archive["channel_index"].tolist() == frame["activations"]["channel_index"]


def test_bundle_and_errors_are_served(server):
    status, headers, body = get(server + ROUTE + "index.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert b"render" in body
    get_json(server + ROUTE + "steps?run=custom", "Error", status=400)
    get_json(server + ROUTE + "steps?run=custom&tag=absent", "Error", status=404)
    get_json(server + ROUTE + "frame?run=custom&tag=probe&step=5", "Error", status=404)
    get_json(server + ROUTE + "frame?run=custom&tag=probe&step=x", "Error", status=400)
    for key in ("not-a-key", "W10", "WyIiLCJjdXN0b20iLCJwcm9iZSIsOTk5LDBd"):
        get_json(server + ROUTE + "blob?key=" + key, "Error", status=404)
    assert get(server + ROUTE + "static/../plugin.py")[0] == 404
    assert get(server + ROUTE + "index.js/../plugin.py")[0] == 404


def test_a_logdir_without_saliency_keeps_the_tab_disabled_and_tensorboard_alive(tmp_path):
    viewer_logdirs.write_scalars_only(tmp_path)
    for load_fast in (False, True):
        with tensorboard(tmp_path, load_fast=load_fast, wait_for_plugin=False) as url:
            assert get_json(url + "data/plugins_listing")["saliency"]["enabled"] is False
            assert get_json(url + ROUTE + "tags", "Tags")["runs"] == {}


@LOADERS
def test_a_run_written_again_shows_its_new_frames_not_cached_ones(tmp_path, load_fast):
    viewer_logdirs.write_custom_maps(tmp_path, steps=(0, 10))
    with tensorboard(tmp_path, load_fast=load_fast) as url:
        steps_url = url + ROUTE + "steps?run=custom&tag=probe"
        before = get_json(steps_url, "Steps")
        assert [len(s["index"]["arrays"]) for s in before["steps"]] == [2, 2]
        for entry in before["steps"]:  # headers now cached
            get_json(url + ROUTE + f"frame?run=custom&tag=probe&step={entry['step']}", "Frame")
        shutil.rmtree(tmp_path / "custom")
        # The Python loader keeps the first frame of a step for good, unless it sees the run gone
        # (as when training starts again later): wait until TensorBoard no longer lists it.
        deadline = time.monotonic() + 30
        while "custom" in get_json(url + ROUTE + "tags", "Tags")["runs"] and time.monotonic() < deadline:
            time.sleep(0.25)
        rewritten = viewer_logdirs.write_single_map(tmp_path, steps=(0, 10), wall_time_start=5.0)
        deadline = time.monotonic() + 60
        while True:
            # While TensorBoard reloads, the run may briefly be gone (404) or half read.
            status, _, body = get(steps_url + "&token=" + before["token"])
            steps = json.loads(body) if status == 200 else {"steps": []}
            if ([s["wall_time"] for s in steps["steps"]] == [5.0, 15.0]) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert steps["append"] is False and [s["step"] for s in steps["steps"]] == [0, 10]
        for entry in steps["steps"]:
            frame = get_json(url + ROUTE + f"frame?run=custom&tag=probe&step={entry['step']}", "Frame")
            assert "error" not in frame, frame["error"]
            assert [m["key"] for m in frame["maps"]] == ["saliency"]
            column = frame["maps"][0]
            body = get(url + ROUTE + "blob?key=" + column["blob"])[2]
            values = stored_format.decode_array(body, column, (3, column["height"], column["width"]))
            np.testing.assert_allclose(values, rewritten[entry["step"]], rtol=2 ** -10)


@LOADERS
def test_new_steps_arrive_as_an_append_to_a_token(tmp_path, load_fast):
    writer = viewer_logdirs.RunWriter(tmp_path / "live")
    images = viewer_logdirs.probe_images(2)
    try:
        for step in (0, 1):
            writer.saliency("probe", images, {"m": np.full((2, 3, 3), step + 1.0)}, step=step, wall_time=step + 1.0)
        writer.flush()
        with tensorboard(tmp_path, load_fast=load_fast) as url:
            steps_url = url + ROUTE + "steps?run=live&tag=probe"
            first = get_json(steps_url, "Steps")
            assert [s["step"] for s in first["steps"]] == [0, 1]
            for step in (2, 3):
                writer.saliency("probe", images, {"m": np.full((2, 3, 3), step + 1.0)}, step=step,
                                wall_time=step + 1.0)
            writer.flush()
            deadline = time.monotonic() + 60
            while True:
                later = get_json(steps_url + "&token=" + first["token"], "Steps")
                if later["steps"] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert later["append"] is True
            assert [s["step"] for s in later["steps"]][0] == 2
            assert later["written"]["frames"] >= 3
    finally:
        writer.close()
