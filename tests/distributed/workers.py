"""What each rank runs in the distributed tests (spawned processes import these by name).

Every worker trains TinyNet (BatchNorm, Dropout) a few steps on its own rank's data, logs saliency
in between as the test asks, and saves what the test compares into `folder`: per rank its final
parameters and buffers, with and without logging, and the maps its calls returned."""

import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import tb_saliency
from tests.support.logdirs import TinyNet
from tests.support.ranks import no_collectives

STEPS = 4
LOGGED_STEPS = (1, 3)
PROBE = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))
METHODS = ["gradient", "gradcam"]
METRICS = {"deletion": {"steps": 4}, "insertion": {"steps": 4}, "pointing_game": {}}
MASKS = torch.zeros(3, 16, 16, dtype=torch.bool)
MASKS[:, 4:12, 4:12] = True


def _batches(rank):
    generator = torch.Generator().manual_seed(100 + rank)  # each rank its own data
    return [(torch.rand(4, 3, 16, 16, generator=generator), torch.randint(0, 3, (4,), generator=generator))
            for _ in range(STEPS)]


def _train(model, parameters, rank, log=None):
    """STEPS of SGD; `log(step)` after the steps in LOGGED_STEPS. The global RNG is seeded the same
    on every run, so Dropout draws the same masks with and without logging."""
    torch.manual_seed(1000 + rank)
    optimizer = torch.optim.SGD(parameters, lr=0.1, momentum=0.9)
    model.train()
    for step, (inputs, labels) in enumerate(_batches(rank)):
        loss = nn.functional.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if log is not None and step in LOGGED_STEPS:
            log(step)


def _state(module):
    """Every parameter and buffer as plain local tensors (a rank's own shards under FSDP), buffers'
    names prefixed with "buffer:" (DDP keeps parameters equal across ranks, not BatchNorm statistics:
    each rank's last forward updates them with its own batch)."""
    state = {}
    tensors = [*module.named_parameters(), *((f"buffer:{n}", b) for n, b in module.named_buffers())]
    for name, tensor in tensors:
        tensor = tensor.detach()
        if hasattr(tensor, "to_local"):  # FSDP2's DTensor
            tensor = tensor.to_local()
        state[name] = tensor.clone()
    return state


def _new_model():
    torch.manual_seed(0)  # the same initial weights on every rank and every run
    return TinyNet()


def _save(folder, name, rank, value):
    torch.save(value, os.path.join(folder, f"{name}.rank{rank}.pt"))


def _save_beside_a_plain_run(folder, rank, model, plain, maps=None):
    """Trains `plain` (the same model, wrapped the same way) without logging, and saves both states
    (a DDP wrapper's as its module's) and the maps logged, for the test to compare."""
    _train(plain, plain.parameters(), rank)
    for name, trained in (("logged", model), ("plain", plain)):
        _save(folder, name, rank, _state(trained.module if isinstance(trained, DistributedDataParallel) else trained))
    if maps is not None:
        _save(folder, "maps", rank, maps)


def ddp_rank_zero_alone(rank, world_size, folder):
    """Rank zero calls log_saliency with the DDP wrapper while the other rank goes on training."""
    writer = TorchWriter(os.path.join(folder, "rank0")) if rank == 0 else None
    model = DistributedDataParallel(_new_model())
    maps = {}

    def log(step):
        if rank != 0:
            return  # straight on to the next step's forward, backward and all-reduce
        with no_collectives():
            for tag, layer in (("by_wrapped_name", "module.features.3"), ("by_name", "features.3")):
                # The metrics run the model too: as the wrapper's module, without collectives.
                metrics = dict(METRICS, randomisation={}) if tag == "by_name" else METRICS
                result = tb_saliency.log_saliency(writer, tag, model, PROBE, methods=METHODS, layer=layer,
                                                  global_step=step, metrics=metrics, masks=MASKS)
                maps[(tag, step)] = {k: v.clone() for k, v in result.items()}

    _train(model, model.parameters(), rank, log)
    if writer is not None:
        writer.close()
    _save_beside_a_plain_run(folder, rank, model, DistributedDataParallel(_new_model()), maps)


def every_rank_calls(rank, world_size, folder):
    """Every rank calls log_saliency: first with a writer on rank zero and None elsewhere, then with a
    writer on every rank. Only rank zero's folders may get frames."""
    model = DistributedDataParallel(_new_model())
    writers = {
        "none_elsewhere": TorchWriter(os.path.join(folder, "none_elsewhere", f"rank{rank}")) if rank == 0 else None,
        "writer_everywhere": TorchWriter(os.path.join(folder, "writer_everywhere", f"rank{rank}")),
    }
    maps = {}

    def log(step):
        for case, writer in writers.items():
            result = tb_saliency.log_saliency(writer, "probe", model, PROBE, methods=METHODS, layer="module.features.3",
                                              global_step=step)
            maps[(case, step)] = {k: v.clone() for k, v in result.items()}

    _train(model, model.parameters(), rank, log)
    for writer in writers.values():
        if writer is not None:
            writer.close()
    _save_beside_a_plain_run(folder, rank, model, DistributedDataParallel(_new_model()), maps)


def _fsdp2(model):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    for block in (model.features, model.head):
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model, model.features[3]


def _fsdp1(model):
    from torch.distributed.fsdp import FullyShardedDataParallel

    layer = model.features[3]
    # FSDP1 refuses a CPU run unless told its device: device_id=None raises "FSDP needs a non-CPU
    # accelerator device, but no accelerator device is detected".
    return FullyShardedDataParallel(model, device_id=torch.device("cpu")), layer


def fsdp_every_rank_computes(rank, world_size, folder, version):
    """A sharded model's forward needs every rank: every rank calls log_saliency, rank zero writes."""
    shard = {"fsdp2": _fsdp2, "fsdp1": _fsdp1}[version]
    writer = TorchWriter(os.path.join(folder, f"rank{rank}")) if rank == 0 else None
    model, _ = shard(_new_model())
    maps = {}

    def log(step):
        # FSDP1 names the layer "_fsdp_wrapped_module.features.3"; the plain name resolves as well.
        result = tb_saliency.log_saliency(writer, "probe", model, PROBE, methods=METHODS, layer="features.3",
                                          global_step=step)
        maps[("probe", step)] = {k: v.clone() for k, v in result.items()}

    _train(model, model.parameters(), rank, log)
    if writer is not None:
        writer.close()
    _save_beside_a_plain_run(folder, rank, model, shard(_new_model())[0], maps)


def callbacks_with_fsdp(rank, world_size, folder):
    """Both callbacks' hooks on an FSDP2 model, whose forward needs every rank: every rank computes,
    rank zero writes (through the Lightning logger's writer and the Trainer's TensorBoard callback)."""
    import types

    from tb_saliency.integrations import _common

    model, _ = _fsdp2(_new_model())
    assert _common.is_sharded(model)

    from lightning.pytorch.loggers import TensorBoardLogger

    from tb_saliency.integrations.lightning import SaliencyCallback as LightningCallback

    logger = TensorBoardLogger(os.path.join(folder, "lightning"), name="", version="")
    lightning_callback = LightningCallback(PROBE, every_n_steps=2, methods=METHODS, layer="features.3")
    # What the hooks read of a Trainer (one that could run FSDP on CPU is not at hand).
    trainer = types.SimpleNamespace(global_step=0, current_epoch=0, is_global_zero=rank == 0, fast_dev_run=False,
                                    sanity_checking=False, loggers=[logger])
    lightning_callback.setup(trainer, model, "fit")

    import transformers
    from transformers.integrations import TensorBoardCallback
    from transformers.trainer_callback import CallbackHandler

    from tb_saliency.integrations.transformers import SaliencyCallback as TransformersCallback

    args = transformers.TrainingArguments(os.path.join(folder, "transformers"), report_to=["tensorboard"],
                                          use_cpu=True, logging_steps=2)
    state = transformers.TrainerState(is_world_process_zero=rank == 0, is_local_process_zero=rank == 0)
    state.logging_steps = args.logging_steps
    handler = CallbackHandler([TensorBoardCallback(), TransformersCallback(PROBE, methods=METHODS, layer="features.3")],
                              model, None, None, None)
    control = transformers.TrainerControl()
    handler.on_train_begin(args, state, control)

    def log(step):
        trainer.global_step = state.global_step = step + 1
        lightning_callback.on_train_batch_end(trainer, model, None, None, step)
        handler.on_step_end(args, state, control)

    _train(model, model.parameters(), rank, log)
    handler.on_train_end(args, state, control)
    logger.finalize("success")
    _save_beside_a_plain_run(folder, rank, model, _fsdp2(_new_model())[0])
