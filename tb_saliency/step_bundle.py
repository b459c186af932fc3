"""The blobs of one step for `/step_data`: which blobs its `/frame` JSON names, and reading them
together.

Under `--load_fast=true` every read answers through TensorBoard's data server, which holds each
answer of more than a few hundred bytes about 40 ms (see benchmarks/README.md); reads in flight
together wait once, so a step's blobs are read in parallel threads. Under the Python loader a read is
a lookup in this process, holding the GIL: there they are read one after another.
"""

import concurrent.futures

from tb_saliency import series

# Enough for a step's maps and a probe set of 16 images in one round trip; the gRPC channel carries
# them all on one connection.
PARALLEL_READS = 16


def named_keys(frame, candidates):
    """The blob keys a `/frame` JSON names, in the order they first appear: every string in it that
    is one of `candidates` (the keys of the frame's blob sequence and of the shared probe images it
    points at). Generic on purpose: whatever field a frame kind names its blobs in, they are found,
    and a string from the logs (a class name, an option) is never taken for a key unless it is one
    of this frame's."""
    found = {}
    stack = [frame]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if value in candidates:
                found.setdefault(value, None)
        elif isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return list(found)


class BlobReads:
    """Reads of blobs started now and collected later: in parallel when `parallel`, else each read
    when it is collected."""

    def __init__(self, series_index, parallel):
        self._series = series_index
        self._pool = (concurrent.futures.ThreadPoolExecutor(PARALLEL_READS, thread_name_prefix="tb_saliency blob")
                      if parallel else None)
        self.parallel = parallel

    def start(self, ctx, keys):
        """{key: a callable that gives the blob's bytes or raises series.Unreadable}."""
        if self._pool is None:
            return {key: (lambda key=key: self._series.read_blob(ctx, key)) for key in keys}
        futures = {key: self._pool.submit(self._series.read_blob, ctx, key) for key in keys}
        return {key: future.result for key, future in futures.items()}

    @staticmethod
    def collect(started, keys):
        """([(key, bytes)] of the keys read, {key: why} of those TensorBoard could not give)."""
        blobs, unreadable = [], {}
        for key in keys:
            try:
                blobs.append((key, started[key]()))
            except series.Unreadable as error:
                unreadable[key] = str(error)
        return blobs, unreadable
