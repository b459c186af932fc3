"""Callbacks that log saliency from a framework's training loop into the run it already writes.

- `tb_saliency.integrations.lightning.SaliencyCallback`: Lightning (`lightning` or
  `pytorch_lightning`), into the Trainer's `TensorBoardLogger`.
- `tb_saliency.integrations.transformers.SaliencyCallback`: the Hugging Face `Trainer`, into the
  writer of its `TensorBoardCallback` (`report_to=["tensorboard"]`).

Each module imports its framework; this package imports nothing, so TensorBoard's import of
`tb_saliency` stays light. The frameworks are never requirements of tb_saliency.
"""
