"""Damaged and hostile data in-process (Python loader): never a 500, every undecodable frame reported
with its step, every answer valid against http_schema.json; and bugs are not reported as damage."""

import json

import numpy as np

import pytest

from tb_saliency import format as stored_format
from tests.support import hostile, raw, viewer_logdirs
from tests.support.inprocess import PluginClient

pytestmark = pytest.mark.viewer


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("hostile")
    hostile.write(logdir)
    return PluginClient(logdir)


@pytest.fixture(scope="module")
def tags(client):
    return client.json("tags")


@pytest.mark.parametrize("tag", sorted(hostile.FRAME_ERRORS))
def test_each_damaged_frame_is_a_per_frame_error_and_its_step_is_listed(client, tag):
    steps = client.json("steps", run="hostile", tag=tag)
    assert [s["step"] for s in steps["steps"]] == [0]
    frame = client.json("frame", run="hostile", tag=tag, step=0)
    expected = hostile.FRAME_ERRORS[tag]
    if expected is None:
        assert "error" not in frame and frame["maps"][0]["key"] == "m"
    else:
        assert set(frame) == {"run", "tag", "step", "wall_time", "error"}
        assert expected in frame["error"], frame["error"]
        assert client.error("export", 404, run="hostile", tag=tag, step=0).endswith(frame["error"])


@pytest.mark.parametrize("tag, message", [
    ("rank0", "IndexError"), ("rank2", "not a list of blobs"), ("claims_1000", "ValueError"),
    ("no_blobs", "frame holds no blobs"),
])
def test_blob_sequences_tensorboard_cannot_decode_are_per_frame_errors(client, tag, message):
    frame = client.json("frame", run="hostile", tag=tag, step=0)
    assert "TensorBoard cannot read" in frame["error"] or message in frame["error"]
    assert message in frame["error"]


def test_undecodable_blob_sequences_answer_404_at_blob(client):
    references = client.provider.read_blob_sequences(
        client.request_context(), experiment_id="", plugin_name="saliency", downsample=10)["hostile"]
    for tag in ("rank0", "rank2", "claims_1000"):
        for reference in references[tag][0].values[-1:]:
            assert "TensorBoard cannot read" in client.error("blob", 404, key=reference.blob_key)


def test_unreadable_tag_metadata_is_kind_unknown_with_its_error(client, tags):
    assert tags["runs"]["hostile"]["bad_metadata"]["kind"] == "unknown"
    assert "damaged" in tags["runs"]["hostile"]["bad_metadata"]["error"]
    assert "newer tb_saliency" in tags["runs"]["hostile"]["newer_metadata"]["error"]
    steps = client.json("steps", run="hostile", tag="bad_metadata")
    assert steps["kind"] == "unknown" and "damaged" in steps["error"]
    # Its frames are still shown when they can be read.
    assert client.json("frame", run="hostile", tag="bad_metadata", step=0)["maps"][0]["key"] == "m"
    assert "newer tb_saliency" in client.json("frame", run="hostile", tag="newer_metadata", step=0)["error"]


def test_damaged_or_contradicting_index_entries_are_null(client):
    steps = client.json("steps", run="hostile", tag="bad_index")["steps"]
    assert [s["step"] for s in steps] == [0, 1, 2, 3]
    assert steps[0]["index"] is not None
    assert [s["index"] for s in steps[1:]] == [None, None, None]  # garbage, another kind, infinite range
    for entry in steps[1:]:  # /frame has the facts of a step without index
        frame = client.json("frame", run="hostile", tag="bad_index", step=entry["step"])
        assert frame["index"]["arrays"] == [{"key": "m", "stage": "", "min": 0.0, "max": 0.0, "metrics": {}}]


def test_several_frames_at_one_step_give_no_false_sampling_notice(client):
    steps = client.json("steps", run="hostile", tag="same_step")
    assert steps["written"] == {"frames": 3, "steps": 1}
    assert steps["sampling"]["stored"] == 1
    # The dashboard's rule: sampling dropped steps only when written.steps > stored.
    assert not steps["written"]["steps"] > steps["sampling"]["stored"]
    # The Python loader serves the first frame of the step, and the index listed is that frame's.
    [entry] = steps["steps"]
    assert entry["wall_time"] == 10.0 and entry["index"]["arrays"][0]["max"] == 0.0
    frame = client.json("frame", run="hostile", tag="same_step", step=0)
    assert frame["wall_time"] == 10.0 and frame["maps"][0]["max"] == [0.0]


def test_repeated_and_backward_steps_list_the_frame_tensorboard_serves(client):
    steps = client.json("steps", run="steps", tag="probe")
    served = hostile.STEPS_SERVED[False]
    assert [(s["step"], s["wall_time"]) for s in steps["steps"]] == served
    for (step, wall_time), entry in zip(served, steps["steps"]):
        assert entry["index"]["arrays"][0]["max"] == wall_time  # the map's value is its wall time
        frame = client.json("frame", run="steps", tag="probe", step=step)
        assert frame["wall_time"] == wall_time and frame["maps"][0]["max"] == [wall_time]
    assert steps["written"] == {"frames": 7, "steps": 5} and steps["sampling"]["stored"] == 5


def test_the_python_loader_serves_every_run_name(client, tags):
    assert tags["run_errors"] == {}
    for run in ('quote"run', "back\\slash"):
        for tag in ("probe", "tag\x00nul"):
            assert "error" not in tags["runs"][run][tag]
            frame = client.json("frame", run=run, tag=tag, step=0)
            assert "error" not in frame
            assert client.get("blob", key=frame["maps"][0]["blob"]).status_code == 200


def test_every_route_answers_every_stored_step_without_a_server_error(client, tags):
    for run, run_tags in tags["runs"].items():
        for tag in run_tags:
            for entry in client.json("steps", run=run, tag=tag)["steps"]:
                frame = client.json("frame", run=run, tag=tag, step=entry["step"])
                for block in frame.get("maps", []) + [frame.get("activations") or {}]:
                    if "blob" in block:
                        assert client.get("blob", key=block["blob"]).status_code in (200, 404)
                assert client.get("export", run=run, tag=tag, step=entry["step"]).status_code in (200, 404)


def test_a_cached_damaged_header_is_not_read_again(client):
    first = client.json("frame", run="hostile", tag="deep_options", step=0)
    reads = []
    provider = client.provider
    original = provider.read_blob
    provider.read_blob = lambda *a, **k: reads.append(1) or original(*a, **k)
    try:
        assert client.json("frame", run="hostile", tag="deep_options", step=0) == first
    finally:
        del provider.read_blob
    assert reads == []


def test_a_bug_in_the_plugin_is_not_reported_as_a_damaged_frame(tmp_path, monkeypatch):
    viewer_logdirs.write_single_map(tmp_path, steps=(0,))
    client = PluginClient(tmp_path)

    def broken(blob, count):
        raise KeyError("a bug")

    monkeypatch.setattr(stored_format, "describe_header", broken)
    with pytest.raises(KeyError, match="a bug"):
        client.get("frame", run="custom", tag="probe", step=0)


def test_a_frame_whose_index_and_blobs_are_missing_is_listed_without_index(tmp_path):
    """Frames of format version 1 have no INDEX series: written then comes from the header."""
    header = hostile.one_map_header()
    header.version, header.frames_written, header.steps_written = 1, 4, 3
    header.maps[0].ClearField("min"), header.maps[0].ClearField("max"), header.maps[0].ClearField("scale")
    header.maps[0].min_f32.append(0.0), header.maps[0].max_f32.append(0.0), header.maps[0].scale_f32.append(1.0)
    raw.write_raw_frame(tmp_path / "old", "probe", [header.SerializeToString(), hostile.MAP_BLOB])
    steps = PluginClient(tmp_path).json("steps", run="old", tag="probe")
    assert steps["steps"][0]["index"] is None
    assert steps["written"] == {"frames": 4, "steps": 3}
    assert json.dumps(steps["ranges"]) == "[]"


def test_an_export_with_a_damaged_image_is_a_404_and_its_frame_still_shows(tmp_path):
    header = hostile.one_map_header(blob=2)
    header.images.CopyFrom(hostile.saliency_pb2.ImageSet(width=2, height=2, channels=3, first_blob=1))
    raw.write_raw_frame(tmp_path / "run", "probe", [header.SerializeToString(), b"not a png", hostile.MAP_BLOB])
    client = PluginClient(tmp_path)
    frame = client.json("frame", run="run", tag="probe", step=0)
    assert len(frame["images"]["blobs"]) == 1 and frame["maps"][0]["key"] == "m"
    assert "an input image is damaged" in client.error("export", 404, run="run", tag="probe", step=0)


def test_a_metric_mean_beyond_a_double_is_left_out_of_the_step_index(client):
    # No index entry was written: /steps lists the step without one, and /frame derives the facts
    # from the header, where the mean of the two values overflows and is left out, not sent as inf.
    [step] = client.json("steps", run="hostile", tag="overflowing_metric_mean")["steps"]
    assert step["index"] is None
    frame = client.json("frame", run="hostile", tag="overflowing_metric_mean", step=0)
    assert frame["maps"][0]["metrics"]["deletion"]["values"] == [1.7e308, 1.7e308]
    assert frame["index"]["arrays"][0]["metrics"] == {}


def test_frames_of_the_summary_layer_alone_claim_no_count_of_what_was_written(tmp_path):
    # tb_saliency.summary has no memory across calls: its frames store 0, which /steps sends as null,
    # so the tab never infers dropped or repeated steps from them.
    from tb_saliency import summary

    with viewer_logdirs.RunWriter(tmp_path / "run") as writer:
        for step in range(3):
            writer.summary(summary.saliency_map("probe", viewer_logdirs.probe_images(2), np.ones((2, 3, 3))),
                           step=step, wall_time=1.0 + step)
    steps = PluginClient(tmp_path).json("steps", run="run", tag="probe")
    assert [s["step"] for s in steps["steps"]] == [0, 1, 2]
    assert steps["written"] is None
    assert steps["steps"][0]["index"]["frames_written"] == 0
