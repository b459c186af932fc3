"""The `target` argument: which scalar per sample is explained, and how to read it off the outputs."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Callable, Optional

import numpy as np
import torch

from tb_saliency.targets import Target

from .finite import check_finite
from .options import describe

OUTPUTS_HINT = "the model overflowed or computed NaN on these inputs (float16 overflows above 65504)"


def check_target(target):
    """Static validation, before any forward pass: returns (kind, value)."""
    if target is None:
        return ("argmax", None)
    if isinstance(target, Target) and target.name == "classes":
        # targets.classes(ids) is the plain class target made explicit: it means what `ids` means.
        return check_target(target.record["ids"])
    if isinstance(target, Target) and target.name == "each_box":
        raise ValueError("target: each_box scores every detected object (N×top_k), and a map explains one score "
                         "per row; use tb_saliency.targets.explain_each_box(model, images, methods, top_k=...) "
                         "for one map per object")
    if isinstance(target, bool):
        raise TypeError("target: expected None, an int, N ints or a callable, got a bool")
    if isinstance(target, numbers.Integral):
        return ("index", int(target))
    if isinstance(target, np.ndarray):
        if target.dtype.kind not in "iu":
            raise TypeError(f"target: expected an integer array of N class indices, got dtype {target.dtype}")
        target = torch.from_numpy(target.astype(np.int64))
    if isinstance(target, torch.Tensor):
        if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
            raise TypeError(f"target: expected an integer tensor of N class indices, got dtype {target.dtype}")
        if target.dim() == 0:
            return ("index", int(target))
        if target.dim() != 1:
            raise ValueError(f"target: expected a 1-D tensor of N class indices, got shape {tuple(target.shape)}")
        return ("indices", _outside_inference_mode(target.detach().to("cpu", torch.long)))
    if isinstance(target, (list, tuple)) and target and all(isinstance(t, (list, tuple)) for t in target):
        return ("position_class", _position_class_pairs(target))
    if isinstance(target, (list, tuple)):
        if not all(isinstance(t, numbers.Integral) and not isinstance(t, bool) for t in target):
            raise TypeError(f"target: expected a sequence of N ints, got {describe(target)}")
        return ("indices", _outside_inference_mode(torch.tensor([int(t) for t in target], dtype=torch.long)))
    if callable(target):
        return ("callable", target)
    raise TypeError(
        f"target: expected None, an int, a sequence, 1-D tensor or array of N ints, or a callable "
        f"outputs -> Tensor[N], got {describe(target)}"
    )


def _position_class_pairs(target) -> torch.Tensor:
    """Token classification: one (position, class) pair per sample, as a long N×2 tensor."""
    for pair in target:
        if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair):
            raise TypeError(
                f"target: expected N (position, class) pairs of ints for token classification, got {describe(pair)} "
                "among them"
            )
    return _outside_inference_mode(torch.tensor([[int(p), int(c)] for p, c in target], dtype=torch.long))


def find_logits(outputs) -> Optional[torch.Tensor]:
    """The logits tensor in a model's outputs, or None: the outputs themselves when they are a tensor,
    a Mapping's "logits" (a Hugging Face ModelOutput is one), an object's `.logits`, or the first
    element of a tuple or list. Duck-typed, so that no model library needs to be imported."""
    if isinstance(outputs, torch.Tensor):
        return outputs
    if isinstance(outputs, Mapping):
        found = outputs.get("logits")
    elif isinstance(outputs, (tuple, list)):
        found = outputs[0] if outputs else None
    else:
        found = getattr(outputs, "logits", None)
    return found if isinstance(found, torch.Tensor) else None


def check_outputs(outputs, n: int, where: str = "") -> Optional[torch.Tensor]:
    """The outputs' logits (see `find_logits`), refused when they hold NaN or Inf."""
    logits = find_logits(outputs)
    if logits is not None and logits.dim() > 0:
        check_finite(logits.detach(), n, argument="model", what="outputs", where=where, hint=OUTPUTS_HINT)
    return logits


def _outside_inference_mode(indices: torch.Tensor) -> torch.Tensor:
    """Indices that autograd may save for backward, as the inputs are: a tensor made inside
    torch.inference_mode() (a validation loop's labels, or a list turned into one there) is copied."""
    if not indices.is_inference():
        return indices
    with torch.inference_mode(False):
        return indices.clone()


class Scorer:
    """Reads the explained scalar f_target per row from model outputs.

    Perturbed copies of the batch are stacked copy-major (row = copy * N + sample), so the targets
    chosen on the clean inputs (the prediction, for target=None) stay fixed for every copy, and a
    callable target always sees exactly N rows in sample order.
    """

    def __init__(self, spec, outputs, n: int):
        kind, value = spec
        self.kind, self.n = kind, n
        self.targets: Optional[torch.Tensor] = None
        self.fn: Optional[Callable] = value if kind == "callable" else None
        # A target that says it reads the logits alone (tb_saliency.targets' do) gets them, so copies stack.
        self.reads_logits = kind == "callable" and getattr(value, "reads", None) == "logits"
        # A callable sees the whole outputs, which can be sliced into copies only when they are one
        # tensor; class targets read the logits alone, which always can.
        sliceable = isinstance(outputs, torch.Tensor) or self.reads_logits
        self.max_copies = None if kind != "callable" or sliceable else 1
        if kind == "callable":
            if self.reads_logits and find_logits(outputs) is None:
                raise TypeError(f"target: {getattr(value, 'name', 'the target')} reads the logits, and the model "
                                f"returned {type(outputs).__name__} without them")
            if isinstance(value, Target):
                # What the target chooses on the clean outputs (predicted pixels, detections) stays fixed.
                self.fn = value.bind(find_logits(outputs) if self.reads_logits else outputs)
            return
        logits = find_logits(outputs)
        if logits is None:
            raise TypeError(
                f"target: the model returned {type(outputs).__name__} without logits (expected a tensor, a "
                "Mapping with a 'logits' tensor, an object with a .logits tensor, or a tuple or list whose first "
                "element is the N×C logits); give target as a callable outputs -> Tensor[N] that picks the score "
                "to explain"
            )
        if logits.dim() == 0 or logits.shape[0] != n:
            raise ValueError(
                f"model: expected outputs (or logits) with first dimension N={n}, got shape {tuple(logits.shape)}"
            )
        if kind == "position_class":
            self.targets = self._position_class(value, logits)
            return
        if logits.dim() == 1:
            if kind != "argmax":
                raise ValueError(
                    f"target: the model returns one score per sample (shape {tuple(logits.shape)}), so there is "
                    "no class to pick; use target=None or a callable"
                )
            return
        if logits.dim() > 2:
            raise ValueError(
                f"target: class targets need outputs shaped N×C, got shape {tuple(logits.shape)}; give target "
                "as a callable outputs -> Tensor[N] (e.g. the summed score of a region)"
            )
        classes = logits.shape[1]
        if kind == "argmax":
            targets = logits.detach().argmax(dim=1)
        elif kind == "index":
            if not 0 <= value < classes:
                raise ValueError(
                    f"target: class {value} is out of range for {classes} outputs (expected 0..{classes - 1})"
                )
            targets = torch.full((n,), value, dtype=torch.long, device=logits.device)
        else:
            if value.numel() != n:
                raise ValueError(f"target: expected {n} class indices (one per sample), got {value.numel()}")
            bad = (value < 0) | (value >= classes)
            if bool(bad.any()):
                raise ValueError(
                    f"target: class {int(value[bad][0])} is out of range for {classes} outputs "
                    f"(expected 0..{classes - 1})"
                )
            targets = value.to(logits.device)
        self.targets = targets

    def describe(self) -> str:
        """The explained score in words, for errors."""
        if self.kind == "argmax":
            return "the predicted class (target=None)"
        if self.kind == "callable":
            return f"the callable target {getattr(self.fn, '__qualname__', type(self.fn).__name__)}"
        return "the given class" + ("" if self.kind == "index" else "es")

    def _position_class(self, pairs, logits) -> torch.Tensor:
        n = self.n
        if logits.dim() != 3:
            raise ValueError(
                f"target: (position, class) pairs need per-token logits N×T×C (token classification), got shape "
                f"{tuple(logits.shape)}"
            )
        if pairs.shape[0] != n:
            raise ValueError(f"target: expected {n} (position, class) pairs (one per sample), got {pairs.shape[0]}")
        t, classes = logits.shape[1], logits.shape[2]
        for i, (position, cls) in enumerate(pairs.tolist()):
            if not -t <= position < t:
                raise ValueError(f"target: position {position} of sample {i} is out of range for T={t} tokens")
            if not 0 <= cls < classes:
                raise ValueError(f"target: class {cls} of sample {i} is out of range for {classes} outputs "
                                 f"(expected 0..{classes - 1})")
        return torch.stack([pairs[:, 0] % t, pairs[:, 1]], dim=1).to(logits.device)

    def _checked(self, scores) -> torch.Tensor:
        if not isinstance(scores, torch.Tensor):
            raise TypeError(f"target: the callable must return a Tensor[N], it returned {type(scores).__name__}")
        if scores.dim() == 0 or scores.shape[0] != self.n or scores.numel() != self.n:
            raise ValueError(
                f"target: the callable must return a Tensor[N] with N={self.n}, it returned shape {tuple(scores.shape)}"
            )
        if not scores.is_floating_point():
            raise TypeError(f"target: the callable must return floating-point scores, it returned dtype {scores.dtype}")
        return scores.reshape(self.n)

    def __call__(self, outputs, copies: int = 1, where: str = "") -> torch.Tensor:
        """The explained score of each row: Tensor[copies * N]. NaN or Inf in the logits or the scores
        is an error naming the samples; `where` says which pass they came from."""
        n = self.n
        logits = check_outputs(outputs, n, where)
        if self.fn is not None:
            source = logits if self.reads_logits else outputs
            if copies == 1:
                scores = self._checked(self.fn(source))
            else:
                scores = torch.cat([self._checked(self.fn(source[i * n : (i + 1) * n])) for i in range(copies)])
            check_finite(scores.detach(), n, argument="target", what="scores from the callable", where=where)
            return scores
        if self.targets is None:
            return logits.reshape(copies * n)
        if self.kind == "position_class":
            rows = logits.reshape(copies, n, *logits.shape[1:])
            samples = torch.arange(n, device=logits.device)
            return rows[:, samples, self.targets[:, 0], self.targets[:, 1]].reshape(copies * n)
        rows = logits.reshape(copies, n, -1)
        index = self.targets.view(1, n, 1).expand(copies, n, 1)
        return rows.gather(2, index).reshape(copies * n)
