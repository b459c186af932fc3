"""The text and signal demo: it trains both models, logs token and signal frames over training, and the
maps move onto what decides the class."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tb_saliency

ROOT = Path(__file__).resolve().parent.parent


def _demo():
    """The demo module, imported when a test runs: it needs torch, which the viewer-only stack lacks."""
    sys.path.insert(0, str(ROOT))
    from demo import train_text

    return train_text


def _share(maps, masks):
    values = np.abs(np.asarray(maps, dtype=np.float64)).reshape(len(masks), -1)
    return float(((values * masks).sum(1) / values.sum(1)).mean())


@pytest.mark.training
def test_the_text_demo_logs_token_and_signal_frames_and_the_keyword_gains_share(tmp_path):
    train_text = _demo()
    logdir = tmp_path / "runs" / "demo_text"
    result = subprocess.run([sys.executable, "demo/train_text.py", "--logdir", str(logdir), "--steps", "60",
                             "--every", "30"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]

    text = tb_saliency.read(logdir / "text", tag="text")
    assert [f.step for f in text] == [1, 30, 60]
    first, last = text[0], text[-1]
    assert set(last.maps) == set(train_text.METHODS)
    assert all(len(row) == train_text.WORDS for row in last.tokens)
    # The keyword is each probe sentence's one token from KEYWORDS, and it decides the label.
    keyword = np.array([[token in train_text.KEYWORDS for token in row] for row in last.tokens], dtype=float)
    assert keyword.sum(1).tolist() == [1.0] * len(last.tokens)
    assert [train_text.KEYWORDS[label] for label in last.labels] == [
        row[int(np.argmax(mask))] for row, mask in zip(last.tokens, keyword)]
    assert _share(last.maps["integrated_gradients"], keyword) > _share(first.maps["integrated_gradients"], keyword) + 0.1

    signal = tb_saliency.read(logdir / "signal", tag="signal")
    assert [f.step for f in signal] == [1, 30, 60]
    assert signal[-1].sample_rate == train_text.SAMPLE_RATE
    assert signal[-1].signals.shape == (6, 1, train_text.LENGTH)
    assert np.asarray(signal[-1].maps["input_x_gradient"]).reshape(6, -1).shape[1] == train_text.LENGTH
    assert "keyword share" in result.stderr and "tensorboard --logdir" in result.stderr
