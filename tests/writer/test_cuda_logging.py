"""Logging from a model on a CUDA device (marked `cuda`: deselected where there is none; run with
`python -m pytest -m cuda` on a GPU machine): the frames and metrics equal the CPU's, and the CUDA
RNG and the model are left alone."""

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency
from tests.support.logdirs import TinyNet

pytestmark = pytest.mark.cuda

IMAGES = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
MASKS = torch.zeros(3, 16, 16, dtype=torch.bool)
MASKS[:, 4:10, 5:11] = True
CALL = dict(methods=["gradient", "integrated_gradients", "gradcam"], layer="features.3", ig_steps=8,
            metrics={"deletion": {"steps": 6}, "insertion": {"steps": 6}, "pointing_game": {}, "randomisation": {}},
            masks=MASKS, global_step=1)


def _log(tmp_path, device):
    torch.manual_seed(0)
    model = TinyNet().eval().to(device)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.cuda.get_rng_state()
    writer = TorchWriter(str(tmp_path / device))
    masks = CALL["masks"].to(device)
    maps = tb_saliency.log_saliency(writer, "probe", model, IMAGES.to(device), **{**CALL, "masks": masks})
    writer.close()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(torch.cuda.get_rng_state(), rng)
    return maps, {f.tag: f for f in tb_saliency.read(tmp_path / device)}


def test_frames_and_metrics_from_a_cuda_model_equal_the_cpus(tmp_path):
    cpu_maps, cpu = _log(tmp_path, "cpu")
    cuda_maps, cuda = _log(tmp_path, "cuda")
    assert all(m.device.type == "cuda" for m in cuda_maps.values())
    for key in cpu_maps:
        torch.testing.assert_close(cuda_maps[key].cpu(), cpu_maps[key], rtol=1e-3, atol=1e-5)
        for name in ("deletion", "insertion", "pointing_game"):
            np.testing.assert_allclose(cuda["probe"].metrics[key][name]["values"], cpu["probe"].metrics[key][name]["values"],
                                       rtol=1e-3, atol=1e-4)
    cascade_cpu, cascade_cuda = cpu["probe/randomisation"].randomisation, cuda["probe/randomisation"].randomisation
    assert cascade_cuda["layers"] == cascade_cpu["layers"]
    for key, stages in cascade_cpu["correlations"].items():
        for stage, rho in stages.items():
            np.testing.assert_allclose(cascade_cuda["correlations"][key][stage], rho, atol=1e-3)


@pytest.mark.parametrize("strategy", ["auto", "fsdp"])
def test_the_lightning_callback_on_a_gpu_trainer(tmp_path, strategy):
    # "fsdp": Lightning's FSDP strategy, which needs CUDA (NCCL), on the one GPU of a device check.
    import lightning as L

    from tb_saliency.integrations.lightning import SaliencyCallback
    from tests.support.frameworks import lightning_classifier

    Classifier = lightning_classifier(L)

    data = torch.utils.data.TensorDataset(torch.rand(16, 3, 16, 16), torch.arange(16) % 3)
    callback = SaliencyCallback((IMAGES, torch.tensor([0, 1, 2])), methods=["gradient", "gradcam"],
                                layer="net.features.3", every_n_steps=2)
    trainer = L.Trainer(accelerator="gpu", devices=1, strategy=strategy, max_steps=4, default_root_dir=str(tmp_path),
                        callbacks=[callback], enable_progress_bar=False, enable_model_summary=False)
    try:
        trainer.fit(Classifier(), torch.utils.data.DataLoader(data, batch_size=4))
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    frames = tb_saliency.read(tmp_path / "lightning_logs")
    assert [f.step for f in frames] == [2, 4]
    assert frames[-1].maps["gradcam"].shape == (3, 8, 8)
