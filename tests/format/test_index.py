"""The INDEX series: one FrameIndex beside every frame, with what a step list needs."""

import numpy as np
import pytest
from tensorboard.util import tensor_util

from tb_saliency import format as stored_format
from tb_saliency.proto import saliency_pb2


def _index_value(summary):
    [value] = [v for v in summary.value if v.tag.startswith(stored_format.INDEX_TAG_PREFIX)]
    return value


def test_every_frame_comes_with_its_index_in_a_tensor_series():
    column = stored_format.MapColumn(
        key="gradcam", method="gradcam", values=np.array([[[0.0, 2.0]], [[-1.0, 0.5]]]),
        metrics=[stored_format.MetricValues("deletion", np.array([0.25, 0.75]))])
    samples = [stored_format.SampleFacts(label=0, prediction=1), stored_format.SampleFacts(label=1, prediction=1)]
    summary = stored_format.saliency_summary(
        "probe", samples=samples, maps=[column], frames_written=4, steps_written=3,
        summary_metadata=stored_format.create_summary_metadata("saliency"))
    value = _index_value(summary)
    assert value.tag == stored_format.index_tag("probe") == "_saliency_index/probe"
    assert value.metadata.data_class == 2  # DATA_CLASS_TENSOR
    assert stored_format.parse_plugin_data(value.metadata.plugin_data.content)["kind"] == "index"
    index = stored_format.describe_index(tensor_util.make_ndarray(value.tensor).item())
    assert index == {
        "kind": "saliency", "num_samples": 2, "frames_written": 4, "steps_written": 3, "wrong_predictions": 1,
        "arrays": [{"key": "gradcam", "stage": "", "min": -1.0, "max": 2.0, "metrics": {"deletion": 0.5}}],
    }


def test_index_metadata_goes_with_the_frames_metadata_only():
    column = stored_format.MapColumn(key="m", method="m", values=np.ones((1, 1, 1)))
    summary = stored_format.saliency_summary("t", samples=[stored_format.SampleFacts()], maps=[column])
    assert not _index_value(summary).HasField("metadata")


def test_activation_and_randomisation_frames_are_indexed():
    channels = stored_format.ActivationChannels(layer="l", values=np.arange(4.0).reshape(1, 1, 2, 2),
                                               channel_index=np.array([[0]]), channel_mean=np.array([[1.5]]),
                                               total_channels=3)
    summary = stored_format.activations_summary("a", samples=[stored_format.SampleFacts()], activations=channels)
    index = stored_format.describe_index(tensor_util.make_ndarray(_index_value(summary).tensor).item())
    assert index["kind"] == "activations"
    assert index["arrays"] == [{"key": "activations", "stage": "", "min": 0.0, "max": 3.0, "metrics": {}}]

    maps = [stored_format.MapColumn(key="g", method="g", values=np.ones((2, 1, 1)), stage=s) for s in ("", "fc")]
    summary = stored_format.saliency_summary(
        "r", samples=[stored_format.SampleFacts()] * 2, maps=maps,
        randomisation=stored_format.Randomisation("cascading", ["fc"], {("g", "fc"): [0.2, 0.4]}))
    index = stored_format.describe_index(tensor_util.make_ndarray(_index_value(summary).tensor).item())
    assert index["kind"] == "randomisation"
    assert index["arrays"][1] == {"key": "g", "stage": "fc", "min": 1.0, "max": 1.0, "metrics": {"spearman": pytest.approx(0.3)}}


@pytest.mark.parametrize("blob, message", [
    (b"\xff\xfe", "damaged"),
    (saliency_pb2.FrameIndex(version=stored_format.FORMAT_VERSION + 1).SerializeToString(), "newer tb_saliency"),
    (saliency_pb2.FrameIndex(version=2, kind=3).SerializeToString(), "unknown kind"),
    (saliency_pb2.FrameIndex(version=2, kind=1, arrays=[saliency_pb2.IndexedArray(key="m", max=float("inf"))]).SerializeToString(),
     "non-finite range"),
])
def test_damaged_indexes_raise_format_error(blob, message):
    with pytest.raises(stored_format.FormatError, match=message):
        stored_format.describe_index(blob)


def test_index_from_a_described_header_equals_the_stored_index():
    """What /frame derives from a header is what the writer put in the INDEX series."""
    maps = [
        stored_format.MapColumn(key="g", method="g", values=np.array([[[0.0, 2.0]], [[-1.0, 0.5]]]),
                                metrics=[stored_format.MetricValues("deletion", np.array([0.1, 0.7]))]),
        stored_format.MapColumn(key="g", method="g", values=np.array([[[1.0, 3.0]], [[4.0, 0.5]]]), stage="fc"),
    ]
    samples = [stored_format.SampleFacts(label=0, prediction=1), stored_format.SampleFacts(label=2, prediction=2)]
    summaries = [
        stored_format.saliency_summary(
            "r", samples=samples, maps=maps, frames_written=5, steps_written=4,
            randomisation=stored_format.Randomisation("cascading", ["fc"], {("g", "fc"): [0.25, 0.5]})),
        stored_format.activations_summary("a", samples=samples, activations=stored_format.ActivationChannels(
            layer="l", values=np.arange(8.0).reshape(2, 1, 2, 2), channel_index=np.array([[0], [0]]),
            channel_mean=np.array([[1.5], [5.5]]), total_channels=3)),
    ]
    for summary in summaries:
        frame_value = next(v for v in summary.value if not v.tag.startswith(stored_format.INDEX_TAG_PREFIX))
        blobs = list(frame_value.tensor.string_val)
        described = stored_format.describe_header(blobs[0], len(blobs))
        stored = stored_format.describe_index(tensor_util.make_ndarray(_index_value(summary).tensor).item())
        assert stored_format.index_from_described(described) == stored
