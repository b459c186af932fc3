"""The committed saliency_pb2.py is what the committed .proto generates, with the pinned protoc."""

import pathlib

from tb_saliency.proto import generate


def test_committed_generated_code_is_fresh(tmp_path):
    regenerated = generate.generate(tmp_path).read_text()
    committed = (generate.PROTO_DIR / generate.GENERATED_FILE).read_text()
    assert committed == regenerated, (
        "tb_saliency/proto/saliency_pb2.py is stale: run `python -m tb_saliency.proto.generate` "
        "and commit the result"
    )


def test_generated_code_targets_the_oldest_supported_protobuf():
    committed = pathlib.Path(generate.PROTO_DIR / generate.GENERATED_FILE).read_text()
    assert "# Protobuf Python Version: 4.25.1" in committed
