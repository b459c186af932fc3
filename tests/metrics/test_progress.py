"""`progress=` of deletion, insertion and the randomisation test: a bar over their perturbed copies or
stages with the right total, none when off or on a rank other than zero, the same results either way."""

import torch

from tb_saliency import metrics
from tests.support.progress import final_bars, rank_one

from .helpers import conv_net, images

STEPS = 6


def _maps():
    x = images()
    return {"a": x.abs().sum(dim=1), "b": x.sum(dim=1)}


def test_deletion_and_insertion_count_the_baseline_and_each_maps_interior_steps(capsys):
    model, x, maps = conv_net(), images(), _maps()
    # Two maps, 6 steps: the baseline once, then 5 interior steps per map, one copy per pass.
    for game in (metrics.deletion, metrics.insertion):
        shown = game(model, x, maps, steps=STEPS, memory_limit=1, progress=True)
        bars = final_bars(capsys.readouterr().err)
        assert bars == {f"{game.__name__}'s perturbed copies": (1 + 2 * (STEPS - 1),) * 2}
        hidden = game(model, x, maps, steps=STEPS, memory_limit=1, progress=False)
        assert capsys.readouterr().err == ""
        for key in maps:
            assert torch.equal(shown[key].curve, hidden[key].curve)


def test_the_randomisation_test_counts_its_stages_and_leaves_its_methods_bars_cleared(capsys):
    model, x = conv_net(), images()
    layers = ["10", "4", "0"]
    shown = metrics.randomisation(model, x, ["gradient", "smoothgrad"], layers=layers, smoothgrad_samples=3,
                                  progress=True)
    err = capsys.readouterr().err
    bars = final_bars(err)
    assert bars["randomisation's stages"] == (3, 3)
    assert bars["smoothgrad's noisy copies"] == (3, 3)  # each stage's own, cleared when it ends
    hidden = metrics.randomisation(model, x, ["gradient", "smoothgrad"], layers=layers, smoothgrad_samples=3,
                                   progress=False)
    assert capsys.readouterr().err == ""
    for key in shown.correlations:
        assert torch.equal(shown.correlations[key], hidden.correlations[key])
        assert torch.equal(shown.maps[key], hidden.maps[key])


def test_no_bar_on_a_rank_other_than_zero(capsys):
    with rank_one():
        metrics.deletion(conv_net(), images(), _maps()["a"], steps=STEPS, progress=True)
        metrics.randomisation(conv_net(), images(), "gradient", layers=["10"], progress=True)
    assert capsys.readouterr().err == ""
