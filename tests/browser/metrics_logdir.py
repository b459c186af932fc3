"""A logdir with metrics and the randomisation test for the browser tests of the metrics in the tab.

Runs "alpha" and "beta" are written with `tb_saliency.format` (NumPy only) so that every metric value
is known exactly: four samples, maps "gradient" and "gradcam", deletion and insertion (with curves)
and the pointing game at steps 0, 10, 20 and 30, and in "alpha" a randomisation tag. Run "model" is
written by `log_saliency(..., metrics=..., masks=...)` on a small network, randomisation included:
what a user's training writes.
"""

import numpy as np

from tb_saliency import format as stored_format
from tests.support.viewer_logdirs import CLASS_NAMES, RunWriter, probe_images

STEPS = (0, 10, 20, 30)
LABELS = [0, 1, 2, 0]
PREDICTIONS = [0, 2, 2, 1]  # samples 1 and 3 are wrong
WALL_TIME = 1_700_000_000.0
EVIL_KEY = "<img src=x onerror=alert(1)>"

# At the last step (30); step 10·k adds 0.1·(3 − k) to deletion (it improves as training goes on).
DELETION = {"gradient": [0.60, 0.20, 0.40, 0.80], "gradcam": [0.30, 0.70, 0.10, 0.50]}
INSERTION = {"gradient": [0.50, 0.60, 0.30, 0.70], "gradcam": [0.80, 0.20, 0.90, 0.40]}
POINTING = {"gradient": [1.0, 1.0, 0.0, 1.0], "gradcam": [1.0, 0.0, 1.0, 0.0]}
DELETION_OPTIONS = {"steps": 5, "relative": True, "baseline": "zeros", "score": "probability", "memory_limit": 67108864}
INSERTION_OPTIONS = {"steps": 5, "relative": False, "baseline": "blur", "score": "probability"}
POINTING_OPTIONS = {"tolerance": 2.0, "region": "masks"}

STAGES = ("head", "features")
# (key, stage) → per-sample Spearman ρ at step 30; step 10 adds 0.1 to the "features" stage.
CORRELATIONS = {
    ("gradient", "head"): [0.9, 0.8, 0.7, 0.6],
    ("gradient", "features"): [0.2, 0.1, -0.1, 0.05],
    ("gradcam", "head"): [0.95, 0.85, 0.75, 0.65],
    ("gradcam", "features"): [0.5, 0.4, 0.3, 0.2],
}


def deletion_at(key, step, shift=0.0):
    return [round(v + 0.1 * (3 - step // 10) + shift, 10) for v in DELETION[key]]


def deletion_curve(value):
    """Six points (5 steps) from 1 to a plateau, whose trapezoid over k/5 is `value`."""
    a = (value - 0.1) / 0.9
    return [1.0] + [a] * 5


def insertion_curve(value):
    """Six points from 0 to a plateau, whose trapezoid over k/5 is `value`."""
    b = value / 0.9
    return [0.0] + [b] * 5


def correlations_at(step):
    return {(key, stage): [v + (0.1 if stage == "features" and step == 10 else 0.0) for v in values]
            for (key, stage), values in CORRELATIONS.items()}


def _samples():
    return [stored_format.SampleFacts(label=label, target=label, prediction=pred, score=0.9 - 0.1 * i)
            for i, (label, pred) in enumerate(zip(LABELS, PREDICTIONS))]


def _column(key, values, step, shift, rng, evil=False):
    deletion = deletion_at(key, step, shift)
    metrics = [
        stored_format.MetricValues("deletion", np.array(deletion), curve=np.array([deletion_curve(v) for v in deletion]),
                                   options=DELETION_OPTIONS),
        stored_format.MetricValues("insertion", np.array(INSERTION[key]),
                                   curve=np.array([insertion_curve(v) for v in INSERTION[key]]), options=INSERTION_OPTIONS),
        stored_format.MetricValues("pointing_game", np.array(POINTING[key]), options=POINTING_OPTIONS),
    ]
    return stored_format.MapColumn(key=EVIL_KEY if evil else key, method=key, values=values, metrics=metrics,
                                   layer="features" if key == "gradcam" else "")


def _maps(rng):
    return {"gradient": rng.normal(size=(4, 16, 16)), "gradcam": rng.uniform(0, 3, size=(4, 4, 4))}


def write_formatted_run(logdir, run, *, shift=0.0, randomisation=False, evil=False, seed=0):
    rng = np.random.default_rng(seed)
    images = probe_images(4, seed=seed)
    display = stored_format.to_display(images)
    with RunWriter(logdir / run) as writer:
        for number, step in enumerate(STEPS):
            maps = _maps(rng)
            columns = [_column(key, maps[key], step, shift, rng, evil=evil and key == "gradient") for key in ("gradient", "gradcam")]
            writer.summary(stored_format.saliency_summary(
                "probe", samples=_samples(), maps=columns, images=display, frames_written=number + 1,
                steps_written=number + 1, summary_metadata=stored_format.create_summary_metadata(
                    "saliency", map_keys=[c.key for c in columns], class_names=list(CLASS_NAMES), num_samples=4)
                if number == 0 else None), step, WALL_TIME + step)
            if randomisation and step in (10, 30):
                stage_maps = [
                    stored_format.MapColumn(key=key, method=key, stage=stage, values=_maps(rng)[key],
                                            layer="features" if key == "gradcam" else "")
                    for key in ("gradient", "gradcam") for stage in ("", *STAGES)
                ]
                test = stored_format.Randomisation("cascading", list(STAGES), correlations_at(step),
                                                   options={"absolute": True, "reinit_seed": 0})
                first = step == 10
                writer.summary(stored_format.saliency_summary(
                    "probe/randomisation", samples=_samples(), maps=stage_maps, images=display, randomisation=test,
                    frames_written=1 if first else 2, steps_written=1 if first else 2,
                    summary_metadata=stored_format.create_summary_metadata(
                        "randomisation", map_keys=[m.key for m in stage_maps], class_names=list(CLASS_NAMES),
                        num_samples=4) if first else None), step, WALL_TIME + step)


MODEL_METRICS = {"deletion": {"steps": 4, "relative": True}, "insertion": {"steps": 4}, "pointing_game": {"tolerance": 1}}


def write_model_run(logdir, run="model"):
    """`log_saliency` with metrics and masks on a small network training a few steps; the randomisation
    test at the last step. Returns the layers the test re-initialised."""
    import torch
    from torch import nn

    import tb_saliency
    from tests.support.logdirs import TinyNet

    torch.manual_seed(0)
    images = torch.from_numpy(probe_images(4, seed=5))
    masks = images.max(dim=1).values > 0.5
    labels = torch.tensor(LABELS)
    model = TinyNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    writer = tb_saliency.SummaryWriter(str(logdir / run))
    try:
        for step in range(3):
            loss = nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step in (0, 2):
                metrics = dict(MODEL_METRICS, randomisation={}) if step == 2 else MODEL_METRICS
                tb_saliency.log_saliency(writer, "probe", model, images, target=labels, labels=labels,
                                         methods=["gradient", "gradcam"], layer="features.3", global_step=step,
                                         class_names=list(CLASS_NAMES), metrics=metrics, masks=masks)
    finally:
        writer.close()
    frames = tb_saliency.read(str(logdir), run=run, tag="probe/randomisation")
    return list(frames[-1].randomisation["layers"]) if frames else []


def write_metrics_logdir(logdir):
    """Returns the layers of the model run's randomisation test."""
    write_formatted_run(logdir, "alpha", randomisation=True, seed=0)
    write_formatted_run(logdir, "beta", shift=0.05, evil=True, seed=1)
    return write_model_run(logdir)
