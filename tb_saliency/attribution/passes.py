"""Forward and backward passes over many perturbed copies of a batch, in memory-bounded chunks.

A copy is the whole batch perturbed once (one integration node, one noise draw, one Score-CAM mask).
Copies are stacked copy-major into one batch of k·N rows. In eval mode the rows are independent,
so one backward pass of the summed target scores gives every row's own gradient.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import torch

from .finite import check_finite
from .forward import run_model
from .progress import NONE as NO_PROGRESS


GRADIENTS_HINT = "the backward pass overflowed or is undefined there (float16 overflows above 65504)"


class GraphMeter:
    """Bytes the autograd graph saves for backward during a forward pass, parameters excluded."""

    def __init__(self, model):
        self._exclude = {t.data_ptr() for t in itertools.chain(model.parameters(), model.buffers())}
        self._seen = set()
        self.bytes = 0

    def _pack(self, tensor):
        pointer = tensor.data_ptr()
        if pointer not in self._exclude and pointer not in self._seen:
            self._seen.add(pointer)
            self.bytes += tensor.numel() * tensor.element_size()
        # Returning the tensor itself would tie the graph into a reference cycle that outlives the call.
        return tensor.detach()

    @contextmanager
    def measuring(self, enabled: bool = True):
        if not enabled:
            yield self
            return
        with torch.autograd.graph.saved_tensors_hooks(self._pack, lambda tensor: tensor):
            yield self


def gradients(score: torch.Tensor, wanted: list, scorer, layers=(), where: str = "") -> list:
    """∂Σscore/∂t for each tensor t in `wanted`: the inputs first unless `layers` names every one, then
    the layers' outputs, in the order of `layers` (their names). A score that does not reach one of
    them through autograd is an error, never a map of zeros.

    Only `torch.autograd.grad` is used, never `.backward()`, so no parameter's `.grad` is written."""
    if not wanted:
        return []
    if score.requires_grad:
        try:
            grads = torch.autograd.grad(score.sum(), wanted, allow_unused=True)
        except RuntimeError as error:
            # PyTorch's own message has changed across versions; each names checkpointing.
            if "checkpoint" not in str(error).lower():
                raise
            raise ValueError(
                "model: expected a model whose backward pass works with torch.autograd.grad, got one that uses "
                "torch.utils.checkpoint with use_reentrant=True, which only works with .backward() (and that "
                "would write every parameter's .grad); checkpoint with use_reentrant=False, as PyTorch recommends"
            ) from error
    else:
        grads = [None] * len(wanted)
    names = [None] * (len(wanted) - len(layers)) + list(layers)
    for name, grad in zip(names, grads):
        if grad is None:
            raise _not_connected(scorer, name, where)
    return list(grads)


def _not_connected(scorer, layer, where: str) -> Exception:
    target = scorer.describe()
    where = f" {where}" if where else ""
    if layer is None:
        return ValueError(
            f"target: the target's score does not depend on the inputs through autograd (the score of {target}"
            f"{where}): the model's output is detached, or computed under torch.no_grad() inside forward, so every "
            "gradient would be zero; keep forward differentiable, or use a forward-only method (scorecam)"
        )
    return ValueError(
        f"layer: the activations of layer {layer!r} are not connected to the target's score through autograd "
        f"(the score of {target}{where}): the model detaches them, or computes what follows under torch.no_grad(), "
        "or the output does not use them, so its CAM would be zero; choose a layer the score depends on, or use a "
        "forward-only method (scorecam)"
    )


def copies_per_chunk(bytes_per_copy: int, memory_limit: int, total: int, max_copies=None) -> int:
    """How many copies of the batch one pass may stack: as many as the memory bound allows, at least one."""
    copies = memory_limit // max(int(bytes_per_copy), 1)
    copies = max(1, min(copies, total))
    return copies if max_copies is None else min(copies, max_copies)


def chunk_ranges(total: int, chunk: int):
    for start in range(0, total, chunk):
        yield start, min(start + chunk, total)


def _where(label: str, start: int, stop: int) -> str:
    return f"in {label} {start}" if stop - start == 1 else f"in {label} {start}–{stop - 1}"


def gradient_chunks(model, scorer, make_rows, total: int, chunk: int, label: str, progress=NO_PROGRESS):
    """Yield (start, stop, grads) with grads[k, N, ...] = ∂score/∂row for copies start..stop-1.

    `make_rows(start, stop)` returns the (stop - start)·N rows of those copies, copy-major. `label`
    names the copies in errors ("smoothgrad's noisy copies"), where NaN or Inf fails at the chunk it
    appears in, and on the `progress` bar, which counts copies.
    """
    for start, stop in progress.ranges(chunk_ranges(total, chunk), total, label):
        where = _where(label, start, stop)
        rows = make_rows(start, stop).detach().requires_grad_(True)
        score = scorer(run_model(model, rows, where=where), stop - start, where=where)
        (grad,) = gradients(score, [rows], scorer, where=where)
        del score
        check_finite(grad, scorer.n, argument="model", what="gradients", where=where, hint=GRADIENTS_HINT)
        yield start, stop, grad.view(stop - start, -1, *rows.shape[1:])


def score_chunks(model, scorer, make_rows, total: int, chunk: int, label: str, progress=NO_PROGRESS):
    """Yield (start, stop, scores[k, N]) of forward-only passes over copies start..stop-1."""
    with torch.no_grad():
        for start, stop in progress.ranges(chunk_ranges(total, chunk), total, label):
            rows = make_rows(start, stop)
            where = _where(label, start, stop)
            scores = scorer(run_model(model, rows, where=where), stop - start, where=where)
            yield start, stop, scores.view(stop - start, -1)
