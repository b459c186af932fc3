"""The callbacks under each framework's own multi-process launch on 2 CPU processes (gloo): Lightning's
"ddp" strategy and the Hugging Face Trainer under torchrun. Rank zero computes alone on the unwrapped
model (no collective call, so no hang), writes the only event file, and the ranks' weights stay equal."""

import glob
import os

import pytest
import torch

import tb_saliency
from tests.support.ranks import free_port
from tests.support.scripts import run_script

pytestmark = pytest.mark.distributed

LIGHTNING_SCRIPT = """
import torch
import lightning.pytorch as L
from tb_saliency.integrations.lightning import SaliencyCallback
from tests.support.frameworks import lightning_classifier
from tests.support.ranks import exit_now

Classifier = lightning_classifier(L)


if __name__ == "__main__":
    L.seed_everything(0)
    data = torch.utils.data.TensorDataset(torch.rand(32, 3, 16, 16), torch.randint(0, 3, (32,)))
    model = Classifier()
    trainer = L.Trainer(
        max_epochs=2, accelerator="cpu", devices=2, strategy="ddp", log_every_n_steps=1,
        logger=L.loggers.TensorBoardLogger("logs", name="", version=""), enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
        callbacks=[SaliencyCallback(data[:3], every_n_steps=2, methods=["gradient", "gradcam"], layer="net.features.3")])
    trainer.fit(model, torch.utils.data.DataLoader(data, batch_size=4))  # 16 samples a rank: 4 steps an epoch
    torch.save(dict(model.named_parameters()), f"parameters.rank{trainer.global_rank}.pt")
    exit_now()  # see tests/support/ranks.py
"""

TRANSFORMERS_SCRIPT = """
import torch
from transformers import Trainer, TrainingArguments, ViTConfig, ViTForImageClassification
from tb_saliency.integrations.transformers import SaliencyCallback
from tests.support.ranks import exit_now

torch.manual_seed(0)
config = ViTConfig(image_size=16, patch_size=4, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                   intermediate_size=32, num_labels=3)
vit = ViTForImageClassification(config)
pixels, labels = torch.rand(32, 3, 16, 16), torch.randint(0, 3, (32,))
args = TrainingArguments("out", report_to=["tensorboard"], logging_steps=2, use_cpu=True, per_device_train_batch_size=4,
                         num_train_epochs=1, save_strategy="no", disable_tqdm=True)
trainer = Trainer(model=vit, args=args, train_dataset=[{"pixel_values": p, "labels": l} for p, l in zip(pixels, labels)],
                  callbacks=[SaliencyCallback(pixels[:3], methods=["gradient", "gradcam"], layer="vit.layernorm", reshape="vit")])
trainer.train()  # 16 samples a process: 4 steps
assert args.world_size == 2 and type(trainer.model_wrapped).__name__ == "DistributedDataParallel"
torch.save(dict(vit.named_parameters()), f"parameters.rank{args.process_index}.pt")
exit_now()  # see tests/support/ranks.py
"""


def _same_parameters(folder):
    ranks = [torch.load(os.path.join(folder, f"parameters.rank{rank}.pt")) for rank in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys()
    assert [name for name in ranks[0] if not torch.equal(ranks[0][name], ranks[1][name])] == []


def test_lightning_ddp_strategy(tmp_path):
    run_script(tmp_path, LIGHTNING_SCRIPT, env={"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())})
    assert [os.path.dirname(f) for f in glob.glob(str(tmp_path / "**" / "events.*"), recursive=True)] == \
        [str(tmp_path / "logs")]
    frames = tb_saliency.read(tmp_path / "logs")
    assert [f.step for f in frames] == [2, 4, 6, 8]
    assert frames[-1].maps["gradcam"].shape == (3, 8, 8)
    _same_parameters(tmp_path)


def test_transformers_trainer_under_torchrun(tmp_path):
    run_script(tmp_path, TRANSFORMERS_SCRIPT, launcher=[
        "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2", "--master_addr=127.0.0.1",
        f"--master_port={free_port()}"])
    [events] = glob.glob(str(tmp_path / "**" / "events.*"), recursive=True)
    frames = tb_saliency.read(os.path.dirname(events))
    assert [f.step for f in frames] == [2, 4]
    assert frames[-1].maps["gradcam"].shape == (3, 4, 4) and frames[-1].predictions is not None
    _same_parameters(tmp_path)
