"""Plugin name, format version, reserved tags, and the summary metadata that marks a tag as this
plugin's."""

import re

from tensorboard.compat.proto import summary_pb2

from tb_saliency.format.errors import FormatError

PLUGIN_NAME = "saliency"

# Bump on any change an older reader would misread; readers refuse newer versions. Version 2 stores
# per-sample numbers as doubles (version 1 frames still read); version 3 stores array blobs
# byte-shuffled and deflated, adds the uint8 dtype, and adds token and signal inputs.
FORMAT_VERSION = 3

# Tags this plugin writes beside the user's: shared probe images, and the step index of each tag.
# Users' tags may not start with RESERVED_TAG_PREFIX.
RESERVED_TAG_PREFIX = "_saliency_"
INPUTS_TAG_PREFIX = "_saliency_inputs/"
INDEX_TAG_PREFIX = "_saliency_index/"

# Characters that TensorBoard's fast loader (the Rust data server, 0.7) cannot take back in a blob
# key: it parses keys as JSON into borrowed strings, which fails on any escaped character. Writers
# refuse tags holding them; the plugin says so for runs named with them.
UNSERVABLE_NAME = re.compile(r'["\\\x00-\x1f]')

KIND_NAMES = {1: "saliency", 2: "activations", 3: "inputs", 4: "randomisation", 5: "index"}
# Kinds whose tags hold frames a user looks at, each with an INDEX series beside it.
FRAME_KINDS = ("saliency", "activations", "randomisation")


def pb2():
    """The generated protobuf module, imported on first use: TensorBoard imports the plugin module at
    start-up and must not pay for it."""
    from tb_saliency.proto import saliency_pb2

    return saliency_pb2


def index_tag(tag):
    """The tag of the INDEX series that indexes the frames of `tag`."""
    return INDEX_TAG_PREFIX + tag


def inputs_tag(key):
    """The tag of the INPUTS series that holds the probe images with content key `key`."""
    return INPUTS_TAG_PREFIX + key


def create_summary_metadata(kind, *, map_keys=(), class_names=(), num_samples=0):
    """SummaryMetadata that makes both TensorBoard loaders keep a tag as this plugin's: a blob
    sequence for frames, a tensor series for an INDEX."""
    messages = pb2()
    content = messages.PluginData(
        version=FORMAT_VERSION,
        kind=messages.Kind.Value(kind.upper()),
        map_keys=list(map_keys),
        class_names=list(class_names),
        num_samples=num_samples,
    )
    data_class = summary_pb2.DATA_CLASS_TENSOR if kind == "index" else summary_pb2.DATA_CLASS_BLOB_SEQUENCE
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=content.SerializeToString()
        ),
        data_class=data_class,
    )


def parse_versioned(message, data, what):
    """Parses `data` into `message` and refuses a newer format version; FormatError when it cannot."""
    try:
        message.ParseFromString(bytes(data))
    except Exception as error:  # protobuf raises its own DecodeError, and others on garbage
        # Not protobuf's own text: it differs between protobuf versions, and the message is shown.
        raise FormatError(f"{what} is damaged: its bytes are not a {message.DESCRIPTOR.name} message") from error
    if message.version > FORMAT_VERSION:
        raise FormatError(
            f"{what} was written by a newer tb_saliency (format version {message.version}); this one "
            f"reads versions up to {FORMAT_VERSION}: upgrade tb_saliency (pip install -U tb_saliency)"
        )
    return message


def parse_plugin_data(content):
    """Decodes `plugin_data.content` into a JSON-ready dict; FormatError when it cannot."""
    message = parse_versioned(pb2().PluginData(), content, "this tag's metadata")
    kind = KIND_NAMES.get(message.kind)
    if kind is None:
        raise FormatError(f"this tag's metadata names an unknown kind of frame ({message.kind})")
    return {
        "version": message.version,
        "kind": kind,
        "map_keys": list(message.map_keys),
        "class_names": list(message.class_names),
        "num_samples": message.num_samples,
    }
