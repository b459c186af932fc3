"""Layout and looks as TensorBoard's own: a responsive grid of cards in collapsible tag groups, pinned
and wide cards, pages that keep the page short, TensorBoard's theme and run colours."""

import re

from tests.browser.conftest import GRID_RUNS, GRID_TAGS, plugin_frame


def cards_of(tab, group):
    return tab.frame.locator(f'.tbs-group[data-group="{group}"] .tbs-card')


def test_cards_flow_in_a_responsive_grid_of_tag_groups(open_tab, grid_url):
    tab = open_tab(grid_url, viewport=(1600, 1000))
    groups = tab.frame.locator(".tbs-group[data-group]")
    assert [groups.nth(i).get_attribute("data-group") for i in range(groups.count())] == ["train", "val"]
    train = cards_of(tab, "train")
    assert train.count() == len(GRID_RUNS) * 2
    assert "6 cards" in tab.frame.locator('.tbs-group[data-group="train"] .tbs-group-count').inner_text()
    # Several cards per row where the width allows, as in the Images tab.
    tops = [round(train.nth(i).bounding_box()["y"]) for i in range(train.count())]
    assert tops[0] == tops[1], f"the first two cards share a row: {tops}"
    # Each card is a (run, tag), cards ordered by tag then run.
    first = [(train.nth(i).get_attribute("data-tag"), train.nth(i).get_attribute("data-run")) for i in range(train.count())]
    assert first == [(tag, run) for tag in sorted(t for t in GRID_TAGS if t.startswith("train/")) for run in GRID_RUNS]
    # A narrow window has one card per row.
    tab.page.set_viewport_size({"width": 900, "height": 1000})
    tab.wait_until(lambda: round(train.nth(0).bounding_box()["y"]) < round(train.nth(1).bounding_box()["y"]),
                   "at 900 px wide, the second card moves below the first")


def test_a_group_collapses_and_stays_collapsed(open_tab, grid_url):
    tab = open_tab(grid_url)
    toggle = tab.frame.locator('.tbs-group[data-group="train"] .tbs-group-toggle')
    assert toggle.get_attribute("aria-expanded") == "true"
    assert toggle.get_attribute("aria-label") == "Collapse group train"
    toggle.click()
    assert cards_of(tab, "train").count() == 0
    assert toggle.get_attribute("aria-expanded") == "false"
    assert cards_of(tab, "val").count() == len(GRID_RUNS) * 2
    tab.page.reload()
    frame = plugin_frame(tab.page)
    frame.locator(".tbs-card").first.wait_for(timeout=20_000)
    assert frame.locator('.tbs-group[data-group="train"] .tbs-card').count() == 0, "collapsed after a reload"
    frame.locator('.tbs-group[data-group="train"] .tbs-group-toggle').click()
    assert frame.locator('.tbs-group[data-group="train"] .tbs-card').count() == len(GRID_RUNS) * 2


def test_a_card_pins_to_the_top_and_switches_between_compact_and_wide(open_tab, grid_url):
    tab = open_tab(grid_url, viewport=(1600, 1000))
    card = tab.card("gamma", "val/other")
    card.scroll_into_view_if_needed()
    pin = card.get_by_role("button", name="Pin card to the top")
    pin.click()
    first_group = tab.frame.locator(".tbs-group").first
    assert first_group.get_attribute("data-group") == "pinned"
    assert "Pinned" in first_group.locator(".tbs-group-name").inner_text()
    pinned = first_group.locator(".tbs-card")
    assert pinned.count() == 1 and pinned.get_attribute("data-run") == "gamma"
    assert cards_of(tab, "val").count() == len(GRID_RUNS) * 2 - 1, "a pinned card leaves its group"
    unpin = tab.card("gamma", "val/other").get_by_role("button", name="Unpin card")
    assert unpin.get_attribute("aria-pressed") == "true"

    # Wide: the card takes the whole row; compact again: one of several.
    card = tab.card("alpha", "train/probe")
    compact = card.bounding_box()["width"]
    row = tab.frame.locator('.tbs-group[data-group="train"] .tbs-cards').bounding_box()["width"]
    card.get_by_role("button", name="Wide card").click()
    wide = card.bounding_box()["width"]
    assert wide > 1.8 * compact and wide > row - 40, (compact, wide, row)
    tab.settled()
    assert tab.tile_pixels(tab.tile(card, 0, 0))["variance"] > 10, "a wide card draws its tiles"
    card.get_by_role("button", name="Compact card").click()
    assert abs(card.bounding_box()["width"] - compact) < 2

    # Pins and widths persist.
    tab.page.reload()
    frame = plugin_frame(tab.page)
    frame.locator(".tbs-card").first.wait_for(timeout=20_000)
    assert frame.locator(".tbs-group").first.get_attribute("data-group") == "pinned"
    frame.locator('.tbs-card[data-run="gamma"][data-tag="val/other"]').get_by_role("button", name="Unpin card").click()
    assert frame.locator('.tbs-group[data-group="pinned"]').count() == 0


def test_pages_keep_the_page_short(open_tab, grid_url):
    tab = open_tab(grid_url, viewport=(1000, 900))
    main = tab.frame.locator(".tbs-main")
    tall = main.evaluate("m => m.scrollHeight")
    size = tab.frame.get_by_label("Cards per page")
    size.fill("2")
    group = tab.frame.locator('.tbs-group[data-group="train"]')
    assert cards_of(tab, "train").count() == 2
    assert group.locator(".tbs-page-text").inner_text() == "1–2 of 6"
    short = main.evaluate("m => m.scrollHeight")
    assert short < tall / 2, (short, tall)
    shown = [cards_of(tab, "train").nth(i).get_attribute("data-run") for i in range(2)]
    group.get_by_role("button", name="Next page of train").click()
    assert group.locator(".tbs-page-text").inner_text() == "3–4 of 6"
    assert [cards_of(tab, "train").nth(i).get_attribute("data-run") for i in range(2)] != shown
    assert group.get_by_role("button", name="Previous page of train").is_enabled()
    size.fill("12")


def rgb(text):
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def test_run_colours_are_tensorboards(open_tab, grid_url):
    tab = open_tab(grid_url)
    ours = {run: rgb(tab.frame.locator(f'input[data-run="{run}"] + .tbs-swatch').evaluate("e => getComputedStyle(e).backgroundColor"))
            for run in GRID_RUNS}
    # TensorBoard's own run table (Time Series), in the same page.
    tab.page.evaluate("location.hash = '#timeseries'")
    tab.page.locator(".run-color-swatch").first.wait_for(timeout=20_000)
    theirs = dict(tab.page.evaluate(
        """() => [...document.querySelectorAll('.run-color-swatch')].map((e) => [
              e.closest('tb-data-table-content-row').innerText.trim(), getComputedStyle(e).backgroundColor])"""))
    assert {run: rgb(theirs[run]) for run in GRID_RUNS} == ours
    assert len(set(ours.values())) == len(GRID_RUNS)


def test_theme_follows_tensorboards_toggle_and_the_system(open_tab, grid_url, chromium):
    tab = open_tab(grid_url)
    root = tab.frame.locator(".tbs-root")
    assert root.get_attribute("data-theme") == "light"
    light_bg = rgb(tab.card("alpha", "train/probe").evaluate("e => getComputedStyle(e).backgroundColor"))
    tab.page.get_by_role("button", name="Menu for changing light or dark theme").click()
    tab.page.get_by_role("menuitem", name="Dark").click()
    tab.frame.wait_for_function("() => document.querySelector('.tbs-root').dataset.theme === 'dark'")
    card_bg = rgb(tab.card("alpha", "train/probe").evaluate("e => getComputedStyle(e).backgroundColor"))
    sidebar = rgb(tab.frame.locator(".tbs-sidebar").evaluate("e => getComputedStyle(e).backgroundColor"))
    text = rgb(tab.frame.locator(".tbs-card-title").first.evaluate("e => getComputedStyle(e).color"))
    assert max(card_bg) < 80 and max(sidebar) < 80, (card_bg, sidebar)
    assert min(text) > 180, text
    assert card_bg != light_bg
    # Run colours take TensorBoard's dark variants (its first colour, Slate, has one).
    swatch = rgb(tab.frame.locator('input[data-run="alpha"] + .tbs-swatch').evaluate("e => getComputedStyle(e).backgroundColor"))
    assert swatch == (0x8E, 0x98, 0xA3), swatch
    tab.page.get_by_role("button", name="Menu for changing light or dark theme").click()
    tab.page.get_by_role("menuitem", name="Light").click()
    tab.frame.wait_for_function("() => document.querySelector('.tbs-root').dataset.theme === 'light'")

    # The system setting: TensorBoard follows prefers-color-scheme by default, and so does the tab.
    context = chromium.new_context(color_scheme="dark", viewport={"width": 1200, "height": 800})
    try:
        page = context.new_page()
        page.goto(grid_url + "#saliency")
        frame = plugin_frame(page)
        frame.locator(".tbs-card").first.wait_for(timeout=30_000)
        frame.wait_for_function("() => document.querySelector('.tbs-root').dataset.theme === 'dark'")
        assert page.evaluate("document.body.classList.contains('dark-mode')")
    finally:
        context.close()


def test_controls_are_labelled_and_material(open_tab, grid_url):
    tab = open_tab(grid_url)
    # Every form control of the sidebar and the cards has an accessible name.
    unnamed = tab.frame.evaluate(
        """() => [...document.querySelectorAll('input, select, button, [role=button]')].filter((e) => {
              const label = e.getAttribute('aria-label') || (e.id && document.querySelector(`label[for="${e.id}"]`)) || e.closest('label') || e.textContent.trim();
              return !label; }).map((e) => e.outerHTML.slice(0, 80))""")
    assert unnamed == [], unnamed
    # TensorBoard's orange accent on controls.
    accent = tab.frame.locator(".tbs-root").evaluate("e => getComputedStyle(e).accentColor")
    assert rgb(accent) == (0xF5, 0x7C, 0x00), accent
