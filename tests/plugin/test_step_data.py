"""/step_data in-process (Python loader): one body holding a step's /frame JSON and the bytes of every
blob it names, equal to what /frame and /blob answer one by one; errors as the other routes'."""

import json

import pytest

from tb_saliency import step_bundle
from tb_saliency.format import step_data
from tests.support import raw, schema, viewer_logdirs
from tests.plugin.test_routes import _counting_client
from tests.support.inprocess import PluginClient

pytestmark = pytest.mark.viewer

STEPS = (0, 10, 20)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    viewer_logdirs.write_custom_maps(logdir, steps=STEPS)
    viewer_logdirs.write_activations(logdir)
    raw.write_raw_frame(logdir / "broken", "damaged", [raw.DAMAGED_HEADER], wall_time=1.0)
    return logdir


@pytest.fixture(scope="module")
def client(logdir):
    return PluginClient(logdir)


def _step_data(client, **params):
    response = client.get("step_data", **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/octet-stream"
    text, blobs = step_data.decode(response.get_data())
    return schema.validate(json.loads(text), "StepData"), blobs


def _named(frame):
    keys = list(frame["images"]["blobs"]) if frame["images"] else []
    keys += [m["blob"] for m in frame["maps"]]
    if frame["activations"]:
        keys.append(frame["activations"]["blob"])
    return keys


@pytest.mark.parametrize("run, tag, step",
                         [("custom", "probe", s) for s in STEPS] + [("model", "probe/activations", 3)])
def test_a_step_is_its_frame_and_every_blob_it_names_byte_for_byte(client, run, tag, step):
    document, blobs = _step_data(client, run=run, tag=tag, step=step)
    frame = client.json("frame", run=run, tag=tag, step=step)
    assert document == {"frame": frame, "unreadable": {}}
    assert list(blobs) == _named(frame)
    for key, data in blobs.items():
        assert client.get("blob", key=key).get_data() == data


def test_shared_probe_images_come_from_the_shared_series(client):
    first, _ = _step_data(client, run="custom", tag="probe", step=0)
    later, blobs = _step_data(client, run="custom", tag="probe", step=20)
    assert later["frame"]["images"]["wall_time"] != later["frame"]["wall_time"]  # the shared copy
    assert later["frame"]["images"]["blobs"] != first["frame"]["images"]["blobs"]
    assert all(blobs[key][:8] == b"\x89PNG\r\n\x1a\n" for key in later["frame"]["images"]["blobs"])


def test_blobs_start_aligned_so_floats_decode_in_place(client):
    body = client.get("step_data", run="custom", tag="probe", step=10).get_data()
    _, blobs = step_data.decode(body)
    for data in blobs.values():
        assert body.index(data) % step_data.ALIGNMENT == 0
    assert len(body) % step_data.ALIGNMENT == 0


def test_a_damaged_frame_is_reported_in_its_json_with_no_blobs(client):
    document, blobs = _step_data(client, run="broken", tag="damaged", step=0)
    assert document["frame"]["error"].startswith("this frame cannot be shown")
    assert blobs == {}


@pytest.mark.parametrize("params, status", [
    ({"run": "custom", "tag": "probe"}, 400), ({"run": "custom", "step": "0"}, 400),
    ({"run": "custom", "tag": "probe", "step": "ten"}, 400), ({"run": "custom", "tag": "probe", "step": "9" * 40}, 400),
    ({"run": "custom", "tag": "probe", "step": "5"}, 404), ({"run": "custom", "tag": "nope", "step": "0"}, 404),
    ({"run": "nope", "tag": "probe", "step": "0"}, 404),
])
def test_missing_bad_or_unknown_parameters_answer_in_json(client, params, status):
    message = client.error("step_data", status, **params)
    assert ("step" in message) if status == 400 else ("nope" in message or "5" in message)


def test_a_blob_tensorboard_cannot_give_is_named_with_why_and_left_out(logdir):
    """A blob TensorBoard fails to read (a run being rewritten under it) costs that blob, not the step."""
    frame = PluginClient(logdir).json("frame", run="custom", tag="probe", step=10)
    lost = frame["maps"][1]["blob"]

    class LosingOne:
        def __init__(self, provider):
            self._provider = provider

        def __getattr__(self, name):
            return getattr(self._provider, name)

        def read_blob(self, ctx, blob_key):
            if blob_key == lost:
                raise KeyError("run reloading")
            return self._provider.read_blob(ctx, blob_key=blob_key)

    document, blobs = _step_data(PluginClient(logdir, wrap_provider=LosingOne), run="custom", tag="probe", step=10)
    assert list(document["unreadable"]) == [lost] and "KeyError" in document["unreadable"][lost]
    assert list(blobs) == [k for k in _named(frame) if k != lost]


def test_a_step_reads_its_header_once_and_each_blob_once(logdir):
    client, calls = _counting_client(logdir)
    client.json("steps", run="custom", tag="probe")
    calls.clear()
    _, blobs = _step_data(client, run="custom", tag="probe", step=20)
    # The header, the shared set's header, and the step's blobs.
    assert calls["read_blob"] == 2 + len(blobs)
    calls.clear()
    _step_data(client, run="custom", tag="probe", step=20)
    assert calls["read_blob"] == len(blobs)


def test_named_keys_finds_keys_anywhere_and_nothing_that_is_not_one():
    frame = {"maps": [{"blob": "k1", "options": {"note": "k9"}}], "tokens": {"deep": [["k2"]]}, "class": "k1",
             "images": {"blobs": ["k3", "k2"]}}
    assert step_bundle.named_keys(frame, {"k1", "k2", "k3"}) == ["k1", "k2", "k3"]


def test_parallel_reads_give_each_blob_or_why_not(logdir):
    client = PluginClient(logdir)
    frame = client.json("frame", run="custom", tag="probe", step=0)
    keys = [m["blob"] for m in frame["maps"]] + ["not a key"]
    reads = step_bundle.BlobReads(client.plugin._series, parallel=True)
    blobs, unreadable = reads.collect(reads.start(client.request_context(), keys), keys)
    assert [k for k, _ in blobs] == keys[:-1] and list(unreadable) == ["not a key"]
    assert all(isinstance(data, bytes) for _, data in blobs)


def test_the_body_layout_round_trips_and_refuses_damage():
    body = step_data.encode('{"a":1}', [("k", b"abc"), ("κ", b"")])
    assert step_data.decode(body) == ('{"a":1}', {"k": b"abc", "κ": b""})
    for damaged, message in ((body[:-1], "ends inside"), (body + b"\0" * 8, "after its last blob"),
                             (b"PNG!" + body[4:], "starts with"), (body[:4] + b"\2" + body[5:], "version 2")):
        with pytest.raises(Exception, match=message):
            step_data.decode(damaged)


def test_the_fast_loaders_read_ahead_gives_the_same_answers_and_reads_nothing_twice(logdir):
    """Under --load_fast=true the plugin reads a step's header, blobs and shared probe set together,
    and /steps reads the run's shared probe sets' references beside its own: the paths are run here
    on the Python loader's provider, whose answers they must not change."""
    plain = PluginClient(logdir)
    client, calls = _counting_client(logdir)
    client.plugin._series.fast_loader = True
    client.plugin._reads = step_bundle.BlobReads(client.plugin._series, parallel=True)
    client.json("tags")
    client.json("steps", run="custom", tag="probe")
    # The shared probe set's references came with the step list.
    assert calls["read_blob_sequences"] == 2
    reads = []
    for step in (20, 10, 0, 20):
        calls.clear()
        document, blobs = _step_data(client, run="custom", tag="probe", step=step)
        assert (document, blobs) == _step_data(plain, run="custom", tag="probe", step=step)
        assert "read_blob_sequences" not in calls
        reads.append(calls["read_blob"])
    # Step 20: its header and 2 maps, the shared set's header and 3 images, each once. Step 10: its
    # header and maps, and the shared images read ahead. Step 0 holds its images inline: the shared
    # ones read ahead are wasted. Step 20 again: its blobs only.
    assert reads == [1 + 2 + 1 + 3, 1 + 2 + 3, 1 + 5 + 3, 5]
