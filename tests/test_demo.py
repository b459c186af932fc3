"""The demo of the README's first command: it trains, logs saliency with its metrics, and reports."""

import subprocess
import sys
from pathlib import Path

import pytest

import tb_saliency
from tests.support.events import summary_tags

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.training
def test_the_demo_logs_maps_metrics_and_the_sanity_check(tmp_path):
    logdir = tmp_path / "runs" / "demo"
    result = subprocess.run([sys.executable, "demo/train.py", "--logdir", str(logdir), "--steps", "40", "--every", "20"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    frames = tb_saliency.read(logdir)
    probe = [f for f in frames if f.tag == "probe"]
    assert [f.step for f in probe] == [1, 20, 40]
    assert set(probe[-1].metrics["gradcam"]) == {"deletion", "pointing_game"}
    assert probe[-1].metrics["gradcam"]["deletion"]["options"]["relative"] is True
    [cascade] = [f for f in frames if f.tag == "probe/randomisation"]
    assert cascade.step == 40 and cascade.randomisation["layers"]
    assert {"probe/activations", "probe/ground_truth"} <= {f.tag for f in frames}
    tags = summary_tags(logdir)
    assert "probe/pointing_game/gradcam" in tags and "probe/deletion/integrated_gradients" in tags
    assert "relative deletion AUC" in result.stderr and "tensorboard --logdir" in result.stderr
