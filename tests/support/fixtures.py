"""Golden fixtures for the dashboard's tests: blobs and route answers as the plugin serves them.

    python -m tests.support.fixtures            # rewrites frontend/test/fixtures/

Deterministic: a logdir written without torch at fixed wall times, read through the plugin in-process
(the Python loader, whose blob keys are reproducible). `tests/plugin/test_fixtures.py` fails when the
committed files differ from what this writes. What each file holds: the README.md it writes.
"""

import argparse
import hashlib
import json
import pathlib
import shutil
import tempfile

import numpy as np

from tb_saliency import format as stored_format
from tb_saliency.format import step_data
from tests.support import raw, render_fixtures, schema, viewer_logdirs
from tests.support.inprocess import PluginClient

OUTPUT = pathlib.Path(__file__).resolve().parents[2] / "frontend" / "test" / "fixtures"

README = """# Golden fixtures (generated: do not edit)

Written by `python -m tests.support.fixtures` from a logdir written at fixed wall times and read
through the plugin's routes in-process (TensorBoard's Python loader). `tests/plugin/test_fixtures.py`
fails when they are stale. The byte layout of the blobs is `tb_saliency/proto/layout.json`; the JSON
of the routes is `tb_saliency/http_schema.json`, which every response here validates against.

- `blobs.json`: one entry per blob in `blobs/`: `name`, `file`, `kind` (`"map"`,
  `"activations"` or `"signals"`), `shape` (`[N, h, w]`, `[N, K, h, w]` or `[N, C, T]`), `entry` (the
  `/frame` map, activations or signals entry that describes the blob, its `blob` key replaced by the
  file name) and `expected`: the raw values, nested like `shape`, as float64 JSON numbers. Inflating
  `file` as `entry.compression` says (absent or "none": as it is), decoding it with `entry.dtype` and
  multiplying sample `i` by `entry.scale[i]` in float64 gives `expected`: exactly for floats, and
  for uint8 levels (stored = lo + q × (hi − lo) / 255, lo and hi the sample's min and max ÷ scale)
  as float64 arithmetic does. `*_version2` blobs are as format version 2 wrote them (uncompressed).
- `blobs/*.bin`: the bytes `/blob` answered.
- `responses/*.json`: `{"request": "<route and query>", "status": <code>, "body": <JSON answer>}`.
  `steps_append.json` answers the token of `steps_before_append.json` after two steps arrived.
  `frame_tokens.json` and `frame_signals.json` are frames over text and signals (format version 3).
- `step_data.json`: one entry per body in `step_data/`: `name`, `file`, `request`, `json` (the
  StepData JSON the body holds) and `blobs`: per blob in the body's order, its `key`, `bytes` (its
  length), `sha256` (hex) and `same_as` (the file in `blobs/` holding the same bytes, or null).
- `step_data/*.bin`: the bodies `/step_data` answered (layout.json's `step_data`).
- `render.json`: pictures `tb_saliency.render` draws (`expected`, hex of N×H×W×3 uint8) from `images`
  (hex of uint8 pixels) and `maps` (`stored` float32 values, flattened, times one `scale` per map, and
  every step's raw values for the "tag" scope) under every value of every sidebar option; the Python
  and the TypeScript renderers must both draw them within one level per channel
  (tests/support/render_fixtures.py).
"""

# (name, dtype, raw values N×h×w): float16 and float32, several scales from tiny to huge, 1×1 and
# non-square maps, a signed one and an all-zero one.
_RNG = np.random.default_rng(2024)
MAP_CASES = [
    ("float16_non_square", "float16", _RNG.uniform(0.0, 3.0, size=(3, 4, 5))),
    ("float32_signed", "float32", _RNG.normal(size=(2, 3, 7))),
    ("float16_1x1", "float16", np.array([[[0.75]], [[-2.5]]])),
    ("float16_zero", "float16", np.zeros((1, 2, 2))),
    ("float16_tiny", "float16", _RNG.normal(size=(2, 3, 2)) * 1e-30),
    ("float32_below_float32", "float32", _RNG.normal(size=(1, 2, 3)) * 1e-300),
    ("float16_huge", "float16", _RNG.uniform(-1.0, 1.0, size=(2, 2, 3)) * 1e30),
    ("float32_beyond_float32", "float32", _RNG.uniform(0.5, 1.0, size=(1, 3, 2)) * 1e300),
    ("float16_mixed_scales", "float16", np.stack([np.full((2, 2), 1e-8), np.arange(4.0).reshape(2, 2) * 1e8])),
    ("uint8_signed", "uint8", _RNG.normal(size=(2, 5, 6))),
    ("uint8_constant_and_huge", "uint8", np.stack([np.full((2, 3), -0.5), _RNG.uniform(-1, 3, size=(2, 3)) * 1e200])),
]
# Blobs as format version 2 wrote them (plain values, no compression), which must still read.
LEGACY_CASES = [
    ("float16_version2", "float16", _RNG.normal(size=(2, 3, 4)) * 1e-3),
    ("float32_version2", "float32", _RNG.normal(size=(1, 2, 5))),
]


def write_logdir(logdir):
    """The logdir the fixtures are read from."""
    logdir = pathlib.Path(logdir)
    viewer_logdirs.write_custom_maps(logdir, run="demo", tag="probe", steps=(0, 10, 20), count=2)
    viewer_logdirs.write_activations(logdir, run="demo", tag="probe/activations", steps=(0,), count=2)
    with viewer_logdirs.RunWriter(logdir / "blobs") as writer:
        for name, dtype, values in MAP_CASES:
            count = values.shape[0]
            writer.saliency(name, viewer_logdirs.probe_images(count, size=9), {"map": values}, step=0, wall_time=1.0,
                            dtype=dtype, share_images=False)
        with raw.writing_version_2():
            for name, dtype, values in LEGACY_CASES:
                writer.saliency(name, viewer_logdirs.probe_images(values.shape[0], size=9), {"map": values}, step=0,
                                wall_time=1.0, dtype=dtype, share_images=False)
        rng = np.random.default_rng(7)
        for dtype in ("float16", "float32", "uint8"):
            writer.activations(f"activations_{dtype}", viewer_logdirs.probe_images(2, size=9),
                               rng.uniform(0, 4, size=(2, 5, 2, 3)) * 10.0 ** rng.integers(-20, 20, size=(2, 1, 1, 1)),
                               step=0, wall_time=1.0, layer="conv", max_channels=3, dtype=dtype, share_images=False)
    _write_metrics_and_randomisation(logdir / "demo_metrics")
    viewer_logdirs.write_tokens_and_signals(logdir, run="sequences", steps=(0,))
    raw.write_raw_frame(logdir / "broken", "damaged", [raw.DAMAGED_HEADER], wall_time=1.0)
    raw.write_raw_frame(logdir / "broken", "newer", [raw.NEWER_HEADER], raw.NEWER_PLUGIN_DATA, wall_time=1.0)


def _write_metrics_and_randomisation(run_dir):
    """A saliency tag whose maps carry metrics (a curve metric and a hit metric) and a statistic, and
    a randomisation tag (the original model's map and two cascading stages), at two steps each."""
    rng = np.random.default_rng(11)
    images = stored_format.to_display(viewer_logdirs.probe_images(2, size=9))
    samples = [stored_format.SampleFacts(label=0, target=0, prediction=1, score=0.75, target_score=2.5),
               stored_format.SampleFacts(label=1, target=1, prediction=1, score=0.5, target_score=-1.25)]
    with viewer_logdirs.RunWriter(run_dir) as writer:
        for number, step in enumerate((5, 15)):
            metrics = [
                stored_format.MetricValues("deletion", np.array([0.25, 0.5]) + number,
                                           curve=np.array([[1.0, 0.5, 0.25], [0.75, 0.5, 0.0]]),
                                           options={"steps": 3, "baseline": "zeros"}),
                stored_format.MetricValues("pointing_game", np.array([1.0, 0.0])),
            ]
            column = stored_format.MapColumn(
                key="integrated_gradients", method="integrated_gradients", values=rng.normal(size=(2, 3, 3)),
                options={"ig_steps": 8, "baseline": "zeros"},
                statistics={"completeness_gap": np.array([1e-3, -2e-3])}, metrics=metrics)
            writer.summary(stored_format.saliency_summary(
                "probe/metrics", samples=samples, maps=[column], images=images, frames_written=number + 1,
                steps_written=number + 1, summary_metadata=stored_format.create_summary_metadata(
                    "saliency", map_keys=[column.key], num_samples=2) if number == 0 else None),
                step, 1.0 + step)
            stages = ("", "head", "features")
            maps = [stored_format.MapColumn(key="gradcam", method="gradcam", layer="features", stage=stage,
                                            values=rng.uniform(0, 1 + i, size=(2, 2, 2)), options={"relu": True})
                    for i, stage in enumerate(stages)]
            randomisation = stored_format.Randomisation(
                "cascading", ["head", "features"], {("gradcam", "head"): [0.5, 0.25], ("gradcam", "features"): [0.125, -0.25]},
                options={"seed": 0})
            writer.summary(stored_format.saliency_summary(
                "probe/randomisation", samples=samples, maps=maps, images=images, randomisation=randomisation,
                frames_written=number + 1, steps_written=number + 1,
                summary_metadata=stored_format.create_summary_metadata(
                    "randomisation", map_keys=["gradcam"], num_samples=2) if number == 0 else None),
                step, 1.0 + step)


def _response(client, route, **params):
    response = client.get(route, **params)
    body = json.loads(response.get_data())
    definition = schema.ROUTE_DEFINITIONS[route] if response.status_code == 200 else "Error"
    schema.validate(body, definition)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return {"request": f"{route}?{query}" if query else route, "status": response.status_code, "body": body}


def _without_key(block, file_name):
    return {**block, "blob": file_name}


def generate(output=OUTPUT):
    """Writes every fixture into `output` (emptied first)."""
    output = pathlib.Path(output)
    with tempfile.TemporaryDirectory() as logdir:
        write_logdir(logdir)
        client = PluginClient(logdir, samples_per_plugin=0)
        files = {}

        blobs = []
        for name, _, _ in MAP_CASES + LEGACY_CASES:
            frame = client.json("frame", run="blobs", tag=name, step=0)
            [block] = frame["maps"]
            shape = [frame["num_samples"], block["height"], block["width"]]
            blobs.append(_blob_case(client, name, "map", block, shape, files))
        for dtype in ("float16", "float32", "uint8"):
            frame = client.json("frame", run="blobs", tag=f"activations_{dtype}", step=0)
            block = frame["activations"]
            shape = [frame["num_samples"], block["channels"], block["height"], block["width"]]
            blobs.append(_blob_case(client, f"activations_{dtype}", "activations", block, shape, files))
        frame = client.json("frame", run="sequences", tag="audio", step=0)
        block = frame["signals"]
        blobs.append(_blob_case(client, "signals", "signals", block,
                                [frame["num_samples"], block["channels"], block["length"]], files))
        files["blobs.json"] = _json_text(blobs)
        files["step_data.json"] = _json_text(_step_data_cases(client, files))

        responses = {
            "tags": _response(client, "tags"),
            "steps": _response(client, "steps", run="demo", tag="probe"),
            "frame": _response(client, "frame", run="demo", tag="probe", step=10),
            "frame_inline_images": _response(client, "frame", run="demo", tag="probe", step=0),
            "frame_activations": _response(client, "frame", run="demo", tag="probe/activations", step=0),
            "steps_metrics": _response(client, "steps", run="demo_metrics", tag="probe/metrics"),
            "frame_metrics": _response(client, "frame", run="demo_metrics", tag="probe/metrics", step=15),
            "steps_randomisation": _response(client, "steps", run="demo_metrics", tag="probe/randomisation"),
            "frame_randomisation": _response(client, "frame", run="demo_metrics", tag="probe/randomisation",
                                             step=15),
            "frame_tokens": _response(client, "frame", run="sequences", tag="text", step=0),
            "frame_signals": _response(client, "frame", run="sequences", tag="audio", step=0),
            "frame_error_damaged": _response(client, "frame", run="broken", tag="damaged", step=0),
            "frame_error_newer": _response(client, "frame", run="broken", tag="newer", step=0),
            "steps_unknown_kind": _response(client, "steps", run="broken", tag="newer"),
            "error_400": _response(client, "frame", run="demo", tag="probe"),
            "error_404": _response(client, "steps", run="demo", tag="absent"),
        }
        # Polling: the answer to a token after new steps arrived holds only those steps.
        responses["steps_before_append"] = responses["steps"]
        run_dir = pathlib.Path(logdir) / "demo"
        before = set(run_dir.iterdir())
        viewer_logdirs.write_custom_maps(logdir, run="demo", tag="probe", steps=(30, 40), count=2, seed=3)
        # Loaders read a run's event files in name order, and names start with the second they were
        # created in: this one must come last, however fast this ran.
        [appended] = set(run_dir.iterdir()) - before
        appended.rename(run_dir / "events.out.tfevents.9999999999.appended")
        later = PluginClient(logdir, samples_per_plugin=0)
        responses["steps_append"] = _response(later, "steps", run="demo", tag="probe",
                                              token=responses["steps"]["body"]["token"])
        assert responses["steps_append"]["body"]["append"] is True
        for name, document in responses.items():
            files[f"responses/{name}.json"] = _json_text(document)
    files["render.json"] = _json_text(render_fixtures.document())
    files["README.md"] = README.encode()

    if output.exists():
        shutil.rmtree(output)
    for name, data in files.items():
        path = output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(files)


def _blob_case(client, name, kind, block, shape, files):
    data = client.get("blob", key=block["blob"]).get_data()
    file_name = f"blobs/{name}.bin"
    files[file_name] = data
    expected = stored_format.decode_array(data, block, shape)
    return {"name": name, "file": file_name, "kind": kind, "shape": shape,
            "entry": _without_key(block, file_name), "expected": expected.tolist()}


# (name, run, tag, step) of the /step_data bodies kept: shared and inline probe images, activations,
# randomisation stages, a float32 map whose bytes are also a blob fixture, and a damaged frame.
STEP_DATA_CASES = [
    ("saliency_shared_images", "demo", "probe", 10),
    ("saliency_inline_images", "demo", "probe", 0),
    ("activations", "demo", "probe/activations", 0),
    ("randomisation", "demo_metrics", "probe/randomisation", 15),
    ("map_float32_signed", "blobs", "float32_signed", 0),
    ("error_damaged", "broken", "damaged", 0),
]


def _step_data_cases(client, files):
    known = {data: name for name, data in files.items() if name.startswith("blobs/")}
    cases = []
    for name, run, tag, step in STEP_DATA_CASES:
        response = client.get("step_data", run=run, tag=tag, step=step)
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/octet-stream"
        body = response.get_data()
        text, blobs = step_data.decode(body)
        document = schema.validate(json.loads(text), "StepData")
        file_name = f"step_data/{name}.bin"
        files[file_name] = body
        cases.append({
            "name": name, "file": file_name, "request": f"step_data?run={run}&tag={tag}&step={step}",
            "json": document,
            "blobs": [{"key": key, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                       "same_as": known.get(data)} for key, data in blobs.items()],
        })
    return cases


def _json_text(document):
    return (json.dumps(document, indent=1, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n").encode()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(OUTPUT), help="folder to (re)write; default: %(default)s")
    args = parser.parse_args(argv)
    for name in generate(args.output):
        print(name)


if __name__ == "__main__":
    main()
