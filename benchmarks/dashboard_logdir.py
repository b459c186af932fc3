"""The logdir of the dashboard benchmark: 6 runs × 8 tags × 20 steps × 8 samples × 3 maps.

Each (run, tag, step) is one saliency frame (a fixed probe set of eight 64×64 RGB images, stored
once; three maps: `gradient` and `integrated_gradients` at 64×64, `gradcam` at 8×8, float16) and,
for TensorBoard's Images tab, the same maps rendered as overlays (viridis at 50 % over the input,
each map clipped at its 99th percentile, as the Saliency tab's defaults draw them) in one image per
(run, tag, step): 8 rows of samples × 3 columns of maps, 512×192 pixels, under `overlays/<tag>`.
So both tabs show 48 cards of 20 steps with the same pictures.

    python benchmarks/dashboard_logdir.py DIR
"""

import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tests.support.probes import coloured_shapes  # noqa: E402

RUNS = 6
TAGS = [f"{group}/probe{i}" for group in ("train", "val") for i in range(4)]
STEPS = list(range(0, 200, 10))  # 20 steps
SAMPLES = 8
SIZE = 64
CAM = 8
PARAMS = {"runs": RUNS, "tags": TAGS, "steps": STEPS, "samples": SAMPLES, "size": SIZE, "cam": CAM, "version": 1}


def _maps(rng, centres, focus):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    cy_cam, cx_cam = np.mgrid[0:CAM, 0:CAM]
    gradient = rng.normal(0, 1 - 0.7 * focus, size=(SAMPLES, SIZE, SIZE))
    ig = rng.normal(0, 0.5 - 0.3 * focus, size=(SAMPLES, SIZE, SIZE))
    gradcam = rng.uniform(0, 0.5, size=(SAMPLES, CAM, CAM))
    for i, (cy, cx) in enumerate(centres):
        bump = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (SIZE / 8) ** 2))
        gradient[i] += 3 * focus * bump * np.sign(np.sin(xx / 2.0) + 0.3)
        ig[i] += 2 * focus * bump
        gradcam[i] += (1 + 3 * focus) * np.exp(-((cy_cam - cy * CAM / SIZE) ** 2 + (cx_cam - cx * CAM / SIZE) ** 2) / 2)
    return {"gradient": gradient.astype(np.float32), "integrated_gradients": ig.astype(np.float32), "gradcam": gradcam.astype(np.float32)}


def _viridis():
    from matplotlib import colormaps

    return (colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.float32)


def _overlay_grid(images, maps, lut):
    """One image: a row per sample, a column per map, each the map over its input."""
    import torch

    rows = []
    for i in range(SAMPLES):
        base = images[i].transpose(1, 2, 0) * 255
        tiles = []
        for values in maps.values():
            v = np.abs(values[i]).astype(np.float32)
            if v.shape != (SIZE, SIZE):
                v = torch.nn.functional.interpolate(torch.from_numpy(v)[None, None], size=(SIZE, SIZE), mode="bilinear", align_corners=False)[0, 0].numpy()
            lo, hi = float(v.min()), float(np.percentile(v, 99))
            t = np.clip((v - lo) / (hi - lo if hi > lo else 1), 0, 1)
            colour = lut[np.round(t * 255).astype(int)]
            tiles.append(0.5 * base + 0.5 * colour)
        rows.append(np.concatenate(tiles, axis=1))
    return np.clip(np.concatenate(rows, axis=0), 0, 255).astype(np.uint8)


def write(logdir):
    """Writes the logdir unless `logdir` already holds this very one."""
    logdir = pathlib.Path(logdir)
    marker = logdir / "benchmark.json"
    if marker.exists() and json.loads(marker.read_text()) == PARAMS:
        return logdir
    from tb_saliency import SummaryWriter

    lut = _viridis()
    for r in range(RUNS):
        run = f"run{r}"
        rng = np.random.default_rng(r)
        images, centres = coloured_shapes(SAMPLES, SIZE, rng)
        labels = [i % 3 for i in range(SAMPLES)]
        writer = SummaryWriter(str(logdir / run))
        try:
            for k, step in enumerate(STEPS):
                focus = (k + 1) / len(STEPS)
                for tag in TAGS:
                    maps = _maps(rng, centres, focus)
                    predictions = [(i + (1 if (k + i + r) % 5 == 0 else 0)) % 3 for i in range(SAMPLES)]
                    writer.add_saliency_map(tag, images, maps, global_step=step, labels=labels, predictions=predictions,
                                            scores=rng.uniform(0.5, 1.0, size=SAMPLES), class_names=["circle", "square", "triangle"])
                    writer.add_image(f"overlays/{tag}", _overlay_grid(images, maps, lut), step, dataformats="HWC")
                writer.add_scalar("loss", 1.0 / (k + 1), step)
        finally:
            writer.close()
    marker.write_text(json.dumps(PARAMS))
    return logdir


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else "runs/benchmark")
