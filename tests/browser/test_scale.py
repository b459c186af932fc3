"""Rendering that scales: only cards on or near the screen hold canvases and decoded data; a display
change recolours each tile of those cards once; an opacity change recolours nothing."""

from tests.browser.conftest import GRID_RUNS, GRID_TAGS


def debug(tab, name):
    return tab.frame.evaluate(f"tbsDebug.{name}()")


def test_only_cards_near_the_screen_are_drawn_and_the_rest_are_released(open_tab, grid_url):
    tab = open_tab(grid_url, viewport=(1000, 700))
    tab.settled()
    total = tab.frame.locator(".tbs-card").count()
    assert total == len(GRID_RUNS) * len(GRID_TAGS)
    live = debug(tab, "liveCards")
    assert 0 < live < total, (live, total)
    # One canvas per live card, none in the others.
    assert tab.frame.locator(".tbs-card canvas").count() == live
    first = tab.frame.locator(".tbs-card").first
    assert first.locator("canvas").count() == 1
    height = first.bounding_box()["height"]
    # Scrolled to the end: the first cards let go of their canvases but keep their height.
    tab.frame.locator(".tbs-main").evaluate("m => m.scrollTo(0, m.scrollHeight)")
    tab.frame.wait_for_function("() => document.querySelector('.tbs-card').querySelector('canvas') === null")
    tab.settled()
    assert abs(first.bounding_box()["height"] - height) < 2, "a released card keeps its place"
    last = tab.frame.locator(".tbs-card").last
    assert last.locator("canvas").count() == 1
    assert tab.frame.locator(".tbs-card canvas").count() == debug(tab, "liveCards") < total
    # Back up: drawn again from cached data, no new fetch of its step.
    blobs = tab.frame.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/step_data')).length")
    tab.frame.locator(".tbs-main").evaluate("m => m.scrollTo(0, 0)")
    first.locator("canvas").wait_for()
    tab.settled()
    assert tab.tile_pixels(tab.tile(first, 0, 0))["variance"] > 10
    assert tab.frame.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/step_data')).length") == blobs


def test_a_display_change_colours_each_visible_tile_once_and_opacity_none(open_tab, grid_url):
    tab = open_tab(grid_url, viewport=(1000, 700))
    tab.settled()
    # A quiet spell: the count below must include no paint still queued from the first layout.
    tab.page.wait_for_timeout(500)
    visible = debug(tab, "visibleTiles")
    assert 0 < visible < debug(tab, "liveTiles"), "some live cards are off screen"
    before = debug(tab, "layerPaints")
    tab.frame.get_by_label("Colormap").select_option("magma")
    tab.frame.wait_for_function(f"() => tbsDebug.layerPaints() >= {before + visible}")
    # What must not happen (a paint of an off-screen card) can only be shown by waiting for it.
    tab.page.wait_for_timeout(500)
    assert debug(tab, "layerPaints") - before == visible, "each tile of a card on screen once, and no other"
    # A card scrolled into view is drawn with the new colours before it is seen.
    below = tab.frame.locator(".tbs-card").nth(4)
    below.scroll_into_view_if_needed()
    tab.settled()
    tab.wait_until(lambda: debug(tab, "layerPaints") > before + visible, "the card scrolled into view is painted")
    assert tab.tile_pixels(tab.tile(below, 0, 0))["variance"] > 10
    # Opacity is compositing: the colours stay, the browser blends them again.
    tile = tab.tile(below, 0, 0)
    pixels = tab.tile_pixels(tile)
    before = debug(tab, "layerPaints")
    tab.frame.get_by_label("Opacity").fill("90")
    tab.wait_tile_changed(tile, pixels, "the opacity did not change the overlay")
    assert debug(tab, "layerPaints") == before
