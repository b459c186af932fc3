"""The Saliency plugin's routes beside the Images plugin's, on the same logdir, under both loaders.

    python benchmarks/backend.py                 # 2 to 3 minutes on 2 CPU cores
    python benchmarks/backend.py --quick         # a smaller logdir, for a try-out

Writes a logdir without torch (tb_saliency.format and TensorBoard's EventFileWriter): 20 runs × 20
tags × 50 steps of saliency frames (4 samples, a 16×16 "gradient" and a 4×4 "gradcam" map, one
fixed probe set per run), the same maps blended over their images as overlays through the Images
plugin's format (one image tag per saliency tag), one long tag of 5,000 steps (8 samples, two maps)
with its overlays, and noise pictures of five sizes logged through both plugins. Then starts real
`tensorboard` processes, --load_fast=true and =false, with every step kept
(--samples_per_plugin=saliency=0,images=100000), and measures each route beside its Images
counterpart, interleaved: /tags ↔ /tags, /steps ↔ /images, /blob ↔ /individualImage (the same PNG
bytes), sequentially and with 8 concurrent clients, p50 and p95 over requests; and how long the
backend takes to give a card of the long tag what it paints (/steps, /frame, then the step's 8
images and 2 maps with 6 parallel fetches, as a browser does), cold (the first request TensorBoard
serves for the tag) and warm; and whole cards, the Saliency tab's two requests (/steps, /step_data)
against the Images tab's two (/images, /individualImage), cold and warm, one card at a time and six
at once. Results and how to read them: benchmarks/README.md.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import pathlib
import platform
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support import viewer_logdirs  # noqa: E402
from tests.support.tensorboard import tensorboard  # noqa: E402

SALIENCY = "data/plugin/saliency/"
IMAGES = "data/plugin/images/"


# The logdir ----------------------------------------------------------------------------------------


def _overlay(images, heat):
    """Maps (N×h×w, any range) blended over images (N×3×H×W in [0, 1]) as N×H×W×3 uint8 pictures."""
    n, _, height, width = images.shape
    heat = np.abs(heat)
    heat = heat / np.maximum(heat.reshape(n, -1).max(axis=1), 1e-12)[:, None, None]
    rows = (np.arange(height) * heat.shape[1] // height)[:, None]
    cols = (np.arange(width) * heat.shape[2] // width)[None, :]
    up = heat[:, rows, cols]
    red = np.stack([up, np.zeros_like(up), 1 - up], axis=-1)
    picture = 0.5 * images.transpose(0, 2, 3, 1) + 0.5 * red
    return np.rint(np.clip(picture, 0, 1) * 255).astype(np.uint8)


def _write_tag(writer, tag, images, steps, rng, gradcam_size):
    count, _, size, _ = images.shape
    for step in range(steps):
        maps = {"gradient": rng.normal(size=(count, size, size)),
                "gradcam": rng.uniform(0, 3, size=(count, gradcam_size, gradcam_size))}
        wall_time = viewer_logdirs.WALL_TIME_START + step
        writer.saliency(tag, images, maps, step=step, wall_time=wall_time, labels=list(range(count)),
                        predictions=[(i + step) % count for i in range(count)])
        writer.images_plugin(f"overlay/{tag}", _overlay(images, maps["gradcam"]), step=step, wall_time=wall_time)


# Sides of noise pictures whose PNGs weigh about 0.25, 2, 16, 64 and 256 KB.
BLOB_SIDES = (8, 26, 74, 148, 296)


def write_logdir(logdir, *, runs, tags, steps, long_steps):
    logdir = pathlib.Path(logdir)
    rng = np.random.default_rng(0)
    # The same PNG bytes through both plugins: a one-sample frame per size, and an image tag.
    with viewer_logdirs.RunWriter(logdir / "sizes") as writer:
        for side in BLOB_SIDES:
            noise = rng.integers(0, 256, size=(1, side, side, 3), dtype=np.uint8)
            writer.saliency(f"noise{side}", noise.transpose(0, 3, 1, 2), {"m": np.ones((1, 1, 1))}, step=0,
                            wall_time=1.0, share_images=False)
            writer.images_plugin(f"image/noise{side}", noise, step=0, wall_time=1.0)
    for r in range(runs):
        images = viewer_logdirs.probe_images(4, size=16, seed=r)
        with viewer_logdirs.RunWriter(logdir / f"run{r:02d}") as writer:
            for t in range(tags):
                _write_tag(writer, f"probe{t:02d}", images, steps, rng, 4)
    with viewer_logdirs.RunWriter(logdir / "long") as writer:
        _write_tag(writer, "probe", viewer_logdirs.probe_images(8, size=16, seed=99), long_steps, rng, 7)


# Measuring ---------------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection, as one browser connection."""

    def __init__(self, base):
        url = urllib.parse.urlparse(base)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)

    def get(self, path, **params):
        """(seconds, status, body) of one GET."""
        query = urllib.parse.urlencode(params)
        start = time.perf_counter()
        self.connection.request("GET", "/" + path + ("?" + query if query else ""),
                                headers={"Accept-Encoding": "gzip"})
        response = self.connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.getheader("Content-Encoding") == "gzip":
            import gzip
            body = gzip.decompress(body)
        if response.status != 200:
            raise AssertionError(f"GET {path}?{query}: {response.status} {body[:300]!r}")
        return elapsed, response.status, body

    def json(self, path, **params):
        elapsed, _, body = self.get(path, **params)
        return elapsed, json.loads(body)


def percentiles(seconds):
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1e3, p95 * 1e3


def concurrent_times(base, ours, theirs, clients=8):
    """Latencies of two lists of requests [(path, params)], interleaved (one of ours, one of theirs)
    and spread over `clients` concurrent connections, so that both meet the same load."""
    times, lock = {"ours": [], "theirs": []}, threading.Lock()
    mixed = [item for pair in zip((("ours", r) for r in ours), (("theirs", r) for r in theirs)) for item in pair]
    chunks = [mixed[i::clients] for i in range(clients)]

    def work(chunk):
        client = Client(base)
        for who, (path, params) in chunk:
            elapsed = client.get(path, **params)[0]
            with lock:
                times[who].append(elapsed)

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, chunks))
    return times["ours"], times["theirs"]


def interleaved(client, ours, theirs):
    """Latencies of two lists of requests [(path, params)], one of ours then one of theirs."""
    times = ([], [])
    for mine, other in zip(ours, theirs):
        times[0].append(client.get(mine[0], **mine[1])[0])
        times[1].append(client.get(other[0], **other[1])[0])
    return times


class Results:
    def __init__(self):
        self.rows = []

    def add(self, loader, what, ours, theirs=None, note=""):
        self.rows.append((loader, what, percentiles(ours), None if theirs is None else percentiles(theirs), note))
        print(self.format_row(self.rows[-1]), flush=True)

    @staticmethod
    def format_row(row):
        loader, what, (p50, p95), theirs, note = row
        if theirs is None:
            their = ratio = ""
        else:
            their = f"{theirs[0]:.1f} / {theirs[1]:.1f}"
            ratio = f"{p50 / theirs[0]:.2f}"
        return f"| {loader} | {what} | {p50:.1f} / {p95:.1f} | {their} | {ratio} | {note} |"

    def table(self):
        head = ("| loader | route (Saliency ↔ Images) | Saliency p50 / p95 (ms) | Images p50 / p95 (ms) | "
                "p50 ratio | note |\n|---|---|---:|---:|---:|---|")
        return "\n".join([head] + [self.format_row(r) for r in self.rows])


def bench_loader(logdir, load_fast, args, results):
    loader = "fast" if load_fast else "python"
    start = time.perf_counter()
    with tensorboard(logdir, load_fast=load_fast, samples_per_plugin="saliency=0,images=100000",
                     reload_interval=0,
                     extra_args=() if load_fast else ("--reload_task=blocking",)) as base:
        client = Client(base)
        # The Rust server announces the plugin before it has read every file: wait for the long tag.
        deadline = time.monotonic() + 600
        while True:
            tags = client.json(SALIENCY + "tags")[1]
            if tags["runs"].get("long", {}).get("probe", {}).get("max_step") == args.long_steps - 1 and \
                    len(tags["runs"]) == args.runs + 2 or time.monotonic() > deadline:
                break
            time.sleep(1)
        print(f"# {loader}: tensorboard up and loaded in {time.perf_counter() - start:.0f} s", flush=True)
        pairs = [(f"run{r:02d}", f"probe{t:02d}") for r in range(args.runs) for t in range(args.tags)]
        random.Random(0).shuffle(pairs)
        pairs = pairs * (1 + (args.repeats * 7) // len(pairs))  # a small logdir reuses its tags

        # The long tag first, while nothing is cached: a card cold, then warm.
        card_cold = paint_card(base, "long", "probe", args.long_steps - 1)
        card_warm = [paint_card(base, "long", "probe", step) for step in (args.long_steps - 1, 0, args.long_steps // 2)
                     for _ in range(args.repeats // 4 or 1)]
        note = "the card's /steps, /frame, 8 PNGs and 2 maps (6 parallel fetches)"
        results.add(loader, f"card of the {args.long_steps}-step tag, cold", [card_cold["total"]], note=note + f"; "
                    f"/steps {card_cold['steps'] * 1e3:.0f} ms, /frame {card_cold['frame'] * 1e3:.0f} ms, blobs "
                    f"{card_cold['blobs'] * 1e3:.0f} ms")
        results.add(loader, f"card of the {args.long_steps}-step tag, warm", [c["total"] for c in card_warm],
                    note=note)

        long_steps, long_images = interleaved(
            client, [(SALIENCY + "steps", {"run": "long", "tag": "probe"})] * args.repeats,
            [(IMAGES + "images", {"run": "long", "tag": "overlay/probe"})] * args.repeats)
        results.add(loader, f"/steps ↔ /images, {args.long_steps} steps, warm", long_steps, long_images)
        token = client.json(SALIENCY + "steps", run="long", tag="probe")[1]["token"]
        polls = [client.get(SALIENCY + "steps", run="long", tag="probe", token=token)[0] for _ in range(args.repeats)]
        results.add(loader, f"/steps with a token (poll), {args.long_steps} steps", polls, long_images)
        frames = [client.get(SALIENCY + "frame", run="long", tag="probe", step=s)[0]
                  for s in random.Random(1).sample(range(args.long_steps), args.repeats)]
        results.add(loader, f"/frame, {args.long_steps}-step tag, steps never shown", frames,
                    note="one header read each (no Images counterpart)")
        warm_frames = [client.get(SALIENCY + "frame", run="long", tag="probe", step=args.long_steps - 1)[0]
                       for _ in range(args.repeats)]
        results.add(loader, f"/frame, {args.long_steps}-step tag, warm", warm_frames)

        # Whole cards: ours (/steps, /step_data) against the Images card (/images, /individualImage),
        # on tags no other measurement touched (cold), then the same cards again (warm).
        fresh = pairs[-args.repeats * 3:]
        for label, chosen, clients in (("one at a time", fresh[:args.repeats], 1),
                                       ("six in parallel", fresh[args.repeats:], 6)):
            for state in ("cold", "warm"):
                ours, theirs = card_times(base, chosen, clients)
                results.add(loader, f"whole card ↔ Images card, {state}, {label}", ours, theirs,
                            "/steps + /step_data (4 PNGs, 2 maps) ↔ /images + /individualImage")
        long_ours, long_theirs = card_times(base, [("long", "probe")] * args.repeats, 1)
        results.add(loader, f"whole card ↔ Images card, {args.long_steps} steps, warm", long_ours, long_theirs,
                    "/steps + /step_data (8 PNGs, 2 maps) ↔ /images + /individualImage")

        # /tags
        tags_requests = ([(SALIENCY + "tags", {})] * args.repeats, [(IMAGES + "tags", {})] * args.repeats)
        results.add(loader, "/tags ↔ /tags", *interleaved(client, *tags_requests),
                    f"{args.runs * args.tags + 1 + len(BLOB_SIDES)} tags each")
        results.add(loader, "/tags ↔ /tags, 8 clients",
                    *concurrent_times(base, tags_requests[0] * 4, tags_requests[1] * 4))

        # /steps ↔ /images on 50-step tags: cold (first touch of a tag), then warm.
        def steps_requests(chosen):
            return ([(SALIENCY + "steps", {"run": r, "tag": t}) for r, t in chosen],
                    [(IMAGES + "images", {"run": r, "tag": f"overlay/{t}"}) for r, t in chosen])

        cold_pairs = pairs[:args.repeats * 2]
        results.add(loader, f"/steps ↔ /images, {args.steps} steps, cold",
                    *interleaved(client, *steps_requests(cold_pairs)))
        results.add(loader, f"/steps ↔ /images, {args.steps} steps, warm",
                    *interleaved(client, *steps_requests(cold_pairs)))
        results.add(loader, f"/steps ↔ /images, {args.steps} steps, cold, 8 clients",
                    *concurrent_times(base, *steps_requests(pairs[args.repeats * 2:args.repeats * 6])))

        # /frame on 50-step tags, cold and warm
        frame_pairs = pairs[args.repeats * 6:args.repeats * 7]
        cold = [client.get(SALIENCY + "frame", run=r, tag=t, step=args.steps - 1)[0] for r, t in frame_pairs]
        warm = [client.get(SALIENCY + "frame", run=r, tag=t, step=args.steps - 1)[0] for r, t in frame_pairs]
        results.add(loader, f"/frame, {args.steps}-step tag, cold", cold, note="header read (no Images counterpart)")
        results.add(loader, f"/frame, {args.steps}-step tag, warm", warm)

        # /blob ↔ /individualImage: the very same PNG bytes, at several sizes.
        for side in BLOB_SIDES:
            png = client.json(SALIENCY + "frame", run="sizes", tag=f"noise{side}", step=0)[1]["images"]["blobs"][0]
            query = client.json(IMAGES + "images", run="sizes", tag=f"image/noise{side}")[1][-1]["query"]
            image_key = urllib.parse.parse_qs(query)["blob_key"][0]
            ours_body, theirs_body = (client.get(SALIENCY + "blob", key=png)[2],
                                      client.get(IMAGES + "individualImage", blob_key=image_key)[2])
            assert ours_body == theirs_body
            blob_requests = ([(SALIENCY + "blob", {"key": png})] * args.repeats,
                             [(IMAGES + "individualImage", {"blob_key": image_key})] * args.repeats)
            results.add(loader, "/blob ↔ /individualImage, same PNG", *interleaved(client, *blob_requests),
                        f"{len(ours_body)} B")
            if side == BLOB_SIDES[1]:
                results.add(loader, "/blob ↔ /individualImage, same PNG, 8 clients",
                            *concurrent_times(base, blob_requests[0] * 4, blob_requests[1] * 4), f"{len(ours_body)} B")
        frame = client.json(SALIENCY + "frame", run="long", tag="probe", step=0)[1]
        gradient = frame["maps"][0]["blob"]
        size = len(client.get(SALIENCY + "blob", key=gradient)[2])
        ours = [client.get(SALIENCY + "blob", key=gradient)[0] for _ in range(args.repeats)]
        results.add(loader, "/blob, a float16 map", ours, note=f"{size} B")


def saliency_card(client, run, tag):
    """Seconds the tab's two requests for a card take: its step list, then the newest step's data."""
    start = time.perf_counter()
    steps = client.json(SALIENCY + "steps", run=run, tag=tag)[1]["steps"]
    client.get(SALIENCY + "step_data", run=run, tag=tag, step=steps[-1]["step"])
    return time.perf_counter() - start


def images_card(client, run, tag):
    """Seconds the Images tab's two requests for the same card take: its step list, then the newest
    step's image."""
    start = time.perf_counter()
    entries = client.json(IMAGES + "images", run=run, tag=f"overlay/{tag}")[1]
    query = urllib.parse.parse_qs(entries[-1]["query"])
    client.get(IMAGES + "individualImage", **{k: v[0] for k, v in query.items()})
    return time.perf_counter() - start


def card_times(base, chosen, clients):
    """Latencies of whole cards of the (run, tag)s `chosen`, ours and the Images card's alternately:
    `clients` cards at a time, each over its own connection (six is a browser's limit per host)."""
    ours, theirs = [], []
    connections = [Client(base) for _ in range(clients)]
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for i in range(0, len(chosen), clients):
            batch = chosen[i:i + clients]
            for card, out in ((saliency_card, ours), (images_card, theirs)):
                out.extend(pool.map(lambda job: card(job[0], *job[1]), zip(connections, batch)))
    return ours, theirs


def paint_card(base, run, tag, step):
    """Seconds the backend takes to give one card what it paints: /steps, then /frame of the step
    shown, then its images and maps with 6 parallel connections (a browser's per-host limit)."""
    client = Client(base)
    start = time.perf_counter()
    client.get(SALIENCY + "steps", run=run, tag=tag)
    after_steps = time.perf_counter()
    frame = json.loads(client.get(SALIENCY + "frame", run=run, tag=tag, step=step)[2])
    after_frame = time.perf_counter()
    keys = frame["images"]["blobs"] + [m["blob"] for m in frame["maps"]]
    local = threading.local()

    def fetch(key):
        if not hasattr(local, "client"):
            local.client = Client(base)
        return local.client.get(SALIENCY + "blob", key=key)[0]

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        list(pool.map(fetch, keys))
    end = time.perf_counter()
    return {"total": end - start, "steps": after_steps - start, "frame": after_frame - after_steps,
            "blobs": end - after_frame}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 runs × 4 tags × 20 steps, a 500-step long tag")
    parser.add_argument("--repeats", type=int, default=20, help="requests per measurement (default %(default)s)")
    parser.add_argument("--logdir", help="reuse (or write) the logdir here instead of a temporary one")
    parser.add_argument("--loaders", default="fast,python", help="which loaders, in order (default %(default)s)")
    args = parser.parse_args()
    args.runs, args.tags, args.steps, args.long_steps = (4, 4, 20, 500) if args.quick else (20, 20, 50, 5000)
    logdir = args.logdir or tempfile.mkdtemp(prefix="tb_saliency_bench_")
    if not os.path.isdir(os.path.join(logdir, "long")):
        start = time.perf_counter()
        write_logdir(logdir, runs=args.runs, tags=args.tags, steps=args.steps, long_steps=args.long_steps)
        size = sum(p.stat().st_size for p in pathlib.Path(logdir).rglob("*") if p.is_file())
        print(f"# logdir {logdir}: {size / 2**20:.0f} MiB written in {time.perf_counter() - start:.0f} s", flush=True)
    import tensorboard

    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"TensorBoard {tensorboard.__version__}", flush=True)
    results = Results()
    try:
        for loader in args.loaders.split(","):
            bench_loader(logdir, loader == "fast", args, results)
    finally:
        if not args.logdir:
            shutil.rmtree(logdir, ignore_errors=True)
    print()
    print(results.table())


if __name__ == "__main__":
    main()
