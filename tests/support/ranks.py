"""Runs a function on several CPU processes joined by torch.distributed (gloo), with timeouts: a rank
that hangs fails the test instead of blocking it, and a rank that raises fails it with its traceback."""

import contextlib
import datetime
import multiprocessing
import os
import socket
import time
import traceback

# A collective whose partner never comes fails after this, instead of waiting forever.
COLLECTIVE_TIMEOUT_S = 30


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_ranks(worker, *args, world_size=2, timeout_s=120):
    """Calls `worker(rank, world_size, *args)` in `world_size` spawned processes that share a gloo
    process group. `worker` must be importable (a module-level function). Raises AssertionError with
    every failing rank's traceback, or when some rank is still running after `timeout_s`."""
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    port = free_port()
    processes = [
        context.Process(target=_entry, args=(worker, rank, world_size, port, args, errors), daemon=True)
        for rank in range(world_size)
    ]
    for process in processes:
        process.start()
    deadline = time.monotonic() + timeout_s
    try:
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        hung = [rank for rank, p in enumerate(processes) if p.is_alive()]
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join(5)
    failures = []
    while True:
        try:
            failures.append(errors.get(timeout=0.5))
        except Exception:  # queue.Empty
            break
    if hung:
        failures.append(f"ranks {hung} still running after {timeout_s} s: a hang (a collective call without its partner?)")
    failures.extend(
        f"rank {rank} exited with code {p.exitcode}" for rank, p in enumerate(processes)
        if not hung and p.exitcode != 0 and not any(f.startswith(f"rank {rank}:") for f in failures)
    )
    if failures:
        raise AssertionError("\n\n".join(failures))


def _entry(worker, rank, world_size, port, args, errors):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)  # the ranks share the machine's cores, as torchrun sets it

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    code = 0
    try:
        dist.init_process_group("gloo", rank=rank, world_size=world_size,
                                timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S))
        try:
            worker(rank, world_size, *args)
            dist.barrier()  # no rank leaves while another still needs it
        finally:
            dist.destroy_process_group()
    except BaseException:
        errors.put(f"rank {rank}:\n{traceback.format_exc()}")
        code = 1
    errors.close()
    errors.join_thread()
    exit_now(code)


def exit_now(code=0):
    """Leaves the process without the interpreter's teardown. torch 2.13's gloo sometimes aborts there
    ("terminate called without an active exception", exit code -6) after a finished job, with or
    without tb_saliency: 1 to 2 runs in 8 of the same DDP script without any tb_saliency call, on this
    2-core machine under load; none in 32 runs that left this way."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# Collectives a call must not make when one rank makes it alone.
_COLLECTIVES = (
    "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "all_gather_object", "reduce",
    "reduce_scatter", "reduce_scatter_tensor", "barrier", "broadcast_object_list", "gather", "scatter",
    "all_to_all", "all_to_all_single", "send", "recv", "isend", "irecv", "_broadcast_coalesced",
)


@contextlib.contextmanager
def no_collectives():
    """Every torch.distributed collective (DDP's buffer broadcast included) raises inside the body."""
    import torch.distributed as dist

    saved = {name: getattr(dist, name) for name in _COLLECTIVES if hasattr(dist, name)}

    def refuse(name):
        def collective(*args, **kwargs):
            raise AssertionError(f"torch.distributed.{name} called where one rank runs alone")
        return collective

    try:
        for name in saved:
            setattr(dist, name, refuse(name))
        yield
    finally:
        for name, function in saved.items():
            setattr(dist, name, function)
