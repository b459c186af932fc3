"""tb_saliency's deletion and insertion games against Quantus 0.6, side by side in one run.

    python benchmarks/metrics.py [--repeats 7]

Every implementation runs on the same model, inputs, maps and targets, on this machine's CPU,
interleaved round by round so that load on the machine hits them all alike. Each case runs right
after a floor run, (steps + 1) forward passes of the batch without gradients timed as one run; the
table gives the best and the median over rounds, and the ratios to the floor. See
benchmarks/README.md for the set-up and the measured results.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from tb_saliency.attribution import attribute  # noqa: E402
from tb_saliency.metrics import deletion, insertion  # noqa: E402


def _attribution_benchmark():
    """benchmarks/attribution.py, for its model (the 7-layer conv net of ATTRIBUTION.md)."""
    spec = importlib.util.spec_from_file_location("benchmark_attribution", ROOT / "attribution.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# 48×48 and 24 steps: Quantus's PixelFlipping needs features_in_step (here 3·48·48/24 = 288, i.e. 96
# whole pixels of 3 channels) to divide H·W, which no step count allows for a 64×64 RGB image.
BATCH, CHANNELS, SIZE, STEPS = 16, 3, 48, 24
LAYER = "features.6"
BOUND = 1.3


@dataclass
class Case:
    name: str
    implementation: str
    run: Callable[[], object]
    compare: Optional[Callable[[object], str]] = None
    note: str = ""


def build_cases(model, x, targets, maps):
    try:
        import quantus
    except ImportError:
        raise SystemExit("quantus is not installed; pip install quantus==0.6.0 (see benchmarks/README.md)") from None
    y = targets.numpy()
    x_np = x.numpy()
    features = CHANNELS * SIZE * SIZE // STEPS
    ours = {
        "deletion": deletion(model, x, maps, target=targets, steps=STEPS, baseline=0.0),
        "insertion": insertion(model, x, maps, target=targets, steps=STEPS, baseline=0.0),
    }

    def mine(metric, **options):
        return lambda: metric(model, x, maps, target=targets, steps=STEPS, **options)

    def pixel_flipping(a_batch):
        metric = quantus.PixelFlipping(features_in_step=features, perturb_baseline=0.0, disable_warnings=True)
        return lambda: np.array(metric(model=model, x_batch=x_np, y_batch=y, a_batch=a_batch, softmax=True))

    def agreement(ours_curve):
        def compare(theirs):
            return f"max\\|Δp\\|={np.abs(ours_curve - theirs).max():.1e}"

        return compare

    # Three maps of one batch, as log_saliency scores its methods: one call with a dict shares the
    # clean and baseline passes, 2 + 3·(steps − 1) passes where three calls make 3·(steps + 1).
    three = {"map": maps, "flipped": maps.flip(-1), "upside_down": maps.flip(-2)}

    def three_maps_at_once():
        return deletion(model, x, three, target=targets, steps=STEPS, baseline=0.0)

    def three_maps_one_by_one():
        return {key: deletion(model, x, value, target=targets, steps=STEPS, baseline=0.0) for key, value in three.items()}

    cases = [
        Case("deletion", "tb_saliency, baseline 0", mine(deletion, baseline=0.0)),
        Case("deletion, 3 maps", "tb_saliency, one call with a dict of 3 maps", three_maps_at_once,
             note=f"needs {2 + 3 * (STEPS - 1)} passes, {(2 + 3 * (STEPS - 1)) / (STEPS + 1):.2f} × floor"),
        Case("deletion, 3 maps", "tb_saliency, three calls", three_maps_one_by_one,
             note=f"needs {3 * (STEPS + 1)} passes, {3.0:.2f} × floor"),
        Case("deletion", "tb_saliency, baseline 0, one copy per pass", mine(deletion, baseline=0.0, memory_limit=1)),
        Case("insertion", "tb_saliency, baseline 0", mine(insertion, baseline=0.0)),
        Case("insertion", "tb_saliency, blur baseline (its default)", mine(insertion)),
        Case(
            "deletion",
            f"quantus {quantus.__version__} PixelFlipping",
            pixel_flipping(maps[:, None].numpy()),
            agreement(ours["deletion"].curve[:, 1:].numpy()),
            note=f"features_in_step={features}; its curve omits k=0, which it never computes",
        ),
        Case(
            "insertion",
            f"quantus {quantus.__version__} PixelFlipping of 1 − map (least relevant first), reversed",
            pixel_flipping((1 - maps.double())[:, None].numpy()),  # in float32, 1 - map would round into ties
            agreement(ours["insertion"].curve[:, :STEPS].numpy()[:, ::-1]),
            note="its curve omits k=steps (the clean input)",
        ),
    ]
    return cases


def floor_run(model, x):
    """The floor: (steps + 1) forward passes of the batch without gradients, timed as one run."""

    def run():
        with torch.no_grad():
            for _ in range(STEPS + 1):
                model(x)

    return run


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds after one warm-up round")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    model = _attribution_benchmark().build_model()
    x = torch.randn(BATCH, CHANNELS, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    targets = torch.randint(0, 10, (BATCH,), generator=torch.Generator().manual_seed(2))
    # Grad-CAM maps upsampled to the input, as Quantus needs them, plus tiny noise: ties are broken by
    # pixel index here and arbitrarily by NumPy's argsort in Quantus, so distinct values keep them equal.
    cam = attribute(model, x, "gradcam", target=targets, layer=LAYER)["gradcam"]
    maps = torch.nn.functional.interpolate(cam[:, None], size=(SIZE, SIZE), mode="bilinear", align_corners=False)[:, 0]
    maps = maps + 1e-6 * torch.rand(maps.shape, generator=torch.Generator().manual_seed(3))
    cases = build_cases(model, x, targets, maps)
    floor = floor_run(model, x)

    agreements = {}
    for i, case in enumerate(cases):  # warm-up, and the outputs for the agreement column
        _, out = timed(case.run)
        agreements[i] = case.compare(out) if case.compare else ""
    floor()

    # Each case runs right after a floor run, so that both see the machine in the same state. On a
    # shared VM other work slows some runs several-fold: the best of the rounds estimates the cost
    # without it (the median is shown too).
    times = {i: [] for i in range(len(cases))}
    ratios = {i: [] for i in range(len(cases))}
    floors = []
    for _ in range(args.repeats):
        for i, case in enumerate(cases):
            floors.append(timed(floor)[0])
            times[i].append(timed(case.run)[0])
            ratios[i].append(times[i][-1] / floors[-1])
    best_floor = min(floors)
    best = {i: min(t) / best_floor for i, t in times.items()}

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}; batch {BATCH}×{CHANNELS}×{SIZE}×{SIZE}, {STEPS} steps, "
        f"{args.repeats} timed rounds"
    )
    print(
        f"floor, {STEPS + 1} forward passes without gradients: best {best_floor * 1e3:.0f} ms, "
        f"median {statistics.median(floors) * 1e3:.0f} ms\n"
    )
    print(
        "| metric | implementation | best (ms) | median (ms) | × floor, best | × floor, median of rounds | "
        "agreement with tb_saliency | note |"
    )
    print("|---|---|---:|---:|---:|---:|---|---|")
    for i, case in enumerate(cases):
        print(
            f"| {case.name} | {case.implementation} | {min(times[i]) * 1e3:.0f} | "
            f"{statistics.median(times[i]) * 1e3:.0f} | {best[i]:.2f} | {statistics.median(ratios[i]):.2f} | "
            f"{agreements[i]} | {case.note} |"
        )

    print("\n| target | measured (best) | bound | met |")
    print("|---|---:|---:|---|")
    # The bounds apply to one map per call with a baseline of 0: the first case of each game.
    for i in (next(i for i, case in enumerate(cases) if case.name == game) for game in ("deletion", "insertion")):
        value = best[i]
        print(
            f"| {cases[i].name} ≤ {BOUND} × (steps + 1) forward passes | {value:.2f} | {BOUND} | "
            f"{'yes' if value <= BOUND else 'NO'} |"
        )


if __name__ == "__main__":
    main()
