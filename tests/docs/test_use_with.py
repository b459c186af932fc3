"""Every block of docs/use_with.md (the README's "Use it with…" section) runs as a user's script: the
block's text, verbatim, after a prelude that defines what the text assumes the user has (a model, its
data, a probe batch), in a fresh process whose working folder is a temporary one; then the test
checks what the block promised (frames beside the scalars, at the steps, in one event file).

The preludes live here, not in the document, so the README shows only the lines a user adds."""

import glob
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import tb_saliency
from tests.support import tensorboard as tensorboard_process
from tests.support.events import summary_values
from tests.support.ranks import free_port
from tests.support.scripts import ROOT, run_script
from tests.support.snippets import assert_readme_holds, blocks

DOCUMENT = ROOT / "docs" / "use_with.md"

# What the blocks assume the user has: a small CNN with a `layer4` block, BatchNorm and Dropout,
# a loader, a loss, an optimizer and a fixed probe batch.
PRELUDE = """
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.layer4 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1, stride=2), nn.BatchNorm2d(16), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(16, 3))

    def forward(self, x):
        return self.head(self.layer4(self.layer1(x)))


model = Net()
data = torch.utils.data.TensorDataset(torch.rand(16, 3, 16, 16), torch.randint(0, 3, (16,)))
loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=True)
probe_images, probe_labels = data[:4]
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
"""

LIGHTNING_PRELUDE = PRELUDE + """
import lightning as L


class Classifier(L.LightningModule):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        images, labels = batch
        loss = loss_fn(self(images), labels)
        self.log("train_loss", loss, on_step=False, on_epoch=True)  # 4 steps an epoch: log at its end
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


classifier = Classifier(model)
train_loader = loader
val_loader = torch.utils.data.DataLoader(data, batch_size=4)
"""

# A ViT built from its config (no download); 136 samples in batches of 8 for 3 epochs: 51 steps.
TRANSFORMERS_PRELUDE = """
import torch
from transformers import ViTConfig, ViTForImageClassification

torch.manual_seed(0)
config = ViTConfig(image_size=16, patch_size=4, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                   intermediate_size=32, num_labels=3)
vit = ViTForImageClassification(config)
pixels, labels = torch.rand(136, 3, 16, 16), torch.randint(0, 3, (136,))
train_dataset = [{"pixel_values": p, "labels": l} for p, l in zip(pixels, labels)]
"""

# Makes `import torch` fail, as on a machine without it.
NO_TORCH = "import sys\nsys.modules['torch'] = None\n"


BLOCKS = blocks(DOCUMENT)


def _python(name):
    language, code = BLOCKS[name]
    assert language == "python"
    return code


def _event_files(folder):
    return sorted(glob.glob(os.path.join(str(folder), "**", "events.out.tfevents.*"), recursive=True))


def test_every_block_has_a_test():
    tested = {"torch-writer", "tensorboardx", "lightning", "transformers", "ddp", "notebook", "notebook-pictures",
              "tensorboard-only"}
    assert set(BLOCKS) == tested


def test_the_readme_section_is_this_document():
    """Once pasted into README.md, the section stays the tested text."""
    assert_readme_holds(DOCUMENT)


def test_torch_writer(tmp_path):
    run_script(tmp_path, PRELUDE + _python("torch-writer"))
    [events] = _event_files(tmp_path / "runs")  # the writer's one event file holds scalars and frames
    assert os.path.dirname(events) == str(tmp_path / "runs" / "exp1")
    frames = tb_saliency.read(tmp_path / "runs")
    assert [(f.run, f.tag, f.step) for f in frames] == [("exp1", "probe", 0)]
    assert frames[0].maps["gradient"].shape == (4, 16, 16) and frames[0].maps["gradcam"].shape == (4, 8, 8)
    assert frames[0].labels is not None and len(frames[0].predictions) == 4
    assert [step for step, _ in summary_values(tmp_path / "runs", "loss")] == [0, 1, 2, 3]


def test_tensorboardx(tmp_path):
    run_script(tmp_path, PRELUDE + _python("tensorboardx"))
    assert len(_event_files(tmp_path / "runs" / "exp2")) == 1
    frames = tb_saliency.read(tmp_path / "runs")
    assert [(f.run, f.tag, f.step) for f in frames] == [("exp2", "probe", 0)]
    assert frames[0].maps["gradcam"].shape == (4, 8, 8)


@pytest.mark.training
@pytest.mark.parametrize("namespace", ["lightning", "pytorch_lightning"])
def test_lightning(tmp_path, namespace):
    code = LIGHTNING_PRELUDE + _python("lightning")
    if namespace == "pytorch_lightning":
        code = code.replace("import lightning as L", "import pytorch_lightning as L")
    run_script(tmp_path, code)
    run = tmp_path / "lightning_logs" / "version_0"  # the default TensorBoardLogger's run
    assert [os.path.dirname(f) for f in _event_files(tmp_path)] == [str(run)]
    frames = tb_saliency.read(tmp_path / "lightning_logs")
    assert [(f.run, f.step) for f in frames] == [("version_0", s) for s in (4, 8, 12)]  # each epoch's end
    assert frames[-1].maps["gradcam"].shape == (4, 8, 8) and frames[-1].labels is not None
    assert [step for step, _ in summary_values(run, "train_loss")] == [3, 7, 11]  # the logger's scalars, same file


@pytest.mark.training
def test_transformers(tmp_path):
    run_script(tmp_path, TRANSFORMERS_PRELUDE + _python("transformers"))
    [events] = _event_files(tmp_path / "out")
    run = os.path.dirname(events)
    assert os.path.dirname(run) == str(tmp_path / "out" / "runs")
    frames = tb_saliency.read(run)
    assert [(f.tag, f.step) for f in frames] == [("saliency", 50)]
    assert frames[0].maps["gradcam"].shape == (4, 4, 4) and frames[0].maps["gradient"].shape == (4, 16, 16)
    assert frames[0].labels is not None and len(frames[0].labels) == 4
    assert [step for step, _ in summary_values(run, "train/loss")] == [50]


@pytest.mark.distributed
def test_ddp(tmp_path):
    # After the block, each rank leaves without the interpreter's teardown, where torch 2.13's gloo
    # sometimes aborts with or without tb_saliency (see tests/support/ranks.py).
    epilogue = "\nfrom tests.support.ranks import exit_now\nexit_now()\n"
    run_script(tmp_path, PRELUDE + _python("ddp") + epilogue, launcher=[
        "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2", "--master_addr=127.0.0.1",
        f"--master_port={free_port()}"])
    frames = tb_saliency.read(tmp_path / "runs")
    assert [(f.run, f.tag, f.step) for f in frames] == [("ddp", "probe", 0)]
    assert os.listdir(tmp_path / "runs") == ["ddp"]


def test_notebook(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    exec_globals = {}
    exec(PRELUDE, exec_globals)  # the run the notebook reads, written with torch
    writer = SummaryWriter(str(tmp_path / "runs" / "exp1"))
    for step in (0, 10):
        tb_saliency.log_saliency(writer, "probe", exec_globals["model"], exec_globals["probe_images"],
                                 labels=exec_globals["probe_labels"], methods=["gradient", "gradcam"],
                                 layer="layer4", global_step=step)
    writer.close()
    check = "\nassert sys.modules['torch'] is None\nprint(gradcam.shape, gradcam.dtype, images.shape, images.dtype)\n"
    output = run_script(tmp_path, NO_TORCH + _python("notebook") + check)
    labels = [int(v) for v in exec_globals["probe_labels"]]
    assert output.splitlines()[0].startswith(f"10 {labels} [")
    assert output.splitlines()[-1] == "(4, 8, 8) float32 (4, 16, 16, 3) uint8"

    # The pictures block goes on from there, still without torch; matplotlib draws off screen.
    check = "\nprint(signed.shape, sys.modules['torch'])\n"
    output = run_script(tmp_path, NO_TORCH + "import matplotlib\nmatplotlib.use('Agg')\n" + _python("notebook")
                        + _python("notebook-pictures") + check)
    assert output.splitlines()[-2:] == ["(4, 16, 16, 3)", "(4, 16, 16, 3) None"]
    grid = np.asarray(Image.open(tmp_path / "probe.png"))
    assert grid.shape == (4 * 96 + 3 * 2, 3 * 96 + 2 * 2, 3)  # 4 samples × (input, gradient, gradcam)


@pytest.mark.tensorboard
def test_tensorboard_only(tmp_path):
    language, code = BLOCKS["tensorboard-only"]
    assert language == "sh"
    lines = [line.split() for line in code.strip().splitlines()]
    assert lines[0] == ["pip", "install", "tb_saliency"]
    # What that installs asks for no torch.
    assert not [name for name in _requirements() if name == "torch"], _requirements()
    # The second line starts TensorBoard, which serves the frames with torch unimportable.
    assert lines[1][0] == "tensorboard"
    from tests.support.logdirs import write_custom_maps

    write_custom_maps(tmp_path / "runs")
    start = NO_TORCH + f"sys.argv = {lines[1] + ['--host', '127.0.0.1', '--port', '0']!r}\n" + \
        "from tensorboard.main import run_main\nrun_main()\n"
    with _serving(tmp_path, start) as url:
        tags = tensorboard_process.get_json(url + "data/plugin/saliency/tags")
        assert list(tags["runs"]["custom"]) == ["probe"]


def _requirements():
    """The names in pyproject.toml's dependencies: what `pip install tb_saliency` installs."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [re.match(r"[A-Za-z0-9_.-]+", item).group(0) for item in project["dependencies"]]


class _serving:
    """A `python -c start` TensorBoard process in `folder`, yielding its URL once the plugin is up."""

    def __init__(self, folder, start):
        self.folder, self.start = folder, start

    def __enter__(self):
        import tempfile

        self.log = tempfile.TemporaryFile()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
        self.process = subprocess.Popen([sys.executable, "-c", self.start], cwd=self.folder, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = tensorboard_process._wait_for_url(self.process, self.log)
            tensorboard_process._wait_for_plugin(url, self.process, self.log)
        except BaseException:
            self.__exit__()
            raise
        return url

    def __exit__(self, *exc):
        tensorboard_process._stop(self.process)
        self.log.close()
