"""The Saliency tab in real Chromium against a real TensorBoard: what a user sees and does."""

import re

from tests.browser.conftest import DEMO_RUNS, DEMO_STEPS, EVIL, copy_screenshot, plugin_frame


def step_of(card):
    return int(card.locator(".tbs-step strong").inner_text())


def wait_for_grid(card):
    card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)


def test_cards_render_maps_over_inputs(open_tab, demo_url, tmp_path):
    tab = open_tab(demo_url, viewport=(1600, 1000))
    for run in DEMO_RUNS:
        card = tab.card(run)
        wait_for_grid(card)
        assert card.locator("tbody tr").count() == 4, "one row per sample"
        headers = card.locator("thead th").all_inner_texts()
        assert any("gradient" in h for h in headers) and any("gradcam" in h for h in headers)
        assert step_of(card) == DEMO_STEPS[-1], "a card opens on the newest step"
    tab.settled()
    card = tab.card(DEMO_RUNS[0])
    stats = tab.tile_pixels(tab.tile(card, 0, 0))
    assert stats["variance"] > 50, f"map tile looks blank: {stats}"
    assert stats["grey"] < 0.5, "the overlay is coloured by the colormap"
    assert tab.tile_pixels(tab.tile(card, 0, -1))["variance"] > 50, "the input is drawn"
    labels = card.locator("tbody th").first.inner_text()
    assert "label" in labels and "circle" in labels, labels
    assert card.locator("tr.tbs-wrong").count() >= 1, "wrong predictions are marked"
    assert "✗ wrong" in card.locator("tr.tbs-wrong").first.inner_text()
    assert card.locator(".tbs-colorbar").count() == 2, "a colour bar per map column"
    # Every picture of a card is on one canvas: the page holds one per card on or near the screen.
    assert tab.frame.locator(".tbs-card canvas").count() == tab.frame.evaluate("tbsDebug.liveCards()")
    assert not tab.errors, tab.errors
    path = tmp_path / "saliency-tab.png"
    tab.page.screenshot(path=str(path))
    copy_screenshot(path, "saliency-tab.png")


def test_step_slider_moves_and_keyboard_arrows(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = tab.card(DEMO_RUNS[0])
    wait_for_grid(card)
    tab.settled()
    before = tab.tile_pixels(tab.tile(card, 0, 0))
    slider = card.locator(".tbs-step input[type=range]")
    assert slider.get_attribute("aria-label")
    slider.focus()
    tab.page.keyboard.press("Home")
    first = step_of(card)
    assert first < DEMO_STEPS[-1]
    tab.wait_tile_changed(tab.tile(card, 0, 0), before)
    # Arrows on the focused card (not only its slider) move its step too.
    card.focus()
    tab.page.keyboard.press("ArrowRight")
    assert step_of(card) > first
    # A card the user moved keeps its step; the other card still shows the newest one.
    assert step_of(tab.card(DEMO_RUNS[1])) == DEMO_STEPS[-1]


def test_link_steps_moves_every_card(open_tab, demo_url):
    tab = open_tab(demo_url)
    a, b = tab.card(DEMO_RUNS[0]), tab.card(DEMO_RUNS[1])
    wait_for_grid(a)
    wait_for_grid(b)
    tab.settled()
    tab.frame.get_by_label("Link steps").check()
    a.locator(".tbs-step input[type=range]").focus()
    tab.page.keyboard.press("Home")
    assert step_of(b) == step_of(a) < DEMO_STEPS[-1]


def blob_fetches(tab):
    """Requests for step data of any kind (the tab asks /step_data; /frame and /blob are for others)."""
    return len(tab.plugin_requests("step_data") + tab.plugin_requests("frame") + tab.plugin_requests("blob"))


def test_a_cards_step_is_one_request_besides_its_step_list(open_tab, demo_url):
    """Two requests per card step, as the Images plugin: /steps, then /step_data for the step shown
    (its header and every blob); neighbouring steps are prefetched the same way, each once."""
    tab = open_tab(demo_url)
    card = tab.card(DEMO_RUNS[0])
    wait_for_grid(card)
    tab.settled()
    run = DEMO_RUNS[0]
    shown = step_of(card)
    assert tab.plugin_requests("frame") == [] and tab.plugin_requests("blob") == []
    assert [r for r in tab.plugin_requests("steps") if r["run"] == run]
    asked = [r for r in tab.plugin_requests("step_data") if r["run"] == run and r["tag"] == "probe"]
    assert [r for r in asked if int(r["step"]) == shown] == [{"run": run, "tag": "probe", "step": str(shown)}]
    # The step before was prefetched: moving to it asks nothing more.
    before = len(tab.requests)
    card.locator(".tbs-step input[type=range]").focus()
    tab.page.keyboard.press("ArrowLeft")
    assert step_of(card) < shown
    tab.settled()
    steps_asked = [int(r["step"]) for r in tab.plugin_requests("step_data") if r["run"] == run and r["tag"] == "probe"]
    assert steps_asked.count(step_of(card)) == 1 and steps_asked.count(shown) == 1
    assert len(steps_asked) == len(set(steps_asked)), "each step is requested once"
    new = step_of(card)
    asked_new = [i for i, u in enumerate(tab.requests)
                 if "/step_data?" in u and f"run={run}&tag=probe&" in u and u.endswith(f"&step={new}")]
    assert len(asked_new) == 1 and asked_new[0] < before, "the step before was prefetched, once"
    assert tab.plugin_requests("frame") == [] and tab.plugin_requests("blob") == []
    assert not tab.errors, tab.errors


def test_each_display_setting_changes_the_picture_without_fetching(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = tab.card(DEMO_RUNS[0])
    wait_for_grid(card)
    gradient = tab.tile(card, 0, 0)
    cam = tab.tile(card, 0, 1)
    # The oldest stored step: the tag's later steps are stronger, so "per tag" must differ from "per card".
    tab.settled()
    before = tab.tile_pixels(gradient)
    card.locator(".tbs-step input[type=range]").focus()
    tab.page.keyboard.press("Home")
    tab.wait_tile_changed(gradient, before)
    tab.settled()
    fetched = blob_fetches(tab)

    def change(tile, label, value):
        """Sets one control and returns the tile's pixels, failing unless they changed."""
        before = tab.tile_pixels(tile)
        control = tab.frame.get_by_label(label, exact=True)
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
        return tab.wait_tile_changed(tile, before, f"setting {label} to {value} left the picture as it was")

    assert change(gradient, "Opacity", "100")["variance"] > 50
    change(gradient, "View", "masked")
    change(gradient, "View", "heatmap")
    grey = change(gradient, "Colormap", "gray")
    assert grey["grey"] > 0.99, f"gray colormap draws grey pixels: {grey}"
    assert grey["variance"] > 50

    signed = change(gradient, "Sign", "signed")
    assert tab.frame.get_by_label("Colormap").input_value() == "coolwarm", "signed maps get a diverging colormap"
    assert signed["grey"] < 0.5
    # The sign mode itself changes the picture, not only the colormap it picks.
    assert change(gradient, "Colormap", "gray")["hash"] != grey["hash"]

    for label, value in (("Percentile", "90"), ("Clipping", "none"), ("Clipping", "mass"), ("Outlier %", "10"),
                         ("Normalise", "card"), ("Normalise", "tag")):
        change(gradient, label, value)
    change(cam, "Upsampling", "nearest")  # the 6×6 Grad-CAM map, drawn at the input's 48×48

    assert blob_fetches(tab) == fetched, "display settings redraw from cached data"
    assert not tab.errors, tab.errors


def test_settings_persist_across_reloads(open_tab, demo_url):
    tab = open_tab(demo_url)
    tab.frame.get_by_label("View").select_option("masked")
    tab.frame.get_by_label("Colormap").select_option("magma")
    tab.page.reload()
    frame = plugin_frame(tab.page)
    frame.locator(".tbs-card").first.wait_for(timeout=20_000)
    assert frame.get_by_label("View").input_value() == "masked"
    assert frame.get_by_label("Colormap").input_value() == "magma"


def test_filters_and_invalid_regex(open_tab, demo_url):
    tab = open_tab(demo_url)
    wait_for_grid(tab.card(DEMO_RUNS[0]))
    runs = tab.frame.get_by_label("Filter runs (regular expression)")
    runs.fill("wide$")
    assert tab.card(DEMO_RUNS[0]).count() == 0
    assert tab.card(DEMO_RUNS[1]).count() == 1
    runs.fill("(unclosed")
    error = tab.frame.locator(".tbs-filter-error").first
    assert "Invalid regular expression" in error.inner_text()
    assert runs.get_attribute("aria-invalid") == "true"
    assert tab.frame.locator(".tbs-card").count() == 2, "an invalid filter filters nothing"
    runs.fill("")
    tab.frame.get_by_label("Filter tags (regular expression)").fill("^nothing$")
    assert tab.frame.locator(".tbs-card").count() == 0
    assert "No tag matches" in tab.frame.locator(".tbs-nomatch").inner_text()
    tab.frame.get_by_label("Filter tags (regular expression)").fill("")
    # Unticking a run hides its card.
    tab.frame.locator(f'input[data-run="{DEMO_RUNS[1]}"]').uncheck()
    assert tab.card(DEMO_RUNS[1]).count() == 0
    assert not tab.errors, tab.errors


def test_untrusted_names_render_as_text(open_tab, evil_url):
    tab = open_tab(evil_url)
    card = tab.card(EVIL, f"probe {EVIL}")
    card.scroll_into_view_if_needed()
    wait_for_grid(card)
    assert card.locator(".tbs-run").inner_text() == EVIL
    assert card.locator(".tbs-tag").inner_text() == f"probe {EVIL}"
    assert EVIL in card.locator("tbody").inner_text(), "class names show as text"
    assert "<b>bold</b>" in card.locator("tbody").inner_text()
    assert EVIL in tab.frame.locator(".tbs-runs").inner_text()
    assert tab.frame.evaluate("document.querySelectorAll('img').length") == 0, "no element was made from log text"
    assert tab.frame.evaluate("[...document.querySelectorAll('b')].filter(b => b.textContent === 'bold').length") == 0
    # Every live card has drawn its frame, so any script the names could have smuggled in has had its chance.
    tab.settled()
    assert tab.dialogs == [], "no script ran"
    assert tab.tile_pixels(tab.tile(card, 0, 0))["variance"] > 10, "maps render under --load_fast=true too"


def test_empty_state_tells_how_to_log_a_first_map(open_tab, scalars_url):
    tab = open_tab(scalars_url, wait_for=".tbs-empty")
    text = tab.frame.locator(".tbs-empty").inner_text()
    assert "from tb_saliency import SummaryWriter" in text
    assert 'writer = SummaryWriter("runs/exp1")' in text
    assert "writer.add_saliency(" in text and 'methods=["gradient", "gradcam"]' in text
    assert not tab.errors, tab.errors


def test_activations_show_channels_most_active_first(open_tab, evil_url):
    from tests.support.tensorboard import get_json

    tab = open_tab(evil_url)
    card = tab.card("model", "probe/activations")
    card.scroll_into_view_if_needed()
    card.locator(".tbs-channel").first.wait_for(timeout=20_000)
    steps = get_json(f"{evil_url}data/plugin/saliency/steps?run=model&tag=probe/activations")["steps"]
    frame = get_json(f"{evil_url}data/plugin/saliency/frame?run=model&tag=probe/activations&step={steps[-1]['step']}")
    expected = frame["activations"]["channel_index"][0]
    row = card.locator("tbody tr").first
    assert row.locator(".tbs-channel-index").all_inner_texts() == [f"#{c}" for c in expected]
    tab.settled()
    assert tab.tile_pixels(row.locator(".tbs-channel").first)["variance"] > 1
    # The model's saliency card renders too (gradient and Grad-CAM from the attribution engine).
    saliency = tab.card("model", "probe")
    saliency.scroll_into_view_if_needed()
    saliency.locator("td .tbs-tile[data-column='1']").first.wait_for(timeout=20_000)
    assert not tab.errors, tab.errors


def requests_to(tab, fragment):
    return tab.frame.evaluate(
        "(f) => performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes(f))", fragment)


def test_only_cards_near_the_screen_fetch_and_steps_are_fetched_once(open_tab, evil_url):
    tab = open_tab(evil_url, viewport=(1400, 420))
    tab.settled()
    activations = "tag=probe%2Factivations"
    card = tab.card("model", "probe/activations")
    if not [u for u in requests_to(tab, "/step_data") if activations in u]:
        card.scroll_into_view_if_needed()
    card.locator(".tbs-channel").first.wait_for(timeout=20_000)
    tab.settled()
    assert [u for u in requests_to(tab, "/step_data?") if activations in u]
    # Back and forth between two steps: each step's blobs are fetched once.
    slider = card.locator(".tbs-step input[type=range]")
    slider.focus()
    tab.page.keyboard.press("Home")
    card.locator(".tbs-step strong").filter(has_text="0").wait_for()
    tab.settled()
    blobs = requests_to(tab, "/step_data")
    tab.page.keyboard.press("End")
    assert step_of(card) == 2
    tab.page.keyboard.press("Home")
    assert step_of(card) == 0
    tab.settled()
    assert requests_to(tab, "/step_data") == blobs
    assert len(blobs) == len(set(blobs)), "no step fetched twice"
    assert requests_to(tab, "/blob") == [] and requests_to(tab, "/frame") == []


def test_native_size_is_pixel_exact_and_side_by_side_fits_its_card(open_tab, demo_url):
    tab = open_tab(demo_url)
    card = tab.card(DEMO_RUNS[0])
    wait_for_grid(card)
    tab.frame.get_by_label("Size").select_option("2")
    tile = tab.tile(card, 0, 0)
    tab.frame.wait_for_function("() => document.querySelector('.tbs-grid.tbs-native') !== null")
    box = tile.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (96, 96), box  # 48 px × 2
    tab.frame.get_by_label("Size").select_option("fit")
    tab.frame.get_by_label("View").select_option("side")
    tab.frame.wait_for_function("() => document.querySelector('.tbs-grid.tbs-view-side') !== null")
    tab.settled()
    # Side by side: each map tile shows the input beside the map, and the grid stays inside its card.
    assert card.locator("thead th").filter(has_text=re.compile("^input$")).count() == 0
    tile = tab.tile(card, 0, 0)
    box = tile.bounding_box()
    assert abs(box["width"] / box["height"] - 2) < 0.1, box
    grid = card.locator("table.tbs-grid").bounding_box()
    outer = card.bounding_box()
    assert grid["x"] + grid["width"] <= outer["x"] + outer["width"] + 1, (grid, outer)
    pixels = tab.tile_pixels(tile)
    assert pixels["variance"] > 50
