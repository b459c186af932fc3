"""`SaliencyCallback` for the Hugging Face `Trainer`: frames in the run where the Trainer logs `train/loss`.

    from transformers import Trainer, TrainingArguments
    from tb_saliency.integrations.transformers import SaliencyCallback

    args = TrainingArguments("out", report_to=["tensorboard"], logging_steps=50)
    trainer = Trainer(model, args, train_dataset=train, callbacks=[
        SaliencyCallback(train[:8], methods=["gradient", "gradcam"], layer="vit.layernorm", reshape="vit")])
    trainer.train()

    # Text: a token probe and its tokenizer, so that the frames hold the token strings.
    SaliencyCallback(tokenizer(texts, padding=True, return_tensors="pt"), tokenizer=tokenizer,
                     methods=["gradient", "integrated_gradients"])

The frames are written through the `SummaryWriter` of the Trainer's own `TensorBoardCallback`
(`report_to` must include "tensorboard"), found through the `CallbackHandler` that calls this
callback: one writer, one event file, frames beside `train/loss` at the same `global_step`s.
"""

import inspect
from collections.abc import Mapping

import transformers
from transformers.integrations import TensorBoardCallback
from transformers.trainer_callback import CallbackHandler

from tb_saliency.integrations import _common, token_batch


class SaliencyCallback(transformers.TrainerCallback):
    """Logs `tb_saliency.log_saliency` of a fixed probe batch while a Hugging Face Trainer trains.

    World process zero computes and writes, on the Trainer's model itself (never through a DDP
    wrapper, so no collective call runs); a model sharded by FSDP, whose forward needs every rank,
    is computed on every process and written by process zero. Training is left exactly as it would
    be without the callback (parameters, gradients, modes, the RNG).

    Args:
      inputs: the probe: an N×C×H×W tensor (`pixel_values`), a pair (inputs, labels), a batch
        {"pixel_values": ..., "labels": ...} as the data collator makes it, or a list of dataset
        examples (`[train_dataset[i] for i in range(8)]`), stacked; labels are shown beside the
        predictions. Moved to the model's device when logged. The model is called as
        `model(pixel_values)`: the inputs are its first positional argument.
        Text: a token batch (a dict or `BatchEncoding` with "input_ids", "attention_mask" ... and
        optionally "labels", as a tokenizer or a collator makes it) or a list of tokenized examples
        (each {"input_ids": [...], "attention_mask": [...], "label(s)": int}), right-padded into one
        batch with the tokenizer's pad id; the model is called as `model(**batch)`. Give
        `tokenizer=` so that the frames store the token strings and dim special tokens.
        Causal language models (a `...ForCausalLM`/`...LMHeadModel` class) with no `target=`
        explain each sample's last token that is not padding: its log-probability given the
        tokens before it (`tb_saliency.targets.sequence_logprob` of that token), so the map shows
        which earlier tokens made the model predict it. Give `target=sequence_logprob(ids)` to
        explain a continuation of your own.
      tag: the TensorBoard tag of the frames.
      every_n_steps: log after every n-th optimizer step (`state.global_step % n == 0`); None (the
        default) logs at the Trainer's own `logging_steps`, so every frame has its `train/loss`.
      **kwargs: `log_saliency`'s arguments (`methods`, `layer`, `target`, `class_names`, `reshape`
        ...); tensors among `target`, `labels` and `baseline` follow the inputs to the model's
        device. Checked now, so a typo fails before training starts. Models that return a
        `ModelOutput`, a dict with "logits" or a tuple work with the default `target=None`.
        `metrics=` with `metrics_every=k` computes the metrics at every k-th frame the callback logs
        (the first included). `progress` is not taken: no bar is drawn inside the Trainer's loop.

    Raises at `on_train_begin` when `report_to` has no "tensorboard": without the Trainer's
    writer there is no run to write into. (To log elsewhere, call `tb_saliency.log_saliency` with
    a writer of your own from a callback of your own.)
    """

    def __init__(self, inputs, *, tag: str = "saliency", every_n_steps=None, **kwargs):
        self.every_n_steps = _common.check_every(every_n_steps, "every_n_steps")
        self.probe = _common.Probe("SaliencyCallback", inputs, tag, kwargs)
        # A causal LM's logits are N×T×V, so the predicted-class default has no meaning there.
        self._causal_default = (token_batch.last_token_target(self.probe.inputs)
                                if isinstance(self.probe.inputs, Mapping) and "target" not in kwargs else None)
        self._tensorboard = None
        self._logged_step = None

    def on_train_begin(self, args, state, control, **kwargs):
        self._tensorboard = _tensorboard_callback(_calling_handler(), args)
        if self.every_n_steps is None and args.logging_strategy != "steps":
            raise ValueError(
                f"every_n_steps: None logs at the Trainer's logging_steps, but its logging_strategy is "
                f"{str(args.logging_strategy)!r}; give every_n_steps"
            )

    def on_step_end(self, args, state, control, model=None, **kwargs):
        every = self.every_n_steps or state.logging_steps
        step = state.global_step
        if not every or step % every != 0 or step == self._logged_step:
            return
        every_rank = _common.is_sharded(model)
        if not (state.is_world_process_zero or every_rank):
            return
        writer = None
        if state.is_world_process_zero:
            if self._tensorboard is None:  # added once training had begun
                self._tensorboard = _tensorboard_callback(_calling_handler(), args)
            if self._tensorboard.tb_writer is None:
                # As TensorBoardCallback.on_log does when its writer is not open yet.
                self._tensorboard._init_summary_writer(args)
            writer = self._tensorboard.tb_writer
        if self._causal_default is not None and _is_causal_lm(model):
            self.probe.set_target(self._causal_default)
            self._causal_default = None
        self.probe.log(writer, model, step)
        self._logged_step = step


def _calling_handler():
    """The `CallbackHandler` whose `call_event` is calling us: it holds the Trainer's callbacks."""
    frame = inspect.currentframe()
    try:
        for _ in range(8):
            frame = frame.f_back
            if frame is None:
                break
            caller = frame.f_locals.get("self")
            if isinstance(caller, CallbackHandler):
                return caller
            if isinstance(getattr(caller, "callback_handler", None), CallbackHandler):  # a Trainer
                return caller.callback_handler
    finally:
        del frame
    raise RuntimeError(
        "SaliencyCallback: not called by a Hugging Face Trainer's CallbackHandler, so the Trainer's "
        "TensorBoard writer cannot be found; give the callback to Trainer(callbacks=[...]) or trainer.add_callback"
    )


def _tensorboard_callback(handler, args):
    for callback in handler.callbacks:
        if isinstance(callback, TensorBoardCallback):
            return callback
    raise ValueError(
        "SaliencyCallback writes into the Trainer's TensorBoard run, but the Trainer has no "
        f"TensorBoardCallback (report_to={args.report_to!r}); give TrainingArguments(report_to=[\"tensorboard\", ...])"
    )


def _is_causal_lm(model):
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return type(model).__name__ in set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values())
