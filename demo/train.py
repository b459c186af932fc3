"""Trains a small CNN on synthetic shapes (CPU, about a minute) and logs where it looks.

    python demo/train.py                 # writes runs/demo, then: tensorboard --logdir runs
    python demo/train.py --steps 100     # shorter

Logged: loss and accuracy scalars; every few steps, the saliency of a fixed probe set with several
methods side by side, the activations of the first conv layer, and two metrics of every map: the
pointing game (does its strongest pixel fall on the shape, the known right answer?) and the deletion
game (does the prediction fall fast when its most salient pixels are removed?); at the last step,
the randomisation sanity check. At the end it reads the logs back and prints how the metrics moved.
"""

import argparse
import pathlib
import sys
import time

import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import tb_saliency  # noqa: E402
from demo.shapes import CLASS_NAMES, make_shapes  # noqa: E402
from tb_saliency import SummaryWriter  # noqa: E402

MEAN = (0.3, 0.3, 0.3)
STD = (0.25, 0.25, 0.25)
METHODS = ["gradient", "input_x_gradient", "integrated_gradients", "gradcam", "gradcam_pp",
           "layercam"]
CAM_LAYER = "features.6"
# Deletion on 10 steps: 11 forward passes of the probe set per map, a fraction of a training step.
# Relative: each curve divided by the clean input's probability, so that the early, unsure model (whose
# probabilities all sit near 1/3) and the trained, confident one compare.
METRICS = {"deletion": {"steps": 10, "relative": True}, "pointing_game": {"tolerance": 2}}


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


def progress(step, total, loss, accuracy, started, width=30):
    done = int(width * step / total)
    elapsed = time.monotonic() - started
    bar = "█" * done + "·" * (width - done)
    sys.stderr.write(f"\r  [{bar}] step {step}/{total}  loss {loss:.3f}  acc {accuracy:.0%}  "
                     f"{elapsed:.0f}s ")
    sys.stderr.flush()


def report_metrics(logdir):
    """Reads the logs back (as a notebook would) and prints how each map's metrics moved."""
    frames = tb_saliency.read(logdir, tag="probe")
    first, last = frames[0], frames[-1]
    print(f"\n  {'method':22} {'pointing game':>20} {'relative deletion AUC (lower is better)':>43}",
          file=sys.stderr)
    for key in last.maps:
        pointing = [f.metrics[key]["pointing_game"]["values"].mean() for f in (first, last)]
        deletion = [f.metrics[key]["deletion"]["values"].mean() for f in (first, last)]
        print(f"  {key:22} {pointing[0]:>9.2f} → {pointing[1]:<8.2f} {deletion[0]:>31.3f} → {deletion[1]:<8.3f}",
              file=sys.stderr)
    print(f"  (step {first.step} → step {last.step})", file=sys.stderr)


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
            # The masks say where each shape is, for the pointing game; the last step also runs the
            # randomisation sanity check (is each map still the same once the weights are random?).
            metrics = dict(METRICS, randomisation={}) if step == args.steps else METRICS
            writer.add_saliency(
                "probe", model, probe_inputs, target=probe_labels, labels=probe_labels,
                methods=METHODS, layer=CAM_LAYER, mean=MEAN, std=STD, class_names=CLASS_NAMES,
                global_step=step, metrics=metrics, masks=probe_masks,
            )
            writer.add_activations("probe/activations", model, probe_inputs, layer="features.0",
                                   max_channels=8, labels=probe_labels, mean=MEAN, std=STD,
                                   class_names=CLASS_NAMES, global_step=step)
        progress(step, args.steps, loss.item(), accuracy, started)

    writer.close()
    elapsed = time.monotonic() - started
    report_metrics(args.logdir)
    # The demo logs more saliency steps than TensorBoard keeps by default (10): the flag keeps all.
    print(f"\nDone in {elapsed:.0f}s. Now run:\n\n    tensorboard --logdir "
          f"{pathlib.Path(args.logdir).parent} --samples_per_plugin=saliency=0\n\n"
          "and open the Saliency tab.", file=sys.stderr)


if __name__ == "__main__":
    main()
