"""The deletion and insertion games over token batches: the most salient tokens replaced by the
baseline token (ids, not embeddings) first, or put back first onto a sequence of baseline tokens.

The order is by score, highest first, ties by position (a stable sort). Special tokens and padding
(the same as the engine's: the batch's `special_tokens_mask`, else `tokenizer=`'s special ids; the
batch's attention_mask == 0) are never replaced: at step k = 0..steps the first ⌊k·m/steps⌋ of a
sample's m other tokens are. The model runs as `model(**batch)` with the replaced input_ids, in eval
mode under no_grad, one copy of the batch per pass, and is left as it was.
"""

from __future__ import annotations

import numbers

import torch

from tb_saliency.attribution.checks import check_module
from tb_saliency.attribution.safety import untouched
from tb_saliency.attribution.targets import Scorer, check_target
from tb_saliency.attribution.token_kind import TOKENIZER_ONLY_KEYS, _check_ids, _mask, _special_ids
from tb_saliency.value_checks import check_bool, check_choice, check_int, describe

from .checks import as_tensor
from .results import PerturbationCurve


def fixed_tokens(batch, tokenizer=None) -> torch.Tensor:
    """bool N×T: the special tokens and the padding of a token batch, which no game replaces."""
    ids = _check_ids(batch)
    special = _mask(batch, "special_tokens_mask", ids)
    if special is None and tokenizer is not None:
        special = torch.isin(ids, torch.tensor(_special_ids(tokenizer), dtype=ids.dtype, device=ids.device))
    attention = _mask(batch, "attention_mask", ids)
    fixed = torch.zeros_like(ids, dtype=torch.bool)
    if special is not None:
        fixed |= special
    if attention is not None:
        fixed |= ~attention
    return fixed


def _baseline_token(model, baseline_token):
    if baseline_token is None:
        baseline_token = getattr(getattr(model, "config", None), "pad_token_id", None)
        if baseline_token is None:
            raise ValueError("baseline_token: the model's config has no pad_token_id; give the token id that "
                             "replaced tokens become")
    if isinstance(baseline_token, bool) or not isinstance(baseline_token, numbers.Integral) or baseline_token < 0:
        raise ValueError(f"baseline_token: expected a token id (an int ≥ 0), got {describe(baseline_token)}")
    return int(baseline_token)


def token_game(kind, model, batch, maps, *, target=None, steps=20, baseline_token=None, tokenizer=None,
               score=None, relative=False, **ignored) -> dict:
    """{key: PerturbationCurve} of `kind` ("deletion" or "insertion") for `maps` {key: N×T}."""
    model = check_module(model)
    ids = _check_ids(batch)
    n, length = ids.shape
    steps = check_int("steps", steps, 1)
    from .perturbation import resolve_score  # perturbation imports this module when a game is over tokens

    score = resolve_score(score, target, check_target(target))
    relative = check_bool("relative", relative)
    token = _baseline_token(model, baseline_token)
    checked = {}
    for key, values in maps.items():
        name = "maps" if key is None else f"maps[{key!r}]"
        values = as_tensor(values, name)
        if values.dim() == 3 and values.shape[1] == 1:
            values = values[:, 0]
        if tuple(values.shape) != (n, length):
            raise ValueError(f"{name}: expected N×T = {n}×{length} token maps like input_ids, got shape "
                             f"{tuple(values.shape)}")
        checked[key] = values.to(ids.device)
    fixed = fixed_tokens(batch, tokenizer)
    replaceable = (~fixed).sum(dim=1)
    arguments = {k: v for k, v in batch.items() if k not in TOKENIZER_ONLY_KEYS}
    emptied = torch.where(fixed, ids, torch.full_like(ids, token))
    target_spec = check_target(target)

    def run(input_ids):
        return model(**{**arguments, "input_ids": input_ids})

    curves = {}
    with untouched(model, gradients=False), torch.no_grad():
        clean_outputs = run(ids)
        scorer = Scorer(target_spec, clean_outputs, n)

        def read(outputs):
            if score == "raw":
                return scorer(outputs, 1).detach().double()
            logits = outputs.logits if hasattr(outputs, "logits") else outputs
            probabilities = torch.softmax(logits.double(), dim=1)
            return probabilities.gather(1, scorer.targets.view(n, 1))[:, 0]

        clean = read(clean_outputs)
        for key, values in checked.items():
            # Fixed tokens sort last whatever their score, so that the first m ranks are the others'.
            scores = torch.where(fixed, torch.full_like(values, float("-inf")), values.to(torch.float64))
            order = torch.argsort(scores, dim=1, descending=True, stable=True)
            rank = torch.empty_like(order).scatter_(1, order, torch.arange(length, device=ids.device).expand_as(order))
            curve = torch.empty(n, steps + 1, dtype=torch.float64, device=ids.device)
            for k in range(steps + 1):
                chosen = rank < (k * replaceable // steps).unsqueeze(1)
                rows = torch.where(chosen, emptied, ids) if kind == "deletion" else torch.where(chosen, ids, emptied)
                curve[:, k] = read(run(rows))
            if relative:
                curve = curve / clean.unsqueeze(1)
            curves[key] = PerturbationCurve(
                kind=kind, curve=curve, auc=torch.trapezoid(curve, dx=1.0 / steps, dim=1),
                pixels=(torch.arange(steps + 1, device=ids.device).unsqueeze(1) * replaceable // steps).t(),
                targets=scorer.targets,
                options={"steps": steps, "score": score, "relative": relative, "input_kind": "tokens",
                         "order": "descending, ties by position; special tokens and padding never replaced",
                         "baseline": "token", "baseline_token": token, "model_mode": "eval"},
            )
    return curves
