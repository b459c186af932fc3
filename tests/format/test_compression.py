"""Format version 3: array blobs byte-shuffled and deflated, the uint8 dtype, and the frames of
versions 1 and 2 still read."""

import base64
import json
import pathlib
import zlib

import numpy as np
import pytest

from tb_saliency import format as stored_format
from tb_saliency.format.layout import compress, decode_values, encode_values

GOLDEN = pathlib.Path(__file__).parent / "golden"


def _round_trip(values, dtype):
    column = stored_format.MapColumn(key="m", method="m", values=values)
    summary = stored_format.saliency_summary("t", samples=[stored_format.SampleFacts()] * len(values), maps=[column],
                                             dtype=dtype)
    blobs = list(summary.value[0].tensor.string_val)
    frame = stored_format.decode_frame(blobs)
    return frame.maps["m"], frame.header["maps"][0], blobs


MAPS = {
    "signed": np.random.default_rng(0).normal(size=(3, 17, 9)),
    "magnitudes": np.random.default_rng(1).normal(size=(3, 4, 5)) * np.array([1e-40, 1.0, 1e35])[:, None, None],
    "constant": np.stack([np.full((3, 3), 2.5), np.zeros((3, 3))]),
}


@pytest.mark.parametrize("name", sorted(MAPS))
def test_float32_maps_read_back_bit_for_bit(name):
    values = MAPS[name].astype(np.float32)
    decoded, block, _ = _round_trip(values, "float32")
    assert block["compression"] == "shuffle_deflate"
    assert np.array_equal(decoded.astype(np.float32), values) and np.array_equal(decoded, values.astype(np.float64))


@pytest.mark.parametrize("name", sorted(MAPS))
def test_float16_maps_keep_11_significant_bits_of_each_value(name):
    values = MAPS[name]
    decoded, block, _ = _round_trip(values, "float16")
    scale = np.asarray(block["scale"])[:, None, None]
    peak = np.abs(values).max(axis=(1, 2), keepdims=True)
    # The power of two just above each sample's peak (1 for an all-zero one).
    assert np.all((peak < scale) & ((peak >= scale / 2) | ((peak == 0) & (scale == 1))))
    # Exactly what float16 holds of each value over its sample's power-of-two scale.
    np.testing.assert_array_equal(decoded, (values / scale).astype(np.float16).astype(np.float64) * scale)
    assert np.all(np.abs(decoded - values) <= peak * 2 ** -11)


@pytest.mark.parametrize("name", sorted(MAPS))
def test_uint8_maps_are_within_a_510th_of_each_samples_range(name):
    values = MAPS[name]
    decoded, block, blobs = _round_trip(values, "uint8")
    assert block["dtype"] == "uint8" and block["min"] == values.min(axis=(1, 2)).tolist()
    bound = (values.max(axis=(1, 2)) - values.min(axis=(1, 2)))[:, None, None] / 510
    error = np.abs(decoded - values)
    assert np.all(error <= bound * (1 + 1e-12) + np.abs(values) * 1e-15), (error / np.maximum(bound, 1e-300)).max()
    # Each sample's min and max come back exactly: levels 0 and 255.
    assert decoded.min(axis=(1, 2)).tolist() == block["min"]
    np.testing.assert_allclose(decoded.max(axis=(1, 2)), block["max"], rtol=1e-15)
    assert len(zlib.decompress(blobs[1])) == values.size


def test_uint8_levels_are_spread_over_the_whole_range():
    values = np.linspace(-3.0, 1.0, 256 * 4).reshape(1, 4, 256)
    decoded, _, _ = _round_trip(values, "uint8")
    assert len(np.unique(decoded)) == 256
    assert np.abs(decoded - values).max() == pytest.approx(4.0 / 510, rel=0.01)


def test_blobs_are_shuffled_then_deflated():
    values = MAPS["signed"]
    _, block, blobs = _round_trip(values, "float16")
    plain = zlib.decompress(blobs[block["blob"]])
    stored = (values / np.asarray(block["scale"])[:, None, None]).astype("<f2").tobytes()
    as_bytes = np.frombuffer(stored, np.uint8).reshape(-1, 2)
    assert plain == as_bytes[:, 0].tobytes() + as_bytes[:, 1].tobytes()


def test_activations_round_trip_in_every_dtype():
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 8, size=(2, 3, 4, 4))
    for dtype in ("float16", "float32", "uint8"):
        summary = stored_format.activations_summary(
            "a", samples=[stored_format.SampleFacts()] * 2, dtype=dtype,
            activations=stored_format.ActivationChannels("conv", values, np.arange(6).reshape(2, 3), np.ones((2, 3)), 3))
        frame = stored_format.decode_frame(list(summary.value[0].tensor.string_val))
        assert frame.header["activations"]["compression"] == "shuffle_deflate"
        tolerance = {"float16": 8 * 2 ** -11, "float32": 0, "uint8": 8 / 510}[dtype]
        assert np.abs(frame.activations - values.astype(np.float32 if dtype == "float32" else np.float64)).max() <= tolerance


@pytest.mark.parametrize("damage, message", [
    (lambda blob: blob[:-3], "inflates to .* or ends early|cannot be inflated"),
    (lambda blob: blob + b"\x00", "bytes after its zlib stream"),
    (lambda blob: b"not zlib", "cannot be inflated"),
    (lambda blob: zlib.compress(zlib.decompress(blob) + b"\x00\x00"), "inflates to more than the"),
    (lambda blob: zlib.compress(b"\x00" * (1 << 24)), "inflates to more than the"),
])
def test_damaged_compressed_blobs_are_format_errors(damage, message):
    _, block, blobs = _round_trip(MAPS["signed"], "float16")
    blobs[block["blob"]] = damage(blobs[block["blob"]])
    with pytest.raises(stored_format.FormatError, match=message):
        stored_format.decode_frame(blobs)


def test_an_unknown_compression_or_dtype_number_is_a_format_error():
    from tb_saliency.proto import saliency_pb2

    _, _, blobs = _round_trip(MAPS["signed"], "float16")
    for field, value, message in (("compression", 9, "unknown compression 9"), ("dtype", 9, "unknown dtype 9")):
        header = saliency_pb2.FrameHeader.FromString(blobs[0])
        setattr(header.maps[0], field, value)
        with pytest.raises(stored_format.FormatError, match=message):
            stored_format.decode_frame([header.SerializeToString(), *blobs[1:]])


def test_encoding_refuses_an_unknown_dtype_or_compression_by_name():
    with pytest.raises(ValueError, match=r"dtype: expected one of \('float16', 'float32', 'uint8'\), got 'int4'"):
        encode_values(np.ones((1, 2, 2)), "int4", "maps")
    with pytest.raises(ValueError, match="compression: expected one of"):
        compress(b"", 2, "lz4")
    with pytest.raises(ValueError, match="uint8 blobs need each sample's min and max"):
        decode_values(b"\x00", "uint8", (1, 1, 1), [1.0])


def test_frames_written_by_format_version_2_still_read():
    golden = json.loads((GOLDEN / "version2_frames.json").read_text())
    frames = {f["tag"]: stored_format.decode_frame([base64.b64decode(b) for b in f["blobs"]]) for f in golden["frames"]}
    values = {k: np.asarray(v) for k, v in golden["values"].items()}
    probe = frames["probe"]
    assert probe.header["maps"][0]["compression"] == "none" and probe.header["samples"][0] == {"label": 1, "score": 0.5}
    peak = np.abs(values["gradient"]).max(axis=(1, 2), keepdims=True)
    assert np.all(np.abs(probe.maps["gradient"] - values["gradient"]) <= peak * 2 ** -11)
    np.testing.assert_allclose(frames["probe32"].maps["ig"], values["ig"], rtol=2 ** -23)
    np.testing.assert_allclose(frames["acts"].activations, values["activations"], rtol=2 ** -10)
