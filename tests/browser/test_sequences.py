"""Text and signal steps in the tab (issue 13), in real Chromium against a real TensorBoard: tokens
drawn as text (untrusted strings never parsed), coloured by value, read out on hover, merged into
words; signals drawn with their attribution band, zoomable, and playable when a sample rate is given."""

import pytest

from tests.browser.conftest import loaded_once
from tests.support import viewer_logdirs

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def sequences_url(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("sequences")
    viewer_logdirs.write_tokens_and_signals(logdir, run="sequences", steps=(0, 10))
    long_tokens = [["[CLS]"] + [f"w{k}" if k % 3 else f"##p{k}" for k in range(1, 511)] + ["[SEP]"]]
    import numpy as np
    from tb_saliency import summary

    with viewer_logdirs.RunWriter(logdir / "long") as writer:
        writer.summary(summary.token_map("long", long_tokens, np.sin(np.arange(512) / 9.0)[None]), 0, 1.0)
    from tb_saliency import format as stored_format

    tokens = stored_format.TokenInputs(tokens=[["a", "b", "c"]] * 2, special=np.zeros((2, 3), bool), padding=np.zeros((2, 3), bool))
    column = stored_format.MapColumn(key="ig", method="ig", values=np.arange(6.0).reshape(2, 1, 3), metrics=[
        stored_format.MetricValues("deletion", np.array([0.25, 0.5]), curve=np.array([[1.0, 0.5], [1.0, 0.25]])),
        stored_format.MetricValues("pointing_game", np.array([1.0, 0.0]))])
    with viewer_logdirs.RunWriter(logdir / "scored") as writer:
        writer.summary(stored_format.saliency_summary(
            "scored", samples=[stored_format.SampleFacts()] * 2, maps=[column], tokens=tokens,
            summary_metadata=stored_format.create_summary_metadata("saliency", map_keys=["ig"], num_samples=2)), 0, 1.0)
    with loaded_once(logdir, samples_per_plugin="saliency=0") as url:
        yield url


def ready(tab, run, tag, selector):
    card = tab.card(run, tag)
    card.scroll_into_view_if_needed()
    card.locator(selector).first.wait_for(timeout=20_000)
    tab.settled()
    return card


def test_a_token_step_draws_each_token_as_text_with_its_index(open_tab, sequences_url):
    tab = open_tab(sequences_url, viewport=(1400, 1000))
    card = ready(tab, "sequences", "text", ".tbs-tok")
    line = card.locator("tbody tr[data-sample='0'] .tbs-seq-line[data-column='0']")
    tokens = line.locator("[data-token]")
    assert tokens.count() == 10
    assert tokens.evaluate_all("els => els.map(e => [e.dataset.token, e.textContent])") == [
        [str(k), t] for k, t in enumerate(viewer_logdirs.SEQUENCE_TOKENS[0])]
    evil = line.locator("[data-token='6']")
    assert evil.text_content() == EVIL and evil.locator("img").count() == 0, "markup is shown as text"
    assert card.locator("img").count() == 0 and not tab.dialogs, "no element came out of a token string"
    # Every method is stacked under the sample: one line per map.
    assert card.locator("tbody tr[data-sample='0'] .tbs-seq-line").count() == 2
    # Tokens are coloured; special and padding tokens are dimmed.
    colours = tokens.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert len(set(colours[1:7])) > 2, colours
    assert line.locator(".tbs-tok-dim").evaluate_all("els => els.map(e => e.dataset.token)") == ["0", "7", "8", "9"]
    # RTL and CJK tokens keep their text, each isolated, in a line whose direction follows its text.
    rtl = card.locator("tbody tr[data-sample='1'] .tbs-seq-line[data-column='0']")
    assert rtl.locator("[data-token='1']").text_content() == "▁שלום"
    assert rtl.locator(".tbs-text").get_attribute("dir") == "auto"
    assert rtl.locator("[data-token='3']").evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    assert not tab.errors, tab.errors


def test_hovering_a_token_shows_its_value_and_the_colours_follow_the_settings(open_tab, sequences_url):
    tab = open_tab(sequences_url)
    card = ready(tab, "sequences", "text", ".tbs-tok")
    token = card.locator("tbody tr[data-sample='0'] .tbs-seq-line[data-column='0'] [data-token='4']")
    token.hover()
    tip = tab.frame.locator(".tbs-tooltip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert "sample 0 · integrated_gradients" in text and 'token 4 "wonder"' in text and "value " in text, text
    before = token.evaluate("e => getComputedStyle(e).backgroundColor")
    tab.frame.locator("[data-setting='colormap']").select_option("inferno")
    tab.wait_until(lambda: token.evaluate("e => getComputedStyle(e).backgroundColor") != before, "the colormap did not apply")
    assert not tab.errors, tab.errors


def test_sub_word_pieces_merge_into_words_with_summed_scores(open_tab, sequences_url):
    tab = open_tab(sequences_url)
    card = ready(tab, "sequences", "text", ".tbs-tok")
    tab.frame.get_by_label("Merge sub-words").check()
    line = card.locator("tbody tr[data-sample='0'] .tbs-seq-line[data-column='0']")
    line.locator("[data-token='4'][data-last='5']").wait_for(timeout=10_000)
    word = line.locator("[data-token='4']")
    assert word.text_content() == "wonderful"
    assert line.locator("[data-token='5']").count() == 0
    resume = card.locator("tbody tr[data-sample='1'] .tbs-seq-line[data-column='0'] [data-token='6']")
    assert resume.text_content() == "résumé"
    word.hover()
    tip = tab.frame.locator(".tbs-tooltip")
    tip.wait_for(state="visible")
    assert 'word "wonderful" (tokens 4–5' in tip.inner_text() and "sum value" in tip.inner_text()
    tab.frame.get_by_label("Merge sub-words").uncheck()
    line.locator("[data-token='5']").wait_for(timeout=10_000)
    assert not tab.errors, tab.errors


def test_512_tokens_wrap_inside_the_card(open_tab, sequences_url):
    tab = open_tab(sequences_url)
    card = ready(tab, "long", "long", ".tbs-tok")
    text = card.locator(".tbs-text").first
    assert text.locator("[data-token]").count() == 512
    box, card_box = text.bounding_box(), card.bounding_box()
    assert box["width"] <= card_box["width"] and box["height"] > 200, (box, card_box)


def test_a_signal_step_draws_its_series_and_band_and_plays_audio(open_tab, sequences_url):
    tab = open_tab(sequences_url)
    card = ready(tab, "sequences", "audio", "canvas.tbs-signal-plot")
    plots = card.locator("canvas.tbs-signal-plot")
    assert plots.count() == 2
    plot = plots.first
    drawn = tab.wait_until(lambda: (p := tab.pixels(plot)) and p["variance"] > 10 and p["grey"] < 0.95 and p,
                           "the series and its band were not drawn")
    audio = card.locator("audio")
    assert audio.count() == 2
    # TensorBoard's CSP lets media come from its own origin only: the plugin serves the WAV.
    assert "audio?run=sequences&tag=audio&step=10&sample=0" in audio.first.get_attribute("src")
    duration = audio.first.evaluate("a => new Promise(r => { a.preload = 'auto'; a.onloadedmetadata = () => r(a.duration); a.onerror = () => r(-1); a.load(); })")
    assert abs(duration - 400 / 8000) < 0.01, duration
    plot.hover()
    tab.frame.locator(".tbs-tooltip").wait_for(state="visible")
    assert "channel 1:" in tab.frame.locator(".tbs-tooltip").inner_text()
    # Dragging zooms into the span; a double click shows the whole series again.
    box = plot.bounding_box()
    tab.page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 20)
    tab.page.mouse.down()
    tab.page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + 20, steps=4)
    tab.page.mouse.up()
    zoomed = tab.wait_until_changed(plot, drawn, "the drag did not zoom")
    plot.dblclick()
    tab.wait_until_changed(plot, zoomed, "the double click did not reset the zoom")
    assert not tab.errors, tab.errors


def test_the_evolution_view_is_a_token_by_step_strip(open_tab, sequences_url):
    tab = open_tab(sequences_url)
    card = ready(tab, "sequences", "text", ".tbs-tok")
    card.locator("tbody tr[data-sample='0'] .tbs-seq-line[data-column='0'] .tbs-seq-evo").click()
    view = tab.frame.locator(".tbs-evolution-view")
    view.locator("tr[data-step='10'] .tbs-strip").first.wait_for(timeout=20_000)
    for step in (0, 10):
        strip = view.locator(f"tr[data-step='{step}'] .tbs-strip[data-key='integrated_gradients']")
        assert strip.locator("[data-token]").evaluate_all("els => els.map(e => e.textContent)") == viewer_logdirs.SEQUENCE_TOKENS[0]
    # The values changed between the steps, so the same token has another colour.
    colours = [view.locator(f"tr[data-step='{s}'] .tbs-strip[data-key='integrated_gradients'] [data-token='2']").evaluate(
        "e => getComputedStyle(e).backgroundColor") for s in (0, 10)]
    assert colours[0] != colours[1], colours
    assert not tab.errors, tab.errors


def test_metric_values_sit_under_each_sample_line(open_tab, sequences_url):
    tab = open_tab(sequences_url)
    card = ready(tab, "scored", "scored", ".tbs-tok")
    values = [card.locator(f"tbody tr[data-sample='{i}'] .tbs-seq-metrics").inner_text().replace("\n", "") for i in (0, 1)]
    assert values == ["del 0.25 · pg ✓", "del 0.50 · pg ✗"], values
    card.locator("tbody tr[data-sample='1'] .tbs-seq-metrics .tbs-metric").first.hover()
    tip = tab.frame.locator(".tbs-tooltip")
    tip.wait_for(state="visible")
    assert "deletion AUC: 0.5" in tip.inner_text(), tip.inner_text()
    assert not tab.errors, tab.errors
