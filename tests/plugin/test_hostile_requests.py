"""Issue 15's hostile requests in-process (Python loader): a blob key TensorBoard cannot decode
without recursing too deep answers 404, and image headers claiming no pixels or far too many are
per-frame errors, as a map's shape is."""

import pytest

from tests.support import hostile_requests
from tests.support.inprocess import PluginClient

pytestmark = pytest.mark.viewer


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("hostile_requests")
    hostile_requests.write_image_claims(logdir)
    return PluginClient(logdir)


@pytest.mark.parametrize("key", [hostile_requests.NESTED_KEY, hostile_requests.RAW_BRACKETS_KEY],
                         ids=["base64 of nested brackets", "nested brackets"])
def test_a_blob_key_nested_too_deep_for_tensorboard_answers_404(client, key):
    message = client.error("blob", 404, key=key)
    assert message.startswith("no blob can be read with that key: TensorBoard cannot read this blob")


def test_the_nested_key_is_one_that_makes_tensorboard_recurse_too_deep():
    from tensorboard.backend.event_processing import data_provider

    with pytest.raises(RecursionError):
        data_provider._decode_blob_key(hostile_requests.NESTED_KEY)


@pytest.mark.parametrize("tag", sorted(hostile_requests.IMAGE_CLAIMS))
def test_an_image_header_claiming_no_pixels_or_too_many_is_a_frame_error(client, tag):
    _, expected = hostile_requests.IMAGE_CLAIMS[tag]
    frame = client.json("frame", run="images", tag=tag, step=0)
    assert set(frame) == {"run", "tag", "step", "wall_time", "error"}
    assert expected in frame["error"], frame["error"]
    assert client.error("export", 404, run="images", tag=tag, step=0).endswith(frame["error"])
