"""What both framework callbacks share, without a framework: the probe and its arguments, checked when
a callback is made, and one `log_saliency` call with them."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency
from tb_saliency.integrations import _common
from tests.support.logdirs import TinyNet
from tests.support.progress import Terminal

PROBE = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def _probe(inputs=PROBE, tag="saliency", **kwargs):
    return _common.Probe("SaliencyCallback", inputs, tag, kwargs)


def test_a_pair_gives_the_labels_and_tensors_follow_the_inputs_device():
    probe = _probe((PROBE, torch.tensor([0, 1, 2])), methods="integrated_gradients", target=torch.tensor([2, 1, 0]),
                   baseline=torch.zeros(1, 3, 16, 16), ig_steps=4)
    inputs, kwargs = probe.on("meta")
    assert inputs.device.type == "meta"
    assert {k: v.device.type for k, v in kwargs.items() if isinstance(v, torch.Tensor)} == \
        {"labels": "meta", "target": "meta", "baseline": "meta"}
    assert probe.on("meta")[0] is inputs  # moved once per device
    assert probe.kwargs["labels"].device.type == "cpu"


def test_log_writes_one_frame_at_the_step(tmp_path):
    probe = _probe((PROBE, [0, 1, 2]), tag="probe", methods=["gradient", "gradcam"], layer="features.3")
    writer = TorchWriter(str(tmp_path))
    try:
        maps = probe.log(writer, TinyNet(), 7)
    finally:
        writer.close()
    [frame] = tb_saliency.read(tmp_path)
    assert (frame.tag, frame.step, frame.labels) == ("probe", 7, [0, 1, 2])
    np.testing.assert_allclose(frame.maps["gradcam"], maps["gradcam"].numpy(), rtol=2e-3, atol=1e-6)


def test_log_draws_no_bar_and_computes_the_metrics_every_kth_frame(tmp_path, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)  # where log_saliency's default draws bars
    probe = _probe(tag="probe", methods="smoothgrad", smoothgrad_samples=3, metrics={"deletion": {"steps": 3}},
                   metrics_every=2)
    writer = TorchWriter(str(tmp_path))
    try:
        for step in range(3):
            probe.log(writer, TinyNet(), step)
    finally:
        writer.close()
    assert terminal.getvalue() == ""
    assert [(f.step, bool(f.metrics)) for f in tb_saliency.read(tmp_path)] == [(0, True), (1, False), (2, True)]


@pytest.mark.parametrize("inputs, kwargs, error, message", [
    ([PROBE], {}, TypeError, r"inputs: expected a tensor batch, a pair \(inputs, labels\) or a dict with "
                             r"'pixel_values', got a list of 1 items"),
    ((PROBE, [0, 1, 2], 3), {}, TypeError, "got a tuple of 3 items"),
    (("x", [0]), {}, TypeError, "got a tuple of 2 items starting with str"),
    (np.zeros((3, 3, 4, 4)), {}, TypeError, "got ndarray"),
    (torch.zeros(0, 3, 4, 4), {}, ValueError, r"inputs: expected a batch of at least one sample, got shape \(0, 3, 4, 4\)"),
    (PROBE, {"writer": None}, TypeError, "writer: SaliencyCallback sets it itself"),
    (PROBE, {"model": None}, TypeError, "model: SaliencyCallback sets it itself"),
    (PROBE, {"walltime": 1.0}, TypeError, "walltime: SaliencyCallback sets it itself"),
    (PROBE, {"methods": "gradcan"}, ValueError, "methods: unknown method 'gradcan'"),
    (PROBE, {"methods": "gradient", "ig_steps": 4}, ValueError, "ig_steps: not used by the requested methods"),
    (PROBE, {"dtype": "float64"}, ValueError, "dtype: expected one of"),
    (PROBE, {"class_names": "abc"}, TypeError, "class_names: expected a sequence of strings"),
    (PROBE, {"labels": [0, 5, 1], "class_names": ["a", "b"]}, ValueError, "labels: class id 5 has no name"),
    ((PROBE, [0, 1, 2]), {"labels": [0, 1, 2]}, TypeError, "labels: given twice"),
    (PROBE, {"progress": True}, TypeError, "progress: SaliencyCallback sets it itself"),
    (PROBE, {"metrics_every": 2}, ValueError, "metrics_every: spaces out the calls that compute metrics="),
    (PROBE, {"metrics": "deletion", "metrics_every": 0}, ValueError, "metrics_every: expected an int >= 1, got 0"),
])
def test_bad_arguments_fail_when_the_callback_is_made(inputs, kwargs, error, message):
    with pytest.raises(error, match=message):
        _probe(inputs, **kwargs)


def test_a_hugging_face_batch_a_dict_of_columns_or_a_list_of_examples_gives_pixels_and_labels():
    labels = torch.tensor([0, 1, 2])
    examples = [{"pixel_values": PROBE[i], "label": int(labels[i])} for i in range(3)]
    for given in ({"pixel_values": PROBE, "labels": labels},               # what a collator makes
                  examples,                                                # dataset rows
                  {"pixel_values": list(PROBE), "label": labels.tolist()}):  # columns as lists
        probe = _probe(given)
        assert torch.equal(probe.inputs, PROBE) and np.asarray(probe.kwargs["labels"]).tolist() == [0, 1, 2]
    # Labels as datasets give them: 0-d tensors, NumPy ints; and a NumPy column.
    probe = _probe([{"pixel_values": PROBE[i], "labels": [torch.tensor(0), np.int64(1), 2][i]} for i in range(3)])
    assert probe.kwargs["labels"] == [0, 1, 2]
    assert _probe({"pixel_values": list(PROBE), "label": np.array([0, 1, 2])}).kwargs["labels"] == [0, 1, 2]
    probe = _probe({"pixel_values": PROBE})
    assert torch.equal(probe.inputs, PROBE) and "labels" not in probe.kwargs


@pytest.mark.parametrize("inputs, error, message", [
    ({"image": PROBE}, TypeError, r"inputs: expected a dict with 'pixel_values' .*, got keys \['image'\]"),
    ({"pixel_values": PROBE, "attention_mask": PROBE}, TypeError,
     r"inputs: the model is called as model\(pixel_values\), so 'attention_mask' would not reach it"),
    ({"pixel_values": PROBE, "label": [0, 1, 2], "labels": [0, 1, 2]}, TypeError, r"so 'labels', 'label' would not"),
    ([{"pixel_values": PROBE[0]}, {"pixel_values": "img.png"}], TypeError,
     r"inputs\[1\]\['pixel_values'\]: expected a tensor \(give the dataset its image transform"),
    ([{"pixel_values": PROBE[0]}, {"pixel_values": PROBE[1, :, :8]}], ValueError,
     r"the examples' pixel_values differ in shape"),
    ([{"pixel_values": PROBE[0], "label": 1}, {"pixel_values": PROBE[1]}], ValueError,
     "some examples have labels and some do not"),
    ({"pixel_values": list(PROBE), "label": [0, 1]}, ValueError,
     r"inputs\['label'\]: expected one value per example \(3\), got \[0, 1\]"),
    ({"pixel_values": PROBE, "labels": [0, 1]}, ValueError, r"labels: expected one value per sample \(3\)"),
    ([{"pixel_values": PROBE[i], "label": "cat"} for i in range(3)], TypeError, "labels: "),
    ([{"pixel_values": PROBE}], ValueError,
     r"inputs\[0\]\['pixel_values'\]: expected one example's pixel_values \(C×H×W\), got shape \(3, 3, 16, 16\), "
     r"a batch: give the batch dict itself"),
    ({"pixel_values": list(PROBE), "label": torch.tensor(1)}, TypeError,
     r"inputs\['label'\]: expected a column of one value per example, got a tensor of shape \(\)"),
    ({"pixel_values": []}, ValueError, r"inputs\['pixel_values'\]: expected at least one example, got an empty column"),
    ({"pixel_values": [[0.0, 1.0], [1.0, 0.0]]}, TypeError,
     r"inputs\['pixel_values'\]\[0\]: expected a tensor \(give the dataset its image transform"),
    ({"pixel_values": PROBE[0], "label": 1}, ValueError,
     r"inputs: one example \('pixel_values' of shape \(3, 16, 16\) and a single label\); give a batch of them"),
])
def test_a_hugging_face_batch_that_cannot_be_the_probe_says_why(inputs, error, message):
    with pytest.raises(error, match=message):
        _probe(inputs)


def test_bad_tag_and_schedule():
    with pytest.raises(ValueError, match="tag: expected a name without"):
        _probe(tag='a"b')
    for value in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="every_n_steps: expected an int >= 1 or None"):
            _common.check_every(value, "every_n_steps")
    assert _common.check_every(None, "x") is None and _common.check_every(np.int64(3), "x") == 3


def test_only_sharded_models_need_every_rank():
    model = TinyNet()
    assert not _common.is_sharded(model)


def test_the_probe_takes_the_models_device_and_its_one_floating_dtype():
    assert _common.placement(TinyNet()) == (torch.device("cpu"), torch.float32)
    assert _common.placement(TinyNet().to(torch.bfloat16)) == (torch.device("cpu"), torch.bfloat16)
    assert _common.placement(torch.nn.ReLU()) == (torch.device("cpu"), None)
    mixed = TinyNet()
    mixed.head.to(torch.float64)
    assert _common.placement(mixed) == (torch.device("cpu"), None)
    probe = _probe((PROBE, torch.tensor([0, 1, 2])), methods="integrated_gradients", target=torch.tensor([2, 1, 0]),
                   baseline=torch.zeros(1, 3, 16, 16), ig_steps=4)
    inputs, kwargs = probe.on(torch.device("cpu"), torch.bfloat16)
    assert (inputs.dtype, kwargs["baseline"].dtype, kwargs["target"].dtype, kwargs["labels"].dtype) == \
        (torch.bfloat16, torch.bfloat16, torch.int64, torch.int64)
    # A bfloat16 model gets its probe in bfloat16, as the engine requires.
    maps = probe.log(None, TinyNet().to(torch.bfloat16).eval(), 0)
    assert maps["integrated_gradients"].shape == (3, 16, 16)


def test_the_package_imports_no_framework():
    code = ("import sys, tb_saliency.integrations; "
            "print(sorted(m for m in ('torch', 'lightning', 'pytorch_lightning', 'transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
