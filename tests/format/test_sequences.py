"""Token and signal inputs (format version 3): stored, described and decoded; damaged headers
refused; bad arguments named. No torch here: `tb_saliency.summary` builds both kinds."""

import numpy as np
import pytest

from tb_saliency import format as stored_format
from tb_saliency import summary
from tb_saliency.proto import saliency_pb2

UNTRUSTED = ["[CLS]", "<img src=x onerror=alert(1)>", "שלום", "世界", "▁la", "##ing", "Ġthe", "e\u0301", "[PAD]"]


def _blobs(built):
    return list(built.value[0].tensor.string_val)


def test_a_token_frame_round_trips_strings_flags_and_maps():
    rng = np.random.default_rng(0)
    maps = {"gradient": rng.normal(size=(2, len(UNTRUSTED))), "ig": rng.normal(size=(2, len(UNTRUSTED))) * 1e-9}
    special = np.zeros((2, len(UNTRUSTED)), bool)
    special[:, 0] = True
    padding = np.zeros((2, len(UNTRUSTED)), bool)
    padding[1, -1] = True
    built = summary.token_map("text", [UNTRUSTED, UNTRUSTED[::-1]], maps, special=special, padding=padding,
                              labels=[0, 1], class_names=["neg", "pos"])
    decoded = stored_format.decode_frame(_blobs(built))
    tokens = decoded.header["tokens"]
    assert tokens["tokens"] == [UNTRUSTED, UNTRUSTED[::-1]]
    assert tokens["special"] == special.tolist() and tokens["padding"] == padding.tolist()
    assert decoded.header["images"] is None and decoded.header["signals"] is None
    for key, values in maps.items():
        assert decoded.maps[key].shape == (2, 1, len(UNTRUSTED))
        np.testing.assert_allclose(decoded.maps[key][:, 0], values, rtol=0, atol=2 ** -11 * np.abs(values).max())
    header = saliency_pb2.FrameHeader.FromString(_blobs(built)[0])
    assert header.version == stored_format.FORMAT_VERSION == 3


def test_a_signal_frame_round_trips_values_shape_and_sample_rate():
    rng = np.random.default_rng(1)
    signals = rng.normal(size=(3, 2, 100)) * np.array([1e-6, 1, 1e6])[:, None, None]
    maps = rng.normal(size=(3, 100))
    built = summary.signal_map("audio", signals, maps, sample_rate=16000)
    decoded = stored_format.decode_frame(_blobs(built))
    described = decoded.header["signals"]
    assert (described["channels"], described["length"], described["sample_rate"], described["dtype"]) == (2, 100, 16000.0, "float16")
    assert decoded.signals.shape == (3, 2, 100)
    peak = np.abs(signals).reshape(3, -1).max(axis=1)[:, None, None]
    assert np.all(np.abs(decoded.signals - signals) <= 2 ** -11 * peak)
    np.testing.assert_allclose(described["min"], signals.reshape(3, -1).min(axis=1))


def test_a_signal_without_sample_rate_and_one_channel_reads_as_none():
    built = summary.signal_map("series", np.arange(20.0).reshape(2, 10), np.ones((2, 10)))
    described = stored_format.decode_frame(_blobs(built)).header["signals"]
    assert described["sample_rate"] is None and described["channels"] == 1


def test_version_2_frames_still_read():
    built = summary.saliency_map("probe", np.zeros((1, 3, 4, 4)), np.ones((1, 2, 2)))
    header = saliency_pb2.FrameHeader.FromString(_blobs(built)[0])
    header.version = 2
    described = stored_format.describe_header(header.SerializeToString(), len(_blobs(built)))
    assert described["tokens"] is None and described["signals"] is None and described["maps"][0]["width"] == 2


def _damaged(change, build=None):
    built = build() if build else summary.token_map("t", [["a", "b"]], np.ones((1, 2)))
    blobs = _blobs(built)
    header = saliency_pb2.FrameHeader.FromString(blobs[0])
    change(header)
    return header.SerializeToString(), len(blobs)


@pytest.mark.parametrize("change, message", [
    (lambda h: h.tokens.sequences.add(tokens=["x", "y"]), "2 sequences for 1 samples"),
    (lambda h: h.tokens.sequences[0].tokens.append("c"), "need 1×3 maps"),
    (lambda h: h.tokens.sequences[0].special.extend([True]), "1 flags for 2 tokens"),
    (lambda h: h.images.SetInParent(), "images and tokens"),
])
def test_damaged_token_headers_are_refused(change, message):
    blob, count = _damaged(change)
    with pytest.raises(stored_format.FormatError, match=message):
        stored_format.describe_header(blob, count)


@pytest.mark.parametrize("change, message", [
    (lambda h: setattr(h.signals, "length", 7), "need 1×7 maps"),
    (lambda h: setattr(h.signals, "blob", 9), "points at blob 9"),
    (lambda h: setattr(h.signals, "sample_rate", -1.0), "sample rate"),
    (lambda h: h.signals.scale.append(1.0), "2 values for 1 samples"),
    (lambda h: setattr(h.signals, "dtype", 3), "signals are stored as float16 or float32, got uint8"),
])
def test_damaged_signal_headers_are_refused(change, message):
    blob, count = _damaged(change, lambda: summary.signal_map("s", np.ones((1, 1, 4)), np.ones((1, 4))))
    with pytest.raises(stored_format.FormatError, match=message):
        stored_format.describe_header(blob, count)


@pytest.mark.parametrize("call, error, message", [
    (lambda: summary.token_map("t", [["a", "b", "c"]], np.ones((1, 2))), ValueError, r"tokens\[0\]: expected 2 tokens .*got 3"),
    (lambda: summary.token_map("t", [["a", "b"]], np.ones((2, 2))), ValueError, r"tokens: expected one list of tokens per map \(2\), got 1"),
    (lambda: summary.token_map("t", "ab", np.ones((1, 2))), TypeError, "tokens: expected N lists of strings"),
    (lambda: summary.token_map("t", [["a", 3]], np.ones((1, 2))), TypeError, r"tokens\[0\]\[1\]: expected a string"),
    (lambda: summary.token_map("t", [["a", "\ud800"]], np.ones((1, 2))), ValueError, r"tokens\[0\]\[1\]: expected text that UTF-8"),
    (lambda: summary.token_map("t", [["a", "b"]], np.ones((1, 2, 2))), ValueError, "maps: expected N×T maps"),
    (lambda: summary.token_map("t", [["a", "b"]], np.ones((1, 2)), padding=np.ones((1, 3))), ValueError, "padding: expected N×T = 1×2"),
    (lambda: summary.token_map("t", [["a", "b"]], np.array([[1.0, np.nan]])), ValueError, "maps: expected finite"),
    (lambda: summary.signal_map("s", np.ones((1, 1, 5)), np.ones((1, 4))), ValueError, r"inputs: expected N×C×T signals with N=1 and T=4"),
    (lambda: summary.signal_map("s", np.ones((1, 4)), np.ones((1, 4)), sample_rate=0), ValueError, "sample_rate: expected samples per second"),
    (lambda: summary.signal_map("s", np.full((1, 4), np.inf), np.ones((1, 4))), ValueError, "inputs: expected finite"),
    (lambda: summary.signal_map("s", np.ones((1, 4)), {"a": np.ones((1, 4)), "b": np.ones((1, 5))}), ValueError, r"maps\['b'\]: expected 4 values"),
])
def test_bad_sequence_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


class _Tokenizer:
    """What `log_saliency_map` asks of a Hugging Face tokenizer."""

    vocabulary = ["[PAD]", "[CLS]", "[SEP]", "good", "##s", "<b>"]
    all_special_ids = [0, 1, 2]

    def convert_ids_to_tokens(self, ids):
        return [self.vocabulary[i] for i in ids]


def test_a_tokenizer_turns_ids_into_strings_special_flags_and_padding():
    from tb_saliency import sequence_arguments

    batch = {"input_ids": np.array([[1, 3, 4, 2], [1, 5, 2, 0]]), "attention_mask": np.array([[1, 1, 1, 1], [1, 1, 1, 0]])}
    shown = sequence_arguments.token_inputs(batch, tokens=None, tokenizer=_Tokenizer(), count=2, length=4)
    assert shown.tokens == [["[CLS]", "good", "##s", "[SEP]"], ["[CLS]", "<b>", "[SEP]", "[PAD]"]]
    assert shown.special.tolist() == [[True, False, False, True], [True, False, True, True]]
    assert shown.padding.tolist() == [[False] * 4, [False, False, False, True]]
    # The batch's own special_tokens_mask wins over the tokenizer's ids.
    batch["special_tokens_mask"] = np.zeros((2, 4), np.int64)
    shown = sequence_arguments.token_inputs(batch, tokens=None, tokenizer=_Tokenizer(), count=2, length=4)
    assert not shown.special.any()


def test_input_kind_is_decided_from_the_arguments_and_the_maps():
    from tb_saliency.sequence_arguments import input_kind

    assert input_kind({"input_ids": None}, {}) == "tokens"
    assert input_kind(None, np.ones((2, 3)), tokens=[["a"] * 3] * 2) == "tokens"
    assert input_kind(np.ones((2, 1, 3)), np.ones((2, 3))) == "signals"
    assert input_kind(np.ones((2, 3, 4, 4)), np.ones((2, 4, 4))) == "images"
    assert input_kind(np.ones((2, 1, 3)), np.ones((2, 1, 3)), sample_rate=8000) == "signals"
    with pytest.raises(ValueError, match="sample_rate: given for token inputs"):
        input_kind(None, np.ones((2, 3)), tokens=[["a"] * 3] * 2, sample_rate=8000)
