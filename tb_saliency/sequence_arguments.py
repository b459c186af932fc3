"""The checks of token and signal inputs and of their maps (N×T, one value per token or time step), in
NumPy and without torch: `tb_saliency.summary` and `tb_saliency.log` share them. Errors name the
argument, say what was expected and what came.

Which inputs a call holds is decided once, by `input_kind`: tokens when `tokens=` or `tokenizer=` is
given or the inputs are a batch dict (a Hugging Face `BatchEncoding`); signals when `sample_rate=` is
given or the maps are N×T; images otherwise.
"""

import numbers
from typing import Mapping

import numpy as np

from tb_saliency import arguments
from tb_saliency import format as stored_format
from tb_saliency.value_checks import describe


def input_kind(inputs, maps, *, tokens=None, tokenizer=None, sample_rate=None):
    """"tokens", "signals" or "images": what `inputs` and `maps` are (see the module docstring)."""
    if tokens is not None or tokenizer is not None or isinstance(inputs, Mapping):
        if sample_rate is not None:
            raise ValueError("sample_rate: given for token inputs; a sample rate belongs to signals")
        return "tokens"
    if sample_rate is not None:
        return "signals"
    first = next(iter(maps.values()), None) if isinstance(maps, Mapping) else maps
    image_rank = getattr(inputs, "ndim", None) if not isinstance(inputs, (list, tuple)) else None
    # N×T maps over N×C×T (or N×T) inputs are a 1-D model's; over N×C×H×W images they are a mistake
    # that the images' own check names ("maps: expected N×h×w").
    if first is not None and getattr(arguments.to_numpy(first, "maps"), "ndim", 0) == 2 and image_rank != 4:
        return "signals"
    return "images"


def sequence_map_columns(maps, method, count):
    """`maps` (one N×T array, or {method name: N×T}) as MapColumns of N×1×T raw values, and T."""
    named = list(maps.items()) if isinstance(maps, Mapping) else [(method, maps)]
    if isinstance(maps, Mapping) and not named:
        raise ValueError("maps: expected at least one method in the dict, got an empty dict")
    columns, length = [], None
    for key, values in named:
        if not isinstance(key, str) or not key:
            raise TypeError(f"{'maps' if isinstance(maps, Mapping) else 'method'}: expected a non-empty "
                            f"string as the method name, got {describe(key)}")
        arguments.check_text(key, "maps")
        name = f"maps[{key!r}]" if len(named) > 1 else "maps"
        array = arguments.to_numpy(values, name)
        if array.ndim == 3 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 2:
            raise ValueError(f"{name}: expected N×T maps (one value per token or time step), got shape {tuple(array.shape)}")
        if array.shape[0] != count:
            raise ValueError(f"{name}: expected one map per sample ({count}), got {array.shape[0]} maps")
        if array.shape[1] == 0:
            raise ValueError(f"{name}: expected maps of at least one value, got shape {tuple(array.shape)}")
        if length is not None and array.shape[1] != length:
            raise ValueError(f"{name}: expected {length} values per sample as the other maps, got {array.shape[1]}")
        length = array.shape[1]
        # map_values checks the dtype and finiteness as for images, on an N×1×T view.
        checked = arguments.map_values(array[:, None, :], name, count)
        columns.append(stored_format.MapColumn(key=key, method=key, values=checked))
    return columns, length


def _batch_array(batch, field, count, length, kind):
    """`batch[field]` as an N×T array (None when the batch has no such field)."""
    if not isinstance(batch, Mapping) or batch.get(field) is None:
        return None
    array = arguments.to_numpy(batch[field], f"inputs[{field!r}]")
    if array.shape != (count, length):
        raise ValueError(f"inputs[{field!r}]: expected N×T = {count}×{length} like the maps, got shape {tuple(array.shape)}")
    if kind == "ids" and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"inputs[{field!r}]: expected integer token ids, got dtype {array.dtype}")
    return array


def _flag_array(values, name, count, length):
    if values is None:
        return np.zeros((count, length), bool)
    array = arguments.to_numpy(values, name)
    if array.shape != (count, length):
        raise ValueError(f"{name}: expected N×T = {count}×{length} booleans like the maps, got shape {tuple(array.shape)}")
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name}: expected booleans (or 0/1), got dtype {array.dtype}")
    return array.astype(bool)


def _token_strings(tokens, count, length):
    if isinstance(tokens, (str, bytes)) or not isinstance(tokens, (list, tuple)):
        raise TypeError(f"tokens: expected N lists of strings (one per sample), got {describe(tokens)}")
    if len(tokens) != count:
        raise ValueError(f"tokens: expected one list of tokens per map ({count}), got {len(tokens)}")
    checked = []
    for i, sequence in enumerate(tokens):
        if isinstance(sequence, (str, bytes)) or not isinstance(sequence, (list, tuple)):
            raise TypeError(f"tokens[{i}]: expected a list of strings, got {describe(sequence)}")
        if len(sequence) != length:
            raise ValueError(f"tokens[{i}]: expected {length} tokens (the maps' length), got {len(sequence)}")
        for j, token in enumerate(sequence):
            arguments.check_text(token, f"tokens[{i}][{j}]")
        checked.append(list(sequence))
    return checked


def token_inputs(inputs, *, tokens, tokenizer, count, length, special=None, padding=None):
    """The token sequences of `count` maps of `length` values, as TokenInputs.

    Strings come from `tokens` (N lists of strings) or from `tokenizer.convert_ids_to_tokens` of the
    batch's input ids (`inputs`: a dict with "input_ids", or N×T ids). Special flags come from
    `special`, else the batch's "special_tokens_mask", else the tokenizer's `all_special_ids`;
    padding from `padding`, else the batch's "attention_mask" (0 = padding).
    """
    if tokens is not None and tokenizer is not None:
        raise ValueError("tokens, tokenizer: give the token strings or the tokenizer that makes them, not both")
    ids = None
    if isinstance(inputs, Mapping):
        if "input_ids" in inputs:
            ids = _batch_array(inputs, "input_ids", count, length, "ids")
    elif inputs is not None:
        ids = arguments.to_numpy(inputs, "inputs")
        if ids.shape != (count, length) or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"inputs: expected N×T = {count}×{length} integer token ids like the maps, got "
                             f"shape {tuple(ids.shape)} and dtype {ids.dtype}")
    if tokenizer is not None:
        if not hasattr(tokenizer, "convert_ids_to_tokens"):
            raise TypeError(f"tokenizer: expected a Hugging Face tokenizer (with convert_ids_to_tokens), got {describe(tokenizer)}")
        if ids is None:
            raise ValueError("inputs: a tokenizer needs the token ids: expected a batch with 'input_ids' or N×T ids")
        tokens = [list(tokenizer.convert_ids_to_tokens([int(i) for i in row])) for row in ids]
        tokens = [[t if isinstance(t, str) else str(t) for t in row] for row in tokens]
    elif tokens is None:
        raise ValueError("tokens: token inputs need tokens= (N lists of strings) or tokenizer=")
    strings = _token_strings(tokens, count, length)
    if special is None:
        special = _batch_array(inputs, "special_tokens_mask", count, length, "flags")
    if special is None and tokenizer is not None:
        special = np.isin(ids, np.asarray(list(getattr(tokenizer, "all_special_ids", []) or []), np.int64))
    if padding is None:
        mask = _batch_array(inputs, "attention_mask", count, length, "flags")
        padding = None if mask is None else (mask == 0)
    return stored_format.TokenInputs(
        tokens=strings,
        special=_flag_array(special, "special", count, length),
        padding=_flag_array(padding, "padding", count, length),
    )


def check_sample_rate(sample_rate):
    if sample_rate is None:
        return None
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real) or not 0 < sample_rate < float("inf"):
        raise ValueError(f"sample_rate: expected samples per second as a positive number, got {describe(sample_rate)}")
    return float(sample_rate)


def signal_inputs(signals, *, sample_rate, count, length):
    """N×C×T (or N×T) signals of `count` samples and `length` time steps, as SignalInputs."""
    array = arguments.to_numpy(signals, "inputs")
    if array.ndim == 2:
        array = array[:, None, :]
    if array.ndim != 3:
        raise ValueError(f"inputs: expected signals N×C×T (or N×T), got shape {tuple(array.shape)}")
    if array.shape[0] != count or array.shape[2] != length or array.shape[1] == 0:
        raise ValueError(f"inputs: expected N×C×T signals with N={count} and T={length} (the maps' "
                         f"length), got shape {tuple(array.shape)}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"inputs: expected numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("inputs: expected finite values, got NaN or infinity")
    return stored_format.SignalInputs(values=array, sample_rate=check_sample_rate(sample_rate))


def batch_count(inputs):
    """How many samples a token batch (a dict with "input_ids" N×T) or a signal batch holds."""
    ids = inputs.get("input_ids") if isinstance(inputs, Mapping) else inputs
    shape = getattr(ids, "shape", None)
    if shape is None or len(shape) < 2:
        raise TypeError(f"inputs: expected a batch dict with 'input_ids' N×T, or signals N×C×T, got {describe(inputs)}")
    return int(shape[0])


def sequence_inputs(kind, inputs, tokens, tokenizer, sample_rate, *, count, columns):
    """TokenInputs or SignalInputs (`kind`) of a batch the engine explained with N×T maps (`columns`
    hold them as N×1×T); an engine that gave other shapes is named."""
    length = columns[0].values.shape[-1]
    for column in columns:
        if column.values.shape != (count, 1, length):
            unit = "token" if kind == "tokens" else "time step"
            raise ValueError(f"methods: {kind} need N×T maps, one value per {unit} ({count}×{length}), but "
                             f"{column.key!r} came out with shape {tuple(column.values.shape)}")
    if kind == "tokens":
        return token_inputs(inputs, tokens=tokens, tokenizer=tokenizer, count=count, length=length)
    return signal_inputs(inputs, sample_rate=sample_rate, count=count, length=length)


def maps_over_sequences(kind, inputs, maps, *, method, tokens, tokenizer, sample_rate, special, padding,
                        labels, predictions, scores, names):
    """(token or signal inputs, map columns, per-sample facts) of N×T maps computed elsewhere."""
    count = _count(maps)
    columns, length = sequence_map_columns(maps, method, count)
    if kind == "tokens":
        shown = token_inputs(inputs, tokens=tokens, tokenizer=tokenizer, count=count, length=length,
                             special=special, padding=padding)
    else:
        if inputs is None:
            raise ValueError("inputs: expected the signals N×C×T the maps explain, got None")
        shown = signal_inputs(inputs, sample_rate=sample_rate, count=count, length=length)
    return shown, columns, arguments.given_facts(count, labels, predictions, scores, names)


def _count(maps):
    first = next(iter(maps.values()), None) if isinstance(maps, Mapping) else maps
    if first is None:
        raise ValueError("maps: expected at least one method in the dict, got an empty dict")
    array = arguments.to_numpy(first, "maps")
    if array.ndim == 0:
        raise ValueError("maps: expected N×T maps, got a scalar")
    return array.shape[0]
