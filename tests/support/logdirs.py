"""Logdirs written through the public writer API, with what was written, for tests to compare."""

import dataclasses

import numpy as np
import torch
from torch import nn

from tb_saliency import SummaryWriter

CLASS_NAMES = ("circle", "square", "triangle")


@dataclasses.dataclass
class Written:
    """What a logdir holds, per (run, tag): steps, and per step the maps and images as written."""

    logdir: str
    maps: dict = dataclasses.field(default_factory=dict)      # (run, tag, step) → {key: N×h×w}
    images: dict = dataclasses.field(default_factory=dict)    # (run, tag, step) → N×H×W×C uint8
    labels: dict = dataclasses.field(default_factory=dict)    # (run, tag, step) → list of ints


def _blob_images(rng, count, size=16):
    """Bright discs on a dark background at random places: pictures with structure to look at."""
    yy, xx = np.mgrid[0:size, 0:size]
    images = np.zeros((count, 3, size, size), np.float32)
    for i in range(count):
        cy, cx = rng.integers(4, size - 4, size=2)
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2) <= 9
        images[i, i % 3] = disc
        images[i] += 0.1
    return np.clip(images, 0, 1)


def write_custom_maps(logdir, *, run="custom", tag="probe", steps=(0, 10, 20), count=3,
                      map_size=(4, 5), seed=0):
    """`add_saliency_map` with two methods of known values at several steps, same probe images."""
    rng = np.random.default_rng(seed)
    images = _blob_images(rng, count)
    written = Written(logdir=str(logdir))
    writer = SummaryWriter(f"{logdir}/{run}")
    try:
        for step in steps:
            maps = {
                "gradient": rng.normal(size=(count, 16, 16)).astype(np.float32),
                "gradcam": rng.uniform(0, 3, size=(count, *map_size)).astype(np.float32),
            }
            labels = [i % len(CLASS_NAMES) for i in range(count)]
            writer.add_saliency_map(
                tag, images, maps, global_step=step, labels=labels,
                predictions=[(i + step // 10) % len(CLASS_NAMES) for i in range(count)],
                scores=rng.uniform(0.3, 1.0, size=count), class_names=list(CLASS_NAMES),
            )
            written.maps[(run, tag, step)] = maps
            written.images[(run, tag, step)] = np.rint(images.transpose(0, 2, 3, 1) * 255).astype(
                np.uint8)
            written.labels[(run, tag, step)] = labels
        writer.add_scalar("loss", 1.0, 0)
    finally:
        writer.close()
    return written


def write_scalars_only(logdir, run="plain"):
    writer = SummaryWriter(f"{logdir}/{run}")
    try:
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
    finally:
        writer.close()


class TinyNet(nn.Module):
    """A small conv net on 3×16×16 images with BatchNorm and Dropout, as training code has."""

    def __init__(self, classes=len(CLASS_NAMES)):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1, stride=2), nn.BatchNorm2d(16), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1),
                                  nn.Linear(16, classes))

    def forward(self, x):
        return self.head(self.features(x))


def write_model_saliency(logdir, *, run="model", tag="probe", steps=(0, 5), count=4, seed=0,
                         methods=("gradient", "gradcam"), layer="features.3"):
    """`add_saliency` and `add_activations` on TinyNet while it trains a few steps."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = TinyNet()
    images = torch.from_numpy(_blob_images(rng, count))
    labels = torch.arange(count) % len(CLASS_NAMES)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    writer = SummaryWriter(f"{logdir}/{run}")
    try:
        for step in range(max(steps) + 1):
            loss = nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            writer.add_scalar("loss", loss.item(), step)
            if step in steps:
                writer.add_saliency(tag, model, images, target=labels, methods=list(methods),
                                    layer=layer, global_step=step, labels=labels,
                                    class_names=list(CLASS_NAMES))
                writer.add_activations(f"{tag}/activations", model, images, layer="features.0",
                                       max_channels=4, global_step=step, labels=labels,
                                       class_names=list(CLASS_NAMES))
    finally:
        writer.close()
    return model


def write_single_map(logdir, *, run="custom", tag="probe", steps=(0,), count=3, seed=7):
    """One "saliency" map per step over the same images as write_custom_maps: {step: N×6×6}."""
    rng = np.random.default_rng(seed)
    images = _blob_images(np.random.default_rng(0), count)
    maps = {}
    writer = SummaryWriter(f"{logdir}/{run}")
    try:
        for step in steps:
            maps[step] = rng.uniform(0.5, 2, size=(count, 6, 6)).astype(np.float32)
            writer.add_saliency_map(tag, images, maps[step], global_step=step, method="saliency")
    finally:
        writer.close()
    return maps
