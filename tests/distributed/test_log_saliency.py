"""`log_saliency` under torch.distributed: two CPU processes (gloo). A call one rank makes alone
issues no collective, every rank may call it, and only rank zero writes; training stays as it would
be without the calls."""

import glob
import os

import numpy as np
import pytest
import torch

import tb_saliency
from tests.distributed import workers
from tests.support.events import summary_tags
from tests.support.ranks import run_ranks

pytestmark = pytest.mark.distributed


def _load(folder, name, rank):
    return torch.load(os.path.join(folder, f"{name}.rank{rank}.pt"), weights_only=False)


def _assert_same_tensors(a, b, what):
    assert a.keys() == b.keys(), what
    different = [name for name in a if not torch.equal(a[name], b[name])]
    assert not different, f"{what}: {different} differ"


def _parameters(state):
    return {name: tensor for name, tensor in state.items() if not name.startswith("buffer:")}


def _assert_frames_hold(frames, maps):
    """The written frames hold the maps rank zero's calls returned (stored as float16)."""
    for frame in frames:
        if frame.kind == "randomisation":
            continue  # the cascade of a call, whose maps it returns under the saliency tag
        for method, values in maps[(frame.tag, frame.step)].items():
            np.testing.assert_allclose(frame.maps[method], values.numpy(), rtol=0,
                                       atol=2 ** -10 * float(values.abs().max()))


def _steps(frames, tag):
    return [f.step for f in frames if f.tag == tag]


def test_ddp_rank_zero_logs_alone_while_the_other_rank_trains(tmp_path):
    run_ranks(workers.ddp_rank_zero_alone, str(tmp_path))
    logged = [_load(tmp_path, "logged", rank) for rank in (0, 1)]
    _assert_same_tensors(_parameters(logged[0]), _parameters(logged[1]), "parameters across ranks")
    for rank in (0, 1):
        _assert_same_tensors(logged[rank], _load(tmp_path, "plain", rank), f"rank {rank} with and without logging")
    frames = tb_saliency.read(tmp_path)
    assert {f.run for f in frames} == {"rank0"}
    for tag in ("by_wrapped_name", "by_name"):  # `module.x` and `x` name the same layer
        assert _steps(frames, tag) == list(workers.LOGGED_STEPS)
    # Metrics and the randomisation check ran on rank zero alone too, with no collective.
    assert _steps(frames, "by_name/randomisation") == list(workers.LOGGED_STEPS)
    assert all(set(f.metrics["gradcam"]) == {"deletion", "insertion", "pointing_game"} for f in frames
               if f.tag == "by_name")
    maps = _load(tmp_path, "maps", 0)
    for step in workers.LOGGED_STEPS:
        for key in workers.METHODS:
            assert torch.equal(maps[("by_wrapped_name", step)][key], maps[("by_name", step)][key])
    _assert_frames_hold(frames, maps)
    last = frames[-1]
    assert last.maps["gradient"].shape == (3, 16, 16) and last.maps["gradcam"].shape == (3, 8, 8)
    assert last.predictions is not None and last.scores is not None
    assert _load(tmp_path, "maps", 1) == {}


def test_every_rank_may_call_and_only_rank_zero_writes(tmp_path):
    run_ranks(workers.every_rank_calls, str(tmp_path))
    for case in ("none_elsewhere", "writer_everywhere"):
        frames = tb_saliency.read(tmp_path / case)
        assert [(f.run, f.step) for f in frames] == [("rank0", s) for s in workers.LOGGED_STEPS], case
    # Rank one's writer made its event file, but holds no saliency.
    assert os.listdir(tmp_path / "writer_everywhere" / "rank1")
    assert summary_tags(tmp_path / "writer_everywhere" / "rank1") == []
    assert not (tmp_path / "none_elsewhere" / "rank1").exists()
    logged = [_load(tmp_path, "logged", rank) for rank in (0, 1)]
    _assert_same_tensors(_parameters(logged[0]), _parameters(logged[1]), "parameters across ranks")
    for rank in (0, 1):
        _assert_same_tensors(logged[rank], _load(tmp_path, "plain", rank), f"rank {rank} with and without logging")
    # Every rank computed maps; rank zero's are the ones written.
    maps = [_load(tmp_path, "maps", rank) for rank in (0, 1)]
    assert maps[0].keys() == maps[1].keys() and len(maps[0]) == 2 * len(workers.LOGGED_STEPS)
    for case in ("none_elsewhere", "writer_everywhere"):
        _assert_frames_hold(tb_saliency.read(tmp_path / case), {("probe", s): maps[0][(case, s)] for s in workers.LOGGED_STEPS})


@pytest.mark.parametrize("version", ["fsdp2", "fsdp1"])
def test_fsdp_every_rank_computes_and_rank_zero_writes(tmp_path, version):
    run_ranks(workers.fsdp_every_rank_computes, str(tmp_path), version)
    frames = tb_saliency.read(tmp_path)
    assert [(f.run, f.step) for f in frames] == [("rank0", s) for s in workers.LOGGED_STEPS]
    assert frames[-1].maps["gradcam"].shape == (3, 8, 8)
    for rank in (0, 1):  # each rank's own shards, with and without logging
        _assert_same_tensors(_load(tmp_path, "logged", rank), _load(tmp_path, "plain", rank),
                             f"rank {rank} with and without logging")
    # Every rank computed maps (each with its own BatchNorm statistics: FSDP does not sync buffers);
    # rank zero's are the ones written.
    maps = [_load(tmp_path, "maps", rank) for rank in (0, 1)]
    assert maps[0].keys() == maps[1].keys() == {("probe", s) for s in workers.LOGGED_STEPS}
    _assert_frames_hold(frames, maps[0])


def test_both_callbacks_compute_on_every_rank_of_an_fsdp_model_and_write_on_rank_zero(tmp_path):
    run_ranks(workers.callbacks_with_fsdp, str(tmp_path))
    steps = [s + 1 for s in workers.LOGGED_STEPS]  # global steps 2 and 4
    lightning = tb_saliency.read(tmp_path / "lightning")
    assert [(f.run, f.step) for f in lightning] == [(".", s) for s in steps]
    transformers = tb_saliency.read(tmp_path / "transformers")
    assert [f.step for f in transformers] == steps and len({f.run for f in transformers}) == 1
    assert len(glob.glob(str(tmp_path / "**" / "events.out.tfevents.*"), recursive=True)) == 2
    for rank in (0, 1):
        _assert_same_tensors(_load(tmp_path, "logged", rank), _load(tmp_path, "plain", rank),
                             f"rank {rank} with and without the callbacks")
