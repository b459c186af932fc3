"""A method registered from outside the package is drawn in the Saliency tab like a built-in one."""

import numpy as np
import pytest
import torch

import tb_saliency
from tests.browser.conftest import loaded_once
from tests.support.registry import custom_methods

CUSTOM = ["gradcam_max", "gradient_squared", "blackout"]


@pytest.fixture(scope="module")
def custom_url(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("custom")
    with custom_methods() as module:
        model = module.linear_model(size=8)
        images = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        writer = tb_saliency.SummaryWriter(str(logdir / "mine"))
        try:
            tb_saliency.log_saliency(writer, "probe", model, images, methods=["gradient"] + CUSTOM, layer="0",
                                     target=[0, 2], global_step=0)
        finally:
            writer.close()
    with loaded_once(logdir) as url:
        yield url


def test_a_registered_methods_columns_are_drawn(open_tab, custom_url):
    tab = open_tab(custom_url)
    card = tab.card("mine")
    card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
    assert card.locator("thead .tbs-col-key").all_inner_texts() == ["input", "gradient"] + CUSTOM
    tab.settled()
    # Each custom column is painted: its tiles differ from one another and from the blank canvas.
    pictures = [tab.tile_pixels(tab.tile(card, 0, column)) for column in range(1, 1 + len(CUSTOM))]
    assert all(p["width"] > 0 and p["height"] > 0 for p in pictures)
    assert len({p["hash"] for p in pictures}) == len(CUSTOM), pictures
    assert all(np.isfinite(p["mean"]) for p in pictures)
    assert not tab.errors, tab.errors
