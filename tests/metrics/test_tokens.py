"""Deletion, insertion and the pointing games over token batches of a tiny BERT classifier."""

import pytest
import torch

from tb_saliency import metrics
from tb_saliency.attribution import attribute

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from tests.writer import text_models  # noqa: E402

pytestmark = pytest.mark.transformers


@pytest.fixture(scope="module")
def text():
    tok = text_models.tokenizer()
    return tok, text_models.classifier(tok), text_models.batch(tok)


def _by_hand(kind, model, batch, scores, tok, steps):
    """The game written out sample by sample: tokens replaced by [PAD] in order of score."""
    ids = batch["input_ids"]
    fixed = torch.isin(ids, torch.tensor(tok.all_special_ids)) | (batch["attention_mask"] == 0)
    target = model(**batch).logits.argmax(1)
    curve = torch.empty(ids.shape[0], steps + 1, dtype=torch.float64)
    for i in range(ids.shape[0]):
        free = [int(p) for p in torch.argsort(scores[i], descending=True, stable=True) if not fixed[i, p]]
        for k in range(steps + 1):
            row = ids[i].clone()
            chosen = free[: k * len(free) // steps]
            if kind == "deletion":
                row[chosen] = tok.pad_token_id
            else:
                others = [p for p in free if p not in chosen]
                row[others] = tok.pad_token_id
            logits = model(input_ids=row[None], attention_mask=batch["attention_mask"][i : i + 1]).logits
            curve[i, k] = torch.softmax(logits.double(), 1)[0, target[i]]
    return curve


@pytest.mark.parametrize("kind", ["deletion", "insertion"])
def test_token_games_replace_tokens_by_score_and_never_special_or_padding(text, kind):
    tok, model, batch = text
    scores = attribute(model, batch, "gradient", tokenizer=tok)["gradient"]
    game = getattr(metrics, kind)
    result = game(model, batch, scores, tokenizer=tok, steps=4)
    with torch.no_grad():
        expected = _by_hand(kind, model, batch, scores, tok, 4)
    torch.testing.assert_close(result.curve, expected)
    assert result.options["baseline_token"] == tok.pad_token_id and result.options["input_kind"] == "tokens"
    keyed = game(model, batch, {"a": scores, "b": -scores}, tokenizer=tok, steps=4)
    torch.testing.assert_close(keyed["a"].curve, result.curve)
    assert not torch.equal(keyed["b"].curve[:, 1:-1], result.curve[:, 1:-1])


def test_token_game_errors_name_the_argument(text):
    tok, model, batch = text
    # The tiny tokenizer's training breaks frequency ties differently from run to run ("film" or
    # "fi ##lm"), so the batch's length is read, not assumed.
    length = batch["input_ids"].shape[1]
    with pytest.raises(ValueError, match=rf"maps: expected N×T = 2×{length} token maps like input_ids, got shape \(2, 5\)"):
        metrics.deletion(model, batch, torch.zeros(2, 5), tokenizer=tok)
    with pytest.raises(ValueError, match="baseline_token: expected a token id"):
        metrics.deletion(model, batch, torch.zeros(2, length), baseline_token="x")
    with pytest.raises(ValueError, match="baseline_token: only for token batches"):
        metrics.deletion(torch.nn.Conv2d(3, 2, 1), torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4), baseline_token=0)


def test_the_pointing_games_take_token_masks():
    maps = torch.tensor([[0.1, 0.9, 0.2, 0.0], [0.5, 0.1, 0.1, 0.3]])
    masks = torch.tensor([[False, True, False, False], [False, True, True, False]])
    pointing = metrics.pointing_game(maps, masks)
    assert pointing.hits.tolist() == [True, False]
    assert pointing.options["region"] == "token masks" and pointing.options["tolerance"] == 0
    assert pointing.points.tolist() == [[0, 1], [0, 0]]
    energy = metrics.energy_pointing_game(maps, masks)
    torch.testing.assert_close(energy.energy, torch.tensor([0.9 / 1.2, 0.2 / 1.0]))
