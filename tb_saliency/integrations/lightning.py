"""`SaliencyCallback` for Lightning: saliency frames in the `TensorBoardLogger`'s run, beside its scalars.

    import lightning as L            # or: import pytorch_lightning as L
    from tb_saliency.integrations.lightning import SaliencyCallback

    probe = next(iter(val_loader))   # (images, labels): a fixed batch, kept for the whole run
    trainer = L.Trainer(max_epochs=10, callbacks=[
        SaliencyCallback(probe, methods=["gradient", "gradcam"], layer="backbone.layer4")])
    trainer.fit(model, train_loader)

One class serves both namespaces: it subclasses the `Callback` of `lightning.pytorch` and of
`pytorch_lightning`, whichever are installed, so either Trainer accepts it.
"""

import functools
import importlib
from typing import Optional

from tb_saliency.integrations import _common

# The modules of the fabric TensorBoardLogger that both Trainers' loggers derive from (lightning's,
# pytorch_lightning's).
_TENSORBOARD_LOGGERS = ("lightning.fabric.loggers.tensorboard", "lightning_fabric.loggers.tensorboard")
_DEFAULT = object()


def _callback_bases():
    bases = []
    for package in ("lightning.pytorch", "pytorch_lightning"):
        try:
            bases.append(importlib.import_module(package).Callback)
        except ImportError:
            continue
    if not bases:
        raise ImportError(
            "tb_saliency.integrations.lightning needs Lightning: pip install lightning (or pytorch-lightning)"
        )
    return tuple(bases)


@functools.cache
def _tensorboard_logger_classes():
    classes = []
    for module in _TENSORBOARD_LOGGERS:
        try:
            classes.append(importlib.import_module(module).TensorBoardLogger)
        except ImportError:
            continue
    return tuple(classes)


class SaliencyCallback(*_callback_bases()):
    """Logs `tb_saliency.log_saliency` of a fixed probe batch while a Lightning Trainer fits.

    Frames go into the Trainer's `TensorBoardLogger` (the default logger when TensorBoard is
    installed), through its own `SummaryWriter`, so they sit in the run's event file beside the
    logged scalars, at `trainer.global_step`. Only global rank zero computes and writes, on the
    LightningModule itself (never through a DDP wrapper, so no collective call runs); a model
    sharded by FSDP, whose forward needs every rank, is computed on every rank and written by rank
    zero. Training is left exactly as it would be without the callback (parameters, gradients,
    BatchNorm statistics, modes, the RNG).

    Args:
      inputs: the probe: an N×C×H×W tensor, or a pair (inputs, labels) as a DataLoader yields it;
        the labels are shown beside the predictions. Moved to the module's device when logged.
        Text: a token batch (a dict with "input_ids", "attention_mask" ... and optionally "labels")
        or a list of tokenized examples, padded; the module is called as `module(**batch)`, so its
        `forward` takes those names. Give `tokenizer=` for the token strings, and `embeddings=` (the
        dotted name of the embedding layer, e.g. "model.bert.embeddings.word_embeddings") since a
        LightningModule has no `get_input_embeddings`. For a causal LM give `target=`
        (`tb_saliency.targets.sequence_logprob(...)`): a LightningModule does not say it is one.
      tag: the TensorBoard tag of the frames.
      every_n_epochs: log at the end of every n-th training epoch. When `every_n_steps` is given and
        this is not, epochs are not used.
      every_n_steps: log after every n-th optimizer step (`trainer.global_step % n == 0`).
      **kwargs: `log_saliency`'s arguments (`methods`, `layer`, `target`, `class_names`, `mean`,
        `std`, method options ...); tensors among `target`, `labels` and `baseline` follow the
        inputs to the module's device. Checked now, so a typo fails before training starts.
        `metrics=` with `metrics_every=k` computes the metrics at every k-th frame the callback logs
        (the first included), so that they cost 1/k of what they would at every frame. `progress` is
        not taken: no bar is drawn inside the Trainer's loop.
    """

    def __init__(self, inputs, *, tag: str = "saliency", every_n_epochs=_DEFAULT,
                 every_n_steps: Optional[int] = None, **kwargs):
        super().__init__()
        if every_n_epochs is _DEFAULT:
            every_n_epochs = None if every_n_steps is not None else 1
        self.every_n_epochs = _common.check_every(every_n_epochs, "every_n_epochs")
        self.every_n_steps = _common.check_every(every_n_steps, "every_n_steps")
        if self.every_n_epochs is None and self.every_n_steps is None:
            raise ValueError("every_n_epochs, every_n_steps: both are None, so nothing would be logged")
        self.probe = _common.Probe("SaliencyCallback", inputs, tag, kwargs)
        self._logged_step = None

    # Lightning hooks ------------------------------------------------------------------------------

    def setup(self, trainer, pl_module, stage):
        if stage == "fit" and not trainer.fast_dev_run:
            self._logger(trainer)  # fails now, not at the first frame

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        # global_step 0 after a batch: the first batches of an accumulation window, before any step.
        step = trainer.global_step
        if self.every_n_steps and step > 0 and step % self.every_n_steps == 0:
            self._log(trainer, pl_module)

    def on_train_epoch_end(self, trainer, pl_module):
        if self.every_n_epochs and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._log(trainer, pl_module)

    # ----------------------------------------------------------------------------------------------

    def _log(self, trainer, pl_module):
        step = trainer.global_step
        # Accumulating batches and an epoch ending on a logged step meet the same optimizer step twice.
        if trainer.fast_dev_run or trainer.sanity_checking or step == self._logged_step:
            return
        every_rank = _common.is_sharded(pl_module)
        if not (trainer.is_global_zero or every_rank):
            return
        writer = self._logger(trainer).experiment if trainer.is_global_zero else None
        self.probe.log(writer, pl_module, step)
        self._logged_step = step

    @staticmethod
    def _logger(trainer):
        classes = _tensorboard_logger_classes()
        for logger in trainer.loggers:
            if isinstance(logger, classes):
                return logger
        given = ", ".join(type(logger).__name__ for logger in trainer.loggers) or "none"
        raise ValueError(
            "SaliencyCallback writes into the Trainer's TensorBoardLogger, but this Trainer has none "
            f"(its loggers: {given}); give Trainer(logger=TensorBoardLogger(save_dir)) or add one to its loggers"
        )
