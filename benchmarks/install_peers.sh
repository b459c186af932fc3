#!/usr/bin/env bash
# Installs the peers benchmarks/attribution.py compares against, leaving the installed torch alone:
# captum into the current Python, pytorch-grad-cam without its dependencies into $TB_SALIENCY_PEERS.
set -euo pipefail
cd "$(dirname "$0")"
PEERS="${TB_SALIENCY_PEERS:-$HOME/.cache/tb_saliency_peers}"
python3 -c "import torch" || { echo "install torch first (the CPU build: see .ci/run)" >&2; exit 1; }
python3 -m pip install -q --disable-pip-version-check -r requirements.txt
python3 -m pip install -q --disable-pip-version-check --no-deps --target "$PEERS" -r requirements-grad-cam.txt
echo "peers installed; run: python3 benchmarks/attribution.py --peers $PEERS"
