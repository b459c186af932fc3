"""Frames: one step of one tag, as a rank-1 string tensor of blobs in a `Summary`, and back.

Blob 0 is a `FrameHeader`; the header points at the other blobs by index: one PNG per input image,
one array per map column, one array for activations. Everything a reader needs to interpret a blob is
in the header, so the dashboard can fetch only what it shows. Beside each frame, the same `Summary`
carries the frame's `FrameIndex` in the tag's INDEX series (see `index.py`).

`writing` builds frames from arrays; `reading` describes and decodes them, and is what the writer
derives each frame's index from, so both sides agree.
"""

from tb_saliency.format.frame.reading import (
    MAX_ARRAY_VALUES,
    MAX_OPTIONS_DEPTH,
    MAX_SAMPLES,
    DecodedFrame,
    decode_frame,
    describe_header,
    parse_header,
)
from tb_saliency.format.frame.writing import (
    ActivationChannels,
    MapColumn,
    MetricValues,
    Randomisation,
    SampleFacts,
    activations_summary,
    inputs_summary,
    saliency_summary,
)
from tb_saliency.format.metadata import inputs_tag

__all__ = [
    "MAX_ARRAY_VALUES",
    "MAX_OPTIONS_DEPTH",
    "MAX_SAMPLES",
    "ActivationChannels",
    "DecodedFrame",
    "MapColumn",
    "MetricValues",
    "Randomisation",
    "SampleFacts",
    "activations_summary",
    "decode_frame",
    "describe_header",
    "inputs_summary",
    "inputs_tag",
    "parse_header",
    "saliency_summary",
]
