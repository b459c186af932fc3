"""Plugin name, format version, and the summary metadata that marks a tag as this plugin's."""

from tensorboard.compat.proto import summary_pb2

from tb_saliency.format.errors import FormatError

PLUGIN_NAME = "saliency"

# Bump on any change an older reader would misread; readers refuse newer versions.
FORMAT_VERSION = 1

# Tags that hold a probe set's images shared by many frames start with this; the dashboard hides them.
INPUTS_TAG_PREFIX = "_saliency_inputs/"

KIND_NAMES = {1: "saliency", 2: "activations", 3: "inputs"}


def pb2():
    """The generated protobuf module, imported on first use: TensorBoard imports the plugin module at
    start-up and must not pay for it."""
    from tb_saliency.proto import saliency_pb2

    return saliency_pb2


def create_summary_metadata(kind, *, map_keys=(), class_names=(), num_samples=0):
    """SummaryMetadata that makes both TensorBoard loaders keep a tag as this plugin's blob sequence."""
    messages = pb2()
    content = messages.PluginData(
        version=FORMAT_VERSION,
        kind=messages.Kind.Value(kind.upper()),
        map_keys=list(map_keys),
        class_names=list(class_names),
        num_samples=num_samples,
    )
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=content.SerializeToString()
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )


def parse_versioned(message, data, what):
    """Parses `data` into `message` and refuses a newer format version; FormatError when it cannot."""
    try:
        message.ParseFromString(bytes(data))
    except Exception as error:  # protobuf raises its own DecodeError, and others on garbage
        raise FormatError(f"{what} is damaged: {error}") from error
    if message.version > FORMAT_VERSION:
        raise FormatError(
            f"{what} was written by a newer tb_saliency (format version {message.version}); this one "
            f"reads versions up to {FORMAT_VERSION}: upgrade tb_saliency (pip install -U tb_saliency)"
        )
    return message


def parse_plugin_data(content):
    """Decodes `plugin_data.content` into a JSON-ready dict; FormatError when it cannot."""
    message = parse_versioned(pb2().PluginData(), content, "this tag's metadata")
    return {
        "version": message.version,
        "kind": KIND_NAMES.get(message.kind, "unknown"),
        "map_keys": list(message.map_keys),
        "class_names": list(message.class_names),
        "num_samples": message.num_samples,
    }
