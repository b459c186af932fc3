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


def gradients(score: torch.Tensor, wanted: list) -> list:
    """∂Σscore/∂t for each tensor t in `wanted`; zeros where the score does not depend on t.

    Only `torch.autograd.grad` is used, never `.backward()`, so no parameter's `.grad` is written."""
    if not wanted:
        return []
    if not score.requires_grad:
        return [torch.zeros_like(t) for t in wanted]
    try:
        grads = torch.autograd.grad(score.sum(), wanted, allow_unused=True)
    except RuntimeError as error:
        # PyTorch's own message has changed across versions; each names checkpointing.
        if "checkpoint" not in str(error).lower():
            raise
        raise ValueError(
            "model: expected a model whose backward pass works with torch.autograd.grad, got one that uses "
            "torch.utils.checkpoint with use_reentrant=True, which only works with .backward() (and that would "
            "write every parameter's .grad); checkpoint with use_reentrant=False, as PyTorch recommends"
        ) from error
    return [torch.zeros_like(t) if g is None else g for t, g in zip(wanted, grads)]


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
        score = scorer(model(rows), stop - start, where=where)
        (grad,) = gradients(score, [rows])
        del score
        check_finite(grad, scorer.n, argument="model", what="gradients", where=where, hint=GRADIENTS_HINT)
        yield start, stop, grad.view(stop - start, -1, *rows.shape[1:])


def score_chunks(model, scorer, make_rows, total: int, chunk: int, label: str, progress=NO_PROGRESS):
    """Yield (start, stop, scores[k, N]) of forward-only passes over copies start..stop-1."""
    with torch.no_grad():
        for start, stop in progress.ranges(chunk_ranges(total, chunk), total, label):
            rows = make_rows(start, stop)
            scores = scorer(model(rows), stop - start, where=_where(label, start, stop))
            yield start, stop, scores.view(stop - start, -1)
