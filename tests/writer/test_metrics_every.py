"""`log_saliency(..., metrics_every=k)`: metrics at the first call of a tag and every k-th after,
counted per writer and tag; the frames between carry maps without metrics. And `progress=`."""

import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency
from tests.support.events import summary_tags, summary_values
from tests.support.logdirs import TinyNet
from tests.support.progress import final_bars, rank_one

IMAGES = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
LAYER = "features.3"
METRICS = {"deletion": {"steps": 4}}


def _model():
    torch.manual_seed(1)
    return TinyNet().eval()


def _log(writer, tag, model, step, **kwargs):
    kwargs = {"methods": "gradcam", "layer": LAYER, "metrics": METRICS, "metrics_every": 2, **kwargs}
    return tb_saliency.log_saliency(writer, tag, model, IMAGES, global_step=step, **kwargs)


def _steps_with_metrics(logdir, tag):
    return [f.step for f in tb_saliency.read(logdir) if f.tag == tag and f.metrics]


def _scalar_steps(logdir, tag):
    return [step for step, value in summary_values(logdir, tag) if value.HasField("simple_value")]


def test_every_kth_call_of_a_tag_computes_the_metrics_and_the_others_are_frames_without_them(tmp_path):
    model = _model()
    writer = TorchWriter(str(tmp_path))
    for step in range(5):
        _log(writer, "probe", model, step)
        if step < 2:  # a second tag keeps its own count
            _log(writer, "other", model, 10 + step, metrics_every=3)
    writer.close()
    frames = [f for f in tb_saliency.read(tmp_path) if f.tag == "probe"]
    assert [f.step for f in frames] == [0, 1, 2, 3, 4], "every call logs its frame"
    assert all(f.maps["gradcam"].shape == (3, 8, 8) for f in frames)
    assert _steps_with_metrics(tmp_path, "probe") == [0, 2, 4]
    assert _steps_with_metrics(tmp_path, "other") == [10]
    assert _scalar_steps(tmp_path, "probe/deletion/gradcam") == [0, 2, 4]
    assert "other/deletion/gradcam" in summary_tags(tmp_path)


def test_each_writer_counts_its_own_calls(tmp_path):
    model = _model()
    first, second = TorchWriter(str(tmp_path / "a")), TorchWriter(str(tmp_path / "b"))
    _log(first, "probe", model, 0)
    for step in range(2):
        _log(second, "probe", model, step)
    _log(first, "probe", model, 1)
    first.close(), second.close()
    assert _steps_with_metrics(tmp_path / "a", "probe") == [0]
    assert _steps_with_metrics(tmp_path / "b", "probe") == [0]


def test_a_call_that_fails_is_not_counted(tmp_path):
    model = _model()
    writer = TorchWriter(str(tmp_path))
    _log(writer, "probe", model, 0)
    broken = IMAGES.clone()
    broken[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="inputs"):
        tb_saliency.log_saliency(writer, "probe", model, broken, methods="gradcam", layer=LAYER, metrics=METRICS,
                                 metrics_every=2, global_step=1)
    for step in (1, 2):
        _log(writer, "probe", model, step)
    writer.close()
    assert _steps_with_metrics(tmp_path, "probe") == [0, 2]


def test_without_a_writer_the_model_keeps_the_count():
    # As on the ranks that compute and write nothing: the metrics' passes run at calls 1 and 3 only.
    model = _model()
    passes = []
    model.register_forward_hook(lambda module, args, output: passes.append(1))
    counts = []
    for step in range(3):
        passes.clear()
        _log(None, "probe", model, step)
        counts.append(len(passes))
    assert counts[0] == counts[2] > counts[1] == 1, counts


def test_the_randomisation_cascade_is_written_only_with_the_metrics(tmp_path):
    model = _model()
    writer = TorchWriter(str(tmp_path))
    for step in range(3):
        _log(writer, "probe", model, step, methods="gradient", layer=None,
             metrics={"randomisation": {"layers": ["head.3"]}})
    writer.close()
    assert [f.step for f in tb_saliency.read(tmp_path) if f.tag == "probe/randomisation"] == [0, 2]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"metrics_every": 0}, ValueError, r"metrics_every: expected an int >= 1, got 0"),
    ({"metrics_every": True}, ValueError, r"metrics_every: expected an int >= 1, got True"),
    ({"metrics_every": "2"}, ValueError, r"metrics_every: expected an int >= 1, got '2'"),
    ({"metrics_every": 2, "metrics": None}, ValueError, r"metrics_every: spaces out the calls that compute metrics="),
    ({"progress": "yes"}, TypeError, r"progress: expected True, False or None"),
])
def test_bad_arguments_fail_before_anything_is_written(tmp_path, kwargs, error, message):
    writer = TorchWriter(str(tmp_path))
    with pytest.raises(error, match=message):
        _log(writer, "probe", _model(), 0, **kwargs)
    writer.close()
    assert tb_saliency.read(tmp_path) == []


def test_progress_draws_the_methods_and_the_metrics_bars_and_changes_nothing(tmp_path, capsys):
    model = _model()
    kwargs = dict(methods=["integrated_gradients", "gradcam"], ig_steps=3, metrics_every=1, memory_limit=1)
    shown = _log(None, "probe", model, 0, progress=True, **kwargs)
    bars = final_bars(capsys.readouterr().err)
    # Deletion of two maps with 4 steps: the baseline, then 3 interior steps per map.
    assert bars == {"integrated_gradients' path nodes": (3, 3), "deletion's perturbed copies": (7, 7)}
    hidden = _log(None, "probe", model, 0, progress=False, **kwargs)
    assert capsys.readouterr().err == ""
    with rank_one():
        _log(None, "probe", model, 0, progress=True, **kwargs)
    assert capsys.readouterr().err == ""
    assert all(torch.equal(shown[key], hidden[key]) for key in shown)
