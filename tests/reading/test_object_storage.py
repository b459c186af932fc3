"""`read` walks and reads a logdir through TensorBoard's file layer (gfile), so a logdir on object
storage reads back as a local one: here fsspec's in-memory filesystem (memory://), written through
gfile by TensorBoard's own event writer, and run names as TensorBoard's multiplexer names them."""

import subprocess
import sys
import uuid

import numpy as np
import pytest
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.compat.proto import event_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

import tb_saliency
from tb_saliency import summary

fsspec = pytest.importorskip("fsspec")

pytestmark = pytest.mark.viewer


@pytest.fixture
def memory_logdir():
    """A fresh memory:// logdir, removed afterwards (the in-memory filesystem lives as long as the process)."""
    root = f"tests-{uuid.uuid4().hex}"
    yield f"memory://{root}/logs"
    memory = fsspec.filesystem("memory")
    if memory.exists(f"/{root}"):
        memory.rm(f"/{root}", recursive=True)


def _write(run_dir, events):
    writer = EventFileWriter(run_dir)
    for step, value in events:
        writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step, summary=value))
    writer.close()


def test_a_memory_logdir_reads_back_every_run_tag_and_step(memory_logdir):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(2, 3, 8, 8))
    maps = {step: rng.normal(size=(2, 4, 4)) for step in (0, 5)}
    values = rng.uniform(size=(2, 6, 4, 4))
    _write(f"{memory_logdir}/train", [(step, summary.saliency_map("probe", images, {"gradient": m}, labels=[1, 2],
                                                                  dtype="float32"))
                                      for step, m in maps.items()])
    _write(f"{memory_logdir}/deep/er", [(3, summary.activations("acts", images, values, layer="conv", max_channels=2))])
    _write(memory_logdir, [(7, summary.saliency_map("top", images, {"m": maps[0]}))])

    frames = tb_saliency.read(memory_logdir)
    assert [(f.run, f.tag, f.step, f.kind) for f in frames] == [
        (".", "top", 7, "saliency"), ("deep/er", "acts", 3, "activations"),
        ("train", "probe", 0, "saliency"), ("train", "probe", 5, "saliency")]
    for frame, step in zip(frames[2:], (0, 5)):
        np.testing.assert_allclose(frame.maps["gradient"], maps[step], rtol=1e-6)
        assert frame.images.shape == (2, 8, 8, 3) and frame.labels == [1, 2]
    assert frames[1].activations.values.shape == (2, 2, 4, 4)
    assert [f.step for f in tb_saliency.read(memory_logdir + "/", run="train", tag="probe")] == [0, 5]

    # The runs are the ones TensorBoard finds in the same logdir, by the same names.
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(memory_logdir)
    assert sorted(multiplexer.Runs()) == sorted({f.run for f in frames})

    # A frame's picture goes where its logs are.
    frames[2].save(f"{memory_logdir}/pictures/probe.png")
    with fsspec.open(f"{memory_logdir}/pictures/probe.png", "rb") as file:
        assert file.read() == frames[2]._repr_png_()


def test_a_missing_memory_logdir_is_named(memory_logdir):
    with pytest.raises(FileNotFoundError, match="logdir: no such folder: 'memory://"):
        tb_saliency.read(memory_logdir)


def test_without_fsspec_a_url_logdir_says_what_to_install():
    code = ("import sys; sys.modules['fsspec'] = None\n"
            "import tb_saliency\n"
            "tb_saliency.read('memory://bucket/logs')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "ValueError: logdir: TensorBoard's file layer cannot read 'memory://bucket/logs'" in result.stderr
    assert "install fsspec" in result.stderr
