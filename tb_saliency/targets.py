"""Targets: which scalar per sample a map explains, beyond a class index.

    from tb_saliency import targets
    attribute(gpt2, batch, "integrated_gradients", target=targets.sequence_logprob(continuation_ids),
              baseline_token=tokenizer.eos_token_id)

A target is a callable `outputs -> Tensor[N]`, as `target=` takes any, that also says what it reads
(`reads`: "logits", so the engine hands it the logits alone and may stack perturbed copies of the
batch in one pass; "outputs" for the whole outputs), its `name`, and a JSON `record` of what defines
it. Constructors are registered by name in `TARGETS`, so that a frame can say which one it used.

Importing this module needs no torch: a target imports it when it first scores.
"""

from __future__ import annotations

import numbers
from typing import Callable

from tb_saliency.value_checks import describe

__all__ = ["TARGETS", "Target", "target_constructor", "sequence_logprob"]

# name -> constructor, in registration order.
TARGETS: dict = {}


def target_constructor(name: str) -> Callable:
    """Registers a function that builds a `Target` as `TARGETS[name]`."""

    def add(function):
        if name in TARGETS:
            raise ValueError(f"name: a target named {name!r} is registered already")
        TARGETS[name] = function
        return function

    return add


class Target:
    """A scoring rule: `target(outputs)` -> Tensor[N] (the logits alone when `reads` == "logits")."""

    def __init__(self, name: str, score: Callable, *, reads: str = "logits", record=None):
        self.name, self._score, self.reads = name, score, reads
        self.record = dict(record or {})

    def __call__(self, outputs):
        return self._score(outputs)

    def __repr__(self):
        return f"targets.{self.name}({', '.join(f'{k}={v!r}' for k, v in self.record.items())})"


def _id_rows(name, value):
    """Token ids as a list of rows of ints: one row for all samples, or N rows of one length L."""
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return [[int(v) for v in value]], True
    if (isinstance(value, (list, tuple)) and value and all(isinstance(row, (list, tuple)) and row for row in value)
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for row in value for v in row)):
        if len({len(row) for row in value}) != 1:
            raise ValueError(f"{name}: expected rows of one length L (pad none: the continuation is each sample's "
                             f"last L tokens before `ends`), got lengths {sorted({len(r) for r in value})}")
        return [[int(v) for v in row] for row in value], False
    raise TypeError(f"{name}: expected L token ids (the same continuation for every sample) or N rows of L ids "
                    f"(a list, an array or an integer tensor), got {describe(value)}")


@target_constructor("sequence_logprob")
def sequence_logprob(continuation_ids, *, ends=None) -> Target:
    """The log-probability a causal language model gives a continuation: Σ_j log p(c_j | tokens before it).

    The batch's input_ids hold prompt and continuation; the continuation is each sample's L tokens
    that end at `ends` (default: the end of the sequence, so a left-padded or unpadded batch; for a
    right-padded batch give `ends=attention_mask.sum(1)`). Token j of the continuation, at position
    p = end − L + j, is scored by the logits at p − 1.

    continuation_ids: L ids (one continuation for every sample) or N×L ids.
    ends: None, or N ints, each sample's position just past its continuation.
    """
    rows, shared = _id_rows("continuation_ids", continuation_ids)
    length = len(rows[0])
    end_list = None
    if ends is not None:
        if hasattr(ends, "tolist"):
            ends = ends.tolist()
        if not isinstance(ends, (list, tuple)) or not all(
                isinstance(e, numbers.Integral) and not isinstance(e, bool) for e in ends):
            raise TypeError(f"ends: expected N ints (each sample's position just past its continuation), "
                            f"got {describe(ends)}")
        end_list = [int(e) for e in ends]

    def score(logits):
        import torch

        if not isinstance(logits, torch.Tensor) or logits.dim() != 3:
            raise ValueError(f"target: sequence_logprob needs a causal language model's logits N×T×V, got "
                             f"{describe(logits)}")
        n, t, vocab = logits.shape
        ids = torch.tensor(rows, dtype=torch.long, device=logits.device)
        ids = ids.expand(n, length) if shared else ids
        if ids.shape[0] != n:
            raise ValueError(f"continuation_ids: expected {n} rows (one per sample), got {ids.shape[0]}")
        if bool(((ids < 0) | (ids >= vocab)).any()):
            raise ValueError(f"continuation_ids: expected ids in 0..{vocab - 1}, got some outside")
        end = torch.full((n,), t, dtype=torch.long, device=logits.device) if end_list is None else torch.tensor(
            end_list, dtype=torch.long, device=logits.device)
        if end.shape[0] != n:
            raise ValueError(f"ends: expected {n} positions (one per sample), got {end.shape[0]}")
        if bool(((end - length < 1) | (end > t)).any()):
            raise ValueError(f"ends: each continuation of {length} tokens needs at least one token before it and "
                             f"must end within T={t}, got ends {end.tolist()}")
        # Position p is predicted by the logits at p − 1.
        positions = end[:, None] - length + torch.arange(length, device=logits.device)[None, :] - 1
        log_probs = torch.log_softmax(logits.gather(1, positions[:, :, None].expand(n, length, vocab)), dim=-1)
        return log_probs.gather(2, ids[:, :, None]).squeeze(2).sum(dim=1)

    record = {"continuation_ids": rows[0] if shared else rows, "ends": end_list}
    return Target("sequence_logprob", score, reads="logits", record=record)
