"""The viewer side needs no torch: the plugin, `tb_saliency.summary` and `tb_saliency.read`; the
training side says what to install when torch is missing."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.viewer

# Makes `import torch` fail as on a machine without it.
NO_TORCH = "import sys; sys.modules['torch'] = None\n"


def _run(code, cwd):
    result = subprocess.run([sys.executable, "-c", NO_TORCH + textwrap.dedent(code)], capture_output=True,
                            text=True, cwd=cwd)
    return result


def test_summaries_are_written_and_read_back_without_torch(tmp_path):
    result = _run(f"""
        import numpy as np
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        import tb_saliency
        from tb_saliency import summary
        writer = EventFileWriter({str(tmp_path)!r})
        images = np.random.default_rng(0).uniform(size=(2, 3, 8, 8))
        for step in range(2):
            event = summary.saliency_map("probe", images, {{"m": np.ones((2, 4, 4)) * step}}, labels=[0, 1])
            from tensorboard.compat.proto import event_pb2
            writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step, summary=event))
            acts = summary.activations("acts", images, np.arange(2 * 5 * 2 * 2.0).reshape(2, 5, 2, 2), layer="conv", max_channels=2)
            writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step, summary=acts))
        writer.close()
        frames = tb_saliency.read({str(tmp_path)!r})
        print([(f.tag, f.step, f.kind) for f in frames])
        print(frames[0].activations.channel_index.tolist())
        print(frames[-1].maps["m"].max(), 'torch' in sys.modules and sys.modules['torch'] is not None)
    """, cwd=str(_repo_root()))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[('acts', 0, 'activations'), ('acts', 1, 'activations'), ('probe', 0, 'saliency'), ('probe', 1, 'saliency')]"
    assert lines[1] == "[[4, 3], [4, 3]]", "the most active channels, most active first"
    assert lines[2] == "1.0 False"


def test_the_training_side_says_to_install_torch():
    result = _run("""
        import tb_saliency
        try:
            tb_saliency.SummaryWriter
        except ImportError as error:
            print(error)
    """, cwd=str(_repo_root()))
    assert result.returncode == 0, result.stderr
    assert "pip install torch" in result.stdout and "tb_saliency.read" in result.stdout


def _repo_root():
    import pathlib

    return pathlib.Path(__file__).resolve().parents[2]


def test_token_and_signal_summaries_are_written_and_read_back_without_torch(tmp_path):
    result = _run(f"""
        import numpy as np
        from tensorboard.compat.proto import event_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        import tb_saliency
        from tb_saliency import summary
        writer = EventFileWriter({str(tmp_path)!r})
        text = summary.token_map("text", [["[CLS]", "héllo", "世界"]], np.array([[0.0, 1.0, -2.0]]), special=[[1, 0, 0]])
        audio = summary.signal_map("audio", np.ones((1, 2, 8)), np.arange(8.0)[None], sample_rate=22050)
        for s in (text, audio):
            writer.add_event(event_pb2.Event(step=1, wall_time=1.0, summary=s))
        writer.close()
        frames = {{f.tag: f for f in tb_saliency.read({str(tmp_path)!r})}}
        print(frames["text"].tokens, frames["text"].special_tokens.tolist(), frames["text"].maps["custom"].tolist())
        print(frames["audio"].signals.shape, frames["audio"].sample_rate, sys.modules['torch'] is None)
    """, cwd=str(_repo_root()))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[['[CLS]', 'héllo', '世界']] [[True, False, False]] [[0.0, 1.0, -2.0]]"
    assert lines[1] == "(1, 2, 8) 22050.0 True"
