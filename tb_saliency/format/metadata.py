"""Plugin name, format version, and the summary metadata that marks a tag as this plugin's."""

from tensorboard.compat.proto import summary_pb2

from tb_saliency.format.errors import FormatError

PLUGIN_NAME = "saliency"

# Bump on any change an older reader would misread; readers refuse newer versions.
FORMAT_VERSION = 1

# Tags that hold a probe set's images shared by many frames start with this; the dashboard hides them.
INPUTS_TAG_PREFIX = "_saliency_inputs/"

KIND_NAMES = {1: "saliency", 2: "activations", 3: "inputs"}


def _pb2():
    # Imported on first use: TensorBoard imports the plugin module at start-up and must not pay for it.
    from tb_saliency.proto import saliency_pb2

    return saliency_pb2


def create_summary_metadata(kind, *, map_keys=(), class_names=(), num_samples=0, description=""):
    """SummaryMetadata that makes both TensorBoard loaders keep a tag as this plugin's blob sequence."""
    pb2 = _pb2()
    content = pb2.PluginData(
        version=FORMAT_VERSION,
        kind=pb2.Kind.Value(kind.upper()),
        map_keys=list(map_keys),
        class_names=list(class_names),
        num_samples=num_samples,
    )
    return summary_pb2.SummaryMetadata(
        summary_description=description,
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=content.SerializeToString()
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )


def check_version(version, what):
    if version > FORMAT_VERSION:
        raise FormatError(
            f"{what} was written by a newer tb_saliency (format version {version}); this one reads "
            f"versions up to {FORMAT_VERSION}: upgrade tb_saliency (pip install -U tb_saliency)"
        )


def parse_plugin_data(content):
    """Decodes `plugin_data.content` into a JSON-ready dict; FormatError when it cannot."""
    pb2 = _pb2()
    message = pb2.PluginData()
    try:
        message.ParseFromString(bytes(content))
    except Exception as error:  # protobuf raises its own DecodeError, and others on garbage
        raise FormatError(f"tag metadata is not a tb_saliency PluginData message: {error}") from error
    check_version(message.version, "this tag's metadata")
    return {
        "version": message.version,
        "kind": KIND_NAMES.get(message.kind, "unknown"),
        "map_keys": list(message.map_keys),
        "class_names": list(message.class_names),
        "num_samples": message.num_samples,
    }
