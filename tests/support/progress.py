"""What tqdm drew on stderr: the last state of each bar; a stderr that is a terminal; and a process
that sees itself as rank one."""

import contextlib
import io
import re

import torch.distributed as dist

# tqdm's text bar: "<description>: 100%|██████████| 7/7 [00:00<00:00, ...]"
_BAR = re.compile(r"(?P<description>[^\r\n]*?): +\d+%\|[^|]*\| (?P<done>\d+)/(?P<total>\d+) ")


def final_bars(stderr: str) -> dict:
    """{description: (done, total)} of the last state each bar drew."""
    bars = {}
    for line in re.split(r"[\r\n]", stderr):
        found = _BAR.search(line)
        if found:
            bars[found["description"].strip()] = (int(found["done"]), int(found["total"]))
    return bars


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, as a console's is: where `progress=None` draws bars."""

    def isatty(self):
        return True


@contextlib.contextmanager
def rank_one():
    """torch.distributed initialised as rank 1 of 2 with torch's own in-process fake backend (no
    peer, no collective), so that every rank check in tb_saliency reads rank 1."""
    from torch.testing._internal.distributed.fake_pg import FakeStore

    dist.init_process_group("fake", rank=1, world_size=2, store=FakeStore())
    try:
        yield
    finally:
        dist.destroy_process_group()
