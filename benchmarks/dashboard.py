"""The Saliency tab against TensorBoard's Images tab, in real Chromium against a real `tensorboard`.

    python benchmarks/dashboard.py [--logdir runs/benchmark] [--repeats 3] [--json results.json]

The logdir (benchmarks/dashboard_logdir.py, written once): 6 runs × 8 tags × 20 steps × 8 samples ×
3 maps, and the same maps as overlay images for the Images tab, one image per (run, tag, step).
TensorBoard runs with its default (Rust) loader and `--samples_per_plugin=saliency=20,images=20`,
so both tabs hold every step (`images=0` would make the images plugin downsample to nothing).

What is measured, each in a fresh browser context (TensorBoard's page loaded, the tab not yet open):
- first card: from the click on the tab to the first frame that shows a drawn card (the Saliency
  tab: its first card's tiles; the Images tab: its first loaded image), polled every frame.
- display change (Saliency: colormap, opacity, sign, view, percentile typed, scope; Images:
  brightness): from the trusted keydown that changes the control (its event.timeStamp) to just after
  the frame that shows the change (a task posted from that frame's animation callbacks); on the
  first page, and again after every card of every page has been browsed.
- cached step change: ← / → on a card's step slider between steps already drawn once.
- long tasks (PerformanceObserver "longtask") during those interactions, and Event Timing's
  input-to-next-paint of the keydowns (reported only when ≥ 16 ms, rounded to 8 ms).
- JS heap after browsing every card (HeapProfiler.collectGarbage, then Runtime.getHeapUsage of the
  page, which holds TensorBoard's own app and the plugin frame); canvases in the document.
"""

import argparse
import json
import pathlib
import re
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import dashboard_logdir  # noqa: E402
from tests.support.tensorboard import tensorboard  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 1000}

# Installed in every frame before its scripts run: long tasks, Event Timing, keydown times.
INIT_SCRIPT = """
(() => {
  const b = window.__bench = { longtasks: [], events: [], keydowns: [] };
  try { new PerformanceObserver((l) => b.longtasks.push(...l.getEntries().map((e) => [e.startTime, e.duration])))
          .observe({ type: "longtask", buffered: true }); } catch (e) {}
  try { new PerformanceObserver((l) => b.events.push(...l.getEntries().map((e) => [e.name, e.startTime, e.duration])))
          .observe({ type: "event", buffered: true, durationThreshold: 16 }); } catch (e) {}
  addEventListener("keydown", (e) => b.keydowns.push(e.timeStamp), true);
  // Deep queries through shadow roots (TensorBoard's Polymer tabs live in them).
  b.deepAll = (selector, root = document) => {
    const out = [...root.querySelectorAll(selector)];
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) out.push(...b.deepAll(selector, el.shadowRoot));
    return out;
  };
  b.untilFrame = (pred, timeoutMs = 60000) => new Promise((resolve) => {
    const t0 = performance.now();
    const loop = () => {
      let ok = false;
      try { ok = pred(); } catch (e) {}
      if (ok) resolve(performance.now());
      else if (performance.now() - t0 > timeoutMs) resolve(null);
      else requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
})();
"""

SALIENCY_PAINTED = "() => { const f = document.querySelector('iframe'); const d = f && f.contentWindow && f.contentWindow.tbsDebug; return !!d && d.paints > 0; }"
IMAGES_PAINTED = "() => window.__bench.deepAll('#main-image-container img').some((i) => i.complete && i.naturalWidth > 0)"


def click_tab_and_time(page, name, painted):
    """Clicks TensorBoard's tab `name` and returns ms until the first frame where `painted()` holds."""
    tab = page.get_by_text(re.compile(rf"^\s*{name}\s*$", re.I)).first
    tab.wait_for(state="attached", timeout=60_000)
    if not tab.is_visible():  # a tab TensorBoard lists under "Inactive"
        page.locator("mat-select, .mat-mdc-select").first.click()
        tab = page.get_by_role("option", name=re.compile(name, re.I))
    handle = tab.element_handle()
    return page.evaluate(
        """async ([el, painted]) => {
            const pred = eval(painted);
            const t0 = performance.now();
            el.click();
            const t1 = await window.__bench.untilFrame(pred);
            return t1 === null ? null : t1 - t0;
        }""",
        [handle, painted],
    )


def plugin_frame(page):
    for _ in range(300):
        for frame in page.frames:
            if "plugin_entry.html?name=saliency" in frame.url:
                return frame
        page.wait_for_timeout(100)
    raise RuntimeError("no saliency frame")


def settle(frame, timeout_s=60):
    """Waits until no live card is still loading and nothing painted for 300 ms."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        state = frame.evaluate(
            "() => [tbsDebug.paints, tbsDebug.loadingCards(), tbsDebug.liveCards()]"
        )
        if state == last and state[1] == 0:
            return
        last = state
        frame.page.wait_for_timeout(300)
    raise RuntimeError(f"the dashboard never settled: {last}")


def timed_key(frame, target, key, wait="redraw"):
    """Presses `key` on `target` (a locator) and returns (ms from the keydown to just after the frame
    that showed the result, long tasks in that window, Event Timing durations in that window, ms of
    the redraw's own work)."""
    frame.evaluate(
        """(w) => {
            const b = window.__bench;
            b.armed = { r: tbsDebug.redraws, p: tbsDebug.paints, k: b.keydowns.length };
            // Resolved by the dashboard itself just after the frame that shows the change: no polling.
            b.painted = new Promise((resolve) => {
                tbsDebug.onPainted = (at) => {
                    const done = w === "redraw" ? tbsDebug.redraws > b.armed.r : tbsDebug.paints > b.armed.p;
                    if (done && b.keydowns.length > b.armed.k) { tbsDebug.onPainted = null; resolve(at); }
                };
            });
        }""",
        wait,
    )
    target.press(key)
    return frame.evaluate(
        """async () => {
            const b = window.__bench, a = b.armed;
            const end = await Promise.race([b.painted, new Promise((r) => setTimeout(() => r(null), 30000))]);
            if (end === null) throw new Error("no paint after the key");
            const start = b.keydowns[a.k];
            await new Promise((r) => setTimeout(r, 100));  // let Event Timing and long-task entries arrive
            const tasks = b.longtasks.filter(([s, d]) => s + d >= start && s <= end).map(([, d]) => d);
            const events = b.events.filter(([, s]) => s >= start - 1 && s <= end).map(([, , d]) => d);
            return [end - start, tasks, events, tbsDebug.lastRedrawMs];
        }"""
    )


def display_changes(frame, rounds=2):
    """The display settings changed from the keyboard, as a user would; each result in ms."""
    out = {}

    def control(label):
        return frame.get_by_label(label, exact=True)

    for _ in range(rounds):
        for label, keys in (("Colormap", ["ArrowDown", "ArrowUp"]), ("Opacity", ["ArrowRight", "ArrowLeft"]),
                            ("Sign", ["ArrowUp", "ArrowDown"]), ("View", ["ArrowDown", "ArrowUp"]),
                            ("Normalise", ["ArrowDown", "ArrowUp"])):
            for key in keys:
                out.setdefault(label.lower(), []).append(timed_key(frame, control(label), key))
        # The percentile applies as it is typed: 99 → 9 → 98 → 9 → 99.
        pct = control("Percentile")
        pct.click()
        pct.press("End")
        for key in ("Backspace", "8", "Backspace", "9"):
            result = timed_key(frame, pct, key) if key != "Backspace" else None
            if result is None:
                pct.press(key)
                frame.page.wait_for_timeout(100)
            else:
                out.setdefault("percentile", []).append(result)
    return out


def step_changes(frame, cards=3):
    """← and → on the step sliders of the first cards, between steps drawn once already."""
    results = []
    sliders = frame.locator(".tbs-card .tbs-step input[type=range]")
    for i in range(min(cards, sliders.count())):
        slider = sliders.nth(i)
        slider.focus()
        slider.press("ArrowLeft")  # draws the step before: fetched and decoded now
        settle(frame)
        for key in ("ArrowRight", "ArrowLeft", "ArrowRight"):
            results.append(timed_key(frame, slider, key, wait="paint"))
    return results


def browse_everything(frame):
    """Every page of every tag group, scrolled top to bottom, each card drawn."""
    main = frame.locator(".tbs-main")
    pages = 0
    groups = frame.locator(".tbs-group[data-group]").count()
    for g in range(groups):
        while True:
            pages += 1
            height = main.evaluate("(m) => m.scrollHeight")
            y = 0
            while y < height:
                main.evaluate("(m, y) => m.scrollTo(0, y)", y)
                settle(frame)
                y += 700
                height = main.evaluate("(m) => m.scrollHeight")
            group = frame.locator(".tbs-group[data-group]").nth(g)
            nxt = group.locator(".tbs-page-next")
            if nxt.count() == 0 or nxt.is_disabled():
                break
            nxt.click()
            settle(frame)
    main.evaluate("(m) => m.scrollTo(0, 0)")
    settle(frame)
    return pages


def heap(page):
    cdp = page.context.new_cdp_session(page)
    for _ in range(3):
        cdp.send("HeapProfiler.collectGarbage")
    usage = cdp.send("Runtime.getHeapUsage")
    cdp.detach()
    return usage


def summarise(samples):
    values = [s[0] for s in samples]
    tasks = [t for s in samples for t in s[1]]
    events = [e for s in samples for e in s[2]]
    return {
        "n": len(values), "median_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1),
        "max_long_task_ms": round(max(tasks), 1) if tasks else 0, "max_event_timing_ms": max(events) if events else "<16",
        "max_redraw_work_ms": round(max(s[3] for s in samples), 1) if samples and len(samples[0]) > 3 else None,
    }


def open_tab_timed(browser, url, tab, painted):
    """A fresh page on TensorBoard, and the ms from clicking `tab` to its first card painted."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.goto(url)
    page.get_by_text(re.compile(rf"^\s*{tab}\s*$", re.I)).first.wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(1000)
    return context, page, click_tab_and_time(page, tab, painted)


def run_saliency(browser, url):
    context, page, first_card_ms = open_tab_timed(browser, url, "saliency", SALIENCY_PAINTED)
    result = {"first_card_ms": first_card_ms}
    frame = plugin_frame(page)
    settle(frame)
    result["display_first_page"] = {k: summarise(v) for k, v in display_changes(frame).items()}
    result["cached_step_change"] = summarise(step_changes(frame))
    t0 = time.monotonic()
    result["pages_browsed"] = browse_everything(frame)
    result["browse_s"] = round(time.monotonic() - t0, 1)
    result["display_after_browsing"] = {k: summarise(v) for k, v in display_changes(frame).items()}
    result["cached_step_change_after_browsing"] = summarise(step_changes(frame))
    usage = heap(page)
    result["heap_mb"] = round(usage["usedSize"] / 2**20, 1)
    if "backingStorageSize" in usage:
        result["array_buffers_mb"] = round(usage["backingStorageSize"] / 2**20, 1)
    result["canvases"] = frame.evaluate("document.querySelectorAll('canvas').length")
    result["live_cards"] = frame.evaluate("tbsDebug.liveCards()")
    result["cards_in_dom"] = frame.evaluate("document.querySelectorAll('.tbs-card').length")
    result["page_height_px"] = frame.evaluate("document.querySelector('.tbs-main').scrollHeight")
    result["cache_mb"] = round(frame.evaluate("tbsDebug.cacheBytes()") / 2**20, 1)
    result["all_long_tasks_over_100ms"] = frame.evaluate("window.__bench.longtasks.filter(([, d]) => d > 100).length")
    context.close()
    return result


def run_images(browser, url):
    context, page, first_card_ms = open_tab_timed(browser, url, "images", IMAGES_PAINTED)
    result = {"first_card_ms": first_card_ms}
    page.wait_for_timeout(2000)
    # Brightness: input to the next frame (the image's CSS filter changes in the handler).
    slider = page.locator("#brightness-slider, paper-slider").first
    samples = []
    for key in ("ArrowRight", "ArrowLeft") * 3:
        slider.focus()
        # The brightness filter is set in the key's handler; the next frame shows it.
        page.evaluate(
            """() => { const b = window.__bench; b.painted = new Promise((resolve) => addEventListener("keydown", (e) => {
                 const start = e.timeStamp;
                 requestAnimationFrame(() => { const c = new MessageChannel(); c.port1.onmessage = () => resolve([start, performance.now()]); c.port2.postMessage(0); });
               }, { once: true, capture: true })); }""")
        slider.press(key)
        samples.append(page.evaluate(
            """async () => { const b = window.__bench; const [start, end] = await b.painted;
                 await new Promise((r) => setTimeout(r, 100));
                 return [end - start, b.longtasks.filter(([s, d]) => s + d >= start && s <= end).map(([, d]) => d), b.events.filter(([, s]) => s >= start - 1 && s <= end).map(([, , d]) => d)]; }"""))
    result["display_brightness"] = summarise(samples)
    # Browse every page of every group.
    pages = 0
    while True:
        pages += 1
        page.wait_for_function("() => window.__bench.deepAll('#main-image-container img').filter((i) => i.complete).length >= 1", timeout=60_000)
        page.mouse.wheel(0, 3000)
        page.wait_for_timeout(1500)
        nxt = page.get_by_role("button", name=re.compile("next page", re.I)).first
        if nxt.count() == 0 or nxt.is_disabled() or pages > 50:
            break
        nxt.click()
    result["pages_browsed"] = pages
    usage = heap(page)
    result["heap_mb"] = round(usage["usedSize"] / 2**20, 1)
    if "backingStorageSize" in usage:
        result["array_buffers_mb"] = round(usage["backingStorageSize"] / 2**20, 1)
    context.close()
    return result


def baseline_heap(browser, url):
    """TensorBoard's page with no tab but the default one opened: the heap every tab starts from."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url)
    page.get_by_text(re.compile(r"^\s*saliency\s*$", re.I)).first.wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(3000)
    usage = heap(page)
    context.close()
    return round(usage["usedSize"] / 2**20, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logdir", default=str(ROOT / "runs" / "benchmark"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(f"logdir {args.logdir}: writing it unless it is there", flush=True)
    dashboard_logdir.write(args.logdir)
    from playwright.sync_api import sync_playwright

    results = {"saliency": [], "images": []}
    with tensorboard(args.logdir, load_fast=True, reload_interval=0, extra_args=["--samples_per_plugin=saliency=20,images=20"]) as url:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                # Warm TensorBoard's caches (and the Rust server's) for both tabs before timing.
                run_images(browser, url)
                run_saliency(browser, url)
                results["tensorboard_page_heap_mb"] = baseline_heap(browser, url)
                for i in range(args.repeats):
                    results["images"].append(run_images(browser, url))
                    results["saliency"].append(run_saliency(browser, url))
                    print(f"round {i + 1}: images first card {results['images'][-1]['first_card_ms']:.0f} ms, "
                          f"saliency first card {results['saliency'][-1]['first_card_ms']:.0f} ms", flush=True)
            finally:
                browser.close()
    text = json.dumps(results, indent=1)
    if args.json:
        pathlib.Path(args.json).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
