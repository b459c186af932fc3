"""Fixtures for the browser tests: real Chromium driven by Playwright, real `tensorboard` processes.

Chromium is the Debian package (/usr/bin/chromium, or $TB_SALIENCY_CHROMIUM); Playwright's own
browser download is never used. A missing browser fails the tests with a message; it never skips them.
"""

import os
import re
import shutil

import numpy as np
import pytest

from tests.support.probes import coloured_shapes
from tests.support.tensorboard import tensorboard

CHROMIUM = os.environ.get("TB_SALIENCY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
EVIL = "<img src=x onerror=alert(1)>"
DEMO_STEPS = list(range(0, 150, 10))  # 15 steps: more than TensorBoard keeps by default
DEMO_RUNS = ("cnn-small", "cnn-wide")
CLASSES = ["circle", "square", "triangle"]


def write_demo_logdir(logdir):
    """Two runs whose maps focus on the shapes as 'training' goes on: demo-like data to look at."""
    from tb_saliency import SummaryWriter

    size, count, cam = 48, 4, 6
    for seed, run in enumerate(DEMO_RUNS):
        rng = np.random.default_rng(seed)
        images, centres = coloured_shapes(count, size, rng)
        yy, xx = np.mgrid[0:size, 0:size]
        cy_cam, cx_cam = np.mgrid[0:cam, 0:cam]
        writer = SummaryWriter(f"{logdir}/{run}")
        try:
            for k, step in enumerate(DEMO_STEPS):
                focus = (k + 1) / len(DEMO_STEPS)
                gradient = rng.normal(0, 1 - 0.7 * focus, size=(count, size, size))
                gradcam = rng.uniform(0, 0.5, size=(count, cam, cam))
                for i, (cy, cx) in enumerate(centres):
                    bump = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (size / 8) ** 2))
                    gradient[i] += 3 * focus * bump * np.sign(np.sin(xx / 2.0) + 0.3)
                    c = np.exp(-((cy_cam - cy * cam / size) ** 2 + (cx_cam - cx * cam / size) ** 2) / 2)
                    gradcam[i] += (1 + 3 * focus) * c
                labels = [i % 3 for i in range(count)]
                predictions = [(i + (1 if (k + i) % 4 == 0 else 0)) % 3 for i in range(count)]
                writer.add_saliency_map(
                    "probe", images, {"gradient": gradient.astype(np.float32), "gradcam": gradcam.astype(np.float32)},
                    global_step=step, labels=labels, predictions=predictions,
                    scores=rng.uniform(0.5, 1.0, size=count), class_names=CLASSES,
                )
            writer.add_scalar("loss", 1.0, 0)
        finally:
            writer.close()


def write_evil_logdir(logdir):
    """Run, tag and class names that would run script if the dashboard ever parsed them as HTML."""
    from tb_saliency import SummaryWriter

    rng = np.random.default_rng(3)
    images, _ = coloured_shapes(2, 16, rng)
    writer = SummaryWriter(f"{logdir}/{EVIL}")
    try:
        for step in (0, 1):
            writer.add_saliency_map(
                f"probe {EVIL}", images, {"gradient": rng.normal(size=(2, 16, 16)).astype(np.float32)},
                global_step=step, labels=[0, 1], predictions=[0, 0], scores=[0.9, 0.8],
                class_names=[EVIL, "<b>bold</b>"],
            )
    finally:
        writer.close()


def write_broken_frames(logdir):
    """A run whose frames cannot be decoded: one damaged, one from a newer format version."""
    from tests.support import raw

    raw.write_raw_frame(logdir / "broken", "damaged", [raw.DAMAGED_HEADER])
    raw.write_raw_frame(logdir / "broken", "newer", [raw.NEWER_HEADER])


@pytest.fixture(scope="session")
def chromium():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install the Debian package (apt-get install chromium) "
            "or point TB_SALIENCY_CHROMIUM at a Chromium binary. The browser tests never skip.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def loaded_once(logdir, **options):
    """The Python loader, having read the whole logdir before it serves (a fixed logdir needs no reloads)."""
    return tensorboard(logdir, load_fast=False, reload_interval=0, extra_args=["--reload_task=blocking"], **options)


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("demo")
    write_demo_logdir(logdir)
    with loaded_once(logdir) as url:
        yield url


@pytest.fixture(scope="session")
def evil_url(tmp_path_factory):
    # The Rust data server (--load_fast=true) here, the Python loader for the demo: both paths run.
    from tests.support.logdirs import write_model_saliency

    logdir = tmp_path_factory.mktemp("evil")
    write_evil_logdir(logdir)
    write_broken_frames(logdir)
    # A model's own saliency and activations, through add_saliency and add_activations.
    write_model_saliency(logdir, run="model", steps=(0, 2))
    with tensorboard(logdir, load_fast=True) as url:
        yield url


def write_frontend_damage(logdir):
    """Frames whose header the backend accepts but whose blobs the dashboard must refuse: an input
    image that is not a PNG, a PNG of another size than the header says, a map blob with bytes after
    its last value, and one short of it."""
    import numpy as np

    from tb_saliency.format.metadata import FORMAT_VERSION
    from tb_saliency.proto import saliency_pb2
    from tests.support import raw

    good_map = np.full((1, 2, 2), 0.5, "<f2").tobytes()

    def header(images=None, **map_fields):
        fields = dict(key="m", method="m", blob=1, dtype=1, height=2, width=2, min=[0.0], max=[0.5], scale=[1.0])
        fields.update(map_fields)
        h = saliency_pb2.FrameHeader(version=FORMAT_VERSION, kind=1, num_samples=1, samples=[saliency_pb2.Sample(label=0)],
                                     maps=[saliency_pb2.MapBlock(**fields)])
        if images is not None:
            h.images.CopyFrom(images)
        return h.SerializeToString()

    from tb_saliency.format.images import DisplayImages

    png = DisplayImages(np.zeros((1, 2, 2, 3), np.uint8), "none").encode_png()[0]
    big_png = DisplayImages(np.zeros((1, 3, 3, 3), np.uint8), "none").encode_png()[0]
    image_set = saliency_pb2.ImageSet(width=2, height=2, channels=3, display_transform="none", first_blob=2)
    cases = {
        "not_png": [header(image_set), good_map, b"GIF89a not a png at all"],
        "png_size": [header(image_set), good_map, big_png],
        "extra_bytes": [header(), good_map + b"\x00\x00"],
        "short_blob": [header(), good_map[:-2]],
        "fine": [header(image_set), good_map, png],
    }
    raw.write_values(logdir / "damage", [(0, 1.0, [raw.blob_value(tag, blobs) for tag, blobs in cases.items()])])


@pytest.fixture(scope="session")
def damaged_url(tmp_path_factory):
    """The backend's hostile logdir (damaged, hostile and unservable frames, names the fast loader
    cannot serve) and the frontend's own damaged blobs, under the Rust loader."""
    from tests.support import hostile

    logdir = tmp_path_factory.mktemp("damaged")
    hostile.write(logdir)
    write_frontend_damage(logdir)
    with tensorboard(logdir, load_fast=True) as url:
        yield url


GRID_RUNS = ("alpha", "beta", "gamma")
GRID_TAGS = ("train/probe", "train/other", "val/probe", "val/other")


def write_grid_logdir(logdir):
    """3 runs × 4 tags in two tag groups (train/, val/), 3 steps each, torch-free."""
    import numpy as np

    from tests.support.viewer_logdirs import CLASS_NAMES, RunWriter, probe_images

    images = probe_images(3)
    for r, run in enumerate(GRID_RUNS):
        rng = np.random.default_rng(r)
        with RunWriter(logdir / run) as writer:
            for step in (0, 1, 2):
                for tag in GRID_TAGS:
                    maps = {"gradient": rng.normal(size=(3, 16, 16)), "gradcam": rng.uniform(0, 3, size=(3, 4, 4))}
                    writer.saliency(tag, images, maps, step=step, wall_time=1_700_000_000.0 + step,
                                    labels=[0, 1, 2], predictions=[0, 2, 2], scores=[0.9, 0.6, 0.8],
                                    class_names=CLASS_NAMES)


@pytest.fixture(scope="session")
def grid_url(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("grid")
    write_grid_logdir(logdir)
    with loaded_once(logdir) as url:
        yield url


@pytest.fixture(scope="session")
def keep_all_url(tmp_path_factory):
    """The demo logdir with every step kept (--samples_per_plugin=saliency=0)."""
    logdir = tmp_path_factory.mktemp("keepall")
    write_demo_logdir(logdir)
    with loaded_once(logdir, samples_per_plugin="saliency=0") as url:
        yield url


@pytest.fixture(scope="session")
def scalars_url(tmp_path_factory):
    from tests.support.logdirs import write_scalars_only

    logdir = tmp_path_factory.mktemp("scalars")
    write_scalars_only(logdir)
    with tensorboard(logdir, load_fast=False, wait_for_plugin=False) as url:
        yield url


class Tab:
    """A TensorBoard page with the Saliency tab open, and its plugin iframe."""

    def __init__(self, page, frame):
        self.page = page
        self.frame = frame
        self.dialogs = []
        self.errors = []
        self.requests = []  # every URL the page and its frames requested (Playwright's request events)

    def plugin_requests(self, route):
        """The plugin's requests to `route` ("step_data", "blob", ...), as query dicts, oldest first."""
        import urllib.parse

        out = []
        for url in self.requests:
            parts = urllib.parse.urlsplit(url)
            if parts.path.endswith(f"/data/plugin/saliency/{route}"):
                out.append({k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()})
        return out

    def card(self, run, tag="probe"):
        return self.frame.locator(f'.tbs-card[data-run="{css_escape(run)}"][data-tag="{css_escape(tag)}"]')

    def pixels(self, selector_or_locator):
        """Summary of a canvas's pixels: mean, variance, how grey it is, and a hash of every pixel
        (FNV-1a over the RGBA bytes and the size), so that any change to the picture changes it."""
        locator = self.frame.locator(selector_or_locator) if isinstance(selector_or_locator, str) else selector_or_locator
        return locator.evaluate(
            """(canvas) => {
                const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let n = 0, sum = 0, sq = 0, grey = 0, sumR = 0, sumG = 0, sumB = 0;
                let hash = Math.imul(0x811c9dc5 ^ canvas.width, 0x01000193) ^ canvas.height;
                for (let i = 0; i < d.length; i += 4) {
                  const v = (d[i] + d[i + 1] + d[i + 2]) / 3;
                  n++; sum += v; sq += v * v; sumR += d[i]; sumG += d[i + 1]; sumB += d[i + 2];
                  if (d[i] === d[i + 1] && d[i + 1] === d[i + 2]) grey++;
                  for (let c = 0; c < 4; c++) hash = Math.imul(hash ^ d[i + c], 0x01000193);
                }
                const mean = sum / n;
                return {mean, variance: sq / n - mean * mean, grey: grey / n, r: sumR / n, g: sumG / n, b: sumB / n,
                        width: canvas.width, height: canvas.height, hash: (hash >>> 0).toString(16)};
            }"""
        )

    def tile(self, card, sample=0, column=0):
        """The box of one tile (column -1: the input) in the row of `sample`."""
        return card.locator(f"tbody tr[data-sample='{sample}'] .tbs-tile[data-column='{column}']")

    def tile_pixels(self, tile):
        """Summary of what the grid's canvas shows under one tile box (as Tab.pixels)."""
        return tile.evaluate(
            """(box) => {
                const wrap = box.closest('.tbs-grid-wrap');
                const canvas = wrap.querySelector('canvas.tbs-grid-canvas');
                const o = wrap.getBoundingClientRect(), r = box.getBoundingClientRect();
                const k = canvas.width / Math.max(1, o.width);
                const x = Math.round((r.left - o.left + wrap.scrollLeft) * k), y = Math.round((r.top - o.top) * k);
                const w = Math.max(1, Math.round(r.width * k)), h = Math.max(1, Math.round(r.height * k));
                const d = canvas.getContext('2d').getImageData(x, y, w, h).data;
                let n = 0, sum = 0, sq = 0, grey = 0, sumR = 0, sumG = 0, sumB = 0;
                let hash = Math.imul(0x811c9dc5 ^ w, 0x01000193) ^ h;
                for (let i = 0; i < d.length; i += 4) {
                  const v = (d[i] + d[i + 1] + d[i + 2]) / 3;
                  n++; sum += v; sq += v * v; sumR += d[i]; sumG += d[i + 1]; sumB += d[i + 2];
                  if (d[i] === d[i + 1] && d[i + 1] === d[i + 2]) grey++;
                  for (let c = 0; c < 4; c++) hash = Math.imul(hash ^ d[i + c], 0x01000193);
                }
                const mean = sum / n;
                return {mean, variance: sq / n - mean * mean, grey: grey / n, r: sumR / n, g: sumG / n, b: sumB / n,
                        width: w, height: h, hash: (hash >>> 0).toString(16)};
            }"""
        )

    def wait_until(self, condition, what, timeout_ms=10_000):
        """The first truthy value of `condition()`, polled every 100 ms; `what` is the failure message."""
        waited = 0
        while waited < timeout_ms:
            value = condition()
            if value:
                return value
            self.page.wait_for_timeout(100)
            waited += 100
        raise AssertionError(what)

    def wait_tile_changed(self, tile, before, what="the tile did not change", timeout_ms=10_000):
        """The tile's pixels once they differ from `before`."""
        return self._wait_for_new_pixels(lambda: self.tile_pixels(tile), before, what, timeout_ms)

    def wait_until_changed(self, locator, before, what="the canvas did not change", timeout_ms=10_000):
        """The canvas's pixels once they differ from `before` (a redraw happens on the next frame)."""
        return self._wait_for_new_pixels(lambda: self.pixels(locator), before, what, timeout_ms)

    def _wait_for_new_pixels(self, read, before, what, timeout_ms):
        def changed():
            now = read()
            return now if now["hash"] != before["hash"] else None

        return self.wait_until(changed, what, timeout_ms)

    def settled(self, timeout_ms=20_000):
        """Waits until every live card has drawn its step (or shown why not) and no request waits
        (neighbouring steps prefetched included)."""
        self.frame.wait_for_function("() => window.tbsDebug && tbsDebug.liveCards() > 0 && tbsDebug.loadingCards() === 0"
                                     " && tbsDebug.pendingRequests() === 0", timeout=timeout_ms)


def css_escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


@pytest.fixture
def open_tab(chromium):
    """open_tab(url) → a Tab with the Saliency tab clicked and its dashboard rendered."""
    contexts = []

    def _open(url, *, wait_for=".tbs-card, .tbs-empty", viewport=(1400, 1000)):
        context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page, None)
        page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: tab.errors.append(str(e)))
        page.on("request", lambda r: tab.requests.append(r.url))
        page.goto(url)
        open_saliency_tab(page)
        tab.frame = plugin_frame(page)
        tab.frame.locator(wait_for).first.wait_for(timeout=30_000)
        return tab

    yield _open
    for context in contexts:
        context.close()


def open_saliency_tab(page):
    """Clicks the Saliency tab as a user would: in the tab bar, or, while the plugin has no data
    (TensorBoard then lists it as inactive), in the "Inactive" dropdown."""
    tab = page.get_by_text(re.compile(r"^\s*saliency\s*$", re.I)).first
    tab.wait_for(state="attached", timeout=30_000)
    if tab.is_visible():
        tab.click()
        return
    page.locator("mat-select, .mat-mdc-select").first.click()
    page.get_by_role("option", name=re.compile(r"saliency", re.I)).click()


def plugin_frame(page, timeout_s=30):
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "plugin_entry.html?name=saliency" in frame.url:
                return frame
        page.wait_for_timeout(100)
    raise AssertionError(f"no saliency plugin iframe; frames: {[f.url for f in page.frames]}")


def copy_screenshot(path, name):
    """Screenshots go to pytest's tmp dir; docs/ gets them only when asked (TB_SALIENCY_UPDATE_SCREENSHOT=1)."""
    if os.environ.get("TB_SALIENCY_UPDATE_SCREENSHOT") == "1":
        docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs")
        os.makedirs(docs, exist_ok=True)
        shutil.copyfile(path, os.path.join(docs, name))
