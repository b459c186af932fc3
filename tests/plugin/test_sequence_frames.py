"""Frames over text and signals (format version 3) through the plugin's routes and `tb_saliency.read`,
written without torch: the oldest-stack viewer job runs these."""

import io
import json

import numpy as np
import pytest

import tb_saliency
from tb_saliency import format as stored_format
from tests.support import fixtures, viewer_logdirs
from tests.support.inprocess import PluginClient

pytestmark = pytest.mark.viewer


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    return logdir, viewer_logdirs.write_tokens_and_signals(logdir)


def test_a_token_frame_carries_its_tokens_and_1xT_maps(logged):
    logdir, written = logged
    frame = PluginClient(logdir).json("frame", run="sequences", tag="text", step=10)
    assert frame["input"] == "tokens" and frame["images"] is None and "signals" not in frame
    assert frame["tokens"] == {"length": 10, "tokens": viewer_logdirs.SEQUENCE_TOKENS,
                               "special": viewer_logdirs.SEQUENCE_SPECIAL, "padding": viewer_logdirs.SEQUENCE_PADDING}
    client = PluginClient(logdir)
    for block in frame["maps"]:
        assert (block["height"], block["width"]) == (1, 10)
        data = client.get("blob", key=block["blob"]).get_data()
        values = stored_format.decode_array(data, block, (2, 1, 10))[:, 0]
        expected = written[("text", 10)][block["key"]]
        np.testing.assert_allclose(values, expected, rtol=0, atol=2 ** -11 * np.abs(expected).max())


def test_a_signal_frame_carries_its_shape_rate_and_blob(logged):
    logdir, written = logged
    client = PluginClient(logdir)
    frame = client.json("frame", run="sequences", tag="audio", step=0)
    assert frame["input"] == "signals" and "tokens" not in frame
    s = frame["signals"]
    assert (s["channels"], s["length"], s["sample_rate"], s["dtype"]) == (2, 400, 8000.0, "float16")
    values = stored_format.decode_values(client.get("blob", key=s["blob"]).get_data(), s["dtype"], (2, 2, 400), s["scale"])
    signals = written[("audio", "signals")]
    assert np.all(np.abs(values - signals) <= 2 ** -11 * np.abs(signals).max())
    archive = np.load(io.BytesIO(client.get("export", run="sequences", tag="audio", step=0).get_data()))
    assert archive["signals"].shape == (2, 2, 400) and archive["maps/gradient"].shape == (2, 1, 400)
    assert "blob" not in json.loads(str(archive["header.json"]))["signals"]


def test_read_gives_tokens_signals_and_NxT_maps(logged):
    logdir, written = logged
    frames = {(f.tag, f.step): f for f in tb_saliency.read(logdir)}
    text = frames[("text", 0)]
    assert text.tokens == viewer_logdirs.SEQUENCE_TOKENS
    assert text.padding_tokens.tolist() == viewer_logdirs.SEQUENCE_PADDING
    assert text.maps["gradient"].shape == (2, 10)
    audio = frames[("audio", 10)]
    assert audio.signals.shape == (2, 2, 400) and audio.sample_rate == 8000.0 and audio.maps["gradient"].shape == (2, 400)


def test_the_golden_token_and_signal_fixtures_hold_what_was_logged():
    tokens = json.loads((fixtures.OUTPUT / "responses" / "frame_tokens.json").read_text(encoding="utf-8"))["body"]
    assert tokens["tokens"]["tokens"] == viewer_logdirs.SEQUENCE_TOKENS
    signals = json.loads((fixtures.OUTPUT / "responses" / "frame_signals.json").read_text())["body"]
    assert signals["signals"]["sample_rate"] == 8000.0 and signals["input"] == "signals"


def test_audio_is_a_wav_file_of_every_channel_at_full_scale():
    from tb_saliency.audio import wav_bytes

    wav = wav_bytes([[0.0, 0.5, -1e-3], [1e-3, -0.25, 0.0]], 8000.4)
    assert wav[:4] == b"RIFF" and wav[8:16] == b"WAVEfmt " and wav[36:40] == b"data"
    fmt = np.frombuffer(wav[20:36], dtype="<u2")
    assert fmt[0] == 1 and fmt[1] == 2, "PCM, two channels"
    assert np.frombuffer(wav[24:28], "<u4")[0] == 8000 and np.frombuffer(wav[34:36], "<u2")[0] == 16
    assert np.frombuffer(wav[4:8], "<u4")[0] == len(wav) - 8
    # Divided by the peak 0.5, interleaved left, right.
    assert np.frombuffer(wav[44:], "<i2").tolist() == [0, 66, 32767, -16384, -66, 0]
    assert np.frombuffer(wav_bytes(np.zeros((1, 3)), 100)[44:], "<i2").tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="sample_rate"):
        wav_bytes(np.ones((1, 3)), 0)


def test_the_audio_route_serves_a_sample_as_wav(logged):
    logdir, written = logged
    client = PluginClient(logdir)
    response = client.get("audio", run="sequences", tag="audio", step=10, sample=1)
    assert response.status_code == 200 and response.headers["Content-Type"] == "audio/wav"
    data = response.get_data()
    assert np.frombuffer(data[22:24], "<u2")[0] == 2 and np.frombuffer(data[24:28], "<u4")[0] == 8000
    pcm = np.frombuffer(data[44:], "<i2").reshape(400, 2).T / 32767.0
    signal = written[("audio", "signals")][1]
    np.testing.assert_allclose(pcm, signal / np.abs(signal).max(), atol=2e-3)
    for params, status, message in [
        (dict(run="sequences", tag="audio", step=10, sample=2), 404, "has 2 samples"),
        (dict(run="sequences", tag="text", step=10, sample=0), 404, "no signal with a sample rate"),
        (dict(run="sequences", tag="audio", step=10, sample="x"), 400, "'sample' must be"),
        (dict(run="sequences", tag="audio", step=11, sample=0), 404, "no stored step 11"),
    ]:
        answer = client.get("audio", **params)
        assert answer.status_code == status and message in json.loads(answer.get_data())["error"], params
