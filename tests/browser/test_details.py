"""The details: the hover read-out, colour bars of what is drawn, the percentile as it is typed, the
enlarged view and its keys, evolution, comparison across runs, sample filters and the exports."""

import json
import re

import numpy as np

from tests.browser.conftest import DEMO_RUNS, DEMO_STEPS


def step_of(card):
    return int(card.locator(".tbs-step strong").inner_text())


def ready(tab, run=DEMO_RUNS[0]):
    card = tab.card(run)
    card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
    tab.settled()
    return card


def test_hover_read_out_floats_beside_the_cursor_inside_the_viewport(open_tab, demo_url):
    tab = open_tab(demo_url, viewport=(1400, 900))
    card = ready(tab)
    tile = tab.tile(card, 0, 1)  # the 6×6 Grad-CAM map
    box = tile.bounding_box()
    tab.page.mouse.move(box["x"] + 5, box["y"] + 5)
    tooltip = tab.frame.locator(".tbs-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert re.search(r"sample 0 · gradcam\npixel \(\d+, \d+\) · cell \(0, 0\)\nvalue -?\d", text), text
    tip = tooltip.bounding_box()
    assert abs(tip["x"] - (box["x"] + 5)) < 40 and abs(tip["y"] - (box["y"] + 5)) < 40, (tip, box)
    # Near the bottom-right corner of the window it flips to stay inside.
    last = tab.card(DEMO_RUNS[1])
    last_tile = tab.tile(last, 3, 1)
    last_tile.scroll_into_view_if_needed()
    lb = last_tile.bounding_box()
    x, y = lb["x"] + lb["width"] - 2, lb["y"] + lb["height"] - 2
    tab.page.mouse.move(x, y)
    tab.wait_until(lambda: "sample 3" in tooltip.inner_text(), "the read-out follows the cursor to sample 3")
    tip = tooltip.bounding_box()
    viewport = tab.page.viewport_size
    assert tip["x"] + tip["width"] <= viewport["width"] and tip["y"] + tip["height"] <= viewport["height"], tip
    assert tip["x"] + tip["width"] <= x + 1, "to the left of the cursor when there is no room on the right"
    assert "sample 3" in tooltip.inner_text()
    tab.page.mouse.move(5, 5)
    tooltip.wait_for(state="hidden")


def test_colour_bars_label_the_range_each_tile_is_drawn_with(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = ready(tab)
    tab.frame.get_by_label("Normalise").select_option("map")
    tab.settled()
    head = card.locator("thead .tbs-colorbar").first
    # Per map: no shared numbers in the header (there is no shared range); each tile says its own.
    assert head.locator(".tbs-cb-lo").is_hidden() and head.locator(".tbs-cb-hi").is_hidden()
    captions = [card.locator(f"tbody tr[data-sample='{i}'] .tbs-tile-range").first.inner_text() for i in range(4)]
    assert all(re.fullmatch(r"\S+ … \S+", c) for c in captions), captions
    assert len(set(captions)) > 1, "each sample's map has its own range"
    tab.tile(card, 2, 0).hover()
    assert f"colour range {captions[2]}" in tab.frame.locator(".tbs-tooltip").inner_text()
    # Per card: one range for the column, in the header; tiles say nothing of their own.
    tab.frame.get_by_label("Normalise").select_option("card")
    head.locator(".tbs-cb-lo").filter(has_text=re.compile(r"\S")).wait_for()
    lo, hi = head.locator(".tbs-cb-lo").inner_text(), head.locator(".tbs-cb-hi").inner_text()
    assert re.fullmatch(r"-?[\d.e+-]+", lo) and re.fullmatch(r"-?[\d.e+-]+", hi), (lo, hi)
    assert card.locator(".tbs-tile-range").first.is_hidden()
    tab.tile(card, 1, 0).hover()
    assert f"colour range {lo} … {hi}" in tab.frame.locator(".tbs-tooltip").inner_text()
    tab.frame.get_by_label("Normalise").select_option("map")


def test_the_percentile_applies_as_it_is_typed(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = ready(tab)
    field = tab.frame.get_by_label("Percentile", exact=True)
    tile = tab.tile(card, 0, 0)
    field.click()
    field.press("End")
    field.press("Backspace")  # "9": not a percentile the clipping takes (50–100): nothing redraws
    tab.wait_until(lambda: field.get_attribute("aria-invalid") == "true", "9 is marked as no percentile")
    before = tab.tile_pixels(tile)
    field.press("0")  # "90", without Enter or leaving the field
    after = tab.wait_tile_changed(tile, before, "typing 90 did not redraw")
    assert field.get_attribute("aria-invalid") == "false"
    assert after["mean"] > before["mean"], "clipping at the 90th percentile brightens the map"
    field.press("Backspace")
    field.press("9")
    tab.wait_tile_changed(tile, after, "typing 99 did not redraw")


def test_the_enlarged_view_steps_through_maps_samples_and_steps_with_the_keys(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = ready(tab)
    tab.tile(card, 0, 0).click()
    dialog = tab.frame.locator("dialog.tbs-dialog")
    dialog.wait_for()

    def shows(text):
        tab.frame.wait_for_function("(t) => document.querySelector('dialog.tbs-dialog h2').textContent.includes(t)", arg=text)
        dialog.locator(".tbs-figure canvas").first.wait_for()

    from tests.support.tensorboard import get_json

    stored = [s["step"] for s in get_json(f"{demo_url}data/plugin/saliency/steps?run={DEMO_RUNS[0]}&tag=probe")["steps"]]
    shows(f"step {stored[-1]} · sample 0 · gradient")
    assert dialog.locator(".tbs-figure").count() == 4, "input, map, overlay, masked"
    assert dialog.get_by_role("button", name=re.compile("Download .* PNG")).count() == 4
    tab.page.keyboard.press("ArrowRight")
    shows("sample 0 · gradcam")
    tab.page.keyboard.press("ArrowDown")
    shows("sample 1 · gradcam")
    tab.page.keyboard.press("PageUp")
    shows(f"step {stored[-2]} · sample 1 · gradcam")
    tab.page.keyboard.press("ArrowLeft")
    shows("sample 1 · gradient")
    assert "gradient" in dialog.locator(".tbs-figure figcaption").nth(1).inner_text()
    with tab.page.expect_download() as download:
        dialog.get_by_role("button", name="Download overlay, opacity 50% as PNG").click()
    assert download.value.suggested_filename.endswith("_overlay.png")
    tab.page.keyboard.press("Escape")
    dialog.wait_for(state="detached", timeout=5_000)
    assert not tab.errors, tab.errors


def test_compare_shows_every_map_of_every_run(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = ready(tab)
    tab.tile(card, 2, 1).click()
    dialog = tab.frame.locator("dialog.tbs-dialog")
    dialog.get_by_role("tab", name="Compare runs").click()
    table = dialog.locator("table.tbs-compare")
    table.locator("tbody tr").first.wait_for()
    assert [r.get_attribute("data-run") for r in table.locator("tbody tr").all()] == list(DEMO_RUNS)
    assert table.locator("thead th").all_inner_texts()[1:] == ["input", "gradient", "gradcam"]
    for row in table.locator("tbody tr").all():
        assert row.locator(".tbs-big canvas.tbs-layer").count() == 2, "every map, not one"
        assert f"step {DEMO_STEPS[-1]}" in row.locator("th").inner_text()
        assert "pred" in row.locator("th").inner_text()


def test_evolution_is_one_click_from_any_tile(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = ready(tab)
    tile = tab.tile(card, 1, 1)
    tile.hover()
    tile.get_by_role("button", name=re.compile("^Evolution of sample 1")).click()
    dialog = tab.frame.locator("dialog.tbs-dialog")
    assert dialog.get_by_role("tab", name="Evolution").get_attribute("aria-selected") == "true"
    table = dialog.locator("table.tbs-evolution")
    table.locator("tbody tr").first.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 10, "one row per stored step"
    tab.frame.wait_for_function("() => document.querySelectorAll('table.tbs-evolution tbody tr .tbs-big canvas.tbs-layer').length === 20")
    from tests.support.tensorboard import get_json

    stored = get_json(f"{demo_url}data/plugin/saliency/steps?run={DEMO_RUNS[0]}&tag=probe")["steps"]
    assert [r.get_attribute("data-step") for r in rows.all()] == [str(s["step"]) for s in stored]
    assert table.locator("thead th").all_inner_texts()[1:] == ["input", "gradient", "gradcam"]
    for row in rows.all():
        label = row.locator("th").inner_text()
        assert re.search(r"step \d+\npred \w+ · score 0\.\d+", label), label
    assert rows.locator(".tbs-wrongmark").count() >= 1, "wrong predictions are marked per step"


def test_only_wrong_predictions_and_the_sample_picker(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = ready(tab)
    wrong = [r.get_attribute("data-sample") for r in card.locator("tbody tr.tbs-wrong").all()]
    assert wrong
    tab.frame.get_by_label("Only wrong predictions").check()
    tab.frame.wait_for_function("() => document.querySelectorAll('.tbs-card tbody tr:not(.tbs-wrong)').length === 0")
    assert [r.get_attribute("data-sample") for r in card.locator("tbody tr").all()] == wrong
    tab.frame.get_by_label("Only wrong predictions").uncheck()
    picker = tab.frame.get_by_label("Samples", exact=True)
    picker.fill("1, 3")
    tab.frame.wait_for_function("() => document.querySelectorAll('.tbs-card')[0].querySelectorAll('tbody tr').length === 2")
    assert [r.get_attribute("data-sample") for r in card.locator("tbody tr").all()] == ["1", "3"]
    picker.fill("1, x")
    assert picker.get_attribute("aria-invalid") == "true"
    assert '"x" is not a sample number' in tab.frame.locator(".tbs-filter-error").filter(has_text="Samples").inner_text()
    assert card.locator("tbody tr").count() == 2, "an invalid list changes nothing"
    picker.fill("")
    tab.frame.wait_for_function("() => document.querySelectorAll('.tbs-card')[0].querySelectorAll('tbody tr').length === 4")


def test_a_steps_raw_values_export_as_npz_and_a_card_as_png(open_tab, demo_url, tmp_path):
    from PIL import Image

    tab = open_tab(demo_url)
    card = ready(tab)
    link = card.get_by_role("link", name="Download this step's raw values (.npz)")
    assert link.get_attribute("href").startswith("./export?")
    with tab.page.expect_download() as download:
        link.click()
    path = tmp_path / "step.npz"
    download.value.save_as(path)
    archive = np.load(path)
    assert archive["maps/gradient"].shape == (4, 48, 48)
    assert archive["maps/gradcam"].shape == (4, 6, 6)
    header = json.loads(str(archive["header.json"]))
    assert header["step"] == step_of(card)
    assert list(archive["labels"]) == [0, 1, 2, 0]
    # The card as one PNG, as it shows.
    with tab.page.expect_download() as download:
        card.get_by_role("button", name="Download this card as PNG").click()
    png = tmp_path / "card.png"
    download.value.save_as(png)
    image = np.asarray(Image.open(png).convert("RGB"), np.float64)
    box = card.bounding_box()
    assert abs(image.shape[1] - box["width"]) <= 2 and abs(image.shape[0] - box["height"]) <= 2, (image.shape, box)
    assert image.std() > 20, "the card's pictures are in it"
    assert download.value.suggested_filename.startswith(f"{DEMO_RUNS[0]}_probe_step{DEMO_STEPS[-1]}")
