"""`tb_saliency.integrations.lightning.SaliencyCallback` in a real Lightning Trainer, under both the
`lightning` and the `pytorch_lightning` namespace: frames beside the logger's scalars, at the
Trainer's global steps, and trained weights bit-identical with and without the callback."""

import glob
import importlib
import os

import pytest
import torch

import tb_saliency
from tests.support.frameworks import lightning_classifier

pytestmark = pytest.mark.training

NAMESPACES = ["lightning.pytorch", "pytorch_lightning"]
SAMPLES, BATCH, EPOCHS = 24, 4, 2  # 6 optimizer steps an epoch
PROBE = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))
PROBE_LABELS = torch.tensor([0, 1, 2])


def _framework(namespace):
    L = importlib.import_module(namespace)
    from tb_saliency.integrations.lightning import SaliencyCallback

    Classifier = lightning_classifier(L, momentum=0.9)
    return L, Classifier, SaliencyCallback


def _fit(L, Classifier, folder, callbacks=(), logger="tensorboard", **trainer_options):
    L.seed_everything(0)
    generator = torch.Generator().manual_seed(2)
    data = torch.utils.data.TensorDataset(torch.rand(SAMPLES, 3, 16, 16, generator=generator),
                                          torch.randint(0, 3, (SAMPLES,), generator=generator))
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True)
    model = Classifier()
    if logger == "tensorboard":
        logger = L.loggers.TensorBoardLogger(str(folder), name="", version="")
    trainer = L.Trainer(max_epochs=EPOCHS, accelerator="cpu", devices=1, logger=logger, log_every_n_steps=1,
                        callbacks=list(callbacks), enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, **trainer_options)
    trainer.fit(model, loader)
    return model, trainer


def _state(model):
    return {name: t.detach().clone() for name, t in [*model.named_parameters(), *model.named_buffers()]}


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_frames_beside_the_loggers_scalars_and_training_unchanged(tmp_path, namespace):
    from tensorboard.backend.event_processing import event_accumulator

    L, Classifier, SaliencyCallback = _framework(namespace)
    callback = SaliencyCallback((PROBE, PROBE_LABELS), every_n_steps=4, every_n_epochs=1,
                                methods=["gradient", "gradcam"], layer="net.features.3", class_names=["a", "b", "c"])
    with_callback, trainer = _fit(L, Classifier, tmp_path / "with", [callback])
    without, _ = _fit(L, Classifier, tmp_path / "without")

    # Bit-identical training: every parameter and buffer (BatchNorm statistics, its batch count).
    logged, plain = _state(with_callback), _state(without)
    assert logged.keys() == plain.keys() and any("running_mean" in k for k in logged)
    assert [k for k in logged if not torch.equal(logged[k], plain[k])] == []

    # One event file in the logger's run: the frames are beside its scalars, never in a file of their own.
    run = trainer.logger.log_dir
    assert glob.glob(os.path.join(run, "**", "events.out.tfevents.*"), recursive=True) == \
        glob.glob(os.path.join(run, "events.out.tfevents.*")) and len(glob.glob(os.path.join(run, "events.*"))) == 1
    frames = tb_saliency.read(run)
    # Steps 4 and 8 (every 4 optimizer steps), 6 and 12 (epoch ends): the Trainer's global steps.
    assert [(f.run, f.tag, f.step) for f in frames] == [(".", "saliency", s) for s in (4, 6, 8, 12)]
    assert trainer.global_step == EPOCHS * SAMPLES // BATCH
    for frame in frames:
        assert frame.maps["gradient"].shape == (3, 16, 16) and frame.maps["gradcam"].shape == (3, 8, 8)
        assert frame.images.shape == (3, 16, 16, 3)
        assert frame.labels == [0, 1, 2] and len(frame.predictions) == 3
    # TensorBoard's own reader sees both in the one run.
    accumulator = event_accumulator.EventAccumulator(run, size_guidance={event_accumulator.TENSORS: 0}).Reload()
    assert "train_loss" in accumulator.Tags()["scalars"]
    assert [e.step for e in accumulator.Tensors("saliency")] == [4, 6, 8, 12]
    assert [e.step for e in accumulator.Scalars("train_loss")] == list(range(EPOCHS * SAMPLES // BATCH))


def test_a_bfloat16_module_gets_its_probe_in_bfloat16(tmp_path):
    L, Classifier, SaliencyCallback = _framework(NAMESPACES[0])
    callback = SaliencyCallback(PROBE, methods=["gradient", "gradcam"], layer="net.features.3")
    model, trainer = _fit(L, Classifier, tmp_path, [callback], precision="bf16-true")
    assert next(model.parameters()).dtype == torch.bfloat16
    frames = tb_saliency.read(trainer.logger.log_dir)
    assert [f.step for f in frames] == [6, 12] and frames[0].maps["gradcam"].shape == (3, 8, 8)


def test_accumulated_batches_log_once_per_optimizer_step(tmp_path):
    L, Classifier, SaliencyCallback = _framework(NAMESPACES[0])
    callback = SaliencyCallback(PROBE, every_n_steps=2, methods="gradient")
    _, trainer = _fit(L, Classifier, tmp_path, [callback], accumulate_grad_batches=2)  # 3 steps an epoch
    assert trainer.global_step == 6
    assert [f.step for f in tb_saliency.read(trainer.logger.log_dir)] == [2, 4, 6]


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_without_a_tensorboard_logger_fit_fails_before_training(tmp_path, namespace):
    L, Classifier, SaliencyCallback = _framework(namespace)
    callback = SaliencyCallback(PROBE, methods="gradient")
    with pytest.raises(ValueError, match=r"has none \(its loggers: CSVLogger\); give Trainer\(logger=TensorBoardLogger"):
        _fit(L, Classifier, tmp_path, [callback], logger=L.loggers.CSVLogger(str(tmp_path)))
    with pytest.raises(ValueError, match=r"has none \(its loggers: none\)"):
        _fit(L, Classifier, tmp_path, [callback], logger=False)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_one_class_serves_both_namespaces(namespace):
    L, _, SaliencyCallback = _framework(namespace)
    assert isinstance(SaliencyCallback(PROBE), L.Callback)


def test_arguments_are_checked_when_the_callback_is_made():
    _, _, SaliencyCallback = _framework(NAMESPACES[0])
    with pytest.raises(TypeError, match="smoothgrad_sample: unknown option .did you mean 'smoothgrad_samples'"):
        SaliencyCallback(PROBE, methods="smoothgrad", smoothgrad_sample=4)
    with pytest.raises(ValueError, match="every_n_epochs, every_n_steps: both are None"):
        SaliencyCallback(PROBE, every_n_epochs=None)
    with pytest.raises(ValueError, match="every_n_steps: expected an int >= 1 or None, got 0"):
        SaliencyCallback(PROBE, every_n_steps=0)
    with pytest.raises(TypeError, match="global_step: SaliencyCallback sets it itself"):
        SaliencyCallback(PROBE, global_step=3)
    # every_n_steps alone logs by steps only; both may be given.
    assert (SaliencyCallback(PROBE, every_n_steps=5).every_n_epochs, SaliencyCallback(PROBE).every_n_epochs) == (None, 1)


def test_metrics_every_kth_frame_and_no_progress_bar_in_the_trainers_loop(tmp_path, monkeypatch):
    import sys

    from tests.support.progress import Terminal

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)  # where log_saliency's default would draw bars
    L, Classifier, SaliencyCallback = _framework(NAMESPACES[0])
    callback = SaliencyCallback(PROBE, every_n_steps=2, methods="smoothgrad", smoothgrad_samples=3,
                                metrics={"deletion": {"steps": 3}}, metrics_every=2)
    _, trainer = _fit(L, Classifier, tmp_path, [callback])
    frames = tb_saliency.read(trainer.logger.log_dir)
    assert [(f.step, bool(f.metrics)) for f in frames] == [(2, True), (4, False), (6, True), (8, False), (10, True),
                                                           (12, False)]
    assert "smoothgrad" not in terminal.getvalue() and "deletion" not in terminal.getvalue()
