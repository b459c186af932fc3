"""The metrics in the tab (issue #9): values under each tile, samples sorted and filtered by a metric,
charts of each metric over steps, deletion and insertion curves in the enlarged view, and the
randomisation test as Adebayo et al.'s figure, in real Chromium against a real TensorBoard."""

import json
import re

import pytest

from tests.browser.conftest import copy_screenshot, loaded_once, plugin_frame
from tests.browser.metrics_logdir import (
    CORRELATIONS,
    DELETION,
    EVIL_KEY,
    INSERTION,
    STAGES,
    STEPS,
    deletion_at,
    write_metrics_logdir,
)


@pytest.fixture(scope="module")
def metrics_site(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("metrics")
    layers = write_metrics_logdir(logdir)
    with loaded_once(logdir, samples_per_plugin="saliency=0") as url:
        yield url, layers


@pytest.fixture
def metrics_url(metrics_site):
    return metrics_site[0]


def ready(tab, run="alpha", tag="probe"):
    card = tab.card(run, tag)
    card.scroll_into_view_if_needed()
    card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
    tab.settled()
    return card


def rows(card):
    return [int(r.get_attribute("data-sample")) for r in card.locator("tbody tr[data-sample]").all()]


def metric_row(tab, card, sample, column):
    """The metric values under map `column` of `sample`'s row (the input is the row's first cell)."""
    return card.locator(f"tbody tr[data-sample='{sample}'] td").nth(column + 1).locator(".tbs-tile-metrics")


def sort_by(tab, metric, order="worst"):
    tab.frame.get_by_label("Sort samples").select_option(json.dumps([metric, order], separators=(",", ":")))


def to_center(tab, locator):
    """Scrolls an element to the middle of the view (clear of the sticky group headers) and waits
    until the scroll has been handled: the dashboard hides its read-out on scroll."""
    locator.evaluate("e => e.scrollIntoView({block: 'center'})")
    tab.frame.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0))))")
    return locator.bounding_box()


def click_center(tab, locator):
    """Clicks the middle of an element as a user would."""
    box = to_center(tab, locator)
    tab.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def hover_center(tab, locator):
    box = to_center(tab, locator)
    tab.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_each_tile_shows_its_metric_values_and_names_them_in_full_on_hover(open_tab, metrics_url):
    tab = open_tab(metrics_url, viewport=(1600, 1000))
    card = ready(tab)
    # Step 30: gradcam of sample 1 has deletion 0.70, insertion 0.20 and missed the pointing game.
    row = metric_row(tab, card, 1, 1)
    assert row.inner_text().replace("\n", "") == "del 0.70 · ins 0.20 · pg ✗"
    assert row.locator(".tbs-miss").count() == 1, "a miss is marked"
    assert metric_row(tab, card, 0, 0).inner_text().replace("\n", "") == "del 0.60 · ins 0.50 · pg ✓"
    # Screen readers get the full names, values and directions.
    spoken = row.locator(".tbs-metric").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert spoken == ["deletion AUC 0.7, lower is better", "insertion AUC 0.2, higher is better", "pointing game missed, higher is better"], spoken
    assert row.get_by_role("img", name="pointing game missed, higher is better").count() == 1
    hover_center(tab, row)
    tip = tab.frame.locator(".tbs-tooltip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert "sample 1 · gradcam" in text
    assert "deletion AUC: 0.7 (lower is better)" in text
    assert "relative: the probability divided by the clean input's, 5 steps, baseline zeros" in text
    assert "memory" not in text, "internals stay out"
    assert "insertion AUC: 0.2 (higher is better)" in text and "baseline blur" in text
    assert "pointing game: miss (higher is better)" in text and "tolerance 2 px" in text
    # A new step shows its own values in the same elements.
    slider = card.locator(".tbs-step input[type=range]")
    slider.focus()
    tab.page.keyboard.press("Home")
    card.locator(".tbs-step strong").filter(has_text=re.compile(r"^0$")).wait_for()
    metric_row(tab, card, 1, 1).filter(has_text=f"del {deletion_at('gradcam', 0)[1]:.2f} · ins").wait_for()
    # Maps logged through log_saliency(metrics=..., masks=...) show theirs too.
    model = ready(tab, "model")
    texts = model.locator(".tbs-tile-metrics").all_inner_texts()
    assert texts and all(re.fullmatch(r"del \d\.\d\d · ins \d\.\d\d · pg [✓✗]", t.replace("\n", "")) for t in texts), texts
    assert not tab.errors, tab.errors


def test_samples_sort_and_filter_by_a_metric_with_the_other_filters_and_persist(open_tab, metrics_url):
    tab = open_tab(metrics_url, viewport=(1600, 1000))
    card = ready(tab)
    assert rows(card) == [0, 1, 2, 3]
    sort_by(tab, "deletion")
    tab.frame.get_by_label("Metric of map").select_option("gradcam")
    # gradcam's deletion at step 30: [0.3, 0.7, 0.1, 0.5]; worst (highest) first.
    tab.frame.wait_for_function("() => document.querySelector('.tbs-card[data-run=alpha][data-tag=probe] tbody tr').dataset.sample === '1'")
    assert rows(card) == [1, 3, 0, 2]
    assert card.locator(".tbs-sortnote").inner_text() == "Sorted by gradcam's worst deletion AUC first (highest)."
    sort_by(tab, "deletion", "best")
    tab.frame.wait_for_function("() => document.querySelector('.tbs-card[data-run=alpha][data-tag=probe] tbody tr').dataset.sample === '2'")
    assert rows(card) == [2, 0, 3, 1]
    # The first map that logs it (gradient: [0.6, 0.2, 0.4, 0.8]); insertion's worst is its lowest.
    tab.frame.get_by_label("Metric of map").select_option("")
    sort_by(tab, "insertion")
    tab.frame.wait_for_function("() => document.querySelector('.tbs-card[data-run=alpha][data-tag=probe] tbody tr').dataset.sample === '2'")
    assert rows(card) == [2, 0, 1, 3], "gradient's insertion [0.5, 0.6, 0.3, 0.7], lowest first"
    # Pointing-game misses of gradcam ([1, 0, 1, 0]), sorted by its deletion, worst first.
    tab.frame.get_by_label("Metric of map").select_option("gradcam")
    sort_by(tab, "deletion")
    tab.frame.get_by_label("Only pointing-game misses").check()
    tab.frame.wait_for_function("() => document.querySelectorAll('.tbs-card[data-run=alpha][data-tag=probe] tbody tr').length === 2")
    assert rows(card) == [1, 3]
    assert "missed the pointing game (2 of 4)" in card.locator(".tbs-sortnote").inner_text()
    # With the sample picker and "Only wrong predictions" (samples 1 and 3 are wrong).
    tab.frame.get_by_label("Samples", exact=True).fill("0-2")
    tab.frame.wait_for_function("() => document.querySelectorAll('.tbs-card[data-run=alpha][data-tag=probe] tbody tr').length === 1")
    assert rows(card) == [1]
    tab.frame.get_by_label("Samples", exact=True).fill("")
    tab.frame.get_by_label("Only pointing-game misses").uncheck()
    tab.frame.get_by_label("Only wrong predictions").check()
    tab.frame.wait_for_function("() => document.querySelectorAll('.tbs-card[data-run=alpha][data-tag=probe] tbody tr').length === 2")
    assert rows(card) == [1, 3]
    tab.frame.get_by_label("Only wrong predictions").uncheck()
    tab.frame.wait_for_function("() => document.querySelectorAll('.tbs-card[data-run=alpha][data-tag=probe] tbody tr').length === 4")
    assert rows(card) == [1, 3, 0, 2]
    # The sort applies at every step the card shows, and survives a reload.
    tab.page.reload()
    frame = plugin_frame(tab.page)
    tab.frame = frame
    card = ready(tab)
    assert rows(card) == [1, 3, 0, 2]
    assert json.loads(frame.get_by_label("Sort samples").input_value()) == ["deletion", "worst"]
    assert frame.get_by_label("Metric of map").input_value() == "gradcam"
    # The enlarged view's ↓ walks the samples in the card's order: 1, then 3 (not 2).
    card.locator("tbody tr[data-sample='1'] .tbs-tile").first.click()
    title = frame.locator("dialog.tbs-dialog h2")
    title.filter(has_text="sample 1").wait_for()
    tab.page.keyboard.press("ArrowDown")
    title.filter(has_text="sample 3").wait_for()
    tab.page.keyboard.press("Escape")
    # A metric the chosen map does not log leaves the samples in their order, and says so.
    sort_by(tab, "energy_pointing_game")
    frame.locator(".tbs-card[data-run=alpha][data-tag=probe] .tbs-sortnote").filter(has_text="energy").wait_for()
    assert "No map gradcam of this step logs the energy pointing game" in card.locator(".tbs-sortnote").inner_text()
    assert rows(card) == [0, 1, 2, 3]
    sort_by(tab, "", "worst")
    assert not tab.errors, tab.errors


def test_each_metric_is_charted_over_steps_and_a_click_moves_the_card_and_linked_cards(open_tab, metrics_url):
    tab = open_tab(metrics_url, viewport=(1600, 1000))
    card = ready(tab)
    beta = ready(tab, "beta")
    charts = card.locator(".tbs-charts")
    assert [f.get_attribute("data-metric") for f in charts.locator("figure").all()] == ["deletion", "insertion", "pointing_game"]
    deletion = charts.locator("figure[data-metric=deletion]")
    assert "deletion AUC" in deletion.inner_text() and "lower is better" in deletion.inner_text()
    svg = deletion.locator("svg.tbs-chart")
    assert svg.locator(".tbs-axis-label text").all_text_contents() == ["step", "mean AUC"]
    assert len(svg.locator(".tbs-ticks text").all_text_contents()) >= 6, "tick labels on both axes"
    # One line per map key, one point per step, from the step list's index (no frame read).
    assert [g.get_attribute("data-key") for g in svg.locator("g.tbs-series").all()] == ["gradient", "gradcam"]
    points = svg.locator("g[data-key=gradcam] circle.tbs-pt")
    assert [int(p.get_attribute("data-step")) for p in points.all()] == list(STEPS)
    # gradcam's mean deletion falls from 0.7 to 0.4: each point lower on screen than the one before.
    ys = [float(p.get_attribute("cy")) for p in points.all()]
    assert ys == sorted(ys), ys
    # Each method has its own colour, the same in the legend.
    colour = lambda loc: loc.evaluate("e => getComputedStyle(e).stroke || getComputedStyle(e).backgroundColor")
    line_colours = {g.get_attribute("data-key"): colour(g.locator("path.tbs-line")) for g in svg.locator("g.tbs-series").all()}
    assert line_colours["gradient"] != line_colours["gradcam"]
    swatch = card.locator(".tbs-legend li[data-key=gradcam] .tbs-legend-swatch")
    assert swatch.evaluate("e => getComputedStyle(e).backgroundColor") == line_colours["gradcam"]
    # Hover: the value of every method at the nearest step.
    hover_center(tab, points.nth(1))
    tip = tab.frame.locator(".tbs-tooltip")
    tip.wait_for(state="visible")
    mean = sum(deletion_at("gradcam", 10)) / 4
    assert tip.inner_text().split("\n")[:3] == ["step 10", f"gradient: {sum(deletion_at('gradient', 10)) / 4:.4g}", f"gradcam: {mean:.4g}"]
    # The step on screen is marked; a click on step 10 moves the card there.
    marker = svg.locator("line.tbs-marker")
    before = marker.get_attribute("x1")
    assert float(before) == pytest.approx(float(points.nth(3).get_attribute("cx")), abs=0.2)
    tab.frame.get_by_label("Link steps").check()
    click_center(tab, points.nth(1))
    card.locator(".tbs-step strong").filter(has_text=re.compile(r"^10$")).wait_for()
    assert float(marker.get_attribute("x1")) == pytest.approx(float(points.nth(1).get_attribute("cx")), abs=0.2)
    assert card.locator(".tbs-step input[type=range]").input_value() == "1"
    beta.locator(".tbs-step strong").filter(has_text=re.compile(r"^10$")).wait_for()
    metric_row(tab, card, 1, 1).filter(has_text=f"del {deletion_at('gradcam', 10)[1]:.2f} · ins").wait_for()
    # Names from the logs stay text: the legend shows the hostile key as it is.
    assert beta.locator(".tbs-legend li").first.inner_text() == EVIL_KEY
    assert not tab.dialogs and not tab.errors, (tab.dialogs, tab.errors)
    # Charts switch off from the sidebar, for every card.
    tab.frame.get_by_label("Charts over steps").uncheck()
    assert card.locator(".tbs-charts").is_hidden()
    tab.frame.get_by_label("Charts over steps").check()
    card.locator(".tbs-charts svg.tbs-chart").first.wait_for()
    # Still one canvas per live card: charts are SVG.
    assert tab.frame.locator(".tbs-card canvas").count() == tab.frame.evaluate("tbsDebug.liveCards()")


def test_the_charts_follow_the_dark_theme(open_tab, metrics_url):
    tab = open_tab(metrics_url)
    card = ready(tab)
    svg = card.locator("figure[data-metric=deletion] svg.tbs-chart")
    read = lambda: svg.evaluate("""s => ({
        line: getComputedStyle(s.querySelector('g[data-key=gradcam] path.tbs-line')).stroke,
        tick: getComputedStyle(s.querySelector('.tbs-ticks text')).fill,
        card: getComputedStyle(s.closest('.tbs-card')).backgroundColor})""")
    light = read()
    tab.page.get_by_role("button", name="Menu for changing light or dark theme").click()
    tab.page.get_by_role("menuitem", name="Dark").click()
    tab.frame.wait_for_function("() => document.querySelector('.tbs-root').dataset.theme === 'dark'")
    dark = read()
    assert dark["card"] != light["card"]
    assert dark["line"] != light["line"], "a lighter palette on the dark card"
    assert dark["tick"] != light["tick"]
    lum = lambda c: sum(int(v) for v in re.findall(r"\d+", c)[:3]) / 3
    assert lum(dark["tick"]) > lum(dark["card"]) + 60, "tick labels readable on the dark card"
    assert lum(dark["line"]) > lum(dark["card"]) + 60, "lines readable on the dark card"


def test_the_enlarged_view_shows_the_samples_deletion_and_insertion_curves(open_tab, metrics_url):
    tab = open_tab(metrics_url)
    card = ready(tab)
    tab.tile(card, 1, 1).click()
    dialog = tab.frame.locator("dialog.tbs-dialog")
    dialog.wait_for()
    # The enlarged tab lists the map's metrics for the sample.
    dialog.locator(".tbs-metric-list li").first.wait_for()
    assert "deletion AUC: 0.7 (lower is better)" in dialog.locator(".tbs-metric-list").inner_text()
    dialog.get_by_role("tab", name="Deletion & insertion").click()
    view = dialog.locator(".tbs-curves-view")
    view.locator("figure[data-metric=insertion]").wait_for()
    assert [f.get_attribute("data-metric") for f in view.locator("figure").all()] == ["deletion", "insertion"]
    deletion = view.locator("figure[data-metric=deletion]")
    # Every map of the frame, the chosen one emphasised and first in the legend with its AUC.
    assert [g.get_attribute("data-key") for g in deletion.locator("g.tbs-series").all()] == ["gradient", "gradcam"]
    assert "tbs-emphasis" in deletion.locator("g[data-key=gradcam]").get_attribute("class")
    legend = deletion.locator(".tbs-legend li").all_inner_texts()
    assert legend == ["gradcam · AUC 0.7", "gradient · AUC 0.2"], legend
    # Axes: the fraction of pixels, and what was logged (relative deletion, absolute insertion).
    assert deletion.locator(".tbs-axis-label text").all_text_contents() == ["fraction of pixels removed (k / steps)", "probability ÷ clean input's"]
    insertion = view.locator("figure[data-metric=insertion]")
    assert insertion.locator(".tbs-axis-label text").all_text_contents() == ["fraction of pixels inserted (k / steps)", "probability of the target"]
    assert "insertion AUC" in insertion.inner_text() and "higher is better" in insertion.inner_text()
    # The curve as logged: six points at k/5, starting at 1 (nothing removed yet).
    circles = deletion.locator("g[data-key=gradcam] circle.tbs-pt")
    assert circles.count() == 6
    hover_center(tab, circles.nth(2))
    tip = tab.frame.locator(".tbs-tooltip")
    tip.wait_for(state="visible")
    plateau = (DELETION["gradcam"][1] - 0.1) / 0.9
    assert tip.inner_text().split("\n")[:3] == ["40 % of pixels removed", f"gradient: {(DELETION['gradient'][1] - 0.1) / 0.9:.4g}", f"gradcam: {plateau:.4g}"]
    # ← → change the map: the legend's first entry follows.
    tab.page.keyboard.press("ArrowLeft")
    dialog.locator("h2").filter(has_text="sample 1 · gradient").wait_for()
    view.locator(".tbs-legend li").first.filter(has_text="gradient · AUC 0.2").wait_for()
    assert view.locator("figure[data-metric=insertion] .tbs-legend li").first.inner_text() == f"gradient · AUC {INSERTION['gradient'][1]:g}"
    tab.page.keyboard.press("Escape")
    # Curves logged by log_saliency: 5 points each (4 steps).
    model = ready(tab, "model")
    tab.tile(model, 0, 0).click()
    dialog.get_by_role("tab", name="Deletion & insertion").click()
    tab.frame.locator(".tbs-curves-view figure[data-metric=deletion] circle.tbs-pt").first.wait_for()
    assert tab.frame.locator(".tbs-curves-view figure[data-metric=deletion] g[data-key=gradient] circle.tbs-pt").count() == 5
    assert not tab.errors, tab.errors


def test_a_randomisation_tag_is_the_sanity_check_figure(open_tab, metrics_site):
    url, layers = metrics_site
    tab = open_tab(url, viewport=(1600, 1000))
    card = tab.card("alpha", "probe/randomisation")
    card.scroll_into_view_if_needed()
    table = card.locator("table.tbs-cascade")
    table.wait_for(timeout=20_000)
    tab.settled()
    # Rows: the original model, then each stage in the test's order; columns: the methods.
    assert [r.get_attribute("data-stage") for r in table.locator("tbody tr").all()] == ["", *STAGES]
    assert table.locator("tbody tr th b").all_inner_texts() == ["original model", *STAGES]
    assert "with the 1 layer above it" in table.locator("tbody tr[data-stage=features] th").inner_text(), "cascading"
    assert [t.strip() for t in table.locator("thead th .tbs-col-key").all_inner_texts()] == ["input", "gradient", "gradcam"]
    # Each cell: the map drawn (on the card's one canvas) and its ρ with the original's.
    for stage in STAGES:
        for column, key in ((0, "gradient"), (1, "gradcam")):
            cell = table.locator(f"tbody tr[data-stage={stage}] td").nth(column + 1)
            assert cell.locator(".tbs-tile-metrics").inner_text() == f"ρ {CORRELATIONS[(key, stage)][0]:.2f}"
    assert table.locator("tbody tr[data-stage=''] .tbs-tile-metrics").first.inner_text() == "original"
    tiles = table.locator(".tbs-tile[data-column]")
    assert tiles.count() == 6 + 1, "six maps and the input, one sample"
    for i in range(tiles.count()):
        assert tab.tile_pixels(tiles.nth(i))["variance"] > 1, "every cell is drawn"
    hover_center(tab, table.locator("tbody tr[data-stage=features] .tbs-tile-metrics").first)
    tip = tab.frame.locator(".tbs-tooltip")
    tip.wait_for(state="visible")
    assert "Spearman ρ with the original map: 0.2 (lower is better)" in tip.inner_text()
    assert "of |map|" in tip.inner_text() and "cascading order" in tip.inner_text()
    # One sample at a time: the picker shows another, with its own ρ.
    card.get_by_label("Sample of the randomisation figure").select_option("2")
    table.locator("tbody tr[data-stage=features] .tbs-tile-metrics").first.filter(has_text=f"ρ {CORRELATIONS[('gradient', 'features')][2]:.2f}").wait_for()
    assert card.locator(".tbs-cascade-facts").inner_text().startswith("label triangle")
    # Its chart: the Spearman ρ of the last stage (every layer random) over the steps it was run at.
    chart = card.locator(".tbs-charts figure[data-metric=spearman]")
    assert "features re-initialised" in chart.inner_text()
    assert card.get_by_label("Stage", exact=True).input_value() == "features"
    assert [int(p.get_attribute("data-step")) for p in chart.locator("g[data-key=gradcam] circle.tbs-pt").all()] == [10, 30]
    card.get_by_label("Stage", exact=True).select_option("head")
    card.locator(".tbs-charts figure[data-metric=spearman]").filter(has_text="head re-initialised").wait_for()
    # The enlarged view of a cell is that stage's map.
    table.locator("tbody tr[data-stage=head] .tbs-tile[data-column='4']").click()
    tab.frame.locator("dialog.tbs-dialog h2").filter(has_text="gradcam @ head").wait_for()
    assert tab.frame.get_by_role("tab", name="Deletion & insertion").count() == 0, "no curves in a randomisation tag"
    tab.page.keyboard.press("Escape")
    # The run logged by log_saliency(metrics=[..., "randomisation"]): a row per layer re-initialised.
    model = tab.card("model", "probe/randomisation")
    model.scroll_into_view_if_needed()
    model.locator("table.tbs-cascade").wait_for(timeout=20_000)
    assert [r.get_attribute("data-stage") for r in model.locator("table.tbs-cascade tbody tr").all()] == ["", *layers]
    assert len(layers) >= 3
    rhos = model.locator("tbody tr:not([data-stage='']) .tbs-tile-metrics").all_inner_texts()
    assert len(rhos) == 2 * len(layers) and all(re.fullmatch(r"ρ (-?\d+\.\d+(e-\d+)?|0)", t) for t in rhos), rhos
    assert tab.frame.locator(".tbs-card canvas").count() == tab.frame.evaluate("tbsDebug.liveCards()")
    assert not tab.errors, tab.errors


def test_metrics_screenshot(open_tab, metrics_url, tmp_path):
    """What the metrics look like: run alpha's card and its randomisation card side by side
    (docs/saliency-metrics.png with TB_SALIENCY_UPDATE_SCREENSHOT=1)."""
    tab = open_tab(metrics_url, viewport=(1600, 1000))
    for run in ("beta", "model"):
        tab.frame.locator(f".tbs-runs input[data-run={run}]").uncheck()
    tab.frame.wait_for_function("() => document.querySelectorAll('.tbs-card').length === 2")
    card = tab.card("alpha")
    card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
    tab.card("alpha", "probe/randomisation").locator("table.tbs-cascade").wait_for(timeout=20_000)
    tab.settled()
    assert card.locator(".tbs-charts svg.tbs-chart").count() == 3
    assert tab.frame.evaluate("document.querySelector('.tbs-main').scrollTop") == 0
    path = tmp_path / "saliency-metrics.png"
    tab.page.screenshot(path=str(path))
    copy_screenshot(path, "saliency-metrics.png")


def test_a_card_png_carries_its_metric_charts(open_tab, metrics_url, tmp_path):
    import numpy as np
    from PIL import Image

    tab = open_tab(metrics_url, viewport=(1600, 1000))
    card = ready(tab)
    svg = card.locator("figure[data-metric=deletion] svg.tbs-chart")
    colour = svg.locator("g[data-key=gradcam] path.tbs-line").evaluate("e => getComputedStyle(e).stroke")
    rgb = np.array([int(v) for v in re.findall(r"\d+", colour)[:3]], np.float64)
    card_box, chart_box = card.bounding_box(), svg.bounding_box()
    with tab.page.expect_download() as download:
        card.get_by_role("button", name="Download this card as PNG").click()
    path = tmp_path / "card.png"
    download.value.save_as(path)
    image = np.asarray(Image.open(path).convert("RGB"), np.float64)
    k = image.shape[1] / card_box["width"]
    x0, y0 = int((chart_box["x"] - card_box["x"]) * k), int((chart_box["y"] - card_box["y"]) * k)
    chart = image[y0:y0 + int(chart_box["height"] * k), x0:x0 + int(chart_box["width"] * k)]
    # The line is 1.5 px wide and anti-aliased: pixels near its colour, not only exactly it.
    near = np.abs(chart - rgb).sum(axis=2) < 60
    assert near.sum() > 100, f"gradcam's line ({colour}) is in the PNG's chart: {near.sum()} pixels"
    above = image[: max(1, y0 - 40)]
    assert (np.abs(above - rgb).sum(axis=2) < 60).sum() == 0, "and only where the chart is"
