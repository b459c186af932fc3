"""The plugin's routes in-process: index, frames, blobs, static files, and hostile or damaged data."""

import json

import numpy as np
import pytest
from tb_saliency import format as stored_format
from tb_saliency.plugin import STATIC_DIR, SaliencyPlugin
from tb_saliency.proto import saliency_pb2
from tests.support import logdirs, raw
from tests.support.inprocess import PluginClient


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    return logdirs.write_custom_maps(logdir, steps=(0, 10, 20, 30))


@pytest.fixture(scope="module")
def client(written):
    return PluginClient(written.logdir)


def test_tags_lists_saliency_tags_with_their_facts_and_hides_shared_inputs(client):
    tags = client.json("tags")
    assert list(tags["runs"]) == ["custom"]
    assert list(tags["runs"]["custom"]) == ["probe"]
    probe = tags["runs"]["custom"]["probe"]
    assert probe["kind"] == "saliency"
    assert probe["map_keys"] == ["gradient", "gradcam"]
    assert probe["class_names"] == list(logdirs.CLASS_NAMES)
    assert probe["num_samples"] == 3
    assert probe["steps_stored"] == 4
    assert probe["max_step"] == 30
    assert tags["sampling"] == {"limit": 10, "flag": "--samples_per_plugin=saliency=0"}


def test_frames_decode_to_the_maps_and_images_that_were_written(client, written):
    frames = client.json("frames", run="custom", tag="probe")
    assert [f["step"] for f in frames["frames"]] == [0, 10, 20, 30]
    assert frames["frames_written"] == 4
    for frame in frames["frames"]:
        expected = written.maps[("custom", "probe", frame["step"])]
        assert [m["key"] for m in frame["maps"]] == list(expected)
        for column in frame["maps"]:
            blob = client.get("blob", key=column["blob"])
            assert blob.status_code == 200
            assert blob.headers["Content-Type"] == "application/octet-stream"
            values = stored_format.decode_values(
                blob.get_data(), column["dtype"],
                (frame["num_samples"], column["height"], column["width"]), column["scale"])
            peak = np.abs(expected[column["key"]]).max(axis=(1, 2))[:, None, None]
            assert np.all(np.abs(values - expected[column["key"]]) <= peak * 2 ** -11)
        images = written.images[("custom", "probe", frame["step"])]
        assert len(frame["images"]["blobs"]) == len(images)
        for key, image in zip(frame["images"]["blobs"], images):
            response = client.get("blob", key=key)
            assert response.headers["Content-Type"] == "image/png"
            np.testing.assert_array_equal(stored_format.decode_png(response.get_data()), image)
        assert [s["label"] for s in frame["samples"]] == written.labels[("custom", "probe", frame["step"])]


def test_a_repeated_probe_set_is_stored_twice_not_at_every_step(written):
    """Once inline in the first frame, once in a shared INPUTS tag that every later frame names."""
    from tensorboard.backend.event_processing import event_accumulator

    import glob
    accumulator = event_accumulator.EventAccumulator(
        glob.glob(f"{written.logdir}/custom/events.*")[0], size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()["tensors"]
    shared = [t for t in tags if t.startswith(stored_format.INPUTS_TAG_PREFIX)]
    assert len(shared) == 1
    [shared_event] = accumulator.Tensors(shared[0])
    shared_blobs = list(shared_event.tensor_proto.string_val)
    assert sum(blob.startswith(b"\x89PNG") for blob in shared_blobs) == 3
    pngs = 0
    for event in accumulator.Tensors("probe"):
        blobs = list(event.tensor_proto.string_val)
        pngs += sum(blob.startswith(b"\x89PNG") for blob in blobs)
    assert pngs == 3  # the first frame's three images; later frames point at the shared tag


def test_frames_sharing_a_probe_set_name_the_same_image_blobs_and_wall_time(client):
    frames = client.json("frames", run="custom", tag="probe")["frames"]
    first, *later = frames
    assert first["images"]["wall_time"] == first["wall_time"]  # stored inline in its own step
    shared = {(tuple(f["images"]["blobs"]), f["images"]["wall_time"]) for f in later}
    assert len(shared) == 1  # one copy, so a client caching by (wall time, key) fetches it once
    assert shared.pop()[1] != first["wall_time"]


def test_frames_are_cut_by_sampling_and_frames_written_tells(tmp_path):
    logdirs.write_custom_maps(tmp_path, steps=tuple(range(0, 60, 5)))
    sampled = PluginClient(tmp_path, samples_per_plugin=4)
    frames = sampled.json("frames", run="custom", tag="probe")
    assert len(frames["frames"]) == 4
    assert frames["frames"][-1]["step"] == 55  # the newest step always survives
    assert frames["frames_written"] == 12
    for frame in frames["frames"]:
        assert len(frame["images"]["blobs"]) == 3  # every kept frame can still show its images
    assert sampled.json("tags")["sampling"]["limit"] == 4


def test_keep_all_hint_reports_no_limit(tmp_path):
    logdirs.write_custom_maps(tmp_path, steps=(0, 1))
    assert PluginClient(tmp_path, samples_per_plugin=0).json("tags")["sampling"]["limit"] is None


@pytest.mark.parametrize("params, status", [
    ({}, 400), ({"run": "custom"}, 400), ({"tag": "probe"}, 400),
    ({"run": "custom", "tag": "nope"}, 404), ({"run": "nope", "tag": "probe"}, 404),
])
def test_frames_with_missing_or_unknown_run_or_tag(client, params, status):
    response = client.get("frames", **params)
    assert response.status_code == status
    assert "error" in json.loads(response.get_data())


def test_frames_refuse_the_shared_inputs_tags(client):
    tags = client.provider.list_blob_sequences(client.request_context(), experiment_id="",
                                               plugin_name="saliency")["custom"]
    shared = next(t for t in tags if t.startswith(stored_format.INPUTS_TAG_PREFIX))
    assert client.get("frames", run="custom", tag=shared).status_code == 404


@pytest.mark.parametrize("key", ["", "garbage", "W10", "WyIiLCJzYWxpZW5jeSIsIngiLCJ5IiwwLDBd"])
def test_blob_with_missing_or_bad_key_is_a_clean_error(client, key):
    response = client.get("blob", key=key)
    assert response.status_code in (400, 404)
    assert "error" in json.loads(response.get_data())


def test_damaged_and_newer_frames_are_reported_per_frame_not_as_a_crash(tmp_path):
    logdirs.write_custom_maps(tmp_path, run="good", steps=(0,))
    raw.write_raw_frame(tmp_path / "bad", "damaged", [raw.DAMAGED_HEADER])
    raw.write_raw_frame(tmp_path / "bad", "newer", [raw.NEWER_HEADER])
    raw.write_raw_frame(tmp_path / "bad", "newer_tag", [raw.NEWER_HEADER], raw.NEWER_PLUGIN_DATA)
    client = PluginClient(tmp_path)
    tags = client.json("tags")
    assert set(tags["runs"]) == {"good", "bad"}
    assert "newer tb_saliency" in tags["runs"]["bad"]["newer_tag"]["error"]
    damaged = client.json("frames", run="bad", tag="damaged")
    assert "damaged" in damaged["frames"][0]["error"]
    newer_frames = client.json("frames", run="bad", tag="newer")
    assert "upgrade tb_saliency" in newer_frames["frames"][0]["error"]
    # The good run is untouched by its neighbours.
    assert "error" not in client.json("frames", run="good", tag="probe")["frames"][0]


def test_frame_pointing_at_a_missing_shared_images_tag_is_reported(tmp_path):
    header = saliency_pb2.FrameHeader(
        version=1, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
        images=saliency_pb2.ImageSet(width=2, height=2, channels=3, shared_key="0123abcd"))
    raw.write_raw_frame(tmp_path / "run", "lost", [header.SerializeToString()])
    frames = PluginClient(tmp_path).json("frames", run="run", tag="lost")
    assert "_saliency_inputs/0123abcd" in frames["frames"][0]["error"]


def test_index_js_is_served_as_javascript(client):
    response = client.get("index.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data() == (STATIC_DIR / "index.js").read_bytes()


@pytest.mark.parametrize("path", [
    "static/index.js", "static/../plugin.py", "index.js/../plugin.py", "index.js%00", "../plugin.py",
    "static/" + "a" * 5000,
])
def test_no_url_reaches_any_file_but_the_bundle(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_data() != (STATIC_DIR / "index.js").read_bytes()
    assert b"SaliencyPlugin" not in response.get_data()


def test_plugin_declares_an_iframe_tab_and_leaves_activation_to_the_core(client):
    meta = client.plugin.frontend_metadata()
    assert meta.es_module_path == "/index.js"
    assert meta.tab_name == "Saliency"
    assert meta.element_name is None
    assert client.plugin.is_active() is False
    assert SaliencyPlugin.plugin_name == "saliency"
