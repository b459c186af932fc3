"""`log_saliency` and its siblings into any writer: torch's, tensorboardX's, ours, a Lightning
logger's, or none."""

import glob
import inspect
import os

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency
from tb_saliency import format as stored_format
from tests.support.events import summary_tags, summary_values
from tests.support.logdirs import TinyNet

IMAGES = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))


def _event_files(folder):
    return glob.glob(os.path.join(str(folder), "events.out.tfevents.*"))


def _log_three_steps(writer):
    model = TinyNet().eval()
    for step in range(3):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        maps = tb_saliency.log_saliency(writer, "probe", model, IMAGES, methods=["gradient", "gradcam"],
                                        layer="features.3", global_step=step, labels=[0, 1, 2])
    return maps


@pytest.mark.parametrize("make_writer", [
    pytest.param(lambda d: TorchWriter(d), id="torch"),
    pytest.param(lambda d: __import__("tensorboardX").SummaryWriter(d), id="tensorboardX"),
    pytest.param(lambda d: tb_saliency.SummaryWriter(d), id="tb_saliency"),
])
def test_frames_go_into_the_writers_own_event_file_beside_its_scalars(tmp_path, make_writer):
    writer = make_writer(str(tmp_path))
    try:
        maps = _log_three_steps(writer)
    finally:
        writer.close()
    assert len(_event_files(tmp_path)) == 1, "never a second event file in the run folder"
    assert set(maps) == {"gradient", "gradcam"} and maps["gradcam"].shape == (3, 8, 8)
    frames = tb_saliency.read(tmp_path)
    assert [(f.run, f.tag, f.step) for f in frames] == [(".", "probe", 0), (".", "probe", 1), (".", "probe", 2)]
    np.testing.assert_allclose(frames[-1].maps["gradcam"], maps["gradcam"].numpy(), rtol=2e-3, atol=1e-6)
    assert [v.simple_value for _, v in summary_values(tmp_path, "loss")] == pytest.approx([1, 0.5, 1 / 3])
    # The probe set is stored once: in a shared tag that every frame, the first included, names.
    tags = summary_tags(tmp_path)
    assert sum(t.startswith(stored_format.INPUTS_TAG_PREFIX) for t in tags) == 1
    headers = [stored_format.decode_frame(list(v.tensor.string_val)) for _, v in summary_values(tmp_path, "probe")]
    assert all(h.images is None and "shared_key" in h.header["images"] for h in headers)
    assert all(f.images.shape == (3, 16, 16, 3) for f in frames)
    # TensorBoard's loaders keep a tag's first metadata: it is written once per tag.
    assert [v.HasField("metadata") for _, v in summary_values(tmp_path, "probe")] == [True, False, False]


def test_summary_writer_methods_are_the_functions_with_the_writer_bound():
    for method, function in [("add_saliency", tb_saliency.log_saliency),
                             ("add_saliency_map", tb_saliency.log_saliency_map),
                             ("add_activations", tb_saliency.log_activations)]:
        bound = inspect.signature(getattr(tb_saliency.SummaryWriter, method))
        free = inspect.signature(function)
        assert list(bound.parameters)[1:] == list(free.parameters)[1:]
        assert getattr(tb_saliency.SummaryWriter, method).__doc__ == function.__doc__


def test_no_writer_computes_and_writes_nothing(tmp_path):
    model = TinyNet().eval()
    maps = tb_saliency.log_saliency(None, "probe", model, IMAGES, methods="gradient")
    assert maps["gradient"].shape == (3, 16, 16)
    result = tb_saliency.log_activations(None, "acts", model, IMAGES, layer="features.0", max_channels=2)
    assert result.values.shape == (3, 2, 16, 16)
    tb_saliency.log_saliency_map(None, "custom", IMAGES, np.ones((3, 4, 4)))
    assert os.listdir(tmp_path) == []


def test_a_logger_with_an_experiment_writes_into_its_writer(tmp_path):
    class Logger:  # how Lightning's TensorBoardLogger exposes its SummaryWriter
        def __init__(self, folder):
            self.experiment = TorchWriter(folder)

    logger = Logger(str(tmp_path))
    try:
        tb_saliency.log_saliency_map(logger, "probe", IMAGES, np.ones((3, 4, 4)), global_step=5)
    finally:
        logger.experiment.close()
    assert [(f.tag, f.step) for f in tb_saliency.read(tmp_path)] == [("probe", 5)]


def test_an_unknown_writer_is_refused_before_the_model_runs(tmp_path):
    class Model(TinyNet):
        def forward(self, x):
            raise AssertionError("the model ran")

    with pytest.raises(TypeError, match=r"writer: expected torch.utils.tensorboard.SummaryWriter, .* got builtins.str"):
        tb_saliency.log_saliency("runs/x", "probe", Model(), IMAGES, methods="gradient")


def test_probe_memory_lives_with_each_writer(tmp_path):
    a, b = TorchWriter(str(tmp_path / "a")), TorchWriter(str(tmp_path / "b"))
    try:
        for step in range(2):
            for writer in (a, b):
                tb_saliency.log_saliency_map(writer, "probe", IMAGES, np.ones((3, 4, 4)), global_step=step)
    finally:
        a.close()
        b.close()
    for run in ("a", "b"):
        values = summary_values(tmp_path / run, "probe")
        assert [v.HasField("metadata") for _, v in values] == [True, False]
        frames = [stored_format.decode_frame(list(v.tensor.string_val)).header for _, v in values]
        assert [f["frames_written"] for f in frames] == [1, 2]
        assert all("shared_key" in f["images"] for f in frames)
        assert sum(t.startswith(stored_format.INPUTS_TAG_PREFIX) for t in summary_tags(tmp_path / run)) == 1


def test_a_step_logged_twice_counts_one_step(tmp_path):
    writer = TorchWriter(str(tmp_path))
    try:
        for step in (0, 1, 1):
            tb_saliency.log_saliency_map(writer, "probe", IMAGES, np.ones((3, 4, 4)), global_step=step)
    finally:
        writer.close()
    headers = [stored_format.decode_frame(list(v.tensor.string_val)).header for _, v in summary_values(tmp_path, "probe")]
    assert [(h["frames_written"], h["steps_written"]) for h in headers] == [(1, 1), (2, 2), (3, 2)]


def test_bad_input_through_any_writer_writes_nothing(tmp_path):
    writer = TorchWriter(str(tmp_path))
    try:
        with pytest.raises(ValueError, match="global_step: expected an int from"):
            tb_saliency.log_saliency(writer, "probe", TinyNet(), IMAGES, methods="gradient", global_step=-(2**63) - 1)
        with pytest.raises(ValueError, match="tag: expected a name without"):
            tb_saliency.log_saliency_map(writer, 'a"b', IMAGES, np.ones((3, 4, 4)))
        writer.flush()
    finally:
        writer.close()
    assert summary_tags(tmp_path) == []


def test_two_threads_cannot_give_one_tag_two_kinds(tmp_path):
    import threading

    writer = TorchWriter(str(tmp_path))
    model = TinyNet().eval()
    start = threading.Barrier(2)
    errors = []

    def log(call):
        start.wait()  # both pass the checks made before the model runs, then race to write
        try:
            call()
        except ValueError as error:
            errors.append(str(error))

    threads = [
        threading.Thread(target=log, args=(lambda: tb_saliency.log_saliency(writer, "t", model, IMAGES, methods="gradient"),)),
        threading.Thread(target=log, args=(lambda: tb_saliency.log_activations(writer, "t", model, IMAGES, layer="features.0"),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert len(errors) == 1 and "already holds" in errors[0], errors
    [frame] = tb_saliency.read(tmp_path)
    assert frame.kind == ("activations" if "holds activations frames" in errors[0] else "saliency")


def test_a_logger_and_its_experiment_share_what_the_file_holds(tmp_path):
    class Logger:
        def __init__(self, folder):
            self.experiment = TorchWriter(folder)

    logger = Logger(str(tmp_path))
    try:
        tb_saliency.log_saliency_map(logger, "probe", IMAGES, np.ones((3, 4, 4)), global_step=0)
        tb_saliency.log_saliency_map(logger.experiment, "probe", IMAGES, np.ones((3, 4, 4)), global_step=1)
    finally:
        logger.experiment.close()
    values = summary_values(tmp_path, "probe")
    assert [v.HasField("metadata") for _, v in values] == [True, False], "the tag's metadata is written once"
    headers = [stored_format.decode_frame(list(v.tensor.string_val)).header for _, v in values]
    assert [h["frames_written"] for h in headers] == [1, 2] and all("shared_key" in h["images"] for h in headers)


def test_a_resumed_run_and_a_second_writer_show_the_probe_set_they_share(tmp_path):
    # Each new writer on the run writes the set once more, under the same content-named tag.
    for first_step in (0, 2):
        writer = TorchWriter(str(tmp_path))
        try:
            for step in (first_step, first_step + 1):
                tb_saliency.log_saliency_map(writer, "probe", IMAGES, np.ones((3, 4, 4)), global_step=step)
        finally:
            writer.close()
    second = TorchWriter(str(tmp_path))
    try:
        tb_saliency.log_saliency_map(second, "other", IMAGES, np.ones((3, 4, 4)), global_step=9)
    finally:
        second.close()
    inputs = [t for t in summary_tags(tmp_path) if t.startswith(stored_format.INPUTS_TAG_PREFIX)]
    assert len(inputs) == 3 and len(set(inputs)) == 1
    frames = tb_saliency.read(tmp_path)
    assert [(f.tag, f.step) for f in frames] == [("other", 9)] + [("probe", s) for s in range(4)]
    expected = np.rint(np.moveaxis(IMAGES.numpy(), 1, -1) * 255)
    for frame in frames:
        assert np.abs(frame.images.astype(int) - expected).max() <= 1


def test_a_new_probe_set_at_each_step_is_stored_once_per_set(tmp_path):
    writer = TorchWriter(str(tmp_path))
    try:
        for step in range(3):
            tb_saliency.log_saliency_map(writer, "probe", IMAGES * (step + 1) / 3, np.ones((3, 4, 4)), global_step=step)
    finally:
        writer.close()
    inputs = [t for t in summary_tags(tmp_path) if t.startswith(stored_format.INPUTS_TAG_PREFIX)]
    assert len(set(inputs)) == len(inputs) == 3
    frames = tb_saliency.read(tmp_path)
    for step, frame in enumerate(frames):
        expected = np.rint(np.moveaxis(IMAGES.numpy() * (step + 1) / 3, 1, -1) * 255)
        assert np.abs(frame.images.astype(int) - expected).max() <= 1
