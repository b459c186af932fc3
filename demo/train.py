"""Trains a small CNN on synthetic shapes (CPU, about a minute) and logs where it looks.

    python demo/train.py                 # writes runs/demo, then: tensorboard --logdir runs
    python demo/train.py --steps 100     # shorter

Logged: loss and accuracy scalars; every few steps, the saliency of a fixed probe set with several
methods side by side, the activations of the first conv layer, and a "pointing game" score: how
often each method's strongest pixel falls on the shape, the known right answer.
"""

import argparse
import pathlib
import sys
import time

import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from demo.shapes import CLASS_NAMES, make_shapes  # noqa: E402
from tb_saliency import SummaryWriter  # noqa: E402

MEAN = (0.3, 0.3, 0.3)
STD = (0.25, 0.25, 0.25)
METHODS = ["gradient", "input_x_gradient", "integrated_gradients", "gradcam", "gradcam_pp",
           "layercam"]
CAM_LAYER = "features.6"


class ShapesNet(nn.Module):
    """Three conv blocks (BatchNorm, ReLU), global average pooling and a linear head."""

    def __init__(self, classes=len(CLASS_NAMES)):
        super().__init__()

        def block(inputs, outputs, stride):
            return [nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False),
                    nn.BatchNorm2d(outputs), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*block(3, 16, 1), *block(16, 32, 2), *block(32, 48, 2))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1),
                                  nn.Linear(48, classes))

    def forward(self, x):
        return self.head(self.features(x))


def normalise(images):
    return (images - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def pointing_game(maps, masks):
    """Fraction of samples whose map's strongest cell lies on the shape (maps upsampled to masks)."""
    upsampled = nn.functional.interpolate(maps.unsqueeze(1).float(), size=masks.shape[-2:],
                                          mode="bilinear", align_corners=False)[:, 0]
    peaks = upsampled.flatten(1).argmax(1)
    return masks.flatten(1).gather(1, peaks.unsqueeze(1)).float().mean().item()


def progress(step, total, loss, accuracy, started, width=30):
    done = int(width * step / total)
    elapsed = time.monotonic() - started
    bar = "█" * done + "·" * (width - done)
    sys.stderr.write(f"\r  [{bar}] step {step}/{total}  loss {loss:.3f}  acc {accuracy:.0%}  "
                     f"{elapsed:.0f}s ")
    sys.stderr.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/demo", help="run directory (default runs/demo)")
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    parser.add_argument("--every", type=int, default=30, help="log saliency every N steps")
    parser.add_argument("--probes", type=int, default=8, help="images in the probe set")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    train_images, train_labels, _ = make_shapes(4096, seed=args.seed)
    probe_images, probe_labels, probe_masks = make_shapes(args.probes, seed=args.seed + 1)
    train_inputs, probe_inputs = normalise(train_images), normalise(probe_images)

    model = ShapesNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    writer = SummaryWriter(args.logdir)
    writer.add_saliency_map("probe/ground_truth", probe_images, probe_masks.float(),
                            method="shape_mask", labels=probe_labels, class_names=CLASS_NAMES)

    print(f"Training ShapesNet on synthetic shapes for {args.steps} steps; logging to "
          f"{args.logdir}", file=sys.stderr)
    started = time.monotonic()
    batch_size = 64
    for step in range(1, args.steps + 1):
        model.train()
        index = torch.randint(0, len(train_inputs), (batch_size,))
        outputs = model(train_inputs[index])
        loss = nn.functional.cross_entropy(outputs, train_labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        accuracy = (outputs.argmax(1) == train_labels[index]).float().mean().item()
        writer.add_scalar("train/loss", loss.item(), step)
        writer.add_scalar("train/accuracy", accuracy, step)

        if step == 1 or step % args.every == 0 or step == args.steps:
            # Called in the middle of training, in train mode, with gradients accumulated or not:
            # tb_saliency leaves the model, its .grad, BatchNorm statistics and RNG as they were.
            maps = writer.add_saliency(
                "probe", model, probe_inputs, target=probe_labels, labels=probe_labels,
                methods=METHODS, layer=CAM_LAYER, mean=MEAN, std=STD, class_names=CLASS_NAMES,
                global_step=step,
            )
            writer.add_activations("probe/activations", model, probe_inputs, layer="features.0",
                                   max_channels=8, labels=probe_labels, mean=MEAN, std=STD,
                                   class_names=CLASS_NAMES, global_step=step)
            for method, values in maps.items():
                writer.add_scalar(f"pointing_game/{method}",
                                  pointing_game(values.abs(), probe_masks), step)
        progress(step, args.steps, loss.item(), accuracy, started)

    writer.close()
    elapsed = time.monotonic() - started
    # The demo logs more saliency steps than TensorBoard keeps by default (10): the flag keeps all.
    print(f"\nDone in {elapsed:.0f}s. Now run:\n\n    tensorboard --logdir "
          f"{pathlib.Path(args.logdir).parent} --samples_per_plugin=saliency=0\n\n"
          "and open the Saliency tab.", file=sys.stderr)


if __name__ == "__main__":
    main()
