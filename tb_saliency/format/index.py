"""The INDEX series: one small `FrameIndex` per frame, derived from the frame's header, in a tensor
series TensorBoard reads for every step at once. A step list needs, per frame, its sample count, how
many frames the writer had written, each map's value range (for colours shared across steps) and
its metrics' means (for charts over steps): reading them from every frame's header would cost one
blob read per step."""

import math

import numpy as np
from tensorboard.compat.proto import tensor_pb2, types_pb2

from tb_saliency.format import metadata
from tb_saliency.format.errors import FormatError


def _mean(values):
    """The mean of per-sample values, or None when there are none or it is not finite (a mean of
    values near the largest double overflows): an index never carries a non-finite number."""
    if len(values) == 0:
        return None
    with np.errstate(over="ignore"):
        mean = float(np.mean(np.asarray(values, np.float64)))
    return mean if math.isfinite(mean) else None


def index_from_described(described):
    """The index facts of a frame header described by `frame.describe_header`: what the writer stores
    in the INDEX series beside the frame, and what the plugin falls back on for a step whose INDEX
    entry TensorBoard did not keep (or which cannot be read). The one derivation of both."""
    correlations = {(c["key"], c["stage"]): c["values"]
                    for c in (described["randomisation"] or {}).get("correlations", [])}
    arrays = []
    for block in described["maps"]:
        metrics = {name: _mean(m["values"]) for name, m in block["metrics"].items()}
        metrics["spearman"] = _mean(correlations.get((block["key"], block["stage"]), []))
        arrays.append({"key": block["key"], "stage": block["stage"], "min": min(block["min"], default=0.0),
                       "max": max(block["max"], default=0.0),
                       "metrics": {name: mean for name, mean in metrics.items() if mean is not None}})
    if described["activations"] is not None:
        a = described["activations"]
        arrays.append({"key": "activations", "stage": "", "min": min(a["min"], default=0.0),
                       "max": max(a["max"], default=0.0), "metrics": {}})
    return {
        "kind": described["kind"],
        "num_samples": described["num_samples"],
        "frames_written": described["frames_written"],
        "steps_written": described["steps_written"],
        "wrong_predictions": sum(
            1 for s in described["samples"]
            if "label" in s and "prediction" in s and s["label"] != s["prediction"]
        ),
        "arrays": arrays,
    }


def index_message(facts):
    """The FrameIndex message of index facts (as `index_from_described` gives them)."""
    pb2 = metadata.pb2()
    index = pb2.FrameIndex(
        version=metadata.FORMAT_VERSION,
        kind=pb2.Kind.Value(facts["kind"].upper()),
        num_samples=facts["num_samples"],
        frames_written=facts["frames_written"],
        steps_written=facts["steps_written"],
        wrong_predictions=facts["wrong_predictions"],
    )
    for a in facts["arrays"]:
        array = index.arrays.add(key=a["key"], stage=a["stage"], min=a["min"], max=a["max"])
        for name, mean in a["metrics"].items():
            array.metrics.add(name=name, mean=mean)
    return index


def index_tensor(described):
    """The INDEX series' value for a frame described by `frame.describe_header`: its FrameIndex,
    serialised, as a rank-0 string tensor (the shape TensorBoard's text plugin uses, which both
    loaders keep as a tensor series)."""
    serialised = index_message(index_from_described(described)).SerializeToString()
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[serialised])


def describe_index(blob):
    """A FrameIndex's bytes as a JSON-ready dict; FormatError when they cannot be read."""
    index = metadata.parse_versioned(metadata.pb2().FrameIndex(), blob, "this step's index")
    kind = metadata.KIND_NAMES.get(index.kind)
    if kind not in metadata.FRAME_KINDS:
        raise FormatError(f"this step's index names an unknown kind of frame ({index.kind})")
    arrays = []
    for a in index.arrays:
        if not (math.isfinite(a.min) and math.isfinite(a.max)):
            raise FormatError(f"this step's index has a non-finite range for {a.key!r}")
        arrays.append({
            "key": a.key,
            "stage": a.stage,
            "min": a.min,
            "max": a.max,
            "metrics": {m.name: m.mean for m in a.metrics if math.isfinite(m.mean)},
        })
    return {
        "kind": kind,
        "num_samples": index.num_samples,
        "frames_written": index.frames_written,
        "steps_written": index.steps_written or index.frames_written,
        "wrong_predictions": index.wrong_predictions,
        "arrays": arrays,
    }
