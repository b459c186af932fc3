"""tb_saliency's attribution engine against captum and pytorch-grad-cam, side by side in one run.

    python benchmarks/attribution.py [--repeats 5] [--peers DIR]

Every implementation runs on the same model, inputs and targets, on this machine's CPU, interleaved
round by round so that load on the machine hits them all alike. For each method it reports the
median wall time, the compute floor (the forward+backward passes the method needs × the time of one)
and the numerical agreement with tb_saliency after matching each peer's conventions. See
benchmarks/README.md for the set-up of the peers and the measured results.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

# Before captum imports tqdm: pytorch-grad-cam's Score-CAM draws progress bars otherwise.
os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from tb_saliency.attribution import attribute  # noqa: E402

BATCH, CHANNELS, SIZE, CLASSES = 16, 3, 64, 10
LAYER = "features.6"  # the last conv block (conv, BatchNorm, ReLU)
SMOOTHGRAD_SAMPLES, SMOOTHGRAD_SIGMA, IG_STEPS = 16, 0.15, 32
# Gradient-free methods (issue 14): 16×16 patches every 8 pixels (ceil((64 - 16) / 8) + 1 = 7 a side).
OCCLUSION_WINDOW, OCCLUSION_STRIDE, RISE_MASKS = 16, 8, 96
OCCLUSION_PATCHES = (-(-(SIZE - OCCLUSION_WINDOW) // OCCLUSION_STRIDE) + 1) ** 2


def build_model() -> nn.Module:
    """The 7-layer conv net with BatchNorm of ATTRIBUTION.md: 7 conv blocks, 3 max-pools, GAP, linear."""
    torch.manual_seed(0)
    widths = [(3, 32), (32, 32), (32, 64), (64, 64), (64, 128), (128, 128), (128, 128)]
    pool_after = {1, 3, 5}
    blocks = []
    for i, (cin, cout) in enumerate(widths):
        block = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        if i in pool_after:
            block.append(nn.MaxPool2d(2))
        blocks.append(nn.Sequential(*block))
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(*blocks))
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module("head", nn.Linear(128, CLASSES))
    with torch.no_grad():  # running statistics as after training, so eval mode is not the identity
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def load_grad_cam(peers: Optional[str]):
    """Import pytorch-grad-cam from the peers directory, with the torchvision shim if needed."""
    if peers:
        sys.path.insert(0, peers)
    try:
        import torchvision  # noqa: F401

        shim = False
    except Exception:  # a wheel built for another torch fails with more than ImportError
        sys.modules.pop("torchvision", None)
        sys.path.insert(0, str(ROOT / "shims"))
        shim = True
    try:
        import pytorch_grad_cam
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError as error:
        message = f"pytorch-grad-cam is not importable from {peers!r} ({error}); run benchmarks/install_peers.sh"
        raise SystemExit(message) from None
    return pytorch_grad_cam, ClassifierOutputTarget, shim


# ---- agreement ------------------------------------------------------------------------------------------


def _corr(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double().flatten(), b.double().flatten()
    a, b = a - a.mean(), b - b.mean()
    denominator = (a.norm() * b.norm()).item()
    return float((a @ b).item() / denominator) if denominator else float("nan")


def agreement(ours: torch.Tensor, theirs: torch.Tensor) -> str:
    """Pearson correlation and the largest difference relative to the peer's largest magnitude."""
    ours, theirs = ours.detach().double(), theirs.detach().double()
    scale = theirs.abs().max().item() or 1.0
    return f"r={_corr(ours, theirs):.6f}, max|Δ|/max|peer|={(ours - theirs).abs().max().item() / scale:.1e}"


def grad_cam_display(cam: torch.Tensor) -> torch.Tensor:
    """pytorch-grad-cam's output convention applied to a raw layer-resolution CAM: ReLU, per-image
    min-max (eps 1e-7), bilinear resize to the input (cv2.resize = half-pixel centres), min-max again."""

    def minmax(m):
        flat = m.flatten(1)
        m = m - flat.min(1).values[:, None, None]
        return m / (1e-7 + m.flatten(1).max(1).values[:, None, None])

    up = F.interpolate(
        minmax(cam.clamp(min=0).float())[:, None], size=(SIZE, SIZE), mode="bilinear", align_corners=False
    )[:, 0]
    return minmax(up)


# ---- cases ----------------------------------------------------------------------------------------------


@dataclass
class Case:
    method: str
    implementation: str
    run: Callable[[], object]
    passes: Optional[float]  # forward+backward passes of batch N the method needs (None: no floor)
    compare: Optional[Callable[[object], str]] = None
    note: str = ""
    forwards: Optional[float] = None  # forward passes without gradients it needs, on top of `passes`


def build_cases(model, x, targets, peers_dir, wanted=None):
    cases = _all_cases(model, x, targets, peers_dir, wanted)
    return [c for c in cases if wanted is None or c.method in wanted]


def _all_cases(model, x, targets, peers_dir, wanted):
    layer = dict(model.named_modules())[LAYER]
    target_list = targets.tolist()
    cases = []
    ours = {}

    def mine(methods, **options):
        return lambda: attribute(model, x, methods, target=targets, **options)

    def remember(key, **options):
        if wanted is None or key in wanted:
            ours[key] = attribute(model, x, key, target=targets, **options)[key]

    layer_opts = {"layer": LAYER}
    remember("gradient")
    remember("input_x_gradient")
    remember(
        "smoothgrad",
        smoothgrad_samples=SMOOTHGRAD_SAMPLES,
        smoothgrad_noise=SMOOTHGRAD_SIGMA,
        smoothgrad_noise_type="absolute",
    )
    remember("integrated_gradients", ig_steps=IG_STEPS)
    for cam in ("gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam", "scorecam"):
        remember(cam, **layer_opts)

    # tb_saliency
    cases.append(Case("gradient", "tb_saliency", mine("gradient"), 1))
    cases.append(Case("input_x_gradient", "tb_saliency", mine("input_x_gradient"), 1))
    cases.append(
        Case(
            "smoothgrad",
            "tb_saliency",
            mine(
                "smoothgrad",
                smoothgrad_samples=SMOOTHGRAD_SAMPLES,
                smoothgrad_noise=SMOOTHGRAD_SIGMA,
                smoothgrad_noise_type="absolute",
            ),
            SMOOTHGRAD_SAMPLES,
        )
    )
    cases.append(Case("integrated_gradients", "tb_saliency", mine("integrated_gradients", ig_steps=IG_STEPS), IG_STEPS))
    for cam in ("gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam"):
        cases.append(Case(cam, "tb_saliency", mine(cam, **layer_opts), 1))
    channels = layer[0].out_channels
    cases.append(
        Case(
            "scorecam",
            "tb_saliency",
            mine("scorecam", **layer_opts),
            None,
            note=f"{channels} masked forward-only copies",
        )
    )
    combined = ["gradient", "input_x_gradient", "gradcam", "layercam"]
    cases.append(Case("+".join(combined), "tb_saliency (one call)", mine(combined, **layer_opts), 1))

    # Gradient-free methods: floors in forward passes without gradients, the clean pass counted as one.
    occlusion_opts = {"occlusion_window": OCCLUSION_WINDOW, "occlusion_stride": OCCLUSION_STRIDE}
    remember("occlusion", **occlusion_opts)
    remember("rise", rise_masks=RISE_MASKS)
    remember("eigencam", cam_relu=False, **layer_opts)
    remember("ablationcam", **layer_opts)
    cases.append(Case("occlusion", "tb_saliency", mine("occlusion", **occlusion_opts), 0,
                      forwards=OCCLUSION_PATCHES + 1, note=f"{OCCLUSION_PATCHES} patches, forward-only"))
    cases.append(Case("rise", "tb_saliency", mine("rise", rise_masks=RISE_MASKS), 0, forwards=RISE_MASKS + 1,
                      note=f"{RISE_MASKS} masks, forward-only"))
    cases.append(Case("eigencam", "tb_saliency", mine("eigencam", **layer_opts), 0, forwards=1,
                      note="one forward pass without a graph, an eigen-decomposition per image"))
    cases.append(Case("ablationcam", "tb_saliency", mine("ablationcam", **layer_opts), 0, forwards=channels + 1,
                      note=f"{channels} ablated forward-only copies"))

    # captum
    try:
        import captum
    except ImportError:
        raise SystemExit("captum is not installed; run benchmarks/install_peers.sh") from None
    from captum.attr import InputXGradient, IntegratedGradients, LayerGradCam, NoiseTunnel, Saliency

    saliency, ixg, ig = Saliency(model), InputXGradient(model), IntegratedGradients(model)
    tunnel, layer_gc = NoiseTunnel(Saliency(model)), LayerGradCam(model, layer)

    def cmp(key, reduce=lambda t: t.sum(1)):
        return lambda out: agreement(ours[key], reduce(out))

    cases.append(
        Case(
            "gradient",
            f"captum {captum.__version__} Saliency(abs=False)",
            lambda: saliency.attribute(x, target=targets, abs=False),
            1,
            cmp("gradient"),
        )
    )
    cases.append(
        Case(
            "input_x_gradient",
            "captum InputXGradient",
            lambda: ixg.attribute(x, target=targets),
            1,
            cmp("input_x_gradient"),
        )
    )
    cases.append(
        Case(
            "smoothgrad",
            f"captum NoiseTunnel(Saliency), {SMOOTHGRAD_SAMPLES} samples",
            lambda: tunnel.attribute(
                x,
                target=targets,
                nt_type="smoothgrad",
                nt_samples=SMOOTHGRAD_SAMPLES,
                stdevs=SMOOTHGRAD_SIGMA,
                abs=False,
            ),
            SMOOTHGRAD_SAMPLES,
            cmp("smoothgrad"),
            note="different noise draws: agreement is statistical",
        )
    )
    cases.append(
        Case(
            "integrated_gradients",
            f"captum IntegratedGradients, {IG_STEPS} steps (default batching)",
            lambda: ig.attribute(x, target=targets, n_steps=IG_STEPS),
            IG_STEPS,
            cmp("integrated_gradients"),
        )
    )
    cases.append(
        Case(
            "integrated_gradients",
            f"captum IntegratedGradients, internal_batch_size={BATCH}",
            lambda: ig.attribute(x, target=targets, n_steps=IG_STEPS, internal_batch_size=BATCH),
            IG_STEPS,
            cmp("integrated_gradients"),
        )
    )
    cases.append(
        Case(
            "gradcam",
            "captum LayerGradCam(relu_attributions=True)",
            lambda: layer_gc.attribute(x, target=targets, relu_attributions=True),
            1,
            cmp("gradcam", lambda t: t[:, 0]),
        )
    )

    from captum.attr import Occlusion

    occlusion = Occlusion(model)
    cases.append(
        Case(
            "occlusion",
            f"captum Occlusion, window {CHANNELS}×{OCCLUSION_WINDOW}×{OCCLUSION_WINDOW}, stride {OCCLUSION_STRIDE}",
            lambda: occlusion.attribute(
                x,
                sliding_window_shapes=(CHANNELS, OCCLUSION_WINDOW, OCCLUSION_WINDOW),
                strides=(CHANNELS, OCCLUSION_STRIDE, OCCLUSION_STRIDE),
                baselines=0.0,
                target=targets,
            ),
            0,
            cmp("occlusion", lambda t: t[:, 0]),
            note="its first channel (every channel is equal)",
            forwards=OCCLUSION_PATCHES + 1,
        )
    )

    # pytorch-grad-cam
    pgc, ClassifierOutputTarget, shim = load_grad_cam(peers_dir)
    version = getattr(pgc, "__version__", None) or _dist_version("grad-cam")
    pgc_targets = [ClassifierOutputTarget(t) for t in target_list]
    classes = {
        "gradcam": pgc.GradCAM,
        "gradcam_pp": pgc.GradCAMPlusPlus,
        "layercam": pgc.LayerCAM,
        "hirescam": pgc.HiResCAM,
        "xgradcam": pgc.XGradCAM,
        "scorecam": pgc.ScoreCAM,
    }
    notes = {
        "gradcam_pp": "peer adds eps=1e-6 to α's denominator (ours: the exact formula)",
        "scorecam": "peer upsamples masks with align_corners=True (ours: False)",
    }

    def grad_cam_run(cls):
        # Its documented use; the explainer's hooks stay on the model until it is released, and would
        # otherwise slow down every other implementation's forward passes.
        def run():
            with cls(model=model, target_layers=[layer]) as explainer:
                return torch.from_numpy(explainer(input_tensor=x, targets=pgc_targets))

        return run

    shim_text = " [torchvision shim]" if shim else ""
    cases.append(Case("eigencam", f"pytorch-grad-cam {version} EigenCAM{shim_text}", grad_cam_run(pgc.EigenCAM), 0,
                      lambda out: eigencam_agreement(ours["eigencam"], out), forwards=1,
                      note="the peer keeps the SVD's sign; ours follows the mean activation"))
    cases.append(Case("ablationcam", f"pytorch-grad-cam {version} AblationCAM{shim_text}",
                      grad_cam_run(pgc.AblationCAM), 0,
                      (lambda out: agreement(grad_cam_display(ours["ablationcam"]), out) + " (peer's display scaling)"),
                      forwards=channels + 1, note="its default batch_size=32 copies of one image per pass"))
    for key, cls in classes.items():
        cases.append(
            Case(
                key,
                f"pytorch-grad-cam {version} {cls.__name__}" + (" [torchvision shim]" if shim else ""),
                grad_cam_run(cls),
                1 if key != "scorecam" else None,
                (lambda out, k=key: agreement(grad_cam_display(ours[k]), out) + " (peer's display scaling)"),
                note=notes.get(key, ""),
            )
        )
    return cases


def eigencam_agreement(signed: torch.Tensor, theirs: torch.Tensor) -> str:
    """Agreement with the peer's EigenCAM, whose sign per image is whichever the SVD returned: each image
    is compared under the sign of ours that matches it, and the images of opposite sign are counted."""
    plus, minus = grad_cam_display(signed), grad_cam_display(-signed)
    flipped = (minus - theirs).flatten(1).abs().amax(1) < (plus - theirs).flatten(1).abs().amax(1)
    matched = torch.where(flipped[:, None, None], minus, plus)
    return (agreement(matched, theirs) + f" (peer's display scaling; {int(flipped.sum())} of {len(flipped)} "
            "images have the opposite sign in the peer)")


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "?"


def one_pass(model, x, targets):
    """The unit of the floor: one forward and one backward pass of the target scores to the input."""

    def run():
        leaf = x.detach().requires_grad_(True)
        torch.autograd.grad(model(leaf).gather(1, targets[:, None]).sum(), leaf)

    return run


def forward_only(model, x):
    def run():
        with torch.no_grad():
            model(x)

    return run


def floor_of(case, one, forward, channels):
    if case.forwards is not None:
        return (case.passes or 0) * one + case.forwards * forward
    if case.passes is not None:
        return case.passes * one
    if case.method == "scorecam":
        return one + channels * forward  # the clean pass, then one masked forward per channel
    return None


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds after one warm-up round (median)")
    parser.add_argument("--methods", nargs="+", help="only the cases of these methods (default: all)")
    parser.add_argument(
        "--peers",
        default=os.environ.get("TB_SALIENCY_PEERS", str(Path.home() / ".cache" / "tb_saliency_peers")),
        help="the --target directory holding pytorch-grad-cam and its dependencies (see README)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    model = build_model()
    x = torch.randn(BATCH, CHANNELS, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    targets = torch.randint(0, CLASSES, (BATCH,), generator=torch.Generator().manual_seed(2))
    cases = build_cases(model, x, targets, args.peers, set(args.methods) if args.methods else None)
    unit, fwd = one_pass(model, x, targets), forward_only(model, x)

    # Warm-up round, which also yields every output for the agreement column.
    agreements = {}
    for i, case in enumerate(cases):
        _, out = timed(case.run)
        agreements[i] = case.compare(out) if case.compare else ""
    unit(), fwd()

    # Each case is timed right after its unit passes (median of 3), so that its floor comes from the
    # same moment: on a shared machine the speed drifts, and ratios within a round drift less.
    channels = dict(model.named_modules())[LAYER][0].out_channels
    times = {i: [] for i in range(len(cases))}
    ratios = {i: [] for i in range(len(cases))}
    unit_times, fwd_times = [], []
    for round_number in range(args.repeats):
        print(f"round {round_number + 1} of {args.repeats}", file=sys.stderr, flush=True)
        for i, case in enumerate(cases):
            one = statistics.median(timed(unit)[0] for _ in range(3))
            forward = statistics.median(timed(fwd)[0] for _ in range(3))
            unit_times.append(one)
            fwd_times.append(forward)
            elapsed = timed(case.run)[0]
            times[i].append(elapsed)
            floor = floor_of(case, one, forward, channels)
            if floor:
                ratios[i].append(elapsed / floor)
    one = statistics.median(unit_times)
    forward = statistics.median(fwd_times)
    median = {i: statistics.median(t) for i, t in times.items()}

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}; batch {BATCH}×{CHANNELS}×{SIZE}×{SIZE}, layer {LAYER}, "
        f"{args.repeats} timed rounds (medians)"
    )
    print(f"one forward+backward to the input: {one * 1e3:.1f} ms; one forward (no grad): {forward * 1e3:.1f} ms\n")
    print("| method | implementation | time (ms) | floor (ms) | × floor | agreement with tb_saliency | note |")
    print("|---|---|---:|---:|---:|---|---|")
    for i, case in enumerate(cases):
        floor = floor_of(case, one, forward, channels)
        floor_text = f"{floor * 1e3:.0f}" if floor else ""
        ratio = f"{statistics.median(ratios[i]):.2f}" if ratios[i] else ""
        print(
            f"| {case.method} | {case.implementation} | {median[i] * 1e3:.0f} | {floor_text} | {ratio} | "
            f"{agreements[i]} | {case.note} |"
        )

    def index(method, prefix):
        found = [i for i, c in enumerate(cases) if c.method == method and c.implementation.startswith(prefix)]
        if not found:
            raise LookupError(method)
        return found[0]

    def find(method, prefix):
        return median[index(method, prefix)]

    def ratio(method):
        return statistics.median(ratios[index(method, "tb_saliency")])

    combined = "+".join(["gradient", "input_x_gradient", "gradcam", "layercam"])
    checks = [
        ("occlusion ≤ 1.15 × (patches + 1) forward passes", lambda: ratio("occlusion"), 1.15),
        ("rise ≤ 1.15 × (masks + 1) forward passes", lambda: ratio("rise"), 1.15),
        ("eigencam ≤ 1.2 × one forward pass", lambda: ratio("eigencam"), 1.2),
        ("occlusion ≤ captum Occlusion", lambda: find("occlusion", "tb_saliency") / find("occlusion", "captum"), 1.0),
        ("integrated_gradients ≤ 1.15 × floor", lambda: ratio("integrated_gradients"), 1.15),
        ("smoothgrad ≤ 1.15 × floor", lambda: ratio("smoothgrad"), 1.15),
        ("gradcam ≤ captum LayerGradCam", lambda: find("gradcam", "tb_saliency") / find("gradcam", "captum"), 1.0),
        (
            "gradcam ≤ ½ pytorch-grad-cam GradCAM",
            lambda: find("gradcam", "tb_saliency") / find("gradcam", "pytorch-grad-cam"),
            0.5,
        ),
        (f"{combined} ≤ 1.2 × one forward+backward", lambda: ratio(combined), 1.2),
    ]
    print("\n| target | measured | bound | met |")
    print("|---|---:|---:|---|")
    for name, measure, bound in checks:
        try:
            value = measure()
        except LookupError:  # a case left out with --methods
            continue
        print(f"| {name} | {value:.2f} | {bound} | {'yes' if value <= bound else 'NO'} |")


if __name__ == "__main__":
    main()
