"""Probe images stored once and uint8 maps, through the plugin's routes: frames of a run resumed by a
new writer, and of a second writer in the same run, show the shared probe set; every dtype serves
blobs the header describes."""

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter

import tb_saliency
from tb_saliency import format as stored_format
from tb_saliency.format.images import decode_png
from tests.support.inprocess import PluginClient

pytestmark = pytest.mark.viewer

IMAGES = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(4))
MAPS = np.random.default_rng(4).normal(size=(2, 4, 4))


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("once")
    # A run written, then resumed by a new writer; a second writer beside it; one tag per dtype.
    for steps, tag_dtypes in (((0, 1), ("float16", "uint8")), ((2, 3), ("float16", "uint8")), ((4,), ("float32",))):
        writer = SummaryWriter(str(logdir / "run"))
        try:
            for step in steps:
                for dtype in tag_dtypes:
                    tb_saliency.log_saliency_map(writer, dtype, IMAGES, MAPS * (step + 1), global_step=step, dtype=dtype)
        finally:
            writer.close()
    return PluginClient(logdir)


def test_every_frame_of_a_resumed_run_and_a_second_writer_shows_the_probe_set(client):
    expected = np.rint(IMAGES.permute(0, 2, 3, 1).numpy() * 255)
    for tag, steps in (("float16", range(4)), ("uint8", range(4)), ("float32", (4,))):
        for step in steps:
            frame = client.json("frame", run="run", tag=tag, step=step)
            assert "error" not in frame, frame
            assert len(frame["images"]["blobs"]) == 2
            for key, want in zip(frame["images"]["blobs"], expected):
                assert np.abs(decode_png(client.get("blob", key=key).get_data()).astype(int) - want).max() <= 1


def test_blobs_of_every_dtype_decode_as_their_header_says(client):
    for tag, step in (("float16", 3), ("uint8", 3), ("float32", 4)):
        frame = client.json("frame", run="run", tag=tag, step=step)
        [block] = frame["maps"]
        assert (block["dtype"], block["compression"]) == (tag, "shuffle_deflate")
        values = stored_format.decode_array(client.get("blob", key=block["blob"]).get_data(), block, (2, 4, 4))
        truth = MAPS * (step + 1)
        spread = (truth.max(axis=(1, 2)) - truth.min(axis=(1, 2)))[:, None, None]
        tolerance = {"float16": np.abs(truth).max(axis=(1, 2), keepdims=True) * 2 ** -11, "uint8": spread / 510 * (1 + 1e-9),
                     "float32": np.abs(truth) * 2 ** -24}[tag]
        assert np.all(np.abs(values - truth) <= tolerance), tag
