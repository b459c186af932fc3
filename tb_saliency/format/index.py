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


def _metric_means(block):
    return [(m.name, float(np.mean(m.values))) for m in block.metrics if len(m.values)]


def build_index(header):
    """The FrameIndex of a FrameHeader message (written by this version)."""
    pb2 = metadata.pb2()
    index = pb2.FrameIndex(
        version=metadata.FORMAT_VERSION,
        kind=header.kind,
        num_samples=header.num_samples,
        frames_written=header.frames_written,
        steps_written=header.steps_written,
        wrong_predictions=sum(
            1 for s in header.samples
            if s.HasField("label") and s.HasField("prediction") and s.label != s.prediction
        ),
    )
    correlations = {(c.key, c.stage): c.values for c in header.randomisation.correlations}
    for block in header.maps:
        array = index.arrays.add(key=block.key, stage=block.stage, min=min(block.min, default=0.0),
                                 max=max(block.max, default=0.0))
        for name, mean in _metric_means(block):
            array.metrics.add(name=name, mean=mean)
        rho = correlations.get((block.key, block.stage))
        if rho:
            array.metrics.add(name="spearman", mean=float(np.mean(rho)))
    if header.HasField("activations"):
        a = header.activations
        index.arrays.add(key="activations", min=min(a.min, default=0.0), max=max(a.max, default=0.0))
    return index


def index_tensor(header):
    """The INDEX series' value for a frame: its FrameIndex, serialised, as a rank-0 string tensor
    (the shape TensorBoard's text plugin uses, which both loaders keep as a tensor series)."""
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[build_index(header).SerializeToString()])


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


def index_from_described(described):
    """The index facts of a frame header described by `frame.describe_header`, as `describe_index`
    gives them for the FrameIndex the writer derives from that header: for a step whose INDEX entry
    TensorBoard did not keep (or which cannot be read), from its header instead."""
    correlations = {(c["key"], c["stage"]): c["values"]
                    for c in (described["randomisation"] or {}).get("correlations", [])}
    arrays = []
    for block in described["maps"]:
        metrics = {name: float(np.mean(m["values"])) for name, m in block["metrics"].items() if m["values"]}
        rho = correlations.get((block["key"], block["stage"]))
        if rho:
            metrics["spearman"] = float(np.mean(rho))
        arrays.append({"key": block["key"], "stage": block["stage"], "min": min(block["min"], default=0.0),
                       "max": max(block["max"], default=0.0), "metrics": metrics})
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
