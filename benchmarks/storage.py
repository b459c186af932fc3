"""Disk cost of a steady logging step: saliency maps stored by tb_saliency (each dtype) against the same
maps logged as rendered overlays with TensorBoard's `add_images`.

    python benchmarks/storage.py            # about 2 minutes on 2 CPU cores

The workload of issue 16: 16 probe images of 224², gradient, Grad-CAM (layer4, 7×7) and integrated
gradients of an untrained ResNet-18 (built here: torchvision is not needed). The maps are computed
once and logged at steps 0, 1 and 2 into a fresh run per variant; every frame, PNG and blob is
encoded on its own, so a repeated map costs what a new one would. A steady step is the growth of the
event file from step 1 to step 2 (the probe images were written before). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

import tb_saliency  # noqa: E402
from tb_saliency import format as stored_format  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

METHODS = ["gradient", "gradcam", "integrated_gradients"]
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision's resnet18 layer for layer: 224² in, layer4 at 7×7, 1000 classes."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]
        for i, (cin, cout, stride) in enumerate(widths, start=1):
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def probe_images(count, size, seed=0):
    """Photo-like pictures in [0, 1]: smooth colour fields over several octaves, a few sharp-edged
    discs, and a little sensor noise."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(count, 3, size, size)
    for octave, weight in ((4, 0.5), (16, 0.3), (64, 0.15)):
        field = torch.rand(count, 3, octave, octave, generator=generator)
        images += weight * nn.functional.interpolate(field, size=(size, size), mode="bicubic", align_corners=False)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    for i in range(count):
        for _ in range(3):
            cy, cx, r = (torch.rand(3, generator=generator) * torch.tensor([size, size, size / 5])).tolist()
            disc = ((yy - cy) ** 2 + (xx - cx) ** 2) < (r + 8) ** 2
            images[i, :, disc] = torch.rand(3, 1, generator=generator)
    images += 0.02 * torch.randn(images.shape, generator=generator)
    return images.clamp(0, 1)


def _event_bytes(folder):
    return sum(p.stat().st_size for p in Path(folder).glob("events.out.tfevents.*"))


def _steps(folder, log_step, steps=3):
    """Bytes the event file holds after each step, flushed."""
    writer = SummaryWriter(str(folder))
    sizes = []
    try:
        for step in range(steps):
            log_step(writer, step)
            writer.flush()
            sizes.append(_event_bytes(folder))
    finally:
        writer.close()
    return sizes


def measure(count=16, size=224, ig_steps=32):
    torch.manual_seed(0)
    model = ResNet18().eval()
    pictures = probe_images(count, size)
    inputs = (pictures - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    maps = tb_saliency.attribute(model, inputs, METHODS, layer="layer4", ig_steps=ig_steps)
    maps = {key: values.detach().numpy() for key, values in maps.items()}
    targets = model(inputs).argmax(1)
    results = {"maps": {key: list(values.shape) for key, values in maps.items()}}

    with tempfile.TemporaryDirectory() as logdir:
        for dtype in ("float16", "uint8", "float32"):
            results[dtype] = _steps(Path(logdir) / dtype, lambda writer, step: tb_saliency.log_saliency_map(
                writer, "probe", pictures, maps, global_step=step, predictions=targets, dtype=dtype))
        hwc = pictures.permute(0, 2, 3, 1).numpy()
        overlays = {key: tb_saliency.render(hwc, values, view="overlay") for key, values in maps.items()}

        def log_overlays(writer, step):
            for key, rendered in overlays.items():
                writer.add_images(f"probe/{key}", rendered, step, dataformats="NHWC")

        results["overlays"] = _steps(Path(logdir) / "overlays", log_overlays)
        decoded = {f.step: f for f in tb_saliency.read(Path(logdir) / "float32")}
        results["float32_bit_exact"] = all(
            np.array_equal(decoded[2].maps[key], values.astype(np.float32)) for key, values in maps.items())
        results["probe_pngs"] = sum(len(png) for png in stored_format.to_display(pictures.numpy()).encode_png())
    # What format version 2 stored for the same step: float16 values as they are.
    results["float16_uncompressed_maps"] = sum(2 * values.size for values in maps.values())
    results["float16_deflated_unshuffled_maps"] = sum(
        len(zlib.compress((values / np.abs(values).reshape(count, -1).max(1)[:, None, None]).astype("<f2").tobytes()))
        for values in maps.values())
    return results


def report(results):
    steady = {name: results[name][2] - results[name][1] for name in ("float16", "uint8", "float32", "overlays")}
    first = {name: results[name][0] for name in ("float16", "uint8", "float32", "overlays")}
    overlays = steady["overlays"]
    lines = [
        f"Python {platform.python_version()}, torch {torch.__version__}, tb_saliency {tb_saliency.__version__}; "
        f"maps {results['maps']}",
        "",
        "| stored as | step 0 (bytes) | steady step (bytes) | × overlays | bound | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    bounds = {"float16": 0.5, "uint8": 0.25, "float32": None, "overlays": None}
    names = {"float16": "tb_saliency, float16 (default)", "uint8": "tb_saliency, uint8",
             "float32": "tb_saliency, float32 (lossless)", "overlays": "3 × add_images of rendered overlays"}
    for name in ("float16", "uint8", "float32", "overlays"):
        ratio = steady[name] / overlays
        bound = bounds[name]
        met = "" if bound is None else ("yes" if ratio <= bound else "NO")
        lines.append(f"| {names[name]} | {first[name]:,} | {steady[name]:,} | {ratio:.3f} | "
                     f"{'' if bound is None else bound} | {met} |")
    lines += [
        "",
        f"float32 maps read back bit for bit: {results['float32_bit_exact']}",
        f"probe images (16 PNGs, stored once, at step 0): {results['probe_pngs']:,} bytes",
        f"the same float16 maps uncompressed (format version 2): {results['float16_uncompressed_maps']:,} bytes; "
        f"deflated without shuffling: {results['float16_deflated_unshuffled_maps']:,} bytes",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ig-steps", type=int, default=32)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    results = measure(ig_steps=args.ig_steps)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(report(results))


if __name__ == "__main__":
    main()
