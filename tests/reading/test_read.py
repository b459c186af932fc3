"""`tb_saliency.read`: frames back from a logdir as arrays, for notebooks."""

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency
from tests.support import logdirs


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logs")
    written = logdirs.write_custom_maps(folder, steps=(0, 10, 20))
    logdirs.write_model_saliency(folder, run="model", steps=(0, 2))
    logdirs.write_scalars_only(folder)
    return folder, written


def test_frames_come_back_with_their_arrays_and_facts(logdir):
    folder, written = logdir
    frames = tb_saliency.read(folder, run="custom")
    assert [(f.run, f.tag, f.step, f.kind) for f in frames] == [("custom", "probe", s, "saliency") for s in (0, 10, 20)]
    for frame in frames:
        maps = written.maps[("custom", "probe", frame.step)]
        assert set(frame.maps) == set(maps)
        for key, values in maps.items():
            assert frame.maps[key].dtype == np.float32
            np.testing.assert_allclose(frame.maps[key], values, rtol=0, atol=2 ** -11 * np.abs(values).max())
        # Shared probe images are resolved: every frame has them, as uint8 N×H×W×C.
        np.testing.assert_array_equal(frame.images, written.images[("custom", "probe", frame.step)])
        assert frame.labels == written.labels[("custom", "probe", frame.step)]
        assert frame.class_names == list(logdirs.CLASS_NAMES)
        assert frame.targets is None and len(frame.scores) == 3 and frame.wall_time > 0


def test_model_frames_hold_options_statistics_and_activations(logdir):
    folder, _ = logdir
    saliency = tb_saliency.read(folder, run="model", tag="probe")
    assert [f.step for f in saliency] == [0, 2]
    assert saliency[0].options["gradient"]["channel_reduction"] == "signed_sum"
    assert saliency[0].targets == [0, 1, 2, 0] and all(0 < s <= 1 for s in saliency[0].scores)
    [activations] = [f for f in tb_saliency.read(folder, run="model", tag="probe/activations") if f.step == 2]
    assert activations.kind == "activations" and activations.maps == {}
    a = activations.activations
    assert a.layer == "features.0" and a.values.shape == (4, 4, 16, 16) and a.channel_index.shape == (4, 4)
    assert a.total_channels == 8


def test_filters_and_bad_arguments(logdir, tmp_path):
    folder, _ = logdir
    assert tb_saliency.read(folder, run="plain") == []
    assert {f.run for f in tb_saliency.read(folder)} == {"custom", "model"}
    assert tb_saliency.read(folder, tag="nope") == []
    with pytest.raises(FileNotFoundError, match="logdir: no such folder"):
        tb_saliency.read(tmp_path / "missing")
    with pytest.raises(TypeError, match="run: expected a string or None"):
        tb_saliency.read(folder, run=3)


def test_a_step_written_again_reads_as_its_last_frame(tmp_path):
    images = np.zeros((1, 1, 4, 4))
    for value in (1.0, 2.0):  # a run resumed from a checkpoint logs step 5 again, from a new writer
        folder = tmp_path / f"writer{int(value)}"
        writer = TorchWriter(str(folder))
        tb_saliency.log_saliency_map(writer, "probe", images, np.full((1, 2, 2), value), global_step=5)
        writer.close()
        # Loaders read a run's files in name order, and torch names them by second and by a counter
        # of writers made in this process (…9 sorts after …10): named here in the order written.
        [written] = folder.iterdir()
        (tmp_path / "run").mkdir(exist_ok=True)
        written.rename(tmp_path / "run" / f"events.out.tfevents.{int(value):010d}.resumed")
    [frame] = tb_saliency.read(tmp_path)
    assert frame.step == 5 and frame.maps["custom"].max() == 2.0


def test_maps_beyond_float32_come_back_as_float64(tmp_path):
    writer = TorchWriter(str(tmp_path))
    tb_saliency.log_saliency_map(writer, "tiny", np.zeros((1, 1, 2, 2)), torch.full((1, 2, 2), 1e-50, dtype=torch.float64))
    writer.close()
    [frame] = tb_saliency.read(tmp_path)
    assert frame.maps["custom"].dtype == np.float64
    np.testing.assert_allclose(frame.maps["custom"], 1e-50, rtol=1e-3)
