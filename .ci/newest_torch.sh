#!/usr/bin/env bash
# The engine, metrics, writer and format tests on the newest torch that installs here (torch 2.14.1,
# torchvision 0.29.1), in a venv of their own, against the package as installed; then the tests
# marked `torchvision`. .ci/run calls this after the tests on the pinned torch; it also runs alone:
#   bash .ci/newest_torch.sh            # a fresh venv in a temporary folder, removed at the end
#   bash .ci/newest_torch.sh DIR        # the venv in DIR, created there if missing and kept
# (torch's CUDA build from PyPI fills about 5.5 GB, and its CPU side is what these tests use.)
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH=2.14.1
TORCHVISION=0.29.1

work=$(mktemp -d)
if [ $# -ge 1 ]; then
  venv=$1
else
  venv=$work/venv
fi
trap 'rm -rf "$work"' EXIT

echo "--- engine, metrics, writer and format tests on torch $TORCH, torchvision $TORCHVISION"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
# torch and torchvision from one release pair: torchvision's wheels load only beside the torch they
# were built against.
"${pip[@]}" "torch==$TORCH" "torchvision==$TORCHVISION"
# The test extra minus what pins or pulls a stack of its own (quantus, lightning, playwright): the
# tests that need quantus are deselected below by their marker, and the slow ones (lightning, a
# browser, a tensorboard process) by `slow`. transformers, tokenizers and captum come after torch,
# so they leave this torch in place: the token engine, its metrics and the peers' parity run here too.
"${pip[@]}" pytest tensorboardX jsonschema scipy matplotlib fsspec captum transformers tokenizers
# pip reinstalls a local folder every time, so a kept venv gets the current sources.
"${pip[@]}" .
# The protoc that regenerates saliency_pb2.py for protobuf 4.25+; the staleness test runs it.
"${pip[@]}" --no-deps grpcio-tools==1.62.3
"$venv/bin/python" -c "import torch, torchvision; print('torch', torch.__version__, '· torchvision', torchvision.__version__)"

# The tests run from a copy, away from the source tree, so that they import the package as installed.
cp -r tests pytest.ini README.md "$work/"
mkdir -p "$work/frontend/test" && cp -r frontend/test/fixtures "$work/frontend/test/"
cd "$work"
pytest=("$venv/bin/python" -m pytest -q -p no:cacheprovider)
# The folders whose tests need only what this venv holds (less the markers deselected below); the
# others need lightning, transformers, Chromium, a tensorboard process or the docs folder.
folders=(tests/attribution tests/metrics tests/writer tests/format tests/reading)
"${pytest[@]}" "${folders[@]}" -m "not slow and not quantus and not torchvision"

echo "--- tests marked torchvision, on torch $TORCH, torchvision $TORCHVISION"
# pytest exits with 5 when no test is selected: until a test carries the marker, that is no failure.
status=0
"${pytest[@]}" "${folders[@]}" -m torchvision || status=$?
if [ "$status" = 5 ]; then
  echo "no test is marked torchvision yet"
elif [ "$status" != 0 ]; then
  exit "$status"
fi
