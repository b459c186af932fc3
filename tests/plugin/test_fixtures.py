"""The golden fixtures the dashboard's TypeScript tests decode (frontend/test/fixtures/) are what the
plugin serves today: regenerated here, they must equal the committed files byte for byte."""

import json
import zlib

import numpy as np
import pytest

from tb_saliency.format.layout import LAYOUT_FILE
from tests.support import fixtures, schema

pytestmark = pytest.mark.viewer


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_committed_fixtures_are_fresh(tmp_path):
    fixtures.generate(tmp_path)
    committed, fresh = _files(fixtures.OUTPUT), _files(tmp_path)
    assert sorted(committed) == sorted(fresh), "run: python -m tests.support.fixtures"
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert not stale, f"stale fixtures {stale}: run python -m tests.support.fixtures"


def _decode_by_layout_alone(layout, case):
    """Inflate and un-shuffle as `compressions` says, read the dtype as `dtypes` says, × scale."""
    entry = case["entry"]
    spec = layout["dtypes"][entry["dtype"]]
    data = (fixtures.OUTPUT / case["file"]).read_bytes()
    width = spec["bytes"]
    if entry.get("compression", "none") == "shuffle_deflate":
        data = np.frombuffer(zlib.decompress(data), np.uint8).reshape(width, -1).T.tobytes()
    samples = case["shape"][0]
    if "ieee754" in spec:
        stored = np.frombuffer(data, dtype=f"<f{width}").astype(np.float64).reshape(samples, -1)
    else:
        levels = np.frombuffer(data, np.uint8).astype(np.float64).reshape(samples, -1)
        lo = np.asarray(entry["min"]) / np.asarray(entry["scale"])
        hi = np.asarray(entry["max"]) / np.asarray(entry["scale"])
        stored = lo[:, None] + levels * ((hi - lo) / (spec["levels"] - 1))[:, None]
    scale = np.asarray(entry["scale"])[:, None]
    return (stored * scale).reshape(case["shape"])


def test_blob_fixtures_decode_to_their_expected_values_by_the_layout_alone():
    """An independent decoder that knows only layout.json and zlib."""
    layout = json.loads(LAYOUT_FILE.read_text())
    # Signal blobs are checked with their frames (tests/plugin/test_sequence_frames.py).
    cases = [c for c in json.loads((fixtures.OUTPUT / "blobs.json").read_text()) if c["kind"] != "signals"]
    assert {c["entry"]["dtype"] for c in cases} == {"float16", "float32", "uint8"}
    assert {c["entry"]["compression"] for c in cases} == {"none", "shuffle_deflate"}
    for case in cases:
        assert _decode_by_layout_alone(layout, case).tolist() == case["expected"], case["name"]
        expected = np.asarray(case["expected"])
        samples = expected.reshape(expected.shape[0], -1)
        assert samples.min(axis=1).tolist() == pytest.approx(case["entry"]["min"], rel=2 ** -10, abs=0)
        assert samples.max(axis=1).tolist() == pytest.approx(case["entry"]["max"], rel=2 ** -10, abs=0)
    magnitudes = {c["name"]: np.abs(np.asarray(c["expected"])).max() for c in cases}
    assert magnitudes["float32_beyond_float32"] > np.finfo(np.float32).max
    assert 0 < magnitudes["float32_below_float32"] < np.finfo(np.float32).tiny
    assert magnitudes["float16_tiny"] < 1e-28 and magnitudes["float16_huge"] > 1e28


def test_response_fixtures_follow_the_schema():
    for path in sorted((fixtures.OUTPUT / "responses").glob("*.json")):
        document = json.loads(path.read_text())
        route = document["request"].split("?")[0]
        definition = schema.ROUTE_DEFINITIONS[route] if document["status"] == 200 else "Error"
        schema.validate(document["body"], definition)
