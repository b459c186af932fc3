"""Damaged and hostile data under both real loaders: never a 500, every undecodable frame reported
with its step, each loader's handling of repeated steps and of names its blob keys cannot hold."""

import json
import urllib.parse

import pytest

from tb_saliency.format import step_data
from tests.support import hostile, schema
from tests.support.tensorboard import get, tensorboard
from tests.integration.test_tensorboard_process import ROUTE, get_json

pytestmark = pytest.mark.viewer


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("hostile")
    hostile.write(logdir)
    return logdir


@pytest.fixture(scope="module", params=[False, True], ids=["load_fast=false", "load_fast=true"])
def server(request, logdir):
    with tensorboard(logdir, load_fast=request.param, samples_per_plugin="saliency=0") as url:
        yield url, request.param


def _url(server, route, **params):
    return server[0] + ROUTE + route + "?" + urllib.parse.urlencode(params)


def test_every_damaged_frame_is_a_per_frame_error(server):
    for tag, expected in hostile.FRAME_ERRORS.items():
        frame = get_json(_url(server, "frame", run="hostile", tag=tag, step=0), "Frame")
        if expected is None:
            assert "error" not in frame, frame
        else:
            assert expected in frame["error"], (tag, frame)


def test_blob_sequences_tensorboard_cannot_decode_never_fail_a_route(server):
    tags = get_json(_url(server, "tags"), "Tags")["runs"]["hostile"]
    fast = server[1]
    # The Rust loader drops rank-0 and rank-2 blob sequences; the Python loader keeps them.
    assert ("rank0" in tags, "rank2" in tags) == (not fast, not fast)
    frame = get_json(_url(server, "frame", run="hostile", tag="claims_1000", step=0), "Frame")
    if fast:
        assert "error" not in frame  # it reads the blobs the tensor holds
    else:
        assert "TensorBoard cannot read this blob (ValueError" in frame["error"]
    for tag in ("rank0", "rank2"):
        if not fast:
            assert "error" in get_json(_url(server, "frame", run="hostile", tag=tag, step=0), "Frame")


def test_damaged_index_entries_and_metadata(server):
    steps = get_json(_url(server, "steps", run="hostile", tag="bad_index"), "Steps")["steps"]
    assert [s["index"] is None for s in steps] == [False, True, True, True]
    unknown = get_json(_url(server, "steps", run="hostile", tag="bad_metadata"), "Steps")
    assert unknown["kind"] == "unknown" and "damaged" in unknown["error"]


def test_several_frames_at_one_step_give_no_false_sampling_notice(server):
    steps = get_json(_url(server, "steps", run="hostile", tag="same_step"), "Steps")
    assert steps["written"] == {"frames": 3, "steps": 1} and steps["sampling"] == {"limit": None, "stored": 1}
    [entry] = steps["steps"]
    # Python: the first frame of the step; Rust: the newest. /steps and /frame agree either way.
    assert entry["wall_time"] == (12.0 if server[1] else 10.0)
    frame = get_json(_url(server, "frame", run="hostile", tag="same_step", step=0), "Frame")
    assert frame["wall_time"] == entry["wall_time"]
    assert frame["maps"][0]["max"] == [entry["index"]["arrays"][0]["max"]]


def test_repeated_and_backward_steps_list_the_frame_each_loader_serves(server):
    steps = get_json(_url(server, "steps", run="steps", tag="probe"), "Steps")
    served = hostile.STEPS_SERVED[server[1]]
    assert [(s["step"], s["wall_time"]) for s in steps["steps"]] == served
    for (step, wall_time), entry in zip(served, steps["steps"]):
        assert entry["index"]["arrays"][0]["max"] == wall_time
        frame = get_json(_url(server, "frame", run="steps", tag="probe", step=step), "Frame")
        assert frame["wall_time"] == wall_time and frame["maps"][0]["max"] == [wall_time]
    assert steps["written"] == {"frames": 7, "steps": 5}


def test_names_the_fast_loader_cannot_put_in_a_blob_key_are_reported(server):
    tags = get_json(_url(server, "tags"), "Tags")
    fast = server[1]
    assert set(tags["run_errors"]) == ({'quote"run', "back\\slash"} if fast else set())
    for run in ('quote"run', "back\\slash", "plain"):
        for tag in ("probe", "tag\x00nul"):
            unservable = fast and (run != "plain" or tag != "probe")
            assert ("error" in tags["runs"][run][tag]) == (fast and tag != "probe")
            assert get_json(_url(server, "steps", run=run, tag=tag), "Steps")["steps"][0]["step"] == 0
            frame = get_json(_url(server, "frame", run=run, tag=tag, step=0), "Frame")
            assert ("error" in frame) == unservable, frame
            if unservable:
                assert "--load_fast=false" in frame["error"]


def test_every_route_answers_every_stored_step_without_a_server_error(server):
    tags = get_json(_url(server, "tags"), "Tags")["runs"]
    for run, run_tags in tags.items():
        for tag in run_tags:
            for entry in get_json(_url(server, "steps", run=run, tag=tag), "Steps")["steps"]:
                frame = get_json(_url(server, "frame", run=run, tag=tag, step=entry["step"]), "Frame")
                for block in frame.get("maps", []) + [frame.get("activations") or {}]:
                    if "blob" in block:
                        assert get(_url(server, "blob", key=block["blob"]))[0] in (200, 404)
                status, _, body = get(_url(server, "export", run=run, tag=tag, step=entry["step"]))
                assert status in (200, 404), body[:300]
                if status == 404:
                    assert "error" in json.loads(body)
                status, _, body = get(_url(server, "step_data", run=run, tag=tag, step=entry["step"]))
                assert status == 200, body[:300]
                text, blobs = step_data.decode(body)
                document = schema.validate(json.loads(text), "StepData")
                # A damaged frame is reported in the body, per frame, with no blobs.
                assert ("error" in document["frame"]) == ("error" in frame)
                if "error" in frame:
                    assert not blobs
