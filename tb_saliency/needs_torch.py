"""Imported first by every module that computes maps: without PyTorch it fails with an ImportError
that says what to install, instead of a bare "No module named 'torch'". The viewer side (the
TensorBoard plugin, `tb_saliency.read`, `tb_saliency.summary`) never imports it."""

try:
    import torch  # noqa: F401
except ModuleNotFoundError as error:
    if error.name != "torch":
        raise
    raise ImportError(
        "tb_saliency computes saliency maps with PyTorch, which is not installed here: pip install torch "
        "(the training side needs it; TensorBoard's Saliency tab, tb_saliency.read and "
        "tb_saliency.summary work without it)"
    ) from error
