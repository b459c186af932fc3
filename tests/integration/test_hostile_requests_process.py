"""Issue 15's hostile requests under both real loaders: the nested blob key answers 404 (the Python
loader's key decoding recursed too deep and answered 500), and image headers claiming no pixels or
far too many are per-frame errors whose export is a 404."""

import json
import urllib.parse

import pytest

from tests.integration.test_tensorboard_process import ROUTE, get_json
from tests.support import hostile_requests
from tests.support.tensorboard import get, tensorboard

pytestmark = pytest.mark.viewer


@pytest.fixture(scope="module", params=[False, True], ids=["load_fast=false", "load_fast=true"])
def server(request, tmp_path_factory):
    logdir = tmp_path_factory.mktemp("hostile_requests")
    hostile_requests.write_image_claims(logdir)
    with tensorboard(logdir, load_fast=request.param, samples_per_plugin="saliency=0") as url:
        yield url


def _url(server, route, **params):
    return server + ROUTE + route + "?" + urllib.parse.urlencode(params)


def test_a_blob_key_nested_too_deep_answers_404(server):
    for key in (hostile_requests.NESTED_KEY, hostile_requests.RAW_BRACKETS_KEY):
        status, _, body = get(_url(server, "blob", key=key))
        assert status == 404, body[:300]
        assert json.loads(body)["error"].startswith("no blob can be read with that key")


def test_image_headers_claiming_no_pixels_or_too_many_are_frame_errors(server):
    for tag, (_, expected) in hostile_requests.IMAGE_CLAIMS.items():
        frame = get_json(_url(server, "frame", run="images", tag=tag, step=0), "Frame")
        assert expected in frame["error"], (tag, frame)
        status, _, body = get(_url(server, "export", run="images", tag=tag, step=0))
        assert status == 404 and json.loads(body)["error"].endswith(frame["error"]), body[:300]
