"""The stored format: the only code that knows how frames and metadata are laid out in bytes.

No torch and no HTTP here: the writer, the reader and the TensorBoard plugin all build on this
package.
"""

from tb_saliency.format.errors import FormatError
from tb_saliency.format.frame import (
    ActivationChannels,
    DecodedFrame,
    MapColumn,
    MetricValues,
    Randomisation,
    SampleFacts,
    activations_summary,
    decode_frame,
    describe_header,
    inputs_summary,
    inputs_tag,
    saliency_summary,
)
from tb_saliency.format.images import DisplayImages, decode_png, to_display
from tb_saliency.format.index import describe_index, index_from_described
from tb_saliency.format.layout import COMPRESSIONS, DTYPES, decode_array, decode_values, narrowest_float
from tb_saliency.format.sequences import SignalInputs, TokenInputs
from tb_saliency.format.metadata import (
    FORMAT_VERSION,
    FRAME_KINDS,
    INDEX_TAG_PREFIX,
    INPUTS_TAG_PREFIX,
    PLUGIN_NAME,
    RESERVED_TAG_PREFIX,
    UNSERVABLE_NAME,
    create_summary_metadata,
    index_tag,
    parse_plugin_data,
)

__all__ = [
    "COMPRESSIONS",
    "DTYPES",
    "FORMAT_VERSION",
    "FRAME_KINDS",
    "INDEX_TAG_PREFIX",
    "INPUTS_TAG_PREFIX",
    "PLUGIN_NAME",
    "RESERVED_TAG_PREFIX",
    "UNSERVABLE_NAME",
    "ActivationChannels",
    "DecodedFrame",
    "DisplayImages",
    "FormatError",
    "MapColumn",
    "MetricValues",
    "Randomisation",
    "SampleFacts",
    "SignalInputs",
    "TokenInputs",
    "activations_summary",
    "create_summary_metadata",
    "decode_frame",
    "decode_png",
    "decode_array",
    "decode_values",
    "describe_header",
    "describe_index",
    "index_from_described",
    "index_tag",
    "inputs_summary",
    "inputs_tag",
    "narrowest_float",
    "parse_plugin_data",
    "saliency_summary",
    "to_display",
]
