"""`tb_saliency.read`: saliency frames back from a logdir, as arrays, for a notebook. No torch.

    frames = tb_saliency.read("runs", run="exp1", tag="probe")
    last = frames[-1]
    last.maps["gradcam"]          # N×h×w float32 raw values
    last.images                   # N×H×W×C uint8, shared probe images resolved
    last.render(view="overlay")   # N×H×W×3 uint8, drawn as the Saliency tab draws it
    last.show()                   # samples × methods, with matplotlib; last.save("probe.png")

The logdir may be any that TensorBoard serves: a local folder, or a URL of S3 (s3://), or of any
protocol fsspec knows when fsspec is installed (gs://, hdfs://, memory://, …); it is walked and read
through TensorBoard's own file layer, `tensorboard.compat.tf.io.gfile`, as TensorBoard does.

Event files are read directly, every step of every file (no sampling): what TensorBoard would show
with `--samples_per_plugin=saliency=0`. A step logged twice (a resumed run) reads as its last frame,
the newest; TensorBoard's two loaders differ there (see http_api.md: the Python loader serves a
step's first frame, the fast one drops the later steps when a writer goes back).
"""

import dataclasses
import os
from typing import Optional

import numpy as np
from tensorboard.backend.event_processing import event_file_loader, io_wrapper
from tensorboard.compat import tf
from tensorboard.util import io_util
from tensorboard.util import tensor_util

from tb_saliency import format as stored_format
from tb_saliency import rendering
from tb_saliency.rendering import figures



@dataclasses.dataclass(frozen=True)
class Activations:
    """A layer's most active channels per sample: `values` N×K×h×w, `channel_index` and
    `channel_mean` N×K, most active first."""

    layer: str
    values: np.ndarray
    channel_index: np.ndarray
    channel_mean: np.ndarray
    total_channels: int


@dataclasses.dataclass(frozen=True)
class Frame:
    """One logged step of one tag.

    `maps` holds raw values, N×h×w, float32 (float64 when a map's values lie beyond float32's range,
    which only float64 models produce); in a randomisation frame, the original model's, with every
    stage's maps and correlations in `randomisation`. `labels`, `targets`, `predictions` and `scores` hold one
    entry per sample, None where unknown (the whole list is None when nothing was logged). `options`,
    `statistics` and `metrics` are keyed like `maps`; `metrics[key][name]` holds per-sample `values`,
    the per-sample `curve` of deletion and insertion (else None) and the `options` it ran with.

    Frames over text or signals (format version 3) have no `images`; their `maps` are N×T, one value
    per token or time step. `tokens` holds N lists of token strings, `special_tokens` and
    `padding_tokens` N×T booleans; `signals` N×C×T float32 values and `sample_rate` samples per
    second (None when not given). Each is None in frames without such inputs.
    """

    run: str
    tag: str
    step: int
    wall_time: float
    kind: str
    images: Optional[np.ndarray]
    maps: dict
    activations: Optional[Activations]
    labels: Optional[list]
    targets: Optional[list]
    predictions: Optional[list]
    scores: Optional[list]
    class_names: list
    options: dict
    statistics: dict
    metrics: dict
    randomisation: Optional[dict]
    tokens: Optional[list] = None
    special_tokens: Optional[np.ndarray] = None
    padding_tokens: Optional[np.ndarray] = None
    signals: Optional[np.ndarray] = None
    sample_rate: Optional[float] = None

    def render(self, key=None, **options):
        """A map of this frame drawn as the Saliency tab draws it: N×H×W×3 uint8 over the frame's
        images (see `tb_saliency.render` for the options). `key` names the map; it may be left out
        when the frame holds one. An activations frame gives N×K×H×W×3, its K most active channels."""
        if self.activations is not None and not self.maps:
            if key not in (None, "activations"):
                raise KeyError(f"key: this activations frame has no map {key!r}; leave key out")
            return rendering.render(self.images, self.activations.values, **options)
        if key is None:
            if len(self.maps) != 1:
                raise ValueError(f"key: this frame holds {len(self.maps)} maps, name one of {sorted(self.maps)}")
            [key] = self.maps
        if key not in self.maps:
            raise KeyError(f"key: expected one of {sorted(self.maps)}, got {key!r}")
        if self._over_sequences():
            # N×T maps draw as N strips one pixel high: N×1×T×3, a colour per token or time step.
            return rendering.render(None, self.maps[key][:, None, :], **options)
        return rendering.render(self.images, self.maps[key], **options)

    def _over_sequences(self):
        return self.tokens is not None or self.signals is not None

    def _check_pictures(self, what):
        if self._over_sequences():
            raise ValueError(f"{what} draws frames over images; this frame is over "
                             f"{'tokens' if self.tokens is not None else 'signals'}: use frame.render(key) for its "
                             f"colours, or the Saliency tab")

    def figure(self, **options):
        """A matplotlib Figure: a row per sample, the input then a column per map (needs matplotlib)."""
        self._check_pictures("figure()")
        return figures.figure(self, **options)

    def show(self, **options):
        """Shows the grid of samples × maps with matplotlib (`pip install 'tb_saliency[plot]'`)."""
        self._check_pictures("show()")
        figures.figure(self, pyplot=True, **options)  # says what to install when matplotlib is missing
        from matplotlib import pyplot as plt

        plt.show()

    def save(self, path, **options):
        """Writes the grid of samples × maps (the input first) as a PNG file, at a local path or a URL
        TensorBoard's file layer writes (as `read` reads); needs no matplotlib."""
        self._check_pictures("save()")
        pixels = figures.grid_pixels(figures.frame_columns(self, **options))
        with tf.io.gfile.GFile(os.fspath(path), "wb") as file:
            file.write(figures.png_bytes(pixels))

    def _repr_png_(self):
        """Jupyter shows a frame as its grid, with the tab's default settings."""
        if self._over_sequences():
            return None  # Jupyter shows the frame's repr instead
        return figures.png_bytes(figures.grid_pixels(figures.frame_columns(self)))


def read(logdir, *, run: Optional[str] = None, tag: Optional[str] = None) -> list:
    """Every saliency, activations and randomisation frame under `logdir`, ordered by run, tag and step.

    Args:
      logdir: the folder given to `tensorboard --logdir`, local or a URL TensorBoard reads (s3://, and
        every fsspec protocol when fsspec is installed); runs are its sub-folders holding event files
        (named as TensorBoard names them: "." for the folder itself).
      run, tag: read only this run and this tag (exact names).

    Maps and activations read back as stored: float32 exactly, float16 to 11 significant bits of
    each sample's peak, and uint8 (256 levels of each sample's [min, max]) within
    (max − min) / 510 of each logged value. The levels span the whole range, so percentile clipping
    of a uint8 map with outliers keeps few of them: below a 99th percentile at a tenth of the range
    only about 26 levels remain, and its threshold is itself within the same bound.
    """
    if not isinstance(logdir, (str, os.PathLike)):
        raise TypeError(f"logdir: expected a path, got {type(logdir).__name__}")
    logdir = os.fspath(logdir)
    try:
        is_folder = tf.io.gfile.isdir(logdir)
    except (ValueError, ImportError) as error:
        # gfile knows local paths and s3://; other protocols come with fsspec and its packages.
        raise ValueError(f"logdir: TensorBoard's file layer cannot read {logdir!r} ({error}); for a URL, "
                         "install fsspec and the package of its protocol (gcsfs for gs://, for instance)") from error
    if not is_folder:
        raise FileNotFoundError(f"logdir: no such folder: {logdir!r}")
    for name, value in (("run", run), ("tag", tag)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name}: expected a string or None, got {type(value).__name__}")
    frames = []
    for run_name, paths in sorted(_runs(logdir).items()):
        if run is None or run_name == run:
            frames.extend(_read_run(run_name, paths, tag))
    return frames


def _runs(logdir):
    """{run name: its event files in TensorBoard's reading order}, found as TensorBoard finds them:
    by globbing on cloud storage, by walking elsewhere, through gfile."""
    listing = (io_wrapper.ListRecursivelyViaGlobbing if io_util.IsCloudPath(logdir)
               else io_wrapper.ListRecursivelyViaWalking)
    runs = {}
    for folder, paths in listing(logdir):
        events = sorted(path for path in paths if io_wrapper.IsSummaryEventsFile(path))
        if events:
            runs[_run_name(logdir, folder)] = events
    return runs


def _run_name(logdir, folder):
    """A run folder's name relative to the logdir, with "/" between parts: "." for the logdir itself.
    TensorBoard's rule (os.path.relpath), which names the runs of a URL logdir as well."""
    return os.path.relpath(folder, logdir).replace(os.sep, "/")


def _read_run(run, paths, wanted_tag):
    kinds, class_names, latest, inputs = {}, {}, {}, {}
    for path in paths:
        for event in event_file_loader.LegacyEventFileLoader(path).Load():
            _collect(event, kinds, class_names, latest, inputs, wanted_tag)
    frames, decoded_inputs = [], {}
    for (tag, step), (wall_time, blobs) in sorted(latest.items()):
        try:
            frames.append(_frame(run, tag, step, wall_time, kinds[tag], blobs, class_names.get(tag, []), inputs,
                                 decoded_inputs))
        except stored_format.FormatError as error:
            raise stored_format.FormatError(f"run {run!r}, tag {tag!r}, step {step}: {error}") from error
    return frames


def _collect(event, kinds, class_names, latest, inputs, wanted_tag):
    """Files one event's saliency values: frames of the wanted tags (the last per step wins) and every
    shared probe set. A tag's kind comes from its first value's metadata, as in TensorBoard."""
    for value in event.summary.value:
        if value.tag not in kinds:
            if not value.HasField("metadata") or value.metadata.plugin_data.plugin_name != stored_format.PLUGIN_NAME:
                kinds[value.tag] = None
                continue
            try:
                info = stored_format.parse_plugin_data(value.metadata.plugin_data.content)
            except stored_format.FormatError:
                kinds[value.tag] = None
                continue
            kinds[value.tag] = info["kind"]
            class_names[value.tag] = info["class_names"]
        kind = kinds[value.tag]
        if kind == "inputs":
            inputs[value.tag] = list(tensor_util.make_ndarray(value.tensor).reshape(-1))
        elif kind in stored_format.FRAME_KINDS and (wanted_tag is None or value.tag == wanted_tag):
            latest[(value.tag, event.step)] = (event.wall_time, list(tensor_util.make_ndarray(value.tensor).reshape(-1)))


def _metric(described):
    """A metric of one map: per-sample `values`, the per-sample `curve` (N×K) of a curve metric or
    None, and the `options` it ran with."""
    curve = described["curve"]
    return {"values": np.asarray(described["values"]), "curve": None if curve is None else np.asarray(curve),
            "options": described["options"]}


def _randomisation(header, decoded):
    """A randomisation frame's cascade: {order, layers, maps: {key: {stage: N×h×w}}, correlations:
    {key: {stage: per-sample Spearman}}, options}; None in other frames."""
    block = header["randomisation"]
    if block is None:
        return None
    maps = {}
    for described, values in zip(header["maps"], decoded.maps.values()):
        if described["stage"]:
            maps.setdefault(described["key"], {})[described["stage"]] = stored_format.narrowest_float(values)
    correlations = {}
    for c in block["correlations"]:
        correlations.setdefault(c["key"], {})[c["stage"]] = np.asarray(c["values"])
    return {"order": block["order"], "layers": list(block["layers"]), "maps": maps, "correlations": correlations,
            "options": block["options"]}


def _frame(run, tag, step, wall_time, kind, blobs, class_names, inputs, decoded_inputs):
    decoded = stored_format.decode_frame(blobs)
    header = decoded.header
    images = decoded.images
    shared = (header["images"] or {}).get("shared_key")
    if shared is not None:
        inputs_tag = stored_format.inputs_tag(shared)
        if inputs_tag not in inputs:
            raise stored_format.FormatError(f"its images are in {inputs_tag!r}, which this run does not hold")
        # A probe set shared by many frames is decoded once.
        if inputs_tag not in decoded_inputs:
            decoded_inputs[inputs_tag] = stored_format.decode_frame(inputs[inputs_tag]).images
        images = decoded_inputs[inputs_tag]
    if images is not None:
        images = np.stack(images)

    # The original model's maps (stage "") are the frame's maps; a randomisation frame's stages go
    # to its `randomisation` entry.
    originals = [(block, values) for block, values in zip(header["maps"], decoded.maps.values()) if not block["stage"]]
    maps = {block["key"]: stored_format.narrowest_float(values) for block, values in originals}
    sequence = _sequence_inputs(header, decoded)
    if sequence:
        maps = {key: values[:, 0, :] for key, values in maps.items()}  # N×1×T stored, N×T read
    activations = None
    if header["activations"] is not None:
        a = header["activations"]
        activations = Activations(
            layer=a["layer"], values=stored_format.narrowest_float(decoded.activations),
            channel_index=np.asarray(a["channel_index"], np.int64),
            channel_mean=np.asarray(a["channel_mean"], np.float64), total_channels=a["total_channels"],
        )
    samples = header["samples"]

    def column(field):
        values = [s.get(field) for s in samples]
        return None if all(v is None for v in values) else values

    blocks = [block for block, _ in originals]
    options = {m["key"]: m["options"] for m in blocks}
    if header["activations"] is not None:
        options["activations"] = header["activations"]["options"]
    return Frame(
        run=run, tag=tag, step=step, wall_time=wall_time, kind=kind,
        images=images, maps=maps, activations=activations,
        labels=column("label"), targets=column("target"), predictions=column("prediction"),
        scores=column("score"), class_names=list(class_names), options=options,
        statistics={m["key"]: {k: np.asarray(v) for k, v in m["statistics"].items()} for m in blocks},
        metrics={m["key"]: {name: _metric(v) for name, v in m["metrics"].items()} for m in blocks if m["metrics"]},
        randomisation=_randomisation(header, decoded),
        **sequence,
    )


def _sequence_inputs(header, decoded):
    """The Frame fields of token or signal inputs; empty for frames over images."""
    if header["tokens"] is not None:
        t = header["tokens"]
        return dict(tokens=t["tokens"], special_tokens=np.asarray(t["special"], bool).reshape(len(t["tokens"]), -1),
                    padding_tokens=np.asarray(t["padding"], bool).reshape(len(t["tokens"]), -1))
    if header["signals"] is not None:
        return dict(signals=decoded.signals.astype(np.float32), sample_rate=header["signals"]["sample_rate"])
    return {}
