"""The plugin's routes in-process (Python loader), on logdirs written without torch: tags, steps,
frames, blobs, exports and the bundle. Every JSON answer is validated against http_schema.json."""

import io
import json

import numpy as np
import pytest

from tb_saliency import format as stored_format
from tb_saliency.plugin import STATIC_DIR, SaliencyPlugin
from tests.support import viewer_logdirs
from tests.support.inprocess import PluginClient

pytestmark = pytest.mark.viewer

STEPS = (0, 10, 20, 30)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    written = viewer_logdirs.write_custom_maps(logdir, steps=STEPS)
    written.activations = viewer_logdirs.write_activations(logdir)
    viewer_logdirs.write_scalars_only(logdir)
    return written


@pytest.fixture(scope="module")
def client(written):
    return PluginClient(written.logdir)


def _decoded(client, block, shape):
    response = client.get("blob", key=block["blob"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    return stored_format.decode_array(response.get_data(), block, shape)


# /tags --------------------------------------------------------------------------------------------


def test_tags_lists_frame_tags_with_their_facts_and_hides_shared_inputs(client):
    tags = client.json("tags")
    assert tags["runs"].keys() == {"custom", "model"}  # "plain" holds scalars only
    assert list(tags["runs"]["custom"]) == ["probe"]    # its shared INPUTS tag is left out
    assert tags["runs"]["custom"]["probe"] == {
        "kind": "saliency", "map_keys": ["gradient", "gradcam"], "class_names": list(viewer_logdirs.CLASS_NAMES),
        "num_samples": 3, "display_name": "probe", "description": "", "max_step": 30,
        "max_wall_time": viewer_logdirs.WALL_TIME_START + 30,
    }
    assert tags["runs"]["model"]["probe/activations"]["kind"] == "activations"
    assert tags["run_errors"] == {}
    assert tags["sampling"] == {"limit": 10, "flag": "--samples_per_plugin=saliency=0"}


def test_tags_costs_one_list_call_and_reads_no_step(written):
    client, calls = _counting_client(written.logdir)
    client.json("tags")
    assert calls == {"list_blob_sequences": 1}


def test_keep_all_hint_reports_no_limit(written):
    client = PluginClient(written.logdir, samples_per_plugin=0)
    assert client.json("tags")["sampling"]["limit"] is None
    assert client.json("steps", run="custom", tag="probe")["sampling"] == {"limit": None, "stored": 4}


# /steps -------------------------------------------------------------------------------------------


def test_steps_list_every_stored_step_with_its_index_facts(client, written):
    steps = client.json("steps", run="custom", tag="probe")
    assert [s["step"] for s in steps["steps"]] == list(STEPS)
    assert [s["wall_time"] for s in steps["steps"]] == [written.wall_times[("custom", "probe", s)] for s in STEPS]
    assert steps["kind"] == "saliency" and steps["class_names"] == list(viewer_logdirs.CLASS_NAMES)
    assert steps["append"] is False
    assert steps["written"] == {"frames": 4, "steps": 4}
    assert steps["sampling"] == {"limit": 10, "stored": 4}
    for entry in steps["steps"]:
        maps = written.maps[("custom", "probe", entry["step"])]
        index = entry["index"]
        assert index["num_samples"] == 3
        assert index["frames_written"] == STEPS.index(entry["step"]) + 1
        predictions = [(i + entry["step"] // 10) % 3 for i in range(3)]
        assert index["wrong_predictions"] == sum(p != i % 3 for i, p in enumerate(predictions))
        assert [(a["key"], a["stage"]) for a in index["arrays"]] == [("gradient", ""), ("gradcam", "")]
        for array in index["arrays"]:
            assert array["min"] == maps[array["key"]].min() and array["max"] == maps[array["key"]].max()


def test_steps_ranges_span_every_stored_step(client, written):
    steps = client.json("steps", run="custom", tag="probe")
    for entry in steps["ranges"]:
        values = np.stack([written.maps[("custom", "probe", s)][entry["key"]] for s in STEPS])
        assert (entry["min"], entry["max"]) == (values.min(), values.max())


def test_steps_index_equals_what_frame_derives_from_the_header(client):
    for entry in client.json("steps", run="custom", tag="probe")["steps"]:
        frame = client.json("frame", run="custom", tag="probe", step=entry["step"])
        assert frame["index"] == entry["index"]
    activations = client.json("steps", run="model", tag="probe/activations")["steps"][-1]
    frame = client.json("frame", run="model", tag="probe/activations", step=activations["step"])
    assert frame["index"] == activations["index"]
    assert [a["key"] for a in activations["index"]["arrays"]] == ["activations"]


def test_steps_read_no_blob_and_repeat_requests_read_nothing_again(written):
    client, calls = _counting_client(written.logdir)
    client.json("steps", run="custom", tag="probe")
    assert calls == {"list_blob_sequences": 1, "read_blob_sequences": 1, "read_tensors": 1}
    calls.clear()
    client.json("steps", run="custom", tag="probe")
    client.json("frame", run="custom", tag="probe", step=10)
    calls.clear()
    client.json("steps", run="custom", tag="probe")
    client.json("frame", run="custom", tag="probe", step=10)
    # A list call per request (which tells whether anything changed), and nothing read again.
    assert calls == {"list_blob_sequences": 3, "list_tensors": 1}


def test_a_token_gets_only_what_is_new(written):
    client = PluginClient(written.logdir)
    first = client.json("steps", run="custom", tag="probe")
    again = client.json("steps", run="custom", tag="probe", token=first["token"])
    assert again["append"] is True and again["steps"] == []
    assert again["token"] == first["token"]
    assert again["sampling"] == first["sampling"] and again["written"] == first["written"]


def test_a_token_of_a_prefix_gets_the_rest(tmp_path):
    viewer_logdirs.write_custom_maps(tmp_path, steps=(0, 10))
    before = PluginClient(tmp_path).json("steps", run="custom", tag="probe")
    viewer_logdirs.write_custom_maps(tmp_path, steps=(20, 30), seed=5)  # a second writer, later steps
    client = PluginClient(tmp_path)
    after = client.json("steps", run="custom", tag="probe", token=before["token"])
    assert after["append"] is True
    assert [s["step"] for s in after["steps"]] == [20, 30]
    full = client.json("steps", run="custom", tag="probe")
    assert full["steps"][:2] == before["steps"] and after["token"] == full["token"]


def test_a_growing_tag_decodes_only_the_index_entries_it_has_not_seen(tmp_path, monkeypatch):
    images = viewer_logdirs.probe_images(2)
    with viewer_logdirs.RunWriter(tmp_path / "live") as writer:
        for step in range(3):
            writer.saliency("probe", images, {"m": np.full((2, 2, 2), step + 1.0)}, step=step, wall_time=step + 1.0)
        writer.flush()
        client = PluginClient(tmp_path)
        first = client.json("steps", run="live", tag="probe")
        writer.saliency("probe", images, {"m": np.full((2, 2, 2), 9.0)}, step=3, wall_time=4.0)
        writer.flush()
        client.reload()
        decoded = []
        describe = stored_format.describe_index
        monkeypatch.setattr(stored_format, "describe_index", lambda blob: decoded.append(blob) or describe(blob))
        later = client.json("steps", run="live", tag="probe", token=first["token"])
    assert later["append"] is True and [s["step"] for s in later["steps"]] == [3]
    assert later["steps"][0]["index"]["arrays"][0]["max"] == 9.0
    assert later["written"] == {"frames": 4, "steps": 4}
    assert len(decoded) == 2  # the new step's entry, and the newest entry again for `written`
    assert client.json("steps", run="live", tag="probe")["steps"][:3] == first["steps"]


@pytest.mark.parametrize("token", ["", "garbage", "2:000000000000000000", "4:" + "f" * 18])
def test_an_unknown_token_gets_the_whole_list(client, token):
    steps = client.json("steps", run="custom", tag="probe", token=token)
    assert steps["append"] is False and len(steps["steps"]) == 4


def test_a_token_whose_steps_changed_gets_the_whole_list(tmp_path):
    viewer_logdirs.write_single_map(tmp_path, steps=(0, 10))
    before = PluginClient(tmp_path).json("steps", run="custom", tag="probe")
    (tmp_path / "custom").rename(tmp_path / "old")
    viewer_logdirs.write_single_map(tmp_path, steps=(0, 10, 20), wall_time_start=5.0)  # rewritten
    after = PluginClient(tmp_path).json("steps", run="custom", tag="probe", token=before["token"])
    assert after["append"] is False
    assert [s["step"] for s in after["steps"]] == [0, 10, 20]


def test_steps_are_cut_by_sampling_and_written_tells(tmp_path):
    viewer_logdirs.write_custom_maps(tmp_path, steps=tuple(range(0, 60, 5)))
    client = PluginClient(tmp_path, samples_per_plugin=4)
    steps = client.json("steps", run="custom", tag="probe")
    assert len(steps["steps"]) == 4
    assert steps["steps"][-1]["step"] == 55  # the newest step always survives
    assert steps["written"] == {"frames": 12, "steps": 12}
    assert steps["sampling"] == {"limit": 4, "stored": 4}
    # The loader samples the frames and their index alike: every kept step has its facts.
    assert all(s["index"] is not None for s in steps["steps"])
    for entry in steps["steps"]:  # and every kept frame can still show its images
        frame = client.json("frame", run="custom", tag="probe", step=entry["step"])
        assert len(frame["images"]["blobs"]) == 3


@pytest.mark.parametrize("params, status", [
    ({}, 400), ({"run": "custom"}, 400), ({"tag": "probe"}, 400),
    ({"run": "custom", "tag": "nope"}, 404), ({"run": "nope", "tag": "probe"}, 404),
])
def test_steps_with_missing_or_unknown_run_or_tag(client, params, status):
    assert client.error("steps", status, **params)


def test_steps_and_frame_refuse_the_shared_inputs_tags(client):
    tags = client.provider.list_blob_sequences(client.request_context(), experiment_id="",
                                               plugin_name="saliency")["custom"]
    shared = next(t for t in tags if t.startswith(stored_format.INPUTS_TAG_PREFIX))
    client.error("steps", 404, run="custom", tag=shared)
    client.error("frame", 404, run="custom", tag=shared, step=10)


# /frame and /blob ---------------------------------------------------------------------------------


def test_frame_decodes_to_the_maps_images_and_facts_that_were_written(client, written):
    for step in STEPS:
        frame = client.json("frame", run="custom", tag="probe", step=step)
        assert (frame["run"], frame["tag"], frame["step"], frame["kind"]) == ("custom", "probe", step, "saliency")
        assert frame["wall_time"] == written.wall_times[("custom", "probe", step)]
        expected = written.maps[("custom", "probe", step)]
        assert [m["key"] for m in frame["maps"]] == list(expected)
        for column in frame["maps"]:
            values = _decoded(client, column, (3, column["height"], column["width"]))
            truth = expected[column["key"]]
            peak = np.abs(truth).max(axis=(1, 2))[:, None, None]
            assert np.all(np.abs(values - truth) <= peak * 2 ** -11)
            assert column["min"] == list(truth.min(axis=(1, 2))) and column["max"] == list(truth.max(axis=(1, 2)))
        images = written.images[("custom", "probe", step)]
        assert len(frame["images"]["blobs"]) == len(images)
        for key, image in zip(frame["images"]["blobs"], images):
            response = client.get("blob", key=key)
            assert response.headers["Content-Type"] == "image/png"
            np.testing.assert_array_equal(stored_format.decode_png(response.get_data()), image)
        assert [s["label"] for s in frame["samples"]] == written.labels[("custom", "probe", step)]


def test_frames_sharing_a_probe_set_name_the_same_image_blobs_and_wall_time(client):
    first, *later = [client.json("frame", run="custom", tag="probe", step=s) for s in STEPS]
    assert first["images"]["wall_time"] == first["wall_time"]  # stored inline in its own step
    shared = {(tuple(f["images"]["blobs"]), f["images"]["wall_time"]) for f in later}
    assert len(shared) == 1  # one copy, so a client caching by (wall time, key) fetches it once
    assert shared.pop()[1] != first["wall_time"]


def test_activation_frames_decode_to_the_most_active_channels(client, written):
    for step, values in written.activations.items():
        frame = client.json("frame", run="model", tag="probe/activations", step=step)
        block = frame["activations"]
        assert frame["maps"] == [] and block["channels"] == 4 and block["total_channels"] == 8
        decoded = _decoded(client, block, (4, 4, 16, 16))
        for i in range(4):
            kept = values[i][block["channel_index"][i]]
            np.testing.assert_allclose(decoded[i], kept, rtol=0, atol=np.abs(kept).max() * 2 ** -11)
            means = values[i].mean(axis=(1, 2))
            assert block["channel_index"][i] == list(np.argsort(-means, kind="stable")[:4])


@pytest.mark.parametrize("params, status", [
    ({"run": "custom", "tag": "probe"}, 400), ({"run": "custom", "step": "0"}, 400),
    ({"run": "custom", "tag": "probe", "step": "ten"}, 400), ({"run": "custom", "tag": "probe", "step": "1.5"}, 400),
    ({"run": "custom", "tag": "probe", "step": "9" * 40}, 400),
    ({"run": "custom", "tag": "probe", "step": "5"}, 404), ({"run": "custom", "tag": "nope", "step": "0"}, 404),
    ({"run": "nope", "tag": "probe", "step": "0"}, 404),
])
def test_frame_and_export_with_missing_bad_or_unknown_parameters(client, params, status):
    assert client.error("frame", status, **params)
    assert client.error("export", status, **params)


@pytest.mark.parametrize("key", ["", "garbage", "W10", "NQ", "WyIiLCJzYWxpZW5jeSIsIngiLCJ5IiwwLDBd",
                                 "WyIiLCJzYWxpZW5jeSIsImN1c3RvbSIsInByb2JlIiw5OTksMF0", "%00"])
def test_blob_with_missing_or_bad_key_is_a_clean_error(client, key):
    assert client.error("blob", 400 if key == "" else 404, key=key)


def test_blob_ignores_other_parameters_so_clients_can_add_the_wall_time(client):
    frame = client.json("frame", run="custom", tag="probe", step=0)
    key = frame["maps"][0]["blob"]
    plain, with_time = client.get("blob", key=key), client.get("blob", key=key, wall_time=frame["wall_time"])
    assert plain.status_code == with_time.status_code == 200
    assert plain.get_data() == with_time.get_data()
    assert "Expires" not in plain.headers or plain.headers["Expires"] == "0"


# /export ------------------------------------------------------------------------------------------


def test_export_holds_raw_values_images_and_facts(client, written):
    response = client.get("export", run="custom", tag="probe", step=20)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="custom_probe_20.npz"'
    archive = np.load(io.BytesIO(response.get_data()), allow_pickle=False)
    truth = written.maps[("custom", "probe", 20)]
    assert set(archive.files) == {"maps/gradient", "maps/gradcam", "images", "labels", "predictions", "scores",
                                  "header.json"}
    for key, values in truth.items():
        exported = archive[f"maps/{key}"]
        assert exported.dtype == np.float32 and exported.shape == values.shape
        peak = np.abs(values).max(axis=(1, 2))[:, None, None]
        assert np.all(np.abs(exported - values) <= peak * 2 ** -11)
    np.testing.assert_array_equal(archive["images"], written.images[("custom", "probe", 20)])
    assert archive["labels"].tolist() == written.labels[("custom", "probe", 20)]
    header = json.loads(str(archive["header.json"]))
    frame = client.json("frame", run="custom", tag="probe", step=20)
    assert header["samples"] == frame["samples"] and "blob" not in header["maps"][0]
    assert "blobs" not in header["images"]


def test_export_of_activations_holds_the_channels_and_their_indices(client, written):
    archive = np.load(io.BytesIO(client.get("export", run="model", tag="probe/activations", step=3).get_data()))
    assert archive["activations"].shape == (4, 4, 16, 16)
    frame = client.json("frame", run="model", tag="probe/activations", step=3)
    assert archive["channel_index"].tolist() == frame["activations"]["channel_index"]


def test_export_keeps_float64_beyond_float32s_range(tmp_path):
    huge = np.full((1, 2, 2), 1e300)
    huge[0, 0, 0] = -3e299
    with viewer_logdirs.RunWriter(tmp_path / "run") as writer:
        writer.saliency("huge", viewer_logdirs.probe_images(1), {"m": huge}, step=0, wall_time=1.0)
    archive = np.load(io.BytesIO(PluginClient(tmp_path).get("export", run="run", tag="huge", step=0).get_data()))
    assert archive["maps/m"].dtype == np.float64
    np.testing.assert_allclose(archive["maps/m"], huge, rtol=2 ** -11)


# The bundle ---------------------------------------------------------------------------------------


def test_index_js_is_served_as_javascript(client):
    response = client.get("index.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data() == (STATIC_DIR / "index.js").read_bytes()


@pytest.mark.parametrize("path", [
    "static/index.js", "static/../plugin.py", "index.js/../plugin.py", "index.js%00", "../plugin.py",
    "static/" + "a" * 5000, "frames",
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
    assert set(client.plugin.get_plugin_apps()) == {"/index.js", "/tags", "/steps", "/frame", "/step_data", "/blob",
                                                   "/export", "/audio"}


def _counting_client(logdir):
    """A client whose plugin's calls into its data provider are counted by method name (the provider
    stays real): (client, {method name: calls})."""
    calls = {}

    class Counting:
        def __init__(self, provider):
            self._provider = provider

        def __getattr__(self, name):
            method = getattr(self._provider, name)

            def counted(*args, **kwargs):
                calls[name] = calls.get(name, 0) + 1
                return method(*args, **kwargs)
            return counted

    return PluginClient(logdir, wrap_provider=Counting), calls


def test_concurrent_requests_while_caches_are_rebuilt_all_succeed(written):
    """TensorBoard serves requests on threads: answers stay whole while caches are filled, dropped
    (as /tags does for vanished tags) and filled again."""
    import concurrent.futures

    client = PluginClient(written.logdir)
    expected = {step: client.json("frame", run="custom", tag="probe", step=step) for step in STEPS}

    def work(i):
        answers = []
        for j in range(15):
            if (i + j) % 5 == 0:
                client.plugin._series.forget_all_but({})
            step = STEPS[(i + j) % len(STEPS)]
            answers.append(client.json("frame", run="custom", tag="probe", step=step) == expected[step])
            answers.append([s["step"] for s in client.json("steps", run="custom", tag="probe")["steps"]] == list(STEPS))
        return answers

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = [ok for answers in pool.map(work, range(8)) for ok in answers]
    assert results and all(results)
