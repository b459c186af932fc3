"""Nothing drawn silently wrong: every damaged, hostile or unservable frame, tag or run gets a visible
message in its card; notices say what sampling dropped and what a resumed run did, and no more."""

import json
import re

from tests.browser.conftest import DEMO_RUNS, DEMO_STEPS, plugin_frame
from tests.support import hostile


def message_of(card):
    """The card's visible error texts (steps, tags, runs), once one shows."""
    card.scroll_into_view_if_needed()
    card.locator(".tbs-error").first.wait_for(timeout=20_000)
    return "\n".join(card.locator(".tbs-error").all_inner_texts())


def test_every_damaged_or_hostile_frame_says_why_in_its_card(open_tab, damaged_url):
    tab = open_tab(damaged_url, viewport=(1400, 900))
    for tag, words in hostile.FRAME_ERRORS.items():
        card = tab.card("hostile", tag)
        if words is None:
            card.scroll_into_view_if_needed()
            card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
            assert card.locator(".tbs-error").count() == 0
            continue
        text = message_of(card)
        assert "Step 0 cannot be shown" in text, (tag, text)
        assert words in text, (tag, text)
    assert not tab.errors, tab.errors


def test_blobs_the_dashboard_refuses_are_named_in_their_card(open_tab, damaged_url):
    tab = open_tab(damaged_url, viewport=(1400, 900))
    expected = {
        "extra_bytes": r'the blob of map "m" holds 10 bytes, 2 bytes more than the 8 its shape needs',
        "short_blob": r'the blob of map "m" holds 6 bytes, 2 bytes fewer than the 8',
        "not_png": r"Sample 0's input image cannot be shown: its blob is not a PNG \(23 bytes, starting 47 49 46 38\)",
        "png_size": r"Sample 0's input image cannot be shown: it is 3×3 pixels, but the header says 2×2",
    }
    for tag, pattern in expected.items():
        text = message_of(tab.card("damage", tag))
        assert re.search(pattern, text), (tag, text)
    # An input that cannot be shown does not hide the maps: they draw, as heatmaps alone.
    for tag in ("not_png", "png_size"):
        card = tab.card("damage", tag)
        card.locator("table.tbs-grid .tbs-tile[data-column='0']").first.wait_for()
        assert card.locator(".tbs-tile[data-column='-1']").count() == 0
    fine = tab.card("damage", "fine")
    fine.scroll_into_view_if_needed()
    fine.locator(".tbs-tile[data-column='-1']").wait_for()
    assert fine.locator(".tbs-error").count() == 0


def test_tags_and_runs_that_cannot_be_read_say_why(open_tab, damaged_url):
    tab = open_tab(damaged_url, viewport=(1400, 900))
    assert re.search(r"This tag cannot be shown: .*damaged", message_of(tab.card("hostile", "bad_metadata")))
    assert re.search(r"This tag cannot be shown: .*newer tb_saliency", message_of(tab.card("hostile", "newer_metadata")))
    # Run names the fast loader cannot serve: said at the top, beside the run, and in its cards.
    alerts = tab.frame.locator(".tbs-run-alert")
    alerts.first.wait_for()
    runs = {a.get_attribute("data-run") for a in alerts.all()}
    assert {'quote"run', "back\\slash"} <= runs, runs
    assert "fast loader" in alerts.first.inner_text()
    assert tab.frame.locator(".tbs-runs .tbs-run-error").count() == 2
    card = tab.card('quote"run')
    assert "This run cannot be shown" in message_of(card)


def test_a_tag_of_unknown_kind_without_its_documented_error_is_still_said(open_tab, damaged_url, chromium):
    """The contract says kind "unknown" comes with an `error`; a /tags answer without one (an older or
    broken backend) still gets a message rather than a blank card."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    try:
        def strip_error(route):
            response = route.fetch()
            body = response.json()
            body["runs"]["hostile"]["bad_metadata"].pop("error", None)
            route.fulfill(response=response, body=json.dumps(body))

        context.route(re.compile(r".*/data/plugin/saliency/tags$"), strip_error)
        page = context.new_page()
        page.goto(damaged_url + "#saliency")
        frame = plugin_frame(page)
        card = frame.locator('.tbs-card[data-run="hostile"][data-tag="bad_metadata"]')
        text = message_of(card)
        assert "gives no reason" in text and 'kind "unknown"' in text, text
    finally:
        context.close()


def test_sampling_notice_names_the_flag_only_when_sampling_dropped_steps(open_tab, demo_url, keep_all_url):
    tab = open_tab(demo_url)
    card = tab.card(DEMO_RUNS[0])
    notice = card.locator(".tbs-sampling")
    notice.wait_for(timeout=20_000)
    text = notice.inner_text()
    assert "--samples_per_plugin=saliency=0" in text
    assert f"Showing 10 of {len(DEMO_STEPS)} logged steps" in text
    assert card.locator(".tbs-relogged").count() == 0
    # Every step kept: no notice at all, and the flag is never advised.
    tab = open_tab(keep_all_url)
    card = tab.card(DEMO_RUNS[0])
    card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
    tab.settled()
    assert int(card.locator(".tbs-step input[type=range]").get_attribute("max")) == len(DEMO_STEPS) - 1
    assert card.locator(".tbs-notice").count() == 0
    assert "samples_per_plugin" not in tab.frame.locator(".tbs-main").inner_text()


def test_steps_logged_more_than_once_are_said_as_such_not_as_sampling(open_tab, damaged_url):
    tab = open_tab(damaged_url, viewport=(1400, 900))
    card = tab.card("hostile", "same_step")
    card.scroll_into_view_if_needed()
    notice = card.locator(".tbs-relogged")
    notice.wait_for(timeout=20_000)
    text = notice.inner_text()
    assert text.startswith("2 frames logged a step that was already logged"), text
    assert "Nothing was dropped by sampling" in text
    assert card.locator(".tbs-sampling").count() == 0
    assert "samples_per_plugin" not in card.inner_text()
