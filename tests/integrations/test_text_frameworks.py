"""The framework callbacks on text: a tiny BERT classifier and a tiny GPT-2 LM trained by the Hugging
Face Trainer, and a text LightningModule, with a word-level tokenizer trained offline (nothing is
downloaded). Token maps are logged at several steps and read back with their tokens, and training is
bit-identical with and without the callback."""

import glob
import os

import numpy as np
import pytest
import torch

import tb_saliency
from tests.support import text_models

pytestmark = pytest.mark.training

import accelerate  # noqa: F401,E402  (the Trainer needs it)
import transformers  # noqa: E402

SAMPLES, BATCH, STEPS, LOGGING_STEPS = 24, 4, 6, 2
TOKENIZER = text_models.word_tokenizer()


def _train(folder, model, dataset, callbacks=()):
    args = transformers.TrainingArguments(
        str(folder), report_to=["tensorboard"], use_cpu=True, max_steps=STEPS, per_device_train_batch_size=BATCH,
        logging_steps=LOGGING_STEPS, save_strategy="no", disable_tqdm=True, seed=0, dataloader_num_workers=0,
    )
    transformers.Trainer(model=model, args=args, train_dataset=dataset, callbacks=list(callbacks)).train()
    return model


def _state(model):
    return {name: t.detach().clone() for name, t in [*model.named_parameters(), *model.named_buffers()]}


def _assert_same_training(a, b):
    first, second = _state(a), _state(b)
    assert first.keys() == second.keys()
    assert [k for k in first if not torch.equal(first[k], second[k])] == []


def _frames(folder):
    files = glob.glob(os.path.join(folder, "**", "events.out.tfevents.*"), recursive=True)
    assert len(files) == 1
    return tb_saliency.read(os.path.dirname(files[0]))


def _probe_tokens(examples):
    return [TOKENIZER.convert_ids_to_tokens(e["input_ids"]) for e in examples]


def test_sequence_classification_logs_token_maps_and_training_is_unchanged(tmp_path):
    from tb_saliency.integrations.transformers import SaliencyCallback

    dataset = text_models.classification_examples(TOKENIZER, SAMPLES)
    probe = text_models.classification_examples(TOKENIZER, 3, seed=7)
    callback = SaliencyCallback(probe, methods=["gradient", "integrated_gradients"], tokenizer=TOKENIZER,
                                ig_steps=8, class_names=["good", "bad"])
    logged = _train(tmp_path / "with", text_models.bert_classifier(TOKENIZER), dataset, [callback])
    plain = _train(tmp_path / "without", text_models.bert_classifier(TOKENIZER), dataset)
    _assert_same_training(logged, plain)

    frames = _frames(tmp_path / "with")
    assert [(f.tag, f.step) for f in frames] == [("saliency", s) for s in range(LOGGING_STEPS, STEPS + 1, LOGGING_STEPS)]
    first, last = frames[0], frames[-1]
    assert first.tokens == _probe_tokens(probe)
    assert first.labels == [e["labels"] for e in probe] and len(first.predictions) == 3
    for frame in (first, last):
        assert set(frame.maps) == {"gradient", "integrated_gradients"}
        assert np.asarray(frame.maps["gradient"]).shape[-1] == len(probe[0]["input_ids"])
    # The model trained between the frames, so its maps moved.
    assert not np.allclose(first.maps["integrated_gradients"], last.maps["integrated_gradients"])


def test_causal_lm_default_target_is_the_last_tokens_logprob(tmp_path):
    from tb_saliency.integrations.transformers import SaliencyCallback

    dataset = text_models.lm_examples(TOKENIZER, SAMPLES)
    # Examples of different lengths: padded on the right, each sample's last real token is its target.
    probe = [{"input_ids": ids, "attention_mask": [1] * len(ids)}
             for ids in (TOKENIZER("good movie")["input_ids"], TOKENIZER("the plot was bad and long")["input_ids"])]
    callback = SaliencyCallback(probe, methods="gradient", tokenizer=TOKENIZER)
    logged = _train(tmp_path / "with", text_models.gpt2_lm(TOKENIZER), dataset, [callback])
    plain = _train(tmp_path / "without", text_models.gpt2_lm(TOKENIZER), dataset)
    _assert_same_training(logged, plain)

    frames = _frames(tmp_path / "with")
    assert [f.step for f in frames] == list(range(LOGGING_STEPS, STEPS + 1, LOGGING_STEPS))
    longest = max(len(e["input_ids"]) for e in probe)
    short = _probe_tokens(probe)[0]
    assert frames[-1].tokens[0][:len(short)] == short and len(frames[-1].tokens[0]) == longest
    # The short sample's padding is marked, and its map has one value per token of the padded batch.
    assert frames[-1].padding_tokens[0].tolist() == [False] * len(short) + [True] * (longest - len(short))
    assert np.asarray(frames[-1].maps["gradient"]).shape[-1] == longest


def test_an_explicit_sequence_logprob_target_is_kept():
    from tb_saliency import targets
    from tb_saliency.integrations.transformers import SaliencyCallback

    probe = dict(TOKENIZER(["good movie", "bad film"], return_tensors="pt"))
    chosen = targets.sequence_logprob([TOKENIZER.sep_token_id])
    callback = SaliencyCallback(probe, methods="gradient", tokenizer=TOKENIZER, target=chosen)
    assert callback.probe.kwargs["target"] is chosen and callback._causal_default is None


def test_token_probes_are_checked_when_the_callback_is_made():
    from tb_saliency.integrations.transformers import SaliencyCallback

    with pytest.raises(TypeError, match=r"inputs\[1\]\['input_ids'\]: expected one example's token ids"):
        SaliencyCallback([{"input_ids": [2, 5, 3]}, {"input_ids": "good movie"}], tokenizer=TOKENIZER)
    with pytest.raises(ValueError, match="some examples have labels and some do not"):
        SaliencyCallback([{"input_ids": [2, 5, 3], "labels": 0}, {"input_ids": [2, 3]}], tokenizer=TOKENIZER)
    with pytest.raises(TypeError, match="labels: given twice"):
        SaliencyCallback({"input_ids": torch.tensor([[2, 5, 3]]), "labels": torch.tensor([0])}, labels=[0])
    with pytest.raises(TypeError, match=r"integer token ids"):
        SaliencyCallback({"input_ids": torch.rand(1, 3)})


@pytest.fixture(params=["lightning.pytorch", "pytorch_lightning"])
def namespace(request):
    return pytest.importorskip(request.param)


def _text_module(L):
    class TextClassifier(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = text_models.bert_classifier(TOKENIZER)

        def forward(self, input_ids, attention_mask=None):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

        def training_step(self, batch, batch_idx):
            logits = self(batch["input_ids"], batch["attention_mask"])
            loss = torch.nn.functional.cross_entropy(logits, batch["labels"])
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.5)

    return TextClassifier


def _fit_text(L, folder, callbacks):
    dataset = text_models.classification_examples(TOKENIZER, SAMPLES)
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, collate_fn=transformers.default_data_collator)
    torch.manual_seed(0)
    module = _text_module(L)()
    trainer = L.Trainer(max_steps=STEPS, callbacks=list(callbacks), default_root_dir=str(folder),
                        logger=L.loggers.TensorBoardLogger(str(folder)), enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", log_every_n_steps=1)
    trainer.fit(module, loader)
    return module, trainer


def test_lightning_text_module_logs_token_maps_and_training_is_unchanged(tmp_path, namespace):
    from tb_saliency.integrations.lightning import SaliencyCallback

    probe = dict(TOKENIZER(["the good movie", "a very bad film"], padding=True, return_tensors="pt"))
    probe["labels"] = torch.tensor([0, 1])
    # A LightningModule has no get_input_embeddings: the embedding layer is named.
    callback = SaliencyCallback(probe, every_n_steps=2, methods="gradient", tokenizer=TOKENIZER,
                                embeddings="model.bert.embeddings.word_embeddings")
    logged, trainer = _fit_text(namespace, tmp_path / "with", [callback])
    plain, _ = _fit_text(namespace, tmp_path / "without", [])
    _assert_same_training(logged, plain)

    frames = tb_saliency.read(trainer.logger.log_dir)
    assert [f.step for f in frames] == [2, 4, 6]
    assert frames[0].tokens == [TOKENIZER.convert_ids_to_tokens(ids) for ids in probe["input_ids"].tolist()]
    assert frames[0].labels == [0, 1]
