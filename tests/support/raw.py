"""Raw saliency summaries, for frames the public writer never writes: damaged, hostile, or from a
newer tb_saliency, as a broken file, an attacker or a future version would leave them. Written with
TensorBoard's TF-free EventFileWriter: no torch."""

import contextlib

from tensorboard.compat.proto import summary_pb2

from tb_saliency.format.metadata import FORMAT_VERSION, create_summary_metadata
from tb_saliency.proto import saliency_pb2
from tests.support.viewer_logdirs import RunWriter, string_tensor

CURRENT_PLUGIN_DATA = saliency_pb2.PluginData(version=FORMAT_VERSION, kind=1).SerializeToString()
ACTIVATIONS_PLUGIN_DATA = saliency_pb2.PluginData(version=FORMAT_VERSION, kind=2).SerializeToString()
NEWER_PLUGIN_DATA = saliency_pb2.PluginData(version=FORMAT_VERSION + 1).SerializeToString()
NEWER_HEADER = saliency_pb2.FrameHeader(version=FORMAT_VERSION + 1).SerializeToString()
DAMAGED_HEADER = b"\xff\xfe garbage"


def blob_value(tag, blobs, plugin_content=CURRENT_PLUGIN_DATA, shape=None, with_metadata=True):
    """A blob-sequence value under this plugin's name, blobs exactly as given; `shape` () writes a
    rank-0 tensor, (1000,) one that claims more blobs than it holds."""
    value = summary_pb2.Summary.Value(tag=tag, tensor=string_tensor(blobs, shape))
    if with_metadata:
        value.metadata.CopyFrom(summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="saliency", content=plugin_content),
            data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE))
    return value


def index_value(tag, blob, with_metadata=True):
    """A value of `tag`'s INDEX series holding `blob` as its FrameIndex bytes."""
    value = summary_pb2.Summary.Value(tag="_saliency_index/" + tag, tensor=string_tensor([blob], shape=()))
    if with_metadata:
        value.metadata.CopyFrom(create_summary_metadata("index"))
    return value


def write_values(run_dir, values_by_step):
    """Writes [(step, wall_time, [Summary.Value, ...]), ...] into one new event file of `run_dir`."""
    with RunWriter(run_dir) as writer:
        for step, wall_time, values in values_by_step:
            writer.summary(summary_pb2.Summary(value=list(values)), step, wall_time)


def write_raw_frame(run_dir, tag, blobs, plugin_content=CURRENT_PLUGIN_DATA, step=0, wall_time=1.0, shape=None):
    """Writes one blob-sequence value under this plugin's name, blobs exactly as given."""
    write_values(run_dir, [(step, wall_time, [blob_value(tag, blobs, plugin_content, shape)])])


@contextlib.contextmanager
def writing_version_2():
    """Inside it, frames are written as format version 2 (tb_saliency before compression) wrote
    them: the same messages, version 2, array blobs as plain values. For logs older readers left."""
    from tb_saliency.format import metadata
    from tb_saliency.format.frame import writing

    saved = metadata.FORMAT_VERSION, writing.DEFAULT_COMPRESSION
    metadata.FORMAT_VERSION, writing.DEFAULT_COMPRESSION = 2, "none"
    try:
        yield
    finally:
        metadata.FORMAT_VERSION, writing.DEFAULT_COMPRESSION = saved
