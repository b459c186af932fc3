"""Regenerates `saliency_pb2.py` from `saliency.proto`: `python -m tb_saliency.proto.generate`.

Generated code must never be newer than the oldest protobuf runtime the package supports (4.25), so
this insists on the protoc that grpcio-tools 1.62.3 bundles (libprotoc 25.1). Code it generates runs
on protobuf 4.25 through 7.x. grpcio-tools 1.62.3 itself asks for protobuf < 5 but only needs it at
run time for gRPC stubs, which are not generated here; install it beside a newer protobuf with
`pip install --no-deps grpcio-tools==1.62.3` (.ci/run does).
"""

import pathlib
import shutil
import sys
import tempfile

PROTO_DIR = pathlib.Path(__file__).resolve().parent
# Compiled relative to the directory above the package, so the descriptor pool registers the file as
# "tb_saliency/proto/saliency.proto" and cannot clash with another project's "saliency.proto".
PROTO_ROOT = PROTO_DIR.parent.parent
PROTO_FILE = "tb_saliency/proto/saliency.proto"
GENERATED_FILE = "saliency_pb2.py"
REQUIRED_GRPCIO_TOOLS = "1.62.3"
OLDEST_PROTOBUF = "4.25"


def generate(output_dir: pathlib.Path) -> pathlib.Path:
    """Writes the generated module into `output_dir` and returns its path."""
    install = f"pip install --no-deps grpcio-tools=={REQUIRED_GRPCIO_TOOLS}"
    try:
        from importlib.metadata import version

        from grpc_tools import protoc
    except ImportError as error:
        raise SystemExit(f"regenerating {GENERATED_FILE} needs grpcio-tools ({install}): {error}") from error
    found = version("grpcio-tools")
    if found != REQUIRED_GRPCIO_TOOLS:
        raise SystemExit(
            f"regenerating {GENERATED_FILE} needs grpcio-tools=={REQUIRED_GRPCIO_TOOLS} so that the "
            f"generated code runs on protobuf {OLDEST_PROTOBUF}; found grpcio-tools=={found} ({install})"
        )
    with tempfile.TemporaryDirectory() as scratch:
        status = protoc.main(
            ["protoc", f"--proto_path={PROTO_ROOT}", f"--python_out={scratch}", PROTO_FILE]
        )
        if status != 0:
            raise SystemExit(f"protoc failed with status {status}")
        output_dir.mkdir(parents=True, exist_ok=True)
        written = output_dir / GENERATED_FILE
        shutil.copyfile(pathlib.Path(scratch, PROTO_FILE).with_name(GENERATED_FILE), written)
    return written


if __name__ == "__main__":
    written = generate(PROTO_DIR)
    print(f"wrote {written}", file=sys.stderr)
