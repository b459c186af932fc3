"""The checks of the writing functions' arguments, in NumPy: each raises an error that names the
argument, says what was expected and what came, before anything is computed or written.

`tb_saliency.summary` (no torch) and `tb_saliency.log` (torch) share them.
"""

import math
import numbers
from typing import Mapping

import numpy as np

from tb_saliency import format as stored_format
from tb_saliency.value_checks import check_int, describe

MAP_DTYPES = tuple(stored_format.DTYPES)
INT64 = (-(2**63), 2**63 - 1)


def to_numpy(value, name):
    """A tensor (any device, any float width) or array-like as a NumPy array, without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, duck-typed
        value = value.detach()
        if str(value.device) == "meta":
            raise ValueError(
                f"{name}: expected a tensor that holds values, got one on the 'meta' device (a shape without "
                f"data, {tuple(value.shape)}); create or load it on a real device"
            )
        if str(value.dtype) in ("torch.float16", "torch.bfloat16"):
            value = value.float()
        return value.cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as error:  # numpy raises several types on ragged or odd objects
        raise TypeError(f"{name}: expected a tensor or an array, got {type(value).__name__}") from error


def check_text(value, name):
    """A string that the stored format can hold (UTF-8: no lone surrogates)."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a string, got {describe(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{name}: expected text that UTF-8 can encode, got {describe(value)} with an unpaired "
            f"surrogate at position {error.start}"
        ) from None
    return value


def check_tag(tag, name="tag"):
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"{name}: expected a non-empty string, got {describe(tag)}")
    check_text(tag, name)
    unservable = stored_format.UNSERVABLE_NAME.search(tag)
    if unservable:
        character = unservable.group()
        what = {'"': 'a double quote (")', "\\": "a backslash (\\)", "\0": "NUL"}.get(
            character, f"the control character {character!r}")
        raise ValueError(
            f"{name}: expected a name without '\"', '\\' or control characters (TensorBoard's fast loader "
            f"cannot serve those), got {describe(tag)} with {what} at position {unservable.start()}"
        )
    if tag.startswith(stored_format.RESERVED_TAG_PREFIX):
        raise ValueError(
            f"{name}: names starting with {stored_format.RESERVED_TAG_PREFIX!r} are reserved for "
            f"tb_saliency's own series, got {describe(tag)}"
        )
    return tag


def check_global_step(global_step):
    """None or an int TensorBoard can store (int64)."""
    if global_step is None:
        return None
    if isinstance(global_step, bool) or not isinstance(global_step, numbers.Integral):
        raise TypeError(f"global_step: expected an int or None, got {describe(global_step)}")
    if not INT64[0] <= int(global_step) <= INT64[1]:
        raise ValueError(f"global_step: expected an int from -2**63 to 2**63 - 1, got {int(global_step)}")
    return int(global_step)


def check_walltime(walltime):
    """None or seconds since the epoch as a finite number."""
    if walltime is None:
        return None
    if isinstance(walltime, bool) or not isinstance(walltime, numbers.Real) or not math.isfinite(walltime):
        raise TypeError(
            f"walltime: expected seconds since the epoch as a finite number, or None, got {describe(walltime)}"
        )
    return float(walltime)


def check_dtype(dtype):
    if dtype not in MAP_DTYPES:
        raise ValueError(f"dtype: expected one of {MAP_DTYPES}, got {describe(dtype)}")
    return dtype


def class_names(names):
    """The class names as a list of strings (empty when none were given)."""
    if names is None:
        return []
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"class_names: expected a sequence of strings, one per class id, got {describe(names)}")
    for i, name in enumerate(names):
        check_text(name, f"class_names[{i}]")
    return list(names)


def per_sample(values, name, count, kind, names=()):
    """A per-sample sequence (labels, predictions, scores) as a list, or None when not given."""
    if values is None:
        return None
    array = to_numpy(values, name)
    if array.ndim != 1 or array.shape[0] != count:
        raise ValueError(f"{name}: expected one value per sample ({count}), got shape {tuple(array.shape)}")
    if kind == "class":
        if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
            raise TypeError(f"{name}: expected integer class ids, got dtype {array.dtype}")
        array = array.astype(np.int64)
        if np.any(array < 0):
            raise ValueError(f"{name}: expected class ids ≥ 0, got {array.min()}")
        if names and np.any(array >= len(names)):
            raise ValueError(f"{name}: class id {array.max()} has no name: class_names lists {len(names)} classes")
        return [int(v) for v in array]
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name}: expected numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite numbers, got NaN or infinity")
    return [float(v) for v in array]


def map_values(values, name, count):
    """A map as N×h×w float64, with the shapes people pass from captum or grad-cam accepted."""
    values = to_numpy(values, name)
    if values.ndim == 4 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 3:
        hint = " (a map per colour channel? reduce it first, e.g. maps.sum(1))" if values.ndim == 4 else ""
        raise ValueError(f"{name}: expected N×h×w (or N×1×h×w) maps, got shape {tuple(values.shape)}{hint}")
    if values.shape[0] != count:
        raise ValueError(f"{name}: expected one map per image ({count}), got {values.shape[0]} maps")
    if values.shape[1] == 0 or values.shape[2] == 0:
        raise ValueError(f"{name}: expected maps of at least 1×1, got shape {tuple(values.shape)}")
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_):
        raise TypeError(f"{name}: expected numbers, got dtype {values.dtype}")
    values = values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        samples = sorted(set(np.nonzero(bad)[0].tolist()))
        raise ValueError(f"{name}: expected finite values, got NaN or infinity in sample(s) {samples[:10]}")
    return values


def map_columns(maps, method, count):
    """`maps` (one array, or a dict {method name: array}) as format MapColumns."""
    if isinstance(maps, Mapping):
        if not maps:
            raise ValueError("maps: expected at least one method in the dict, got an empty dict")
        named = list(maps.items())
    else:
        if not isinstance(method, str) or not method:
            raise TypeError(f"method: expected a non-empty string, got {describe(method)}")
        check_text(method, "method")
        named = [(method, maps)]
    columns = []
    for key, values in named:
        if not isinstance(key, str) or not key:
            raise TypeError(f"maps: expected method names as non-empty strings, got {describe(key)}")
        check_text(key, "maps")
        array = map_values(values, f"maps[{key!r}]" if len(named) > 1 else "maps", count)
        columns.append(stored_format.MapColumn(key=key, method=key, values=array))
    return columns


def display_images(images, *, mean=None, std=None, dataformats="NCHW", argument="images", transformed=False):
    """Images (array or tensor) as 8-bit display pixels; see `format.to_display`."""
    return stored_format.to_display(
        to_numpy(images, argument), mean=mean, std=std, layout=dataformats, argument=argument,
        transformed=transformed,
    )


def sample_facts(count, labels=None, targets=None, predictions=None, scores=None, target_scores=None):
    """Per-sample facts as the format stores them, from per-sample lists (or None)."""
    columns = dict(label=labels, target=targets, prediction=predictions, score=scores, target_score=target_scores)
    return [
        stored_format.SampleFacts(**{k: (v[i] if v is not None else None) for k, v in columns.items()})
        for i in range(count)
    ]


def given_facts(count, labels, predictions, scores, names):
    """The facts a caller gives for maps computed elsewhere: labels and predictions (class ids), and
    scores, each checked to hold one value per sample."""
    return sample_facts(
        count,
        labels=per_sample(labels, "labels", count, "class", names),
        predictions=per_sample(predictions, "predictions", count, "class", names),
        scores=per_sample(scores, "scores", count, "number"),
    )


def maps_over_images(images, maps, *, method, labels, predictions, scores, names, mean, std, dataformats):
    """(display images, map columns, per-sample facts) of maps computed elsewhere, every argument
    checked: what `summary.saliency_map` and `log_saliency_map` both store."""
    display = display_images(images, mean=mean, std=std, dataformats=dataformats)
    columns = map_columns(maps, method, display.count)
    return display, columns, given_facts(display.count, labels, predictions, scores, names)


def check_max_channels(max_channels):
    return check_int("max_channels", max_channels, 1)
