"""Logdirs written without torch: frames from `tb_saliency.format` (NumPy only) into TensorBoard's own
TF-free `EventFileWriter`, with the counts and shared probe images that `tb_saliency.log` writes, and
wall times the test chooses. What the viewer side (plugin, real TensorBoard) is tested on, also on the
oldest stack, where torch is not installed."""

import dataclasses
import os

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from tb_saliency import arguments
from tb_saliency import format as stored_format

CLASS_NAMES = ("circle", "square", "triangle")
# Wall times of written steps: a fixed start, one second per step, so responses are reproducible.
WALL_TIME_START = 1_700_000_000.0


@dataclasses.dataclass
class Written:
    """What a logdir holds, per (run, tag, step): the maps, images, labels and wall time written."""

    logdir: str
    maps: dict = dataclasses.field(default_factory=dict)        # → {key: N×h×w float64}
    images: dict = dataclasses.field(default_factory=dict)      # → N×H×W×C uint8
    labels: dict = dataclasses.field(default_factory=dict)      # → list of ints
    wall_times: dict = dataclasses.field(default_factory=dict)  # → float


@dataclasses.dataclass
class _Tag:
    kind: str
    frames: int = 0
    steps: set = dataclasses.field(default_factory=set)


class RunWriter:
    """One event file in one run folder, written as `tb_saliency.log` writes into a training writer:
    a tag's metadata on its first frame only, frame and step counts per tag. A probe set goes inline
    the first time and in a shared INPUTS tag from the second time on, as format versions 1 and 2
    wrote it (the writer now shares it from the first frame): the tab must keep showing such logs."""

    def __init__(self, run_dir):
        os.makedirs(run_dir, exist_ok=True)
        self._events = EventFileWriter(str(run_dir), max_queue_size=1000)
        self._tags = {}
        self._image_sets = {}  # content key → "inline" or "shared"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._events.close()

    def flush(self):
        """Puts what was written so far into the file, for a reader to find."""
        self._events.flush()

    def summary(self, summary, step, wall_time):
        """Writes any `Summary` as one event."""
        self._events.add_event(event_pb2.Event(step=step, wall_time=wall_time, summary=summary))

    def saliency(self, tag, images, maps, *, step, wall_time, labels=None, predictions=None, scores=None,
                 class_names=(), dtype="float16", share_images=True):
        """A saliency frame of `maps` ({key: N×h×w} or a list of `format.MapColumn`) over `images`."""
        display = arguments.display_images(images)
        columns = maps if isinstance(maps, list) else arguments.map_columns(maps, "custom", display.count)
        facts = arguments.given_facts(display.count, labels, predictions, scores, class_names)
        self._write(tag, "saliency", step, wall_time, display, share_images, [c.key for c in columns],
                    class_names, len(facts), lambda **common: stored_format.saliency_summary(
                        tag, samples=facts, maps=columns, dtype=dtype, **common))

    def activations(self, tag, images, values, *, step, wall_time, layer="features.0", max_channels=4,
                    labels=None, class_names=(), dtype="float16", share_images=True):
        """An activations frame of a layer's output `values` (N×C×h×w) over `images`."""
        from tb_saliency.summary import most_active_channels

        display = arguments.display_images(images)
        values = np.asarray(values, np.float64)
        kept, index, means = most_active_channels(values, max_channels)
        channels = stored_format.ActivationChannels(
            layer=layer, values=kept, channel_index=index, channel_mean=means, total_channels=values.shape[1],
            options={"max_channels": max_channels, "order": "mean_activation_descending"})
        facts = arguments.given_facts(display.count, labels, None, None, class_names)
        self._write(tag, "activations", step, wall_time, display, share_images, [], class_names, len(facts),
                    lambda **common: stored_format.activations_summary(
                        tag, samples=facts, activations=channels, dtype=dtype, **common))

    def images_plugin(self, tag, pixels, *, step, wall_time):
        """The same pictures as TensorBoard's Images plugin stores them (N×H×W×C uint8): one
        blob sequence [width, height, PNG...], the format of its TF-free summary."""
        from tensorboard.plugins.image import metadata as image_metadata

        pngs = stored_format.DisplayImages(np.asarray(pixels, np.uint8), "none").encode_png()
        height, width = pixels.shape[1:3]
        value = summary_pb2.Summary.Value(
            tag=tag, metadata=image_metadata.create_summary_metadata(display_name=tag, description=""),
            tensor=string_tensor([str(width).encode(), str(height).encode(), *pngs]))
        self.summary(summary_pb2.Summary(value=[value]), step, wall_time)

    def _write(self, tag, kind, step, wall_time, display, share_images, map_keys, class_names, count, build):
        known = self._tags.get(tag)
        shared_key = None
        if share_images:
            key = display.content_key()
            seen = self._image_sets.get(key)
            if seen is not None:
                shared_key = key
                if seen == "inline":
                    self.summary(stored_format.inputs_summary(
                        key, display, summary_metadata=stored_format.create_summary_metadata("inputs")),
                        step, wall_time)
                    self._image_sets[key] = "shared"
            else:
                self._image_sets[key] = "inline"
        summary = build(
            images=display, shared_images_key=shared_key,
            frames_written=(known.frames if known else 0) + 1,
            steps_written=(len(known.steps) + (step not in known.steps)) if known else 1,
            summary_metadata=None if known else stored_format.create_summary_metadata(
                kind, map_keys=map_keys, class_names=list(class_names), num_samples=count))
        self.summary(summary, step, wall_time)
        state = self._tags.setdefault(tag, _Tag(kind))
        state.frames += 1
        state.steps.add(step)


def string_tensor(blobs, shape=None):
    """A DT_STRING tensor of `blobs`, rank 1 unless `shape` says otherwise (() for rank 0)."""
    dims = [len(blobs)] if shape is None else list(shape)
    return tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING, string_val=list(blobs),
        tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims]))


def probe_images(count, size=16, seed=0):
    """Bright discs on a dark background at random places, N×3×H×W floats in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    images = np.zeros((count, 3, size, size), np.float32)
    for i in range(count):
        cy, cx = rng.integers(4, size - 4, size=2)
        images[i, i % 3] = ((yy - cy) ** 2 + (xx - cx) ** 2) <= 9
        images[i] += 0.1
    return np.clip(images, 0, 1)


def display_pixels(images):
    """What the writer stores of float images in [0, 1]: N×H×W×C uint8."""
    return np.rint(np.asarray(images).transpose(0, 2, 3, 1) * 255).astype(np.uint8)


def write_custom_maps(logdir, *, run="custom", tag="probe", steps=(0, 10, 20), count=3, map_size=(4, 5),
                      seed=0, written=None):
    """Two methods of known values at several steps over one probe set (shared after the first step):
    "gradient" at the images' 16×16, "gradcam" at `map_size`."""
    rng = np.random.default_rng(seed)
    images = probe_images(count)
    written = written or Written(logdir=str(logdir))
    with RunWriter(os.path.join(logdir, run)) as writer:
        for step in steps:
            maps = {
                "gradient": rng.normal(size=(count, 16, 16)).astype(np.float32).astype(np.float64),
                "gradcam": rng.uniform(0, 3, size=(count, *map_size)).astype(np.float32).astype(np.float64),
            }
            labels = [i % len(CLASS_NAMES) for i in range(count)]
            wall_time = WALL_TIME_START + step
            writer.saliency(tag, images, maps, step=step, wall_time=wall_time, labels=labels,
                            predictions=[(i + step // 10) % len(CLASS_NAMES) for i in range(count)],
                            scores=rng.uniform(0.3, 1.0, size=count), class_names=CLASS_NAMES)
            key = (run, tag, step)
            written.maps[key] = maps
            written.images[key] = display_pixels(images)
            written.labels[key] = labels
            written.wall_times[key] = wall_time
        scalar = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=1.0)])
        writer.summary(scalar, 0, WALL_TIME_START)
    return written


def write_activations(logdir, *, run="model", tag="probe/activations", steps=(0, 3), count=4, channels=8,
                      seed=1):
    """Activation frames of an 8-channel 16×16 layer, 4 channels kept: {step: N×C×h×w values}."""
    rng = np.random.default_rng(seed)
    images = probe_images(count, seed=seed)
    written = {}
    with RunWriter(os.path.join(logdir, run)) as writer:
        for step in steps:
            values = rng.uniform(0, 2, size=(count, channels, 16, 16))
            writer.activations(tag, images, values, step=step, wall_time=WALL_TIME_START + step,
                               labels=[i % 3 for i in range(count)], class_names=CLASS_NAMES)
            written[step] = values
    return written


def write_scalars_only(logdir, run="plain"):
    with RunWriter(os.path.join(logdir, run)) as writer:
        for step in range(3):
            value = summary_pb2.Summary.Value(tag="loss", simple_value=1.0 / (step + 1))
            writer.summary(summary_pb2.Summary(value=[value]), step, WALL_TIME_START + step)


def write_single_map(logdir, *, run="custom", tag="probe", steps=(0,), count=3, seed=7, wall_time_start=None):
    """One "saliency" map per step over the same images as write_custom_maps: {step: N×6×6}."""
    rng = np.random.default_rng(seed)
    images = probe_images(count)
    start = WALL_TIME_START if wall_time_start is None else wall_time_start
    maps = {}
    with RunWriter(os.path.join(logdir, run)) as writer:
        for step in steps:
            maps[step] = rng.uniform(0.5, 2, size=(count, 6, 6)).astype(np.float32).astype(np.float64)
            writer.saliency(tag, images, {"saliency": maps[step]}, step=step, wall_time=start + step)
    return maps


# Untrusted token strings: markup, right-to-left and CJK text, sub-word pieces of three tokenizers.
SEQUENCE_TOKENS = [
    ["[CLS]", "the", "film", "was", "wonder", "##ful", "<img src=x onerror=alert(1)>", "[SEP]", "[PAD]", "[PAD]"],
    ["<s>", "▁שלום", "▁עולם", "▁世界", "▁你好", "▁la", "▁ré", "sumé", "</s>", "<pad>"],
]
SEQUENCE_SPECIAL = [[t in ("[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>") for t in row] for row in SEQUENCE_TOKENS]
SEQUENCE_PADDING = [[t in ("[PAD]", "<pad>") for t in row] for row in SEQUENCE_TOKENS]


def write_tokens_and_signals(logdir, *, run="sequences", steps=(0, 10), seed=5):
    """A text tag ("text": two methods over SEQUENCE_TOKENS, signed) and a signal tag ("audio": two
    channels of 400 samples at 8 kHz, one method) at each step: {(tag, step): {key: N×T}}, and the
    signals N×C×T under ("audio", "signals")."""
    from tb_saliency import summary

    rng = np.random.default_rng(seed)
    t = np.arange(400) / 8000.0
    # Rounded to float16's grid: NumPy releases differ in sin's last bit, and the fixtures must be
    # the same bytes on the oldest stack CI tests.
    on_grid = lambda values: np.asarray(values, dtype=np.float16).astype(np.float64)  # noqa: E731
    signals = on_grid(np.stack([np.stack([np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 660 * t)]),
                        np.stack([np.sign(np.sin(2 * np.pi * 220 * t)) * 0.25, rng.normal(size=400) * 0.1])]))
    written = {("audio", "signals"): signals}
    with RunWriter(os.path.join(logdir, run)) as writer:
        for number, step in enumerate(steps):
            maps = {"integrated_gradients": rng.normal(size=(2, 10)) * (1 + number),
                    "gradient": rng.uniform(0, 1, size=(2, 10))}
            writer.summary(summary.token_map("text", SEQUENCE_TOKENS, maps, special=SEQUENCE_SPECIAL,
                                             padding=SEQUENCE_PADDING, labels=[1, 0], predictions=[1, 1],
                                             class_names=["negative", "positive"]), step, WALL_TIME_START + step)
            audio = {"gradient": on_grid(np.abs(np.sin(np.linspace(0, 3 + number, 400)))[None].repeat(2, 0) * [[1.0], [-2.0]])}
            writer.summary(summary.signal_map("audio", signals, audio, sample_rate=8000, labels=[0, 1]),
                           step, WALL_TIME_START + step)
            written[("text", step)] = maps
            written[("audio", step)] = audio
    return written
