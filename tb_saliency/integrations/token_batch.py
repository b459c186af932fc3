"""A text probe for the framework callbacks: a token batch (a dict or `BatchEncoding` with
"input_ids", as a tokenizer or a data collator makes it) or a list of tokenized examples, padded into
one batch. The model is called as `model(**batch)`, so the labels ride beside the batch, not in it."""

import numbers
from collections.abc import Mapping

import torch

from tb_saliency.value_checks import describe

_IDS = "input_ids"
# The names datasets ("label") and collators ("labels") give the labels.
LABEL_KEYS = ("labels", "label")
# Per-token columns padded with the examples' ids; their padding value.
_PADDED_COLUMNS = {"attention_mask": 0, "token_type_ids": 0, "special_tokens_mask": 1}


def is_token_probe(inputs):
    """Whether `inputs` is a token batch or a list of tokenized examples (each with "input_ids")."""
    if isinstance(inputs, Mapping):
        return _IDS in inputs
    return isinstance(inputs, (list, tuple)) and bool(inputs) and all(
        isinstance(row, Mapping) and _IDS in row for row in inputs)


def token_probe(inputs, tokenizer=None):
    """(batch, labels): the batch a dict of N×T tensors, the labels N ints or None. Examples of
    different lengths are right-padded with the tokenizer's pad id (else 0), attention_mask 0 there."""
    if isinstance(inputs, Mapping):
        batch = dict(inputs)
        labels = _pop_labels(batch, "inputs")
        tensors = {key: _as_tensor(value, f"inputs[{key!r}]") for key, value in batch.items()}
    else:
        rows = [dict(row) for row in inputs]
        labels = every_or_no_label([_pop_labels(row, f"inputs[{i}]") for i, row in enumerate(rows)])
        tensors = _pad(rows, tokenizer)
    ids = tensors[_IDS]
    if ids.dim() != 2 or ids.shape[0] < 1 or ids.shape[1] < 1:
        raise ValueError(f"inputs['input_ids']: expected N×T token ids (N, T ≥ 1), got shape {tuple(ids.shape)}")
    if ids.is_floating_point():
        raise TypeError(f"inputs['input_ids']: expected integer token ids, got dtype {ids.dtype}")
    for key, value in tensors.items():
        if key in _PADDED_COLUMNS and tuple(value.shape) != tuple(ids.shape):
            raise ValueError(f"inputs[{key!r}]: expected the shape of input_ids {tuple(ids.shape)}, got "
                             f"{tuple(value.shape)}")
    if isinstance(labels, torch.Tensor):
        labels = labels.tolist()
    return tensors, labels


def every_or_no_label(labels):
    """The examples' labels (None where one has none): all of them, or None when none has one."""
    if any(label is None for label in labels):
        if any(label is not None for label in labels):
            raise ValueError("inputs: some examples have labels and some do not")
        return None
    return labels


def _pop_labels(row, name):
    keys = [k for k in LABEL_KEYS if k in row]
    if len(keys) > 1:
        raise TypeError(f"{name}: both 'labels' and 'label'; give one")
    if not keys:
        return None
    label = row.pop(keys[0])
    if isinstance(label, torch.Tensor) and label.dim() == 0:
        return int(label)
    return label


def _as_tensor(value, name):
    if isinstance(value, torch.Tensor):
        return value.detach()
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name}: expected a tensor or equal-length lists of ints, got {describe(value)}") from error


def _pad(rows, tokenizer):
    pad_id = getattr(tokenizer, "pad_token_id", None)
    pad_id = 0 if pad_id is None else pad_id
    sequences = []
    for index, row in enumerate(rows):
        ids = row[_IDS]
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        if not isinstance(ids, (list, tuple)) or not ids or not all(
                isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in ids):
            raise TypeError(f"inputs[{index}]['input_ids']: expected one example's token ids (a non-empty list "
                            f"of ints or a 1-D tensor), got {describe(row[_IDS])}")
        sequences.append(list(ids))
    keys = set(rows[0])
    for index, row in enumerate(rows):
        if set(row) != keys:
            raise ValueError(f"inputs[{index}]: expected the keys of inputs[0] {sorted(keys)}, got {sorted(row)}")
    unknown = keys - {_IDS, *_PADDED_COLUMNS}
    if unknown:
        raise TypeError(f"inputs: the examples' {sorted(unknown)} cannot be padded into a batch; give the batch "
                        f"dict itself (a collator's output) instead of a list of examples")
    length = max(len(ids) for ids in sequences)
    batch = {_IDS: torch.tensor([ids + [pad_id] * (length - len(ids)) for ids in sequences])}
    for key, fill in _PADDED_COLUMNS.items():
        if key in keys:
            values = [_list(row[key]) for row in rows]
            batch[key] = torch.tensor([v + [fill] * (length - len(v)) for v in values])
    if "attention_mask" not in batch:
        batch["attention_mask"] = torch.tensor([[1] * len(ids) + [0] * (length - len(ids)) for ids in sequences])
    return batch


def _list(value):
    return value.tolist() if isinstance(value, torch.Tensor) else list(value)


def last_token_target(batch):
    """The default target of a causal language model's probe: each sample's last token that is not
    padding, scored by its log-probability given the tokens before it
    (`tb_saliency.targets.sequence_logprob`), so the map says which earlier tokens made the model
    predict it. Padding on either side: the end is found from the attention mask."""
    from tb_saliency import targets

    ids = batch[_IDS]
    mask = batch.get("attention_mask")
    if mask is None:
        ends = torch.full((ids.shape[0],), ids.shape[1], dtype=torch.long)
    else:
        positions = torch.arange(1, ids.shape[1] + 1)[None, :].expand_as(ids)
        ends = (positions * (mask != 0)).max(dim=1).values
    if bool((ends < 2).any()):
        raise ValueError("inputs: a causal language model's probe needs at least two tokens per sample (a token "
                         "to predict and one before it); give target= for a batch with shorter samples")
    last = ids.gather(1, (ends - 1)[:, None])
    return targets.sequence_logprob(last, ends=ends)
