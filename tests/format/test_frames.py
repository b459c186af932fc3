"""The stored format on its own: encode → decode round trips, and damaged or newer frames."""

import json

import numpy as np
import pytest

from tb_saliency import format as stored_format
from tb_saliency.format import metadata
from tb_saliency.proto import saliency_pb2

VERSION = stored_format.FORMAT_VERSION


def _images(count=3, size=8, seed=0):
    return stored_format.to_display(np.random.default_rng(seed).uniform(size=(count, 3, size, size)))


def _saliency_blobs(dtype="float16", count=3, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    maps = [
        stored_format.MapColumn(
            key="gradient", method="gradient", values=rng.normal(size=(count, 8, 8)) * 1e-6,
            options={"channel_reduction": "signed_sum"},
        ),
        stored_format.MapColumn(
            key="integrated_gradients", method="integrated_gradients",
            values=rng.normal(size=(count, 8, 8)),
            options={"steps": 50, "rule": "gauss_legendre", "baseline": "zeros"},
            statistics={"completeness_gap": rng.normal(size=count) * 1e-4},
        ),
        stored_format.MapColumn(key="gradcam@layer4", method="gradcam", layer="layer4",
                                values=rng.uniform(0, 5, size=(count, 2, 3))),
    ]
    samples = [
        stored_format.SampleFacts(label=2, target=2, prediction=1, score=0.75, target_score=3.5),
        stored_format.SampleFacts(label=0),
        stored_format.SampleFacts(),
    ][:count]
    summary = stored_format.saliency_summary(
        "probe", samples=samples, maps=maps, images=kwargs.pop("images", _images(count)),
        dtype=dtype, frames_written=7,
        summary_metadata=stored_format.create_summary_metadata(
            "saliency", map_keys=[m.key for m in maps], class_names=["a", "b", "c"],
            num_samples=count),
        **kwargs,
    )
    return summary, maps, samples


def test_summary_is_a_rank_1_string_blob_sequence_with_plugin_metadata():
    summary, _, _ = _saliency_blobs()
    value = summary.value[0]
    assert value.tag == "probe"
    assert value.metadata.plugin_data.plugin_name == "saliency"
    assert value.metadata.data_class == 3  # DATA_CLASS_BLOB_SEQUENCE
    assert len(value.tensor.tensor_shape.dim) == 1
    assert value.tensor.tensor_shape.dim[0].size == len(value.tensor.string_val)
    info = stored_format.parse_plugin_data(value.metadata.plugin_data.content)
    assert info == {"version": stored_format.FORMAT_VERSION, "kind": "saliency",
                    "map_keys": ["gradient", "integrated_gradients", "gradcam@layer4"],
                    "class_names": ["a", "b", "c"], "num_samples": 3}


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_round_trip_gives_back_maps_images_facts_and_options(dtype):
    summary, maps, samples = _saliency_blobs(dtype)
    frame = stored_format.decode_frame(list(summary.value[0].tensor.string_val))
    for column in maps:
        decoded = frame.maps[column.key]
        assert decoded.shape == column.values.shape
        # float16 keeps 11 significant bits of each sample scaled to its peak, whatever the
        # magnitude: 1e-6 gradients survive (they would be zero or subnormal as raw float16).
        peak = np.abs(column.values).reshape(len(column.values), -1).max(1)[:, None, None]
        tolerance = 2 ** -11 * peak if dtype == "float16" else 1e-7 * peak
        assert np.all(np.abs(decoded - column.values) <= tolerance)
    header = frame.header
    assert header["frames_written"] == 7
    assert header["samples"][0] == {"label": 2, "target": 2, "prediction": 1, "score": 0.75,
                                    "target_score": 3.5}
    assert header["samples"][1] == {"label": 0}
    assert header["samples"][2] == {}
    by_key = {m["key"]: m for m in header["maps"]}
    assert by_key["integrated_gradients"]["options"] == maps[1].options
    np.testing.assert_allclose(by_key["integrated_gradients"]["statistics"]["completeness_gap"],
                               maps[1].statistics["completeness_gap"], rtol=1e-6)
    assert by_key["gradcam@layer4"]["layer"] == "layer4"
    assert by_key["gradcam@layer4"]["method"] == "gradcam"
    np.testing.assert_allclose(by_key["gradient"]["min"], maps[0].values.min(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(by_key["gradient"]["max"], maps[0].values.max(axis=(1, 2)), rtol=1e-6)
    original = _images()
    for i, image in enumerate(frame.images):
        np.testing.assert_array_equal(image, original.pixels[i])


def test_all_zero_map_round_trips_as_zeros():
    zeros = stored_format.MapColumn(key="gradcam", method="gradcam", values=np.zeros((2, 3, 3)))
    summary = stored_format.saliency_summary("t", samples=[stored_format.SampleFacts()] * 2,
                                             maps=[zeros])
    frame = stored_format.decode_frame(list(summary.value[0].tensor.string_val))
    assert np.all(frame.maps["gradcam"] == 0)
    assert frame.header["maps"][0]["scale"] == [1.0, 1.0]
    assert frame.images is None and frame.header["images"] is None


def test_shared_images_are_referenced_not_stored():
    images = _images()
    key = images.content_key()
    summary, _, _ = _saliency_blobs(images=images, shared_images_key=key)
    blobs = list(summary.value[0].tensor.string_val)
    assert len(blobs) == 1 + 3  # header and three maps, no PNG
    header = stored_format.describe_header(blobs[0], len(blobs))
    assert header["images"]["shared_key"] == key
    inputs = stored_format.inputs_summary(key, images)
    assert inputs.value[0].tag == stored_format.inputs_tag(key)
    decoded = stored_format.decode_frame(list(inputs.value[0].tensor.string_val))
    assert decoded.header["kind"] == "inputs"
    for i, image in enumerate(decoded.images):
        np.testing.assert_array_equal(image, images.pixels[i])


def test_content_key_depends_on_pixels_and_shape_only():
    a = stored_format.to_display(np.full((2, 1, 4, 4), 0.5))
    b = stored_format.to_display(np.full((2, 1, 4, 4), 0.5))
    c = stored_format.to_display(np.full((2, 1, 4, 4), 0.25))
    d = stored_format.to_display(np.full((1, 1, 4, 8), 0.5))
    assert a.content_key() == b.content_key()
    assert len({a.content_key(), c.content_key(), d.content_key()}) == 3


def test_activations_round_trip():
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 2, size=(2, 4, 5, 5))
    channels = stored_format.ActivationChannels(
        layer="features.0", values=values, channel_index=np.array([[3, 1, 0, 2], [0, 3, 2, 1]]),
        channel_mean=values.mean(axis=(2, 3)), total_channels=8, options={"order": "mean"})
    summary = stored_format.activations_summary(
        "acts", samples=[stored_format.SampleFacts(label=1)] * 2, activations=channels,
        images=_images(2))
    frame = stored_format.decode_frame(list(summary.value[0].tensor.string_val))
    assert frame.header["kind"] == "activations"
    a = frame.header["activations"]
    assert a["channel_index"] == [[3, 1, 0, 2], [0, 3, 2, 1]]
    assert a["total_channels"] == 8 and a["channels"] == 4 and a["layer"] == "features.0"
    np.testing.assert_allclose(frame.activations, values, rtol=2 ** -10, atol=2 * 2 ** -11)


def _header_blob(**fields):
    header = saliency_pb2.FrameHeader(**fields)
    return header.SerializeToString()


def test_newer_format_version_is_refused_with_an_upgrade_message():
    blob = _header_blob(version=stored_format.FORMAT_VERSION + 1, kind=1)
    with pytest.raises(stored_format.FormatError, match=r"newer tb_saliency.*upgrade"):
        stored_format.describe_header(blob, 1)
    content = saliency_pb2.PluginData(version=stored_format.FORMAT_VERSION + 1).SerializeToString()
    with pytest.raises(stored_format.FormatError, match="newer tb_saliency"):
        stored_format.parse_plugin_data(content)


@pytest.mark.parametrize(
    "blobs, message",
    [
        ([], "no blobs"),
        ([b"\xff\xff\xff garbage"], "damaged"),
        ([b""], "no format version"),
        ([_header_blob(version=VERSION, kind=1, num_samples=2)], "lists 0 samples"),
        ([_header_blob(version=VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
                       maps=[saliency_pb2.MapBlock(key="m", blob=5, dtype=1, height=2, width=2,
                                                   min=[0], max=[1], scale=[1])])],
         "points at blob 5"),
        ([_header_blob(version=VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
                       maps=[saliency_pb2.MapBlock(key="m", blob=1, dtype=1, height=2, width=2,
                                                   min=[0], max=[1], scale=[1])]), b"\x00" * 3],
         "3 bytes, expected 8"),
        ([_header_blob(version=VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
                       maps=[saliency_pb2.MapBlock(key="m", blob=1, dtype=9, height=1, width=1,
                                                   min=[0], max=[1], scale=[1])]), b"\x00" * 2],
         "unknown dtype"),
        ([_header_blob(version=VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
                       maps=[saliency_pb2.MapBlock(key="m", blob=1, dtype=1, height=1, width=1,
                                                   min=[0], max=[], scale=[1])]), b"\x00" * 2],
         "0 max values"),
        ([_header_blob(version=VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
                       maps=[saliency_pb2.MapBlock(key="m", blob=1, dtype=1, height=1, width=1,
                                                   min=[0], max=[1], scale=[1],
                                                   options_json="{not json")]), b"\x00" * 2],
         "damaged options"),
        ([_header_blob(version=VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
                       images=saliency_pb2.ImageSet(width=2, height=2, channels=3, first_blob=1)),
          b"not a png"],
         "image is damaged"),
    ],
)
def test_malformed_frames_raise_format_error(blobs, message):
    with pytest.raises(stored_format.FormatError, match=message):
        stored_format.decode_frame(blobs)


def test_garbage_plugin_content_raises_format_error():
    with pytest.raises(stored_format.FormatError):
        stored_format.parse_plugin_data(b"\xff\xff\xff\xff")


def test_options_that_are_not_json_are_refused_when_encoding():
    column = stored_format.MapColumn(key="m", method="m", values=np.zeros((1, 2, 2)),
                                     options={"baseline": object()})
    with pytest.raises(ValueError, match="JSON"):
        stored_format.saliency_summary("t", samples=[stored_format.SampleFacts()], maps=[column])


def test_header_json_is_serialisable():
    summary, _, _ = _saliency_blobs()
    blobs = list(summary.value[0].tensor.string_val)
    json.dumps(stored_format.describe_header(blobs[0], len(blobs)), allow_nan=False)


def test_plugin_name_is_a_valid_tensorboard_plugin_name():
    import re

    assert re.fullmatch(r"[A-Za-z0-9_-]+", metadata.PLUGIN_NAME)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("magnitude", [1e-50, 1e-30, 1e39, 1e300])
def test_float64_magnitudes_beyond_float32_survive(dtype, magnitude):
    # Per-sample scales and ranges are doubles: a float64 map of any magnitude keeps its values.
    values = np.random.default_rng(2).normal(size=(2, 3, 3)) * magnitude
    column = stored_format.MapColumn(key="m", method="m", values=values)
    summary = stored_format.saliency_summary("t", samples=[stored_format.SampleFacts()] * 2, maps=[column],
                                             dtype=dtype)
    frame = stored_format.decode_frame(list(summary.value[0].tensor.string_val))
    tolerance = (2 ** -11 if dtype == "float16" else 2 ** -23) * np.abs(values).max()
    np.testing.assert_allclose(frame.maps["m"], values, rtol=0, atol=tolerance)
    assert frame.header["maps"][0]["max"] == values.reshape(2, -1).max(1).tolist()
    assert np.all(frame.maps["m"] != 0)


def test_float64_activations_of_1e300_are_not_infinite():
    values = np.full((1, 2, 2, 2), 1e300)
    channels = stored_format.ActivationChannels(layer="l", values=values, channel_index=np.array([[0, 1]]),
                                               channel_mean=np.array([[1e300, 1e300]]), total_channels=2)
    summary = stored_format.activations_summary("a", samples=[stored_format.SampleFacts()], activations=channels)
    frame = stored_format.decode_frame(list(summary.value[0].tensor.string_val))
    np.testing.assert_allclose(frame.activations, values, rtol=1e-3)
    assert frame.header["activations"]["channel_mean"] == [[1e300, 1e300]]


def test_non_finite_values_are_refused_when_encoding():
    column = stored_format.MapColumn(key="m", method="m", values=np.array([[[1.0, np.inf]], [[0.0, 1.0]]]))
    with pytest.raises(ValueError, match=r"maps\['m'\]: expected finite values, got NaN or infinity in sample\(s\) \[0\]"):
        stored_format.saliency_summary("t", samples=[stored_format.SampleFacts()] * 2, maps=[column])
    with pytest.raises(ValueError, match="score: expected a finite number"):
        stored_format.saliency_summary(
            "t", samples=[stored_format.SampleFacts(score=float("nan"))],
            maps=[stored_format.MapColumn(key="m", method="m", values=np.zeros((1, 1, 1)))])


def test_frames_of_format_version_1_still_read():
    # tb_saliency 0.1 stored per-sample numbers as float32 in the fields now named *_f32.
    header = saliency_pb2.FrameHeader(
        version=1, kind=1, num_samples=1, frames_written=3,
        samples=[saliency_pb2.Sample(label=1, score_f32=0.1, target_score_f32=2.5)],
        maps=[saliency_pb2.MapBlock(key="m", method="m", blob=1, dtype=1, height=1, width=2,
                                    min_f32=[-1.0], max_f32=[0.5], scale_f32=[2.0],
                                    statistics=[saliency_pb2.SampleStatistic(name="gap", values_f32=[0.25])])])
    blob = np.array([-0.5, 0.25], "<f2").tobytes()
    frame = stored_format.decode_frame([header.SerializeToString(), blob])
    assert frame.header["samples"] == [{"label": 1, "score": 0.1, "target_score": 2.5}]
    assert frame.header["steps_written"] == 3
    m = frame.header["maps"][0]
    assert (m["min"], m["max"], m["scale"], m["statistics"]) == ([-1.0], [0.5], [2.0], {"gap": [0.25]})
    np.testing.assert_array_equal(frame.maps["m"], [[[-1.0, 0.5]]])


def test_metrics_and_their_curves_round_trip():
    curve = np.linspace(1, 0, 2 * 5).reshape(2, 5)
    column = stored_format.MapColumn(
        key="gradcam", method="gradcam", values=np.ones((2, 2, 2)),
        metrics=[stored_format.MetricValues("deletion", np.array([0.4, 0.6]), curve, {"steps": 4}),
                 stored_format.MetricValues("pointing_game", np.array([1.0, 0.0]))])
    summary = stored_format.saliency_summary("t", samples=[stored_format.SampleFacts()] * 2, maps=[column])
    header = stored_format.decode_frame(list(summary.value[0].tensor.string_val)).header
    metrics = header["maps"][0]["metrics"]
    assert metrics["deletion"]["values"] == [0.4, 0.6]
    assert metrics["deletion"]["curve"] == curve.tolist()
    assert metrics["deletion"]["options"] == {"steps": 4}
    assert metrics["pointing_game"] == {"name": "pointing_game", "values": [1.0, 0.0], "curve": None, "options": {}}


def test_randomisation_frames_round_trip():
    maps = [stored_format.MapColumn(key="gradcam", method="gradcam", values=np.full((1, 2, 2), k + 1.0), stage=stage)
            for k, stage in enumerate(["", "fc", "conv"])]
    randomisation = stored_format.Randomisation(
        order="cascading", layers=["fc", "conv"],
        correlations={("gradcam", "fc"): [0.9], ("gradcam", "conv"): [0.1]}, options={"seed": 0})
    summary = stored_format.saliency_summary("r", samples=[stored_format.SampleFacts()], maps=maps,
                                             randomisation=randomisation)
    frame = stored_format.decode_frame(list(summary.value[0].tensor.string_val))
    assert frame.header["kind"] == "randomisation"
    assert set(frame.maps) == {("gradcam", ""), ("gradcam", "fc"), ("gradcam", "conv")}
    np.testing.assert_array_equal(frame.maps[("gradcam", "conv")], np.full((1, 2, 2), 3.0))
    assert frame.header["randomisation"] == {
        "order": "cascading", "layers": ["fc", "conv"], "options": {"seed": 0},
        "correlations": [{"key": "gradcam", "stage": "fc", "values": [0.9]},
                         {"key": "gradcam", "stage": "conv", "values": [0.1]}]}


def _one_map_header(**map_fields):
    fields = dict(key="m", blob=1, dtype=1, height=1, width=1, min=[0], max=[1], scale=[1])
    fields.update(map_fields)
    return saliency_pb2.FrameHeader(version=VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
                                    maps=[saliency_pb2.MapBlock(**fields)])


@pytest.mark.parametrize(
    "header, blob_count, message",
    [
        (_one_map_header(options_json="[" * 100_000 + "]" * 100_000), 2, "damaged options"),
        (_one_map_header(height=0, width=0), 2, r"empty shape \(1, 0, 0\)"),
        (_one_map_header(height=1 << 20, width=1 << 20), 2, "more than a frame can hold"),
        (_one_map_header(min=[float("nan")]), 2, "non-finite min"),
        (saliency_pb2.FrameHeader(version=VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
                                  maps=[saliency_pb2.MapBlock(key="m", blob=1, dtype=1, height=1, width=1, min=[0], max=[1], scale=[1]),
                                        saliency_pb2.MapBlock(key="m", blob=2, dtype=1, height=1, width=1, min=[0], max=[1], scale=[1])]),
         3, "two maps named 'm'"),
        (saliency_pb2.FrameHeader(version=VERSION, kind=5), 1, "unknown kind"),
        (saliency_pb2.FrameHeader(version=VERSION, kind=1, num_samples=1 << 20), 1, "more than a frame can hold"),
        (_one_map_header(metrics=[saliency_pb2.Metric(name="deletion", values=[1.0], curve_length=3, curve=[1.0])]),
         2, "1 curve points for 1 samples × 3"),
        (_one_map_header(options_json='{"a": ' + "[" * 500 + "]" * 500 + "}"), 2, "nested more than 64 deep"),
        (_one_map_header(options_json='{"a": NaN}'), 2, "NaN is not a finite number"),
        (_one_map_header(metrics=[saliency_pb2.Metric(name="deletion", values=[float("inf")])]), 2, "not finite"),
        (_one_map_header(metrics=[saliency_pb2.Metric(name="deletion", values=[1.0], curve_length=1,
                                                      curve=[float("nan")])]), 2, "curve holds a number that is not finite"),
        (_one_map_header(statistics=[saliency_pb2.SampleStatistic(name="gap", values=[float("nan")])]), 2, "not finite"),
        (saliency_pb2.FrameHeader(version=VERSION, kind=1, num_samples=1,
                                  samples=[saliency_pb2.Sample(score=float("nan"))]), 1, "score is not finite"),
    ],
    ids=["options nested 100,000 deep", "0×0 map", "huge map", "NaN range", "duplicate keys", "index kind",
         "a million samples", "short curve", "options nested 500 deep", "NaN in options", "infinite metric",
         "NaN in a curve", "NaN statistic", "NaN score"],
)
def test_hostile_headers_raise_format_error(header, blob_count, message):
    with pytest.raises(stored_format.FormatError, match=message):
        stored_format.describe_header(header.SerializeToString(), blob_count)


def test_options_nested_as_deep_as_allowed_still_read():
    """64 containers deep, counting the options object itself; one more is refused."""
    for lists, readable in ((63, True), (64, False)):
        header = _one_map_header(options_json='{"a": ' + "[" * lists + "]" * lists + "}")
        if readable:
            described = stored_format.describe_header(header.SerializeToString(), 2)
            assert json.dumps(described["maps"][0]["options"]) == '{"a": ' + "[" * lists + "]" * lists + "}"
        else:
            with pytest.raises(stored_format.FormatError, match="nested more than 64 deep"):
                stored_format.describe_header(header.SerializeToString(), 2)


def test_values_read_back_as_float32_unless_float32_would_lose_them():
    from tb_saliency.format import narrowest_float

    big, tiny = float(np.finfo(np.float32).max), float(np.finfo(np.float32).tiny)
    for values in ([0.0, 1.0], [big, -1.0], [tiny, 0.0], [-tiny]):
        assert narrowest_float(np.array(values)).dtype == np.float32, values
    for values in ([big * 2], [tiny / 2, 1.0], [0.0, 1e-300]):
        kept = narrowest_float(np.array(values))
        assert kept.dtype == np.float64 and kept.tolist() == values
