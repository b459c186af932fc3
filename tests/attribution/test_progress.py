"""`progress=`: a tqdm bar over the chunked passes of every method that runs its own, counting its
copies of the batch; none when switched off or on a rank other than zero; the same maps either way."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

import tb_saliency
from tb_saliency.attribution import MethodWithPasses, method_with_passes, unregister
from tb_saliency.attribution import progress as progress_module
from tests.attribution.helpers import conv_net, images
from tests.support.progress import Terminal, final_bars, rank_one

# Small chunks, so that every bar advances in several steps.
OPTIONS = dict(smoothgrad_samples=7, ig_steps=5, memory_limit=1)
METHODS = ["gradient", "smoothgrad", "integrated_gradients", "scorecam"]


def _maps(progress):
    return tb_saliency.attribute(conv_net(), images(), METHODS, layer="4", progress=progress, **OPTIONS)


def test_a_bar_per_chunked_method_with_its_copies_as_total(capsys):
    _maps(True)
    bars = final_bars(capsys.readouterr().err)
    # Score-CAM masks the inputs with each of the layer's 6 channels; gradient has no passes of its own.
    assert bars == {
        "smoothgrad's noisy copies": (7, 7),
        "integrated_gradients' path nodes": (5, 5),
        "scorecam's masked copies": (6, 6),
    }


def test_no_bar_when_switched_off_and_the_same_maps_either_way(capsys):
    shown = _maps(True)
    capsys.readouterr()
    hidden = _maps(False)
    assert capsys.readouterr().err == ""
    assert shown.keys() == hidden.keys()
    for key in shown:
        assert torch.equal(shown[key], hidden[key]), key


def test_the_default_shows_bars_only_where_stderr_is_a_terminal(capsys, monkeypatch):
    _maps(None)  # pytest's captured stderr is no terminal
    assert capsys.readouterr().err == ""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _maps(None)
    assert final_bars(terminal.getvalue())["smoothgrad's noisy copies"] == (7, 7)


def test_a_closed_or_missing_stderr_is_no_terminal(monkeypatch):
    closed = open(os.devnull, "w")
    closed.close()  # its isatty() raises
    for stream in (None, closed):
        monkeypatch.setattr(sys, "stderr", stream)
        assert not progress_module.resolve(None).enabled


def test_no_bar_on_a_rank_other_than_zero(capsys):
    with rank_one():
        hidden = _maps(True)
    assert capsys.readouterr().err == ""
    shown = _maps(True)
    for key in shown:
        assert torch.equal(shown[key], hidden[key]), key


def test_a_registered_method_with_passes_gets_a_bar_of_its_own(capsys):
    @method_with_passes("masked_quarters")
    class MaskedQuarters(MethodWithPasses):
        needs_gradients = False

        def compute(self, context):
            x = context.inputs

            def rows(start, stop):
                masks = torch.ones(stop - start, *x.shape)
                for k, quarter in enumerate(range(start, stop)):
                    masks[k, ..., quarter // 2 :: 2, quarter % 2 :: 2] = 0
                return (x.unsqueeze(0) * masks).reshape(-1, *x.shape[1:])

            drops = torch.zeros(x.shape[0])
            for start, stop, scores in context.score_chunks(rows, 4, "masked quarters"):
                drops += (context.clean_scores - scores).sum(dim=0)
            return drops.view(-1, 1, 1, 1).expand(x.shape).to(context.dtype)

    try:
        tb_saliency.attribute(conv_net(), images(), "masked_quarters", progress=True, memory_limit=1)
    finally:
        unregister("masked_quarters")
    assert final_bars(capsys.readouterr().err) == {"masked quarters": (4, 4)}


@pytest.mark.parametrize("value", ["yes", 1, 0.5])
def test_progress_must_be_a_flag_or_none(value):
    with pytest.raises(TypeError, match=r"progress: expected True, False or None .*, got"):
        tb_saliency.attribute(conv_net(), images(), "smoothgrad", progress=value)


def _run(code):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=root)


def test_without_tqdm_the_call_runs_with_no_bar_and_no_error():
    result = _run("""
        import sys; sys.modules['tqdm'] = None  # as on a machine without it
        import torch, tb_saliency
        model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3))
        maps = tb_saliency.attribute(model, torch.rand(2, 3, 6, 6), "smoothgrad", progress=True, smoothgrad_samples=3)
        print(tuple(maps["smoothgrad"].shape))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(2, 6, 6)" and result.stderr == ""


def test_the_viewer_side_never_imports_tqdm():
    # (torch itself imports tqdm, so only the side without torch can show that tb_saliency does not.)
    result = _run("""
        import sys; sys.modules['torch'] = None
        import tb_saliency, tb_saliency.plugin, tb_saliency.reader, tb_saliency.summary, tb_saliency.rendering
        print('tqdm' in sys.modules)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
