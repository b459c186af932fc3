"""`log_saliency(..., metrics=...)`: metrics stored with each map, means as scalars, the randomisation
cascade as a frame of its own, and every argument checked before the model runs."""

import numpy as np
import pytest
import torch
from tensorboard.util import tensor_util
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency
from tb_saliency import format as stored_format
from tb_saliency import metrics
from tests.support.events import summary_tags, summary_values
from tests.support.logdirs import TinyNet

torch.manual_seed(0)
IMAGES = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
MASKS = torch.zeros(3, 16, 16, dtype=torch.bool)
MASKS[:, 4:10, 5:11] = True
LAYER = "features.3"


def _model():
    torch.manual_seed(1)
    return TinyNet().eval()


def _scalars(logdir):
    found = {}
    for tag in summary_tags(logdir):
        for step, value in summary_values(logdir, tag):
            if value.HasField("simple_value"):
                found[(tag, step)] = value.simple_value
    return found


def test_metrics_are_stored_with_each_map_and_their_means_written_as_scalars(tmp_path):
    model = _model()
    writer = TorchWriter(str(tmp_path))
    maps = tb_saliency.log_saliency(
        writer, "probe", model, IMAGES, methods=["gradient", "gradcam"], layer=LAYER, global_step=7,
        metrics={"deletion": {"steps": 8}, "insertion": {}, "pointing_game": {"tolerance": 2}, "energy_pointing_game": {}},
        masks=MASKS)
    writer.close()
    [frame] = tb_saliency.read(tmp_path)
    scalars = _scalars(tmp_path)
    for key in ("gradient", "gradcam"):
        deletion = metrics.deletion(model, IMAGES, maps[key], steps=8)
        stored = frame.metrics[key]["deletion"]
        np.testing.assert_allclose(stored["values"], deletion.auc.numpy(), rtol=1e-6)
        np.testing.assert_allclose(stored["curve"], deletion.curve.numpy(), rtol=1e-6)
        assert stored["options"]["steps"] == 8 and stored["curve"].shape == (3, 9)
        insertion = metrics.insertion(model, IMAGES, maps[key])
        np.testing.assert_allclose(frame.metrics[key]["insertion"]["values"], insertion.auc.numpy(), rtol=1e-6)
        hits = metrics.pointing_game(maps[key], MASKS, tolerance=2).hits
        np.testing.assert_array_equal(frame.metrics[key]["pointing_game"]["values"], hits.double().numpy())
        assert frame.metrics[key]["pointing_game"]["curve"] is None
        energy = metrics.energy_pointing_game(maps[key], MASKS).energy
        np.testing.assert_allclose(frame.metrics[key]["energy_pointing_game"]["values"], energy.numpy(), rtol=1e-6)
        # Scalars at the frame's step, named <tag>/<metric>/<map key>: the Scalars tab plots them.
        assert scalars[(f"probe/deletion/{key}", 7)] == pytest.approx(float(deletion.auc.mean()), rel=1e-6)
        assert scalars[(f"probe/pointing_game/{key}", 7)] == pytest.approx(float(hits.double().mean()))
    # The step index carries each metric's mean, for the tab's charts over steps.
    [(_, index_value)] = summary_values(tmp_path, stored_format.index_tag("probe"))
    index = stored_format.describe_index(tensor_util.make_ndarray(index_value.tensor).item())
    gradcam = next(a for a in index["arrays"] if a["key"] == "gradcam")
    assert set(gradcam["metrics"]) == {"deletion", "insertion", "pointing_game", "energy_pointing_game"}


def test_boxes_stand_in_for_masks(tmp_path):
    writer = TorchWriter(str(tmp_path))
    boxes = torch.tensor([[5, 4, 11, 10]] * 3)  # x0 y0 x1 y1, the same region as MASKS
    maps = tb_saliency.log_saliency(writer, "probe", _model(), IMAGES, methods="gradcam", layer=LAYER,
                                    metrics=["pointing_game"], boxes=boxes)
    writer.close()
    [frame] = tb_saliency.read(tmp_path)
    expected = metrics.pointing_game(maps["gradcam"], MASKS).hits.double().numpy()
    np.testing.assert_array_equal(frame.metrics["gradcam"]["pointing_game"]["values"], expected)


def test_randomisation_writes_its_cascade_as_a_frame_and_scalars(tmp_path):
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    writer = TorchWriter(str(tmp_path))
    tb_saliency.log_saliency(writer, "probe", model, IMAGES, methods=["gradient", "gradcam"], layer=LAYER,
                             metrics={"randomisation": {"order": "cascading"}}, global_step=2)
    writer.close()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the model is untouched"
    frames = {f.tag: f for f in tb_saliency.read(tmp_path)}
    assert set(frames) == {"probe", "probe/randomisation"}
    cascade = frames["probe/randomisation"]
    assert cascade.kind == "randomisation" and cascade.step == 2
    expected = metrics.randomisation(model, IMAGES, ["gradient", "gradcam"], layer=LAYER)
    r = cascade.randomisation
    assert r["order"] == "cascading" and r["layers"] == list(expected.layers)
    for key in ("gradient", "gradcam"):
        np.testing.assert_allclose(cascade.maps[key], expected.original[key].numpy(), rtol=2e-3, atol=1e-6)
        assert list(r["maps"][key]) == list(expected.layers)
        rho = torch.nan_to_num(expected.correlations[key], nan=0.0).numpy()
        for stage, layer in enumerate(expected.layers):
            np.testing.assert_allclose(r["correlations"][key][layer], rho[stage], rtol=1e-6, atol=1e-12)
        assert _scalars(tmp_path)[(f"probe/randomisation/{key}", 2)] == pytest.approx(float(rho[-1].mean()), abs=1e-6)


class _Refuses(TinyNet):
    """A model that fails the test if it ever runs: errors must come before any work."""

    def forward(self, x):
        raise AssertionError("the model ran before the arguments were checked")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(metrics=["pointing_game"]), ValueError, r"metrics: pointing_game needs masks= .* or boxes= .*, got neither"),
    (dict(metrics=["deletion"], masks=MASKS), ValueError, r"masks: only the pointing games use them"),
    (dict(masks=MASKS), ValueError, r"masks: only the pointing games use them; add metrics="),
    (dict(metrics=["delete"]), ValueError, r"metrics: unknown metric 'delete'; known metrics: deletion, insertion"),
    (dict(metrics={"deletion": {"step": 3}}), ValueError, r"metrics\['deletion'\]: unknown option 'step'; deletion takes steps"),
    (dict(metrics={"randomisation": {"original": None}}), ValueError,
     r"metrics\['randomisation'\]: unknown option 'original'"),
    (dict(metrics={"deletion": {"steps": 0}}), ValueError, r"steps: expected an int >= 1, got 0"),
    (dict(metrics={"pointing_game": {"tolerance": -1}}, masks=MASKS), ValueError, r"tolerance: expected a finite number >= 0"),
    (dict(metrics=["energy_pointing_game"], masks=MASKS[:2]), ValueError, r"masks"),
    (dict(metrics=["pointing_game"], masks=MASKS, boxes=[[0, 0, 1, 1]] * 3), ValueError, r"masks, boxes: give the object's place one way"),
    (dict(metrics=["deletion"], target=lambda out: out[:, 0]), ValueError, r"metrics: deletion scores the softmax probability .*'score': 'raw'"),
    (dict(metrics=5), TypeError, r"metrics: expected a metric name, a list of them or a dict"),
    (dict(metrics={"randomisation": {"layers": ["nope"]}}), ValueError, r"layers: no module named 'nope'"),
    (dict(metrics=["randomisation"], generator=torch.Generator()), ValueError,
     r"generator: randomisation runs the engine once per stage"),
])
def test_bad_metric_arguments_fail_before_the_model_runs_and_write_nothing(tmp_path, kwargs, error, message):
    writer = TorchWriter(str(tmp_path))
    try:
        methods = "smoothgrad" if "generator" in kwargs else "gradcam"
        layer = None if "generator" in kwargs else LAYER
        with pytest.raises(error, match=message):
            tb_saliency.log_saliency(writer, "probe", _Refuses(), IMAGES, methods=methods, layer=layer, **kwargs)
        writer.flush()
    finally:
        writer.close()
    assert summary_tags(tmp_path) == []
