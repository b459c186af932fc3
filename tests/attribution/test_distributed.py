"""torch.distributed: a DDP model explained by rank zero alone between training steps, and an FSDP
model explained by every rank. Two CPU processes on the gloo backend; every wait has a timeout, so a
hang fails the test instead of blocking CI."""

import os
import warnings
from collections import OrderedDict

import pytest
import torch
from torch import nn

from tb_saliency.attribution import activations, attribute
from tests.support.ranks import run_ranks

pytestmark = pytest.mark.distributed

METHODS = ["gradient", "gradcam", "integrated_gradients", "scorecam"]
STEPS = 3


def _net():
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(
        conv=nn.Conv2d(3, 4, 3, padding=1), bn=nn.BatchNorm2d(4), relu=nn.ReLU(),
        x=nn.Conv2d(4, 6, 3, padding=1), act=nn.ReLU(), pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(),
        head=nn.Linear(6, 3),
    ))


def _probe(rank):
    return torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(100 + rank))


def _train(model, rank, between_steps):
    """A few SGD steps on this rank's own batches, calling `between_steps(step)` after each."""
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    data = torch.Generator().manual_seed(10 + rank)
    for step in range(STEPS):
        x, y = torch.randn(4, 3, 8, 8, generator=data), torch.randint(0, 3, (4,), generator=data)
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        between_steps(step)


def _ddp_worker(rank, world_size, folder):
    warnings.filterwarnings("ignore")
    maps = []

    def rank_zero_explains(step):
        if rank == 0:  # rank one goes straight on into its next step's collectives
            layer = "module.x" if step % 2 == 0 else "x"
            maps.append((layer, attribute(ddp, _probe(rank), METHODS, layer=layer, ig_steps=3)))
            maps.append((layer, {"activations": activations(ddp, _probe(rank), layer=layer).values}))
            plain = _net()
            plain.load_state_dict(ddp.module.state_dict())
            maps.append(("plain", attribute(plain, _probe(rank), METHODS, layer="x", ig_steps=3)))

    ddp = nn.parallel.DistributedDataParallel(_net())
    _train(ddp, rank, rank_zero_explains)
    alone = nn.parallel.DistributedDataParallel(_net())
    _train(alone, rank, lambda step: None)
    torch.save({
        "params": {k: p.detach().clone() for k, p in ddp.module.named_parameters()},
        "params_without_calls": {k: p.detach().clone() for k, p in alone.module.named_parameters()},
        "buffers": {k: b.clone() for k, b in ddp.module.named_buffers()},
        "buffers_without_calls": {k: b.clone() for k, b in alone.module.named_buffers()},
        "training": ddp.training and all(m.training for m in ddp.modules()),
        "maps": maps,
    }, os.path.join(folder, f"rank{rank}.pt"))


def _spawn(worker, folder):
    """Runs `worker` on 2 gloo ranks (tests/support/ranks.py: timeouts, tracebacks, a clean exit) and
    returns what each rank saved."""
    run_ranks(worker, str(folder), timeout_s=180)
    return [torch.load(folder / f"rank{rank}.pt") for rank in range(2)]


def _assert_equal(a, b, what):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{what}: {key}"


def test_rank_zero_alone_explains_a_ddp_model_between_training_steps(tmp_path):
    rank0, rank1 = _spawn(_ddp_worker, tmp_path)
    # Training went on as if no call had been made, and the ranks agree.
    _assert_equal(rank0["params"], rank0["params_without_calls"], "rank 0 parameters changed by the calls")
    _assert_equal(rank0["buffers"], rank0["buffers_without_calls"], "rank 0 buffers changed by the calls")
    _assert_equal(rank1["params"], rank1["params_without_calls"], "rank 1 parameters changed by the calls")
    _assert_equal(rank0["params"], rank1["params"], "parameters differ across ranks")
    assert rank0["training"] and rank1["training"]
    # Both layer names give the maps of the module inside, named by its own name.
    assert not rank1["maps"] and len(rank0["maps"]) == 3 * STEPS
    for step in range(STEPS):
        (layer, maps), (_, acts), (_, plain) = rank0["maps"][3 * step : 3 * step + 3]
        assert layer == ("module.x" if step % 2 == 0 else "x")
        _assert_equal(maps, plain, f"step {step}, layer {layer}")
        assert acts["activations"].shape == (2, 6, 8, 8)


def _fsdp_worker(rank, world_size, folder):
    warnings.filterwarnings("ignore")
    from torch.distributed.fsdp import FullyShardedDataParallel, StateDictType, fully_shard
    from torch.distributed.fsdp import FullStateDictConfig

    def fsdp1():
        return FullyShardedDataParallel(_net(), device_id=torch.device("cpu"))

    def fsdp2():
        model = _net()
        fully_shard(model.x)
        return fully_shard(model)

    def full_state(model):
        if isinstance(model, FullyShardedDataParallel):
            config = FullStateDictConfig(rank0_only=False)
            with FullyShardedDataParallel.state_dict_type(model, StateDictType.FULL_STATE_DICT, config):
                return {k.replace("_fsdp_wrapped_module.", ""): v.clone() for k, v in model.state_dict().items()}
        return {k: getattr(v, "full_tensor", lambda: v)().detach().clone() for k, v in model.state_dict().items()}

    results = {}
    for kind, make in (("fsdp1", fsdp1), ("fsdp2", fsdp2)):
        maps = []
        model = make()
        # Every rank makes the same call, on its own inputs: the forward passes need all of them.
        _train(model, rank, lambda step: maps.append(attribute(model, _probe(rank), METHODS, layer="x", ig_steps=3)))
        alone = make()
        _train(alone, rank, lambda step: None)
        plain = _net()
        plain.load_state_dict(full_state(model))
        results[kind] = {
            "state": full_state(model),
            "state_without_calls": full_state(alone),
            "maps": maps[-1],
            "plain_maps": attribute(plain, _probe(rank), METHODS, layer="x", ig_steps=3),
            "cams_only": attribute(model, _probe(rank), ["gradcam", "layercam"], layer="x"),
            "plain_cams_only": attribute(plain, _probe(rank), ["gradcam", "layercam"], layer="x"),
        }
    torch.save(results, os.path.join(folder, f"rank{rank}.pt"))


def test_every_rank_explains_an_fsdp_model_like_the_unsharded_one(tmp_path):
    ranks = _spawn(_fsdp_worker, tmp_path)
    for rank, results in enumerate(ranks):
        for kind, result in results.items():
            what = f"{kind} rank {rank}"
            _assert_equal(result["state"], result["state_without_calls"], f"{what}: training changed by the calls")
            # Parameters agree across ranks; BatchNorm statistics are each rank's own under FSDP.
            params = {name for name, _ in _net().named_parameters()}
            mine, first = ({k: v for k, v in s.items() if k in params} for s in (result["state"], ranks[0][kind]["state"]))
            _assert_equal(mine, first, f"{what}: parameters differ from rank 0's")
            for key, values in result["plain_maps"].items():
                torch.testing.assert_close(result["maps"][key], values, rtol=1e-5, atol=1e-7, msg=f"{what} {key}")
            for key, values in result["plain_cams_only"].items():
                torch.testing.assert_close(result["cams_only"][key], values, rtol=1e-5, atol=1e-7, msg=f"{what} {key}")
