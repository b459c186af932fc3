"""Raw saliency summaries, for frames the public writer never writes: damaged, or from a newer
tb_saliency, as a broken file or a future version would leave them."""

from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from torch.utils.tensorboard import SummaryWriter as TorchWriter

from tb_saliency.format.metadata import FORMAT_VERSION
from tb_saliency.proto import saliency_pb2

CURRENT_PLUGIN_DATA = saliency_pb2.PluginData(version=FORMAT_VERSION, kind=1).SerializeToString()
NEWER_PLUGIN_DATA = saliency_pb2.PluginData(version=FORMAT_VERSION + 1).SerializeToString()
NEWER_HEADER = saliency_pb2.FrameHeader(version=FORMAT_VERSION + 1).SerializeToString()
DAMAGED_HEADER = b"\xff\xfe garbage"


def write_raw_frame(run_dir, tag, blobs, plugin_content=CURRENT_PLUGIN_DATA, step=0):
    """Writes one blob-sequence value under this plugin's name, blobs exactly as given."""
    value = summary_pb2.Summary.Value(
        tag=tag,
        metadata=summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="saliency",
                                                               content=plugin_content),
            data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE),
        tensor=tensor_pb2.TensorProto(
            dtype=types_pb2.DT_STRING, string_val=blobs,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(blobs))])))
    writer = TorchWriter(str(run_dir))
    try:
        writer._get_file_writer().add_summary(summary_pb2.Summary(value=[value]), step)
    finally:
        writer.close()
