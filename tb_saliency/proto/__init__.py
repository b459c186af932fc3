"""The protobuf schema of the stored format (`saliency.proto`) and its generated module.

Import `saliency_pb2` only from `tb_saliency.format`, and only when a frame is read or written, so
that TensorBoard's start-up never pays for it.
"""
