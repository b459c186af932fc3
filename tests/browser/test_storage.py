"""Maps stored compressed, as 8-bit levels, and as format version 2 wrote them (uncompressed) are drawn
alike: the tab inflates, decodes and says which column is 8-bit."""

import numpy as np
import pytest

import tb_saliency
from tests.browser.conftest import loaded_once
from tests.support import raw, viewer_logdirs

RUNS = ("default", "eight", "version2")


def _maps():
    # A smooth bump: 8-bit levels draw within one colour level of float16's picture.
    y, x = np.mgrid[0:16, 0:16] / 15.0
    bump = np.exp(-((x - 0.3) ** 2 + (y - 0.6) ** 2) / 0.05)
    return np.stack([bump, bump[::-1] * 1e-6])


@pytest.fixture(scope="module")
def storage_url(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("storage")
    images = viewer_logdirs.probe_images(2, size=16)
    for run, dtype in (("default", "float16"), ("eight", "uint8")):
        writer = tb_saliency.SummaryWriter(str(logdir / run))
        try:
            tb_saliency.log_saliency_map(writer, "probe", images, {"bump": _maps()}, global_step=0, dtype=dtype)
        finally:
            writer.close()
    with raw.writing_version_2(), viewer_logdirs.RunWriter(logdir / "version2") as writer:
        writer.saliency("probe", images, {"bump": _maps()}, step=0, wall_time=1.0)
    with loaded_once(logdir) as url:
        yield url


def test_compressed_8_bit_and_version_2_maps_draw_alike(open_tab, storage_url):
    tab = open_tab(storage_url)
    pictures = {}
    for run in RUNS:
        card = tab.card(run)
        card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
        subs = card.locator("thead th").all_inner_texts()
        assert any("8-bit" in text for text in subs) == (run == "eight"), (run, subs)
    tab.settled()
    for run in RUNS:
        card = tab.card(run)
        pictures[run] = [tab.tile_pixels(tab.tile(card, sample, 0)) for sample in (0, 1)]
    for run in RUNS:
        for sample in (0, 1):
            got, want = pictures[run][sample], pictures["default"][sample]
            assert got["variance"] > 10, (run, sample, got)  # the bump is drawn, not a flat tile
            for channel in ("r", "g", "b"):
                assert abs(got[channel] - want[channel]) < 1.5, (run, sample, channel, got, want)
    assert not tab.errors, tab.errors
