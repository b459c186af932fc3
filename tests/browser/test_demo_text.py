"""The text demo's logdir (a short run) in the tab, in real Chromium against a real TensorBoard: the
token card draws the probe's words as data-token elements, and the signal card draws its traces."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import loaded_once

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_text_url(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("demo_text")
    result = subprocess.run([sys.executable, "demo/train_text.py", "--logdir", str(logdir), "--steps", "4",
                             "--every", "2"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with loaded_once(logdir, samples_per_plugin="saliency=0") as url:
        yield url


def test_the_demo_text_and_signal_cards_are_drawn(open_tab, demo_text_url):
    tab = open_tab(demo_text_url, viewport=(1400, 1000))
    card = tab.card("text", "text")
    card.scroll_into_view_if_needed()
    card.locator("[data-token]").first.wait_for(timeout=20_000)
    tab.settled()
    line = card.locator("tbody tr[data-sample='0'] .tbs-seq-line[data-column='0']")
    words = line.locator("[data-token]").evaluate_all("els => els.map(e => e.textContent)")
    assert len(words) == 8 and sum(w in ("good", "bad") for w in words) == 1, words

    signal = tab.card("signal", "signal")
    signal.scroll_into_view_if_needed()
    signal.locator("canvas.tbs-signal-plot").first.wait_for(timeout=20_000)
    assert signal.locator("canvas.tbs-signal-plot").count() >= 1
