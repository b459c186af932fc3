"""Which rank this process is, for the parts that act on rank zero only (writing, progress bars)."""

import torch


def is_rank_zero() -> bool:
    """True outside torch.distributed, and on rank zero of an initialised process group."""
    distributed = torch.distributed
    return not (distributed.is_available() and distributed.is_initialized()) or distributed.get_rank() == 0
