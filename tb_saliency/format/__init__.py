"""The stored format: the only code that knows how frames and metadata are laid out in bytes.

No torch and no HTTP here: the writer and the TensorBoard plugin both build on this package.
"""

from tb_saliency.format.errors import FormatError
from tb_saliency.format.frame import (
    DTYPES,
    ActivationChannels,
    DecodedFrame,
    MapColumn,
    SampleFacts,
    activations_summary,
    decode_frame,
    decode_values,
    describe_header,
    inputs_summary,
    inputs_tag,
    saliency_summary,
)
from tb_saliency.format.images import DisplayImages, decode_png, to_display
from tb_saliency.format.metadata import (
    FORMAT_VERSION,
    INPUTS_TAG_PREFIX,
    PLUGIN_NAME,
    create_summary_metadata,
    parse_plugin_data,
)

__all__ = [
    "DTYPES",
    "FORMAT_VERSION",
    "INPUTS_TAG_PREFIX",
    "PLUGIN_NAME",
    "ActivationChannels",
    "DecodedFrame",
    "DisplayImages",
    "FormatError",
    "MapColumn",
    "SampleFacts",
    "activations_summary",
    "create_summary_metadata",
    "decode_frame",
    "decode_png",
    "decode_values",
    "describe_header",
    "inputs_summary",
    "inputs_tag",
    "parse_plugin_data",
    "saliency_summary",
    "to_display",
]
