"""Training writers log to object storage through TensorBoard's file layer, and `read` reads it back
there: torch's SummaryWriter and tb_saliency's, into fsspec's in-memory filesystem (memory://).
(tensorboardX's writer opens local files only, so it cannot.)"""

import uuid

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchSummaryWriter

import tb_saliency

fsspec = pytest.importorskip("fsspec")


@pytest.fixture
def memory_logdir():
    root = f"tests-{uuid.uuid4().hex}"
    yield f"memory://{root}/logs"
    memory = fsspec.filesystem("memory")
    if memory.exists(f"/{root}"):
        memory.rm(f"/{root}", recursive=True)


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 8 * 8, 3))


def test_log_saliency_and_log_activations_into_memory_read_back_there(memory_logdir):
    model, inputs = _model(), torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    with TorchSummaryWriter(f"{memory_logdir}/torch") as writer:
        tb_saliency.log_saliency(writer, "probe", model, inputs, methods=["gradient"], global_step=3)
        tb_saliency.log_activations(writer, "acts", model, inputs, layer="0", global_step=3)
    with tb_saliency.SummaryWriter(f"{memory_logdir}/ours") as writer:
        writer.add_saliency("probe", model, inputs, methods=["gradient"], global_step=4)

    assert not any(fsspec.filesystem("file").exists(p) for p in ("memory:", "memory:/")), "nothing written locally"
    frames = tb_saliency.read(memory_logdir)
    assert [(f.run, f.tag, f.step, f.kind) for f in frames] == [
        ("ours", "probe", 4, "saliency"), ("torch", "acts", 3, "activations"), ("torch", "probe", 3, "saliency")]
    expected = np.asarray(tb_saliency.attribute(model, inputs, ["gradient"])["gradient"].detach())
    # float16 storage: 11 significant bits of each sample's peak.
    np.testing.assert_allclose(frames[2].maps["gradient"], expected, rtol=0, atol=1e-3 * np.abs(expected).max())
    assert frames[2].render().shape == (2, 8, 8, 3)
