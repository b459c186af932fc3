"""`log_saliency` over token batches of a Hugging Face text classifier and over signals of a Conv1d
model: the engine's N×T maps stored as token and signal frames, read back by `tb_saliency.read`."""

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency
from tb_saliency.attribution import attribute

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from tests.writer import text_models  # noqa: E402

pytestmark = pytest.mark.transformers


def _close(stored, computed):
    computed = computed.detach().numpy()
    np.testing.assert_allclose(stored, computed, atol=2 ** -10 * float(np.abs(computed).max()))


def test_a_text_classifier_logs_token_frames_with_the_tokenizers_strings(tmp_path):
    tok = text_models.tokenizer()
    model, batch = text_models.classifier(tok), text_models.batch(tok)
    writer = TorchWriter(str(tmp_path))
    methods = ["gradient", "integrated_gradients"]
    returned = tb_saliency.log_saliency(writer, "text", model, batch, tokenizer=tok, methods=methods, ig_steps=4,
                                        labels=[1, 0], class_names=["neg", "pos"], global_step=5)
    writer.close()
    [frame] = tb_saliency.read(tmp_path)
    ids = batch["input_ids"]
    assert frame.tokens == [tok.convert_ids_to_tokens(row) for row in ids.tolist()]
    assert frame.tokens[1][-1] == "[PAD]" and frame.tokens[0][0] == "[CLS]"
    assert frame.images is None and frame.signals is None and frame.step == 5 and frame.labels == [1, 0]
    special = torch.isin(ids, torch.tensor(tok.all_special_ids))
    assert frame.special_tokens.tolist() == special.tolist()
    assert frame.padding_tokens.tolist() == (batch["attention_mask"] == 0).tolist()
    expected = attribute(model, batch, methods, tokenizer=tok, ig_steps=4)
    for method in methods:
        assert frame.maps[method].shape == tuple(ids.shape)
        _close(frame.maps[method], expected[method])
        torch.testing.assert_close(returned[method], expected[method])
    # Integrated gradients' baseline keeps special tokens and padding, so their attribution is zero.
    ig = frame.maps["integrated_gradients"]
    assert np.all(ig[special.numpy()] == 0)


def test_special_tokens_mask_of_the_batch_wins_and_tokens_can_be_given_as_strings(tmp_path):
    tok = text_models.tokenizer()
    model = text_models.classifier(tok)
    batch = tok(["good music", "the film"], padding=True, return_tensors="pt", return_special_tokens_mask=True)
    batch["special_tokens_mask"][0, 1] = 1  # marked special by the batch only
    strings = [tok.convert_ids_to_tokens(row) for row in batch["input_ids"].tolist()]
    writer = TorchWriter(str(tmp_path))
    maps = tb_saliency.log_saliency(writer, "text", model, batch, tokens=strings, methods="integrated_gradients",
                                    ig_steps=3)
    writer.close()
    [frame] = tb_saliency.read(tmp_path)
    assert frame.tokens == strings
    assert frame.special_tokens.tolist() == batch["special_tokens_mask"].bool().tolist()
    assert float(maps["integrated_gradients"][0, 1]) == 0.0


def test_token_frames_keep_their_kind_and_name_a_mismatch(tmp_path):
    tok = text_models.tokenizer()
    model, batch = text_models.classifier(tok), text_models.batch(tok)
    writer = TorchWriter(str(tmp_path))
    with pytest.raises(ValueError, match="sample_rate: given for token inputs"):
        tb_saliency.log_saliency(writer, "text", model, batch, tokenizer=tok, sample_rate=16000, methods="gradient")
    with pytest.raises(ValueError, match="input_kind: 'signal' contradicts the other arguments, which give tokens"):
        tb_saliency.log_saliency(writer, "text", model, batch, tokenizer=tok, input_kind="signal", methods="gradient")
    with pytest.raises(ValueError, match="methods: 'scorecam' does not support tokens inputs"):
        tb_saliency.log_saliency(writer, "text", model, batch, tokenizer=tok, methods="scorecam",
                                 layer="bert.encoder.layer.0")
    writer.close()
    assert tb_saliency.read(tmp_path) == []


def _conv1d():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv1d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 64, 3)).eval()


@pytest.mark.parametrize("how", [{"sample_rate": 16000}, {"input_kind": "signal"}])
def test_a_conv1d_model_logs_signal_frames(tmp_path, how):
    model, signals = _conv1d(), torch.randn(2, 2, 64)
    writer = TorchWriter(str(tmp_path))
    returned = tb_saliency.log_saliency(writer, "sig", model, signals, methods=["gradient", "gradcam"],
                                        layer="0", global_step=1, **how)
    writer.close()
    [frame] = tb_saliency.read(tmp_path)
    assert frame.tokens is None and frame.signals.shape == (2, 2, 64)
    assert frame.sample_rate == how.get("sample_rate")
    expected = attribute(model, signals, ["gradient", "gradcam"], layer="0", **how)
    for method in ("gradient", "gradcam"):
        assert frame.maps[method].shape == (2, 64)
        _close(frame.maps[method], expected[method])
        torch.testing.assert_close(returned[method], expected[method])


def test_metrics_over_tokens_through_log_saliency(tmp_path):
    from tb_saliency import metrics

    tok = text_models.tokenizer()
    model, batch = text_models.classifier(tok), text_models.batch(tok)
    masks = torch.zeros(batch["input_ids"].shape, dtype=torch.bool)
    masks[:, 1] = True
    writer = TorchWriter(str(tmp_path))
    returned = tb_saliency.log_saliency(
        writer, "text", model, batch, tokenizer=tok, methods="gradient", global_step=2, masks=masks,
        metrics={"deletion": {"steps": 4}, "insertion": {"steps": 4}, "pointing_game": {},
                 "randomisation": {"layers": ["classifier", "bert.encoder.layer.1.output.dense"]}})
    writer.close()
    frames = {f.tag: f for f in tb_saliency.read(tmp_path)}
    frame = frames["text"]
    deletion = metrics.deletion(model, batch, returned["gradient"], tokenizer=tok, steps=4)
    stored = frame.metrics["gradient"]
    np.testing.assert_allclose(stored["deletion"]["values"], deletion.auc.numpy())
    np.testing.assert_allclose(stored["deletion"]["curve"], deletion.curve.numpy())
    hits = metrics.pointing_game(returned["gradient"], masks).hits
    assert stored["pointing_game"]["values"].tolist() == hits.double().tolist()
    assert "text/randomisation" in frames and frames["text/randomisation"].tokens == frame.tokens
    length = batch["input_ids"].shape[1]  # the tiny tokenizer may split "film" or not, run to run
    with pytest.raises(ValueError, match=rf"masks: expected N×T = 2×{length} token masks like input_ids"):
        tb_saliency.log_saliency(None, "text", model, batch, tokenizer=tok, methods="gradient",
                                 metrics="pointing_game", masks=torch.ones(2, 3, length, dtype=torch.bool))
