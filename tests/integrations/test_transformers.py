"""`tb_saliency.integrations.transformers.SaliencyCallback` in a real Hugging Face Trainer, on a tiny
ViT built from its config (no download): frames in the run where the Trainer logs `train/loss`, at
its steps, and trained weights bit-identical with and without the callback."""

import glob
import os

import numpy as np
import pytest
import torch

import tb_saliency

pytestmark = pytest.mark.training

import accelerate  # noqa: F401  (the Trainer needs it; both are test extras)
import transformers

SAMPLES, BATCH, STEPS, LOGGING_STEPS = 24, 4, 6, 2
PROBE = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))
PROBE_LABELS = torch.tensor([0, 1, 2])


def _vit():
    config = transformers.ViTConfig(
        image_size=16, patch_size=4, num_channels=3, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, num_labels=3, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
    )
    torch.manual_seed(0)
    return transformers.ViTForImageClassification(config)


def _dataset():
    generator = torch.Generator().manual_seed(2)
    images = torch.rand(SAMPLES, 3, 16, 16, generator=generator)
    labels = torch.randint(0, 3, (SAMPLES,), generator=generator)
    return [{"pixel_values": images[i], "labels": labels[i]} for i in range(SAMPLES)]


def _train(folder, callbacks=(), report_to=("tensorboard",), model=None):
    model = model or _vit()
    args = transformers.TrainingArguments(
        str(folder), report_to=list(report_to), use_cpu=True, max_steps=STEPS, per_device_train_batch_size=BATCH,
        logging_steps=LOGGING_STEPS, save_strategy="no", disable_tqdm=True, seed=0, dataloader_num_workers=0,
    )
    trainer = transformers.Trainer(model=model, args=args, train_dataset=_dataset(), callbacks=list(callbacks))
    trainer.train()
    return model


def _state(model):
    return {name: t.detach().clone() for name, t in [*model.named_parameters(), *model.named_buffers()]}


def test_frames_beside_train_loss_and_training_unchanged(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    from tb_saliency.integrations.transformers import SaliencyCallback

    callback = SaliencyCallback((PROBE, PROBE_LABELS), methods=["gradient", "gradcam"], layer="vit.layernorm",
                                reshape="vit")  # target=None: the predicted class, from the ModelOutput's logits
    with_callback = _train(tmp_path / "with", [callback])
    without = _train(tmp_path / "without")

    logged, plain = _state(with_callback), _state(without)
    assert logged.keys() == plain.keys()
    assert [k for k in logged if not torch.equal(logged[k], plain[k])] == []

    # The Trainer's TensorBoard run (output_dir/runs/<date>_<host>) holds one event file: its own.
    files = glob.glob(os.path.join(tmp_path, "with", "**", "events.out.tfevents.*"), recursive=True)
    assert len(files) == 1
    run = os.path.dirname(files[0])
    frames = tb_saliency.read(run)
    steps = list(range(LOGGING_STEPS, STEPS + 1, LOGGING_STEPS))
    assert [(f.run, f.tag, f.step) for f in frames] == [(".", "saliency", s) for s in steps]
    for frame in frames:
        assert frame.maps["gradient"].shape == (3, 16, 16) and frame.maps["gradcam"].shape == (3, 4, 4)
        assert frame.labels == [0, 1, 2]
        assert len(frame.predictions) == 3 and frame.targets == frame.predictions and len(frame.scores) == 3
    accumulator = event_accumulator.EventAccumulator(run, size_guidance={event_accumulator.TENSORS: 0}).Reload()
    assert [e.step for e in accumulator.Scalars("train/loss")] == steps
    assert [e.step for e in accumulator.Tensors("saliency")] == steps


def test_every_n_steps_and_a_target_of_ones_own(tmp_path):
    from tb_saliency.integrations.transformers import SaliencyCallback

    # The probe as a user picks it: a few examples of the training set, as the Trainer's dataset yields them.
    examples = _dataset()[:3]
    callback = SaliencyCallback(examples, tag="probe/class0", every_n_steps=3, methods="gradient",
                                target=lambda outputs: outputs.logits[:, 0])
    _train(tmp_path, [callback])
    frames = tb_saliency.read(tmp_path)
    assert [(f.tag, f.step) for f in frames] == [("probe/class0", 3), ("probe/class0", 6)]
    assert frames[0].labels == [int(e["labels"]) for e in examples]
    expected = (torch.stack([e["pixel_values"] for e in examples]).permute(0, 2, 3, 1) * 255).round()
    np.testing.assert_allclose(frames[0].images, expected.numpy(), atol=1)


def test_without_tensorboard_in_report_to_training_fails_before_the_first_step(tmp_path):
    from tb_saliency.integrations.transformers import SaliencyCallback

    callback = SaliencyCallback(PROBE, methods="gradient")
    model = _vit()
    before = _state(model)
    with pytest.raises(ValueError, match=r"has no TensorBoardCallback \(report_to=\[\]\); give TrainingArguments\(report_to="):
        _train(tmp_path, [callback], report_to=(), model=model)
    after = _state(model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert glob.glob(os.path.join(tmp_path, "**", "events.out.tfevents.*"), recursive=True) == []


def test_arguments_are_checked_when_the_callback_is_made():
    from tb_saliency.integrations.transformers import SaliencyCallback

    # A dict with input_ids is a token batch (a multimodal model takes pixel_values beside them), so
    # ids that are not N×T are named as such.
    with pytest.raises(ValueError, match=r"inputs\['input_ids'\]: expected N×T token ids \(N, T ≥ 1\), got shape \(3,\)"):
        SaliencyCallback({"pixel_values": PROBE, "input_ids": PROBE_LABELS})
    with pytest.raises(ValueError, match="labels: expected one value per sample .3., got shape .2,."):
        SaliencyCallback((PROBE, torch.tensor([0, 1])))
    with pytest.raises(TypeError, match="labels: given twice"):
        SaliencyCallback((PROBE, PROBE_LABELS), labels=PROBE_LABELS)


def test_a_callback_added_once_training_began_finds_the_writer(tmp_path):
    from tb_saliency.integrations.transformers import SaliencyCallback

    callback = SaliencyCallback(PROBE, every_n_steps=3, methods="gradient")

    class AddLate(transformers.TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == 1 and not added:
                added.append(trainer.callback_handler.add_callback(callback))

    added = []
    model = _vit()
    args = transformers.TrainingArguments(str(tmp_path), report_to=["tensorboard"], use_cpu=True, max_steps=STEPS,
                                          per_device_train_batch_size=BATCH, logging_steps=LOGGING_STEPS,
                                          save_strategy="no", disable_tqdm=True)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=_dataset(), callbacks=[AddLate()])
    trainer.train()
    assert added and [f.step for f in tb_saliency.read(tmp_path)] == [3, 6]
    assert len(glob.glob(os.path.join(tmp_path, "**", "events.out.tfevents.*"), recursive=True)) == 1
