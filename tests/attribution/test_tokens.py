"""Token batches: parity with captum's layer methods at the word embeddings on padded batches of tiny
BERT and GPT-2 models built from configs (nothing downloaded), BART's shared embedding, the
special-token and padding baseline, targets, rollout and the argument errors."""

import pytest
import torch

from tb_saliency import targets
from tb_saliency.attribution import attribute, explain

from .helpers import assert_untouched, snapshot

transformers = pytest.importorskip("transformers")
captum_attr = pytest.importorskip("captum.attr")

pytestmark = pytest.mark.transformers

PAD, CLS, SEP = 0, 1, 2


def bert(labels=3):
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=32, num_labels=labels, pad_token_id=PAD, attn_implementation="eager",
    )
    return transformers.BertForSequenceClassification(config).eval()


def gpt2():
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=40, n_embd=16, n_layer=2, n_head=2, n_positions=32,
                                     bos_token_id=3, eos_token_id=3, attn_implementation="eager")
    return transformers.GPT2LMHeadModel(config).eval()


def padded_batch():
    """[CLS] w w w w w [SEP] and [CLS] w w w [SEP] [PAD] [PAD]: right-padded, with special tokens."""
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(5, 40, (2, 7), generator=g)
    ids[:, 0] = CLS
    ids[0, 6] = SEP
    ids[1, 4], ids[1, 5:] = SEP, PAD
    attention = (ids != PAD).long()
    special = ((ids == CLS) | (ids == SEP)).long()
    return {"input_ids": ids, "attention_mask": attention, "special_tokens_mask": special}


def _forward(model, index=None):
    def forward(ids, attention):
        return model(input_ids=ids, attention_mask=attention).logits

    return forward


def _captum_baseline(batch, token):
    keep = batch["special_tokens_mask"].bool() | (batch["attention_mask"] == 0)
    return torch.where(keep, batch["input_ids"], torch.full_like(batch["input_ids"], token))


@pytest.mark.parametrize("target", [None, 2])
def test_bert_maps_equal_captum_layer_methods_at_the_word_embeddings(target):
    model, batch = bert(), padded_batch()
    result = explain(model, batch, ["gradient", "input_x_gradient", "integrated_gradients"], target=target,
                     ig_steps=16)
    chosen = result.targets
    layer = model.bert.embeddings.word_embeddings
    args = dict(target=chosen, additional_forward_args=(batch["attention_mask"],))
    ids = batch["input_ids"]
    forward = _forward(model)
    gx = captum_attr.LayerGradientXActivation(forward, layer).attribute(ids, **args).sum(-1)
    g = captum_attr.LayerGradientXActivation(forward, layer, multiply_by_inputs=False).attribute(ids, **args)
    ig = captum_attr.LayerIntegratedGradients(forward, layer).attribute(
        ids, _captum_baseline(batch, PAD), n_steps=16, method="gausslegendre", **args).sum(-1)
    assert result.maps["gradient"].values.shape == (2, 7) and result.maps["gradient"].values.dtype == torch.float32
    torch.testing.assert_close(result.maps["gradient"].values, g.norm(dim=-1), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(result.maps["input_x_gradient"].values, gx, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(result.maps["integrated_gradients"].values, ig, rtol=1e-4, atol=1e-6)
    # Special tokens and padding keep their own embedding in the baseline, so E − E0 and the map are 0 there.
    ig_map = result.maps["integrated_gradients"].values
    kept = batch["special_tokens_mask"].bool() | (batch["attention_mask"] == 0)
    assert torch.equal(ig_map[kept], torch.zeros_like(ig_map[kept])) and bool((ig_map[~kept] != 0).all())
    options = result.maps["integrated_gradients"].options
    assert options["baseline"] == "token" and options["baseline_token"] == PAD
    assert options["special_tokens"] == "special_tokens_mask" and options["input_kind"] == "tokens"
    assert options["embeddings"] == "bert.embeddings.word_embeddings"
    assert result.input_kind == "tokens" and torch.equal(result.padding, batch["attention_mask"] == 0)
    assert torch.equal(result.special_tokens, batch["special_tokens_mask"].bool())


def test_gpt2_sequence_logprob_equals_captum_on_a_padded_batch():
    model, batch = gpt2(), padded_batch()
    del batch["special_tokens_mask"]
    ends = batch["attention_mask"].sum(1)
    continuation = torch.stack([batch["input_ids"][i, int(e) - 2 : int(e)] for i, e in enumerate(ends)])
    target = targets.sequence_logprob(continuation, ends=ends)
    result = explain(model, batch, ["input_x_gradient", "integrated_gradients"], target=target, baseline_token=3,
                     ig_steps=12)

    def forward(ids, attention):
        # captum stacks its steps' copies of the batch: score each copy of the two samples on its own.
        logits = model(input_ids=ids, attention_mask=attention).logits
        return torch.cat([target(part) for part in logits.split(2)])

    layer = model.transformer.wte
    args = dict(additional_forward_args=(batch["attention_mask"],))
    gx = captum_attr.LayerGradientXActivation(forward, layer).attribute(batch["input_ids"], **args).sum(-1)
    base = torch.where(batch["attention_mask"] == 0, batch["input_ids"], torch.full_like(batch["input_ids"], 3))
    ig = captum_attr.LayerIntegratedGradients(forward, layer).attribute(
        batch["input_ids"], base, n_steps=12, method="gausslegendre", **args).sum(-1)
    torch.testing.assert_close(result.maps["input_x_gradient"].values, gx, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(result.maps["integrated_gradients"].values, ig, rtol=1e-4, atol=1e-6)
    # The score is the continuation's log-probability under the model.
    logits = model(**batch).logits
    expected = []
    for i, e in enumerate(ends.tolist()):
        logp = torch.log_softmax(logits[i], dim=-1)
        expected.append(logp[e - 3, batch["input_ids"][i, e - 2]] + logp[e - 2, batch["input_ids"][i, e - 1]])
    torch.testing.assert_close(result.target_scores, torch.stack(expected).detach())
    assert result.maps["integrated_gradients"].options["special_tokens"] == "none"


def test_gpt2_without_pad_token_needs_baseline_token():
    with pytest.raises(ValueError, match="baseline_token: expected a token id; the model's config has no pad_token_id"):
        explain(gpt2(), padded_batch(), "integrated_gradients", target=lambda out: out.logits[:, -1, 0],
                ig_steps=2)


def test_bart_shared_embedding_is_found_and_its_decoder_call_left_alone():
    config = transformers.BartConfig(
        vocab_size=40, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=32, num_labels=3,
        pad_token_id=PAD, bos_token_id=CLS, eos_token_id=SEP, decoder_start_token_id=SEP,
    )
    torch.manual_seed(0)
    model = transformers.BartForSequenceClassification(config).eval()
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(5, 40, (2, 6), generator=g)
    ids[:, -1] = SEP  # BART classifies from the eos token: one per sample
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    result = explain(model, batch, ["input_x_gradient", "integrated_gradients"], target=1, ig_steps=8)
    assert result.maps["input_x_gradient"].options["embeddings"] == "model.encoder.embed_tokens"

    # The reference: captum at the encoder's embedding (the decoder's call of the shared weight is not perturbed).
    def forward(ids, attention):
        return model(input_ids=ids, attention_mask=attention).logits

    layer = model.model.encoder.embed_tokens
    gx = captum_attr.LayerGradientXActivation(forward, layer).attribute(
        ids, target=1, additional_forward_args=(batch["attention_mask"],)).sum(-1)
    torch.testing.assert_close(result.maps["input_x_gradient"].values, gx, rtol=1e-5, atol=1e-7)
    gap = result.maps["integrated_gradients"].statistics["completeness_gap"]
    assert bool((gap.abs() < 1e-3).all())


def test_token_classification_target_is_a_position_and_class_per_sample():
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=32, num_labels=4)
    model = transformers.BertForTokenClassification(config).eval()
    batch = padded_batch()
    pairs = [(2, 3), (-4, 1)]
    result = explain(model, batch, "gradient", target=pairs)
    logits = model(**{k: v for k, v in batch.items() if k != "special_tokens_mask"}).logits
    torch.testing.assert_close(result.target_scores, torch.stack([logits[0, 2, 3], logits[1, 3, 1]]).detach())
    with pytest.raises(ValueError, match="target: position 9 of sample 0 is out of range for T=7"):
        explain(model, batch, "gradient", target=[(9, 0), (0, 0)])
    with pytest.raises(ValueError, match=r"target: \(position, class\) pairs need per-token logits N×T×C"):
        explain(bert(), batch, "gradient", target=pairs)


def test_smoothgrad_is_noise_on_the_embeddings_and_chunks_do_not_change_it():
    model, batch = bert(), padded_batch()
    one = attribute(model, batch, "smoothgrad", smoothgrad_samples=4, memory_limit=1)["smoothgrad"]
    many = attribute(model, batch, "smoothgrad", smoothgrad_samples=4)["smoothgrad"]
    torch.testing.assert_close(one, many, rtol=1e-5, atol=1e-7)
    # The mean of the noisy copies' gradients at E (σ = 0 gives the gradient itself).
    plain = attribute(model, batch, ["gradient", "smoothgrad"], smoothgrad_samples=2, smoothgrad_noise=0.0)
    torch.testing.assert_close(plain["smoothgrad"], plain["gradient"])


def test_layer_cams_over_a_transformer_layer_give_token_maps():
    model, batch = bert(), padded_batch()
    result = explain(model, batch, ["gradcam", "hirescam"], target=0, layer="bert.encoder.layer.1", cam_relu=False)
    captured = {}
    handle = model.bert.encoder.layer[1].register_forward_hook(lambda m, a, o: captured.setdefault("a", o))
    try:
        a = captured  # noqa: F841
        out = model(**{k: v for k, v in batch.items() if k != "special_tokens_mask"})
    finally:
        handle.remove()
    activation = captured["a"]
    (g,) = torch.autograd.grad(out.logits[:, 0].sum(), activation)
    gradcam = (g.mean(dim=1, keepdim=True) * activation).sum(-1)
    torch.testing.assert_close(result.maps["gradcam"].values, gradcam.detach(), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(result.maps["hirescam"].values, (g * activation).sum(-1).detach(), rtol=1e-5,
                               atol=1e-7)


def test_tokenizer_special_ids_and_dotted_embeddings():
    model, batch = bert(), padded_batch()
    del batch["special_tokens_mask"]

    class Tokenizer:
        all_special_ids = [PAD, CLS, SEP]

    by_tokenizer = explain(model, batch, "integrated_gradients", tokenizer=Tokenizer(), ig_steps=4,
                           embeddings="bert.embeddings.word_embeddings")
    options = by_tokenizer.maps["integrated_gradients"].options
    assert options["special_tokens"] == "tokenizer"
    values = by_tokenizer.maps["integrated_gradients"].values
    assert float(values[0, 0]) == 0.0 and float(values[0, 6]) == 0.0


def test_the_model_is_left_untouched():
    model, batch = bert(), padded_batch()
    model.train()
    before = snapshot(model)
    attribute(model, batch, ["gradient", "integrated_gradients", "smoothgrad", "gradcam", "attention_rollout"],
              layer="bert.encoder.layer.0", ig_steps=3, smoothgrad_samples=2)
    assert_untouched(model, before)


def test_argument_errors_name_the_argument_what_was_expected_and_what_came():
    model, batch = bert(), padded_batch()
    with pytest.raises(ValueError, match=r"inputs: a Mapping batch needs 'input_ids'.*got keys \['attention_mask'\]"):
        attribute(model, {"attention_mask": batch["attention_mask"]}, "gradient")
    with pytest.raises(TypeError, match="inputs: expected input_ids as an integer tensor N×T, got a tensor"):
        attribute(model, {"input_ids": batch["input_ids"].float()}, "gradient")
    with pytest.raises(ValueError, match=r"inputs: expected input_ids in 0..39"):
        attribute(model, {"input_ids": batch["input_ids"] + 40}, "gradient")
    with pytest.raises(ValueError, match="embeddings: no module named 'bert.embedding'"):
        attribute(model, batch, "gradient", embeddings="bert.embedding")
    with pytest.raises(ValueError, match="baseline: not for token batches"):
        attribute(model, batch, "integrated_gradients", baseline="zeros")
    with pytest.raises(ValueError, match="baseline_token: only for token batches, got image inputs"):
        attribute(torch.nn.Conv2d(3, 1, 1), torch.zeros(1, 3, 2, 2), "integrated_gradients", baseline_token=0)
    with pytest.raises(ValueError, match="embeddings: only for tokens inputs, got image inputs"):
        attribute(torch.nn.Conv2d(3, 1, 1), torch.zeros(1, 3, 2, 2), "gradient", embeddings="x")
    with pytest.raises(ValueError, match="methods: 'scorecam' does not support tokens inputs .*supports image, signal"):
        attribute(model, batch, "scorecam", layer="bert.encoder.layer.0")

    class Custom(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.table = torch.nn.Embedding(40, 4)

        def forward(self, input_ids, attention_mask=None):
            return self.table(input_ids).sum(1)

    with pytest.raises(ValueError, match="embeddings: Custom has no get_input_embeddings"):
        attribute(Custom(), batch, "gradient")
    maps = attribute(Custom(), {"input_ids": batch["input_ids"]}, "input_x_gradient", embeddings="table", target=0)
    assert maps["input_x_gradient"].shape == (2, 7)


def test_sequence_logprob_checks_its_arguments():
    with pytest.raises(TypeError, match="continuation_ids: expected L token ids .* got 'abc'"):
        targets.sequence_logprob("abc")
    with pytest.raises(ValueError, match=r"continuation_ids: expected rows of one length L .* got lengths \[1, 2\]"):
        targets.sequence_logprob([[1], [1, 2]])
    with pytest.raises(TypeError, match="ends: expected N ints"):
        targets.sequence_logprob([1], ends="x")
    logits = torch.randn(2, 4, 10)
    score = targets.sequence_logprob([3, 4])(logits)
    log_probs = torch.log_softmax(logits, dim=-1)
    torch.testing.assert_close(score, log_probs[:, 1, 3] + log_probs[:, 2, 4])
    with pytest.raises(ValueError, match="ends: each continuation of 2 tokens needs at least one token before it"):
        targets.sequence_logprob([3, 4], ends=[1, 4])(logits)
