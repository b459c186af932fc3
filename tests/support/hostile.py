"""A logdir of damaged and hostile frames beside good ones, written without torch, for the plugin's
hardening tests in-process and under both real loaders."""

import numpy as np

from tb_saliency import format as stored_format
from tb_saliency.format.metadata import FORMAT_VERSION
from tb_saliency.proto import saliency_pb2
from tests.support import raw, viewer_logdirs

V = FORMAT_VERSION
MAP_BLOB = np.zeros((1, 2, 2), "<f2").tobytes()


def one_map_header(**map_fields):
    """A valid one-sample header with one 2×2 float16 map at blob 1, fields overridable."""
    fields = dict(key="m", method="m", blob=1, dtype=1, height=2, width=2, min=[0.0], max=[0.0], scale=[1.0])
    fields.update(map_fields)
    return saliency_pb2.FrameHeader(version=V, kind=1, num_samples=1, samples=[saliency_pb2.Sample(label=0)],
                                    maps=[saliency_pb2.MapBlock(**fields)])


def _index(kind=1, **fields):
    return saliency_pb2.FrameIndex(version=V, kind=kind, num_samples=1, frames_written=1, steps_written=1,
                                   **fields).SerializeToString()


def _frame(tag, header, blobs=(MAP_BLOB,), index=None, plugin_content=raw.CURRENT_PLUGIN_DATA, shape=None,
           with_metadata=True):
    """[frame value, index value] of one step, raw."""
    values = [raw.blob_value(tag, [header.SerializeToString() if hasattr(header, "SerializeToString") else header,
                                   *blobs], plugin_content, shape, with_metadata)]
    if index is not None:
        values.append(raw.index_value(tag, index, with_metadata))
    return values


# tag → what /frame says of its step 0 (a substring of the error, or None for a frame that shows).
FRAME_ERRORS = {
    "good": None,
    "deep_options": "damaged options",
    "nested_options": "nested more than 64 deep",
    "huge_option": "1e999 is not a finite number",
    "overflowing_metric_mean": None,
    "nan_score": "score is not finite",
    "duplicate_keys": "two maps named 'm'",
    "empty_map": "empty shape (1, 0, 0)",
    "blob_out_of_range": "points at blob 7",
    "damaged": "damaged",
    "newer": "newer tb_saliency",
    "kind_contradiction": "its header holds activations, its tag saliency frames",
    "inputs_header": "its header holds inputs, which no tag of frames holds",
    "lost_images": "_saliency_inputs/0123abcd",
}


def write(logdir):
    """Writes the hostile logdir: run "hostile" (one tag per case of FRAME_ERRORS, plus the cases
    below), run "steps" (repeated and backward steps), and runs whose names the fast loader cannot
    put in a blob key. Returns the run folder names written."""
    cases = {
        "good": one_map_header(),
        "deep_options": one_map_header(options_json='{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        "nested_options": one_map_header(options_json='{"a": ' + "[" * 100 + "]" * 100 + "}"),
        # A number beyond a double's range reads as infinity, which JSON cannot carry.
        "huge_option": one_map_header(options_json='{"a": 1e999}'),
        # Finite values whose mean overflows: the index facts drop the mean rather than send infinity.
        "overflowing_metric_mean": saliency_pb2.FrameHeader(
            version=V, kind=1, num_samples=2, samples=[saliency_pb2.Sample(), saliency_pb2.Sample()],
            maps=[saliency_pb2.MapBlock(key="m", method="m", blob=1, dtype=1, height=1, width=1, min=[0.0, 0.0],
                                        max=[0.0, 0.0], scale=[1.0, 1.0],
                                        metrics=[saliency_pb2.Metric(name="deletion", values=[1.7e308, 1.7e308])])]),
        "nan_score": saliency_pb2.FrameHeader(version=V, kind=1, num_samples=1,
                                              samples=[saliency_pb2.Sample(score=float("nan"))]),
        "duplicate_keys": saliency_pb2.FrameHeader(
            version=V, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
            maps=[one_map_header().maps[0], one_map_header(blob=2).maps[0]]),
        "empty_map": one_map_header(height=0, width=0),
        "blob_out_of_range": one_map_header(blob=7),
        "damaged": raw.DAMAGED_HEADER,
        "newer": raw.NEWER_HEADER,
        "kind_contradiction": saliency_pb2.FrameHeader(version=V, kind=2, num_samples=0),
        "inputs_header": saliency_pb2.FrameHeader(version=V, kind=3, num_samples=0),
        "lost_images": saliency_pb2.FrameHeader(
            version=V, kind=1, num_samples=1, samples=[saliency_pb2.Sample()],
            images=saliency_pb2.ImageSet(width=2, height=2, channels=3, shared_key="0123abcd")),
    }
    values = []
    for tag, header in cases.items():
        blobs = {"duplicate_keys": (MAP_BLOB, MAP_BLOB),
                 "overflowing_metric_mean": (np.zeros((2, 1, 1), "<f2").tobytes(),)}.get(tag, (MAP_BLOB,))
        # The overflowing mean has no index entry: /steps then derives the step's facts from its header.
        values += _frame(tag, header, blobs=blobs, index=None if tag == "overflowing_metric_mean" else _index())
    # TensorBoard itself cannot decode these blob sequences (the Python loader fails in read_blob;
    # the Rust loader drops rank 0 and rank 2, and reads what a lying shape holds).
    values += _frame("rank0", one_map_header(), blobs=(), shape=())
    values += _frame("rank2", one_map_header(), blobs=(MAP_BLOB,), shape=(1, 2))
    values += _frame("claims_1000", one_map_header(), shape=(1000,), index=_index())
    values.append(raw.blob_value("no_blobs", []))
    # Metadata that does not parse, or from a newer tb_saliency: kind "unknown" with an error.
    values += _frame("bad_metadata", one_map_header(), plugin_content=b"\xff\xff\xff", index=_index())
    values += _frame("newer_metadata", raw.NEWER_HEADER, plugin_content=raw.NEWER_PLUGIN_DATA)
    steps = [(0, 1.0, values)]
    # Damaged or contradicting index entries: the step is listed with index null.
    for step, index in enumerate([_index(), b"\xff\xfe garbage", _index(kind=2), _index(
            arrays=[saliency_pb2.IndexedArray(key="m", max=float("inf"))])]):
        steps.append((step, 2.0 + step, _frame("bad_index", one_map_header(), index=index,
                                               with_metadata=step == 0)))
    # Several frames at one step (logged without global_step): frames 3, steps 1.
    for frame in range(3):
        header = one_map_header(min=[float(frame)], max=[float(frame)])
        header.frames_written, header.steps_written = frame + 1, 1
        described = stored_format.describe_header(header.SerializeToString(), 2)
        index = stored_format.index.index_message(stored_format.index_from_described(described))
        steps.append((0, 10.0 + frame, _frame("same_step", header, index=index.SerializeToString(),
                                               with_metadata=frame == 0)))
    raw.write_values(f"{logdir}/hostile", steps)

    # Repeated and backward steps: the map's value is the frame's wall time.
    images = viewer_logdirs.probe_images(1)
    with viewer_logdirs.RunWriter(f"{logdir}/steps") as writer:
        for step, wall_time in ((0, 1.0), (1, 2.0), (2, 3.0), (2, 4.0), (3, 5.0), (1, 6.0), (4, 7.0)):
            writer.saliency("probe", images, {"m": np.full((1, 2, 2), wall_time)}, step=step, wall_time=wall_time)
    names = ['quote"run', "back\\slash", "plain"]
    for name in names:
        with viewer_logdirs.RunWriter(f"{logdir}/{name}") as writer:
            writer.saliency("probe", images, {"m": np.ones((1, 2, 2))}, step=0, wall_time=1.0)
            writer.saliency("tag\x00nul", images, {"m": np.ones((1, 2, 2))}, step=0, wall_time=1.0)
    return ["hostile", "steps", *names]


# What each loader serves of run "steps": [(step, wall time)].
STEPS_SERVED = {
    # Python loader: every written value is kept; a step's blobs come from its first value.
    False: [(0, 1.0), (1, 2.0), (2, 3.0), (3, 5.0), (4, 7.0)],
    # Rust loader: a value at step s drops every stored value at a step >= s.
    True: [(0, 1.0), (1, 6.0), (4, 7.0)],
}
