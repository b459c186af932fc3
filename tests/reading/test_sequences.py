"""Token and signal frames logged through `log_saliency_map` and read back by `tb_saliency.read`."""

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency

from tests.format.test_sequences import UNTRUSTED, _Tokenizer


def test_token_and_signal_frames_are_read_back(tmp_path):
    writer = TorchWriter(str(tmp_path / "run"))
    ids = torch.tensor([[1, 3, 4, 5, 2], [1, 5, 2, 0, 0]])
    batch = {"input_ids": ids, "attention_mask": (ids != 0).long()}
    token_maps = torch.randn(2, 5)
    tb_saliency.log_saliency_map(writer, "text", batch, {"ig": token_maps}, tokenizer=_Tokenizer(), global_step=3,
                                 labels=[0, 1])
    tb_saliency.log_saliency_map(writer, "raw", None, torch.ones(1, len(UNTRUSTED)), tokens=[UNTRUSTED], global_step=3)
    signals = torch.randn(2, 2, 64)
    tb_saliency.log_saliency_map(writer, "audio", signals, torch.randn(2, 64), sample_rate=8000, global_step=3)
    tb_saliency.log_saliency_map(writer, "series", signals[:, 0], torch.randn(2, 64), global_step=3)
    writer.close()
    frames = {f.tag: f for f in tb_saliency.read(tmp_path)}
    text = frames["text"]
    assert text.images is None and text.signals is None and text.sample_rate is None
    assert text.tokens == [["[CLS]", "good", "##s", "<b>", "[SEP]"], ["[CLS]", "<b>", "[SEP]", "[PAD]", "[PAD]"]]
    assert text.special_tokens.tolist() == [[True, False, False, False, True], [True, False, True, True, True]]
    assert text.padding_tokens.tolist() == [[False] * 5, [False, False, False, True, True]]
    assert text.maps["ig"].shape == (2, 5) and text.labels == [0, 1]
    np.testing.assert_allclose(text.maps["ig"], token_maps.numpy(), atol=2 ** -11 * float(token_maps.abs().max()))
    assert frames["raw"].tokens == [UNTRUSTED] and not frames["raw"].padding_tokens.any()
    audio = frames["audio"]
    assert audio.tokens is None and audio.sample_rate == 8000.0 and audio.signals.shape == (2, 2, 64)
    assert audio.signals.dtype == np.float32 and audio.maps["custom"].shape == (2, 64)
    np.testing.assert_allclose(audio.signals, signals.numpy(), atol=2 ** -11 * float(signals.abs().max()))
    assert frames["series"].signals.shape == (2, 1, 64) and frames["series"].sample_rate is None


def test_bad_token_arguments_name_the_argument(tmp_path):
    writer = TorchWriter(str(tmp_path))
    with pytest.raises(ValueError, match=r"tokens\[1\]: expected 3 tokens \(the maps' length\), got 2"):
        tb_saliency.log_saliency_map(writer, "t", None, torch.ones(2, 3), tokens=[["a", "b", "c"], ["a", "b"]])
    with pytest.raises(ValueError, match="tokens, tokenizer: give"):
        tb_saliency.log_saliency_map(writer, "t", None, torch.ones(1, 1), tokens=[["a"]], tokenizer=_Tokenizer())
    with pytest.raises(ValueError, match="inputs: a tokenizer needs the token ids"):
        tb_saliency.log_saliency_map(writer, "t", None, torch.ones(1, 1), tokenizer=_Tokenizer())
    with pytest.raises(ValueError, match=r"inputs\['attention_mask'\]: expected N×T = 1×2"):
        tb_saliency.log_saliency_map(writer, "t", {"input_ids": torch.tensor([[1, 2]]), "attention_mask": torch.ones(1, 3)},
                                     torch.ones(1, 2), tokenizer=_Tokenizer())
    writer.close()
    assert tb_saliency.read(tmp_path) == []


def test_a_sequence_frame_renders_as_colour_strips_and_refuses_picture_grids(tmp_path):
    writer = TorchWriter(str(tmp_path))
    tb_saliency.log_saliency_map(writer, "t", None, torch.linspace(0, 1, 64)[None].repeat(2, 1), tokens=[["a"] * 64] * 2)
    writer.close()
    [frame] = tb_saliency.read(tmp_path)
    strips = frame.render()
    assert strips.shape[0] == 2 and strips.shape[2] == 64 and strips.shape[3] == 3
    assert not np.array_equal(strips[0, 0, 0], strips[0, 0, -1]), "low and high values differ in colour"
    assert frame._repr_png_() is None
    with pytest.raises(ValueError, match="over tokens: use frame.render"):
        frame.save(tmp_path / "grid.png")


def test_log_saliency_stores_the_engines_NxT_maps_over_signals(tmp_path):
    model = torch.nn.Sequential(torch.nn.Conv1d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 64, 3))
    signals = torch.randn(2, 2, 64)
    writer = TorchWriter(str(tmp_path))
    maps = tb_saliency.log_saliency(writer, "sig", model, signals, methods="gradient", sample_rate=8000, global_step=1)
    assert maps["gradient"].shape == (2, 64)
    writer.close()
    [frame] = tb_saliency.read(tmp_path)
    assert frame.sample_rate == 8000.0 and frame.signals.shape == (2, 2, 64) and frame.maps["gradient"].shape == (2, 64)
    np.testing.assert_allclose(frame.maps["gradient"], maps["gradient"].numpy(), atol=2 ** -11 * float(maps["gradient"].abs().max()))
