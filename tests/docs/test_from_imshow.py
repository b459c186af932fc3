"""Every block of docs/from_imshow.md (the README's "From `plt.imshow` to the Saliency tab") runs as a
user's script, after a prelude that stands for the tutorial the text assumes (an MNIST-shaped test
loader), in a fresh process in a temporary folder; then the test checks what the text promised."""

import pytest

import tb_saliency
from tests.support import tensorboard as tensorboard_process
from tests.support.scripts import ROOT, run_script
from tests.support.snippets import assert_readme_holds, blocks

DOCUMENT = ROOT / "docs" / "from_imshow.md"
BLOCKS = blocks(DOCUMENT)

# The tutorial's test loader: 28×28 grey images and digit labels (the model stays untrained: what the
# text promises holds for any weights).
PRELUDE = """
import torch

torch.manual_seed(0)
test_set = torch.utils.data.TensorDataset(torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,)))
test_loader = torch.utils.data.DataLoader(test_set, batch_size=8)
"""


def _python(name):
    language, code = BLOCKS[name]
    assert language == "python"
    return code


def test_every_block_has_a_test():
    assert set(BLOCKS) == {"tutorial-log", "tutorial-tab", "tutorial-notebook"}


def test_the_readme_section_is_this_document():
    assert_readme_holds(DOCUMENT)


def test_the_tutorial_model_logs_with_the_defaults_and_draws_in_python(tmp_path):
    check = "\nprint(overlays.shape, overlays.dtype)\n"
    output = run_script(tmp_path, "import matplotlib\nmatplotlib.use('Agg')\n" + PRELUDE + _python("tutorial-log")
                        + _python("tutorial-notebook") + check)
    assert output.splitlines()[-2:] == ["6", "(8, 28, 28, 3) uint8"]
    frames = tb_saliency.read(tmp_path / "runs")
    assert [(f.run, f.tag, f.step) for f in frames] == [("mnist", "act", 0), ("mnist", "grad", 0)]
    act, grad = frames
    assert grad.options["gradcam"]["layer"] == "6" and grad.maps["gradcam"].shape == (8, 7, 7)
    assert act.activations.layer == "6" and act.activations.values.shape == (8, 16, 7, 7)


@pytest.mark.tensorboard
def test_the_tab_serves_what_the_tutorial_logged(tmp_path):
    language, code = BLOCKS["tutorial-tab"]
    assert language == "sh"
    program, flag, logdir = code.split()
    assert (program, flag) == ("tensorboard", "--logdir")
    run_script(tmp_path, PRELUDE + _python("tutorial-log"))
    with tensorboard_process.tensorboard(tmp_path / logdir, load_fast=False) as url:
        tags = tensorboard_process.get_json(url + "data/plugin/saliency/tags")
    assert sorted(tags["runs"]["mnist"]) == ["act", "grad"]
