"""What logging saliency costs a training loop: the README's loop (torch's SummaryWriter,
`log_saliency` of a fixed probe batch every LOG_EVERY steps), timed without logging, with the maps
alone, with the maps and metrics at every logging call, and with `metrics_every`.

    python benchmarks/training_overhead.py [--steps 400] [--repeats 3]

The configurations run interleaved, round by round. Each loop is timed in CPU seconds of this
process with torch on one thread: on a machine shared with other work (this project's 2-core VM ran
at a load of 13 while measuring) wall time mostly measures the waiting for a core, while CPU time
counts the work done, the writer's background thread included. The table gives the median over
rounds of each loop's CPU time, its overhead over the loop without logging, and the wall time.
See benchmarks/README.md for the results.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tb_saliency  # noqa: E402

BATCH, PROBE, SIZE, CLASSES = 32, 16, 16, 10
LOG_EVERY = 50
METRICS = ["deletion", "insertion", "pointing_game"]  # the measurement: these, every 50 steps
METHODS = ["gradient", "gradcam"]


class Net(nn.Module):
    """A small conv net (16×16 inputs: a 2-core CPU shared with other work must run every loop several
    times); "layer4" is its last convolutional block, as in the README."""

    def __init__(self):
        super().__init__()
        def block(i, o, stride):
            return nn.Sequential(nn.Conv2d(i, o, 3, stride=stride, padding=1), nn.BatchNorm2d(o), nn.ReLU())
        self.layer1, self.layer2 = block(3, 16, 1), block(16, 32, 2)
        self.layer3, self.layer4 = block(32, 32, 2), block(32, 32, 1)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, CLASSES))

    def forward(self, x):
        return self.head(self.layer4(self.layer3(self.layer2(self.layer1(x)))))


CONFIGURATIONS = {
    "no logging": None,
    "maps": {},
    "maps + metrics": {"metrics": METRICS},
    "maps + metrics, metrics_every=4": {"metrics": METRICS, "metrics_every": 4},
}


def train(steps, logging, folder):
    """The README's loop for `steps` steps; returns (CPU seconds of this process, wall seconds)."""
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(1)
    batches = [(torch.rand(BATCH, 3, SIZE, SIZE, generator=generator),
                torch.randint(0, CLASSES, (BATCH,), generator=generator)) for _ in range(8)]
    probe_images = torch.rand(PROBE, 3, SIZE, SIZE, generator=generator)
    probe_labels = torch.randint(0, CLASSES, (PROBE,), generator=generator)
    masks = torch.zeros(PROBE, SIZE, SIZE, dtype=torch.bool)
    masks[:, 4:12, 4:12] = True
    writer = SummaryWriter(folder)
    start, start_cpu = time.perf_counter(), time.process_time()
    for step in range(steps):
        images, labels = batches[step % len(batches)]
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        writer.add_scalar("loss", loss.item(), step)
        if logging is not None and step % LOG_EVERY == 0:
            extra = dict(logging)
            if "metrics" in extra:
                extra["masks"] = masks
            tb_saliency.log_saliency(writer, "probe", model, probe_images, labels=probe_labels, methods=METHODS,
                                     layer="layer4", global_step=step, progress=False, **extra)
    writer.close()
    return time.process_time() - start_cpu, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    times = {name: [] for name in CONFIGURATIONS}
    with tempfile.TemporaryDirectory() as root:
        train(LOG_EVERY, CONFIGURATIONS["maps + metrics"], f"{root}/warm-up")
        for round_ in range(args.repeats):
            for index, (name, logging) in enumerate(CONFIGURATIONS.items()):
                times[name].append(train(args.steps, logging, f"{root}/{round_}-{index}"))
    calls = len(range(0, args.steps, LOG_EVERY))
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; "
          f"{args.steps} steps of batch {BATCH} at {SIZE}x{SIZE}, log_saliency of {PROBE} probe images every "
          f"{LOG_EVERY} steps ({calls} calls), methods {METHODS}, metrics {METRICS}; median of {args.repeats} rounds")
    base = statistics.median(cpu for cpu, _ in times["no logging"])
    print("| loop | CPU s (median) | overhead | wall s (median) |\n| --- | --- | --- | --- |")
    for name, values in times.items():
        cpu = statistics.median(c for c, _ in values)
        wall = statistics.median(w for _, w in values)
        overhead = "" if name == "no logging" else f"{100 * (cpu - base) / base:+.1f} %"
        print(f"| {name} | {cpu:.2f} | {overhead} | {wall:.1f} |")


if __name__ == "__main__":
    main()
