"""Targets: which scalar per sample a map explains, beyond a class index.

    from tb_saliency import targets
    attribute(gpt2, batch, "integrated_gradients", target=targets.sequence_logprob(continuation_ids),
              baseline_token=tokenizer.eos_token_id)

A target is a callable `outputs -> Tensor[N]`, as `target=` takes any, that also says what it reads
(`reads`: "logits", so the engine hands it the logits alone and may stack perturbed copies of the
batch in one pass; "outputs" for the whole outputs), its `name`, and a JSON `record` of what defines
it. Constructors are registered by name in `TARGETS`, so that a frame can say which one it used:
`classes` (the class logits: what an int or N ints as target= mean), `segment` (a segmentation
model's class logits over a region), `box_score` and `each_box` (a detector's list of dicts, in
`box_targets`), `sequence_logprob` (a causal language model's continuation).

A target may choose something on the clean outputs (`segment`'s predicted pixels, `each_box`'s
detections): `bind(clean_outputs)` returns the target that scores this batch with that choice fixed,
as the predicted class stays fixed for target=None; the engine and the metrics call it once per batch.

Importing this module needs no torch: a target imports it when it first scores.
"""

from __future__ import annotations

import numbers
from typing import Callable

from tb_saliency.value_checks import describe

__all__ = ["TARGETS", "Target", "target_constructor", "classes", "sequence_logprob", "segment", "box_score",
           "each_box", "explain_each_box"]

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

    def __init__(self, name: str, score: Callable, *, reads: str = "logits", record=None, bind=None):
        self.name, self._score, self.reads = name, score, reads
        self.record = dict(record or {})
        self._bind = bind

    def __call__(self, outputs):
        return self._score(outputs)

    def bind(self, clean_outputs) -> "Target":
        """The target as it scores this batch: what it chooses on the clean outputs (the predicted
        pixels of `segment`, the detections of `each_box`) stays fixed for every perturbed copy, as
        the predicted class does for target=None. The engine and the metrics call it once per batch."""
        return self if self._bind is None else self._bind(clean_outputs)

    def _with_record(self, record) -> "Target":
        self.record = dict(record)
        return self

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


@target_constructor("classes")
def classes(ids=None) -> Target:
    """The logit of a class per sample: what an int or N ints as `target=` mean, made explicit.

    ids: one class for every sample, N class ids (a list, an array or an integer tensor), or None for
    the class predicted on the clean inputs. The engine and the metrics treat it exactly as the plain
    `target=ids`, so deletion and insertion keep their softmax probability curve.
    """
    if hasattr(ids, "tolist") and not isinstance(ids, (list, tuple)):
        ids = ids.tolist()
    if ids is not None and not (isinstance(ids, numbers.Integral) and not isinstance(ids, bool)) and not (
            isinstance(ids, (list, tuple)) and ids
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in ids)):
        raise TypeError(f"ids: expected one class id, N class ids or None (the predicted class), got {describe(ids)}")
    if isinstance(ids, numbers.Integral):
        ids = int(ids)
    elif ids is not None:
        ids = list(ids)

    def score(logits):
        import torch

        if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
            raise ValueError(f"target: classes needs class scores N×C, got {describe(logits)}")
        n = logits.shape[0]
        if ids is None:
            index = logits.detach().argmax(dim=1)
        else:
            index = torch.tensor(ids if isinstance(ids, list) else [ids] * n, dtype=torch.long, device=logits.device)
        if index.shape[0] != n:
            raise ValueError(f"ids: expected {n} class ids (one per sample), got {index.shape[0]}")
        return logits.gather(1, index[:, None]).squeeze(1)

    return Target("classes", score, reads="logits", record={"ids": ids})


@target_constructor("segment")
def segment(class_id, mask=None) -> Target:
    """A segmentation model's logits of class `class_id`, summed over a region of each image
    (pytorch-grad-cam's SemanticSegmentationTarget, batched).

    The model returns N×K×H×W logits, or a dict whose "out" holds them (torchvision's segmentation
    models). mask: N×H×W booleans (H×W: the same region for every sample), the region; None: the
    pixels predicted as the class (the argmax over K) on the clean inputs, fixed for every perturbed
    copy. A sample with an empty region scores 0.
    """
    if isinstance(class_id, bool) or not isinstance(class_id, numbers.Integral):
        raise TypeError(f"class_id: expected a class index (an int ≥ 0), got {describe(class_id)}")
    if class_id < 0:
        raise ValueError(f"class_id: expected a class index ≥ 0, got {class_id}")
    class_id = int(class_id)
    region = None if mask is None else _boolean_mask(mask)
    return _segment(class_id, region, predicted=mask is None)


def _boolean_mask(mask):
    import torch

    region = torch.as_tensor(mask)
    if region.dtype != torch.bool:
        if region.is_floating_point() or region.is_complex() or not bool(((region == 0) | (region == 1)).all()):
            raise TypeError(f"mask: expected N×H×W booleans (or 0/1), got {describe(mask)}")
        region = region.bool()
    if region.dim() == 2:
        region = region[None]
    if region.dim() != 3:
        raise ValueError(f"mask: expected N×H×W (or H×W) booleans, got shape {tuple(region.shape)}")
    return region


def segment_logits(outputs):
    """The N×K×H×W logits of a segmentation model's outputs: the tensor, or a Mapping's "out"."""
    import torch
    from collections.abc import Mapping

    logits = outputs.get("out") if isinstance(outputs, Mapping) else outputs
    if not isinstance(logits, torch.Tensor) or logits.dim() != 4:
        raise ValueError(f"target: segment needs N×K×H×W logits, or a dict with them under 'out' (torchvision's "
                         f"segmentation models), got {describe(outputs)}")
    return logits


def _segment(class_id, region, predicted):
    def score(outputs):
        logits = segment_logits(outputs)
        n, k, height, width = logits.shape
        if class_id >= k:
            raise ValueError(f"class_id: class {class_id} is out of range for {k} classes (expected 0..{k - 1})")
        where = (logits.detach().argmax(dim=1) == class_id) if region is None else region.to(logits.device)
        if where.shape[-2:] != (height, width) or where.shape[0] not in (1, n):
            raise ValueError(f"mask: expected {n}×{height}×{width} (or {height}×{width}) booleans for outputs "
                             f"{tuple(logits.shape)}, got shape {tuple(where.shape)}")
        return (logits[:, class_id] * where).flatten(1).sum(dim=1)

    def bind(clean_outputs):
        if not predicted:
            return target
        fixed = segment_logits(clean_outputs).detach().argmax(dim=1) == class_id
        return _segment(class_id, fixed, predicted=False)._with_record(target.record)

    record = {"class_id": class_id, "mask": "predicted" if predicted else "given"}
    target = Target("segment", score, reads="outputs", record=record, bind=bind)
    return target


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


# Registered on import, after the names they build on.
from tb_saliency.box_targets import box_score, each_box, explain_each_box  # noqa: E402,F401
