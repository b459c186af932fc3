"""The plugin's series/step index: what TensorBoard's data provider stores of each (run, tag), read
through it and cached, for the routes in `plugin.py`.

TensorBoard imports this module with the plugin at start-up: nothing heavy at module top, never torch.

Everything cached is held per (run, tag) and keyed by what the list calls report (newest step and wall
time, longest sequence), so it follows the data with no fixed size: a tag of any length never thrashes,
and a run written again is read again. A frame's header is read once, the first time it is asked for.
"""

import hashlib
import json
import threading

from tensorboard import errors
from tensorboard.data import provider

from tb_saliency import format as stored_format
from tb_saliency.format import metadata

# "As many as stored", for the providers' `downsample` argument.
ALL = 2**31 - 1
_UNKNOWN = object()

# What the loaders raise from `read_blob` for a key or a stored tensor they cannot decode, besides
# TensorBoard's own PublicErrors: the Python loader's key decoding (base64, JSON, unpacking) raises
# ValueError and TypeError, its lookup of a vanished run or tag KeyError, and its slicing of a rank-0
# or mis-shaped string tensor IndexError or ValueError. Caught around that one call only, so that a
# bug in this module is never reported as damaged data.
_LOADER_READ_ERRORS = (errors.PublicError, ValueError, TypeError, KeyError, IndexError, RecursionError)

# One encoder for every answer: json.dumps with options builds a new one per call. Every number is
# finite by construction (allow_nan=False would say otherwise).
dumps = json.JSONEncoder(allow_nan=False, ensure_ascii=True, separators=(",", ":")).encode


class Unreadable(Exception):
    """TensorBoard could not give the bytes of a blob; the message says why."""


class Series:
    """What a list call reports of one time series: its facts, and a key that changes whenever the
    stored data does (a new step, a rewritten run, a longer frame)."""

    __slots__ = ("run", "tag", "time_series", "key")

    def __init__(self, run, tag, time_series):
        self.run = run
        self.tag = tag
        self.time_series = time_series
        self.key = (time_series.max_step, time_series.max_wall_time, getattr(time_series, "max_length", None))


class Frames:
    """The stored frames of one (run, tag): blob references per step, oldest first, as
    `read_blob_sequences` gives them (one per step), and the decoded headers of the steps shown."""

    def __init__(self, key, data):
        self.key = key
        self.data = data
        self.by_step = {datum.step: datum for datum in data}
        self.headers = {}  # (step, wall time, blob count) → described header, or FormatError


class Steps:
    """The `/steps` answer of one (run, tag) for one state of its frames and index: each step's JSON,
    a token per prefix of the list, and the facts every answer repeats."""

    def __init__(self, key, entries, tokens, token, written, ranges, built):
        self.key = key
        self.entries = entries      # JSON text of each step, oldest first
        self.tokens = tokens        # token of the first i steps → i (every i from 0 to len)
        self.token = token          # of the whole list
        self.written = written
        self.ranges = ranges
        # (step, wall time) → (index bytes, entry JSON, [(key, stage, min, max)]): what the next
        # build takes as it is for every frame whose index did not change.
        self.built = built


def frame_info(tag, time_series):
    """Parsed metadata of a tag that holds frames (or whose metadata cannot be read), else None."""
    if tag.startswith(metadata.RESERVED_TAG_PREFIX):
        return None  # shared probe images and step indexes
    try:
        info = metadata.parse_plugin_data(time_series.plugin_content)
    except stored_format.FormatError as error:
        info = {"kind": "unknown", "error": str(error), "map_keys": [], "class_names": [], "num_samples": 0}
    return info if info["kind"] in (*stored_format.FRAME_KINDS, "unknown") else None


class SeriesIndex:
    """The frames, headers and step lists of the (run, tag)s the routes serve, read through the data
    provider (under either loader) and cached until the list calls report a change."""

    def __init__(self, data_provider, plugin_name, downsample):
        self._provider = data_provider
        self._plugin_name = plugin_name
        self._downsample = downsample
        # Only the fast loader's keys break on escaped characters; the Python loader's do not.
        self.fast_loader = type(data_provider).__module__ == "tensorboard.data.grpc_provider"
        self._lock = threading.Lock()
        self._frames = {}  # (run, tag) → Frames
        self._steps = {}   # (run, tag) → Steps
        self._shared = {}  # run → the INPUTS tags its frames pointed at, newest last (at most 2)
        self._inputs = {}  # run → [Series] of its INPUTS tags in the last listing (shared probe sets)

    # Listing --------------------------------------------------------------------------------------

    def listing(self, ctx, experiment):
        """{run: {tag: time series}} of every blob sequence of the plugin (one list call); what is
        cached of (run, tag)s no longer listed is dropped."""
        listing = self._provider.list_blob_sequences(ctx, experiment_id=experiment, plugin_name=self._plugin_name)
        self.forget_all_but(listing)
        inputs = {run: [Series(run, tag, s) for tag, s in tags.items() if tag.startswith(metadata.INPUTS_TAG_PREFIX)]
                  for run, tags in listing.items()}
        with self._lock:
            self._inputs = inputs
        return listing

    def forget_all_but(self, listing):
        """Drops what is cached of (run, tag)s that `listing` does not hold."""
        with self._lock:
            for cache in (self._frames, self._steps):
                for run, tag in [k for k in cache if k[1] not in listing.get(k[0], {})]:
                    del cache[(run, tag)]
            for run in [run for run in self._shared if run not in listing]:
                del self._shared[run]

    def _list(self, ctx, experiment, run, tags):
        """{tag: Series} of `tags` in `run` (one list_blob_sequences call)."""
        listing = self._provider.list_blob_sequences(
            ctx, experiment_id=experiment, plugin_name=self._plugin_name,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=tags),
        ).get(run, {})
        return {tag: Series(run, tag, series) for tag, series in listing.items() if tag in tags}

    def frame_tag(self, ctx, experiment, run, tag):
        """(Series, parsed metadata) of a tag that holds frames, or None."""
        series = self._list(ctx, experiment, run, [tag]).get(tag)
        info = None if series is None else frame_info(tag, series.time_series)
        return None if info is None else (series, info)

    def unservable(self, name):
        """Why the fast loader cannot serve blobs of a run or tag named `name`, or None."""
        if self.fast_loader and metadata.UNSERVABLE_NAME.search(name):
            return ("TensorBoard's fast loader (--load_fast=true) cannot read blobs of a run or tag whose "
                    "name holds a double quote, a backslash or a control character; rename it, or start "
                    "TensorBoard with --load_fast=false")
        return None

    # Frames and blobs -----------------------------------------------------------------------------

    def frames(self, ctx, experiment, series):
        """The cached Frames of a series, read again (one call) when its list key changed."""
        cache_key = (series.run, series.tag)
        with self._lock:
            cached = self._frames.get(cache_key)
        if cached is not None and cached.key == series.key:
            return cached
        data = self._provider.read_blob_sequences(
            ctx, experiment_id=experiment, plugin_name=self._plugin_name, downsample=self._downsample,
            run_tag_filter=provider.RunTagFilter(runs=[series.run], tags=[series.tag]),
        ).get(series.run, {}).get(series.tag, [])
        frames = Frames(series.key, sorted(data, key=lambda datum: datum.step))
        if cached is not None:
            # Headers of frames still stored stay cached; those of frames gone go with them.
            live = {(d.step, d.wall_time, len(d.values)) for d in frames.data}
            # A copy first (one C call): another request may be adding a header to it.
            frames.headers = {k: v for k, v in dict(cached.headers).items() if k in live}
        with self._lock:
            self._frames[cache_key] = frames
        return frames

    def read_blob(self, ctx, key):
        """The bytes of one blob; Unreadable when TensorBoard cannot give them."""
        try:
            data = self._provider.read_blob(ctx, blob_key=key)
        except _LOADER_READ_ERRORS as error:
            raise Unreadable(f"TensorBoard cannot read this blob ({type(error).__name__}: "
                             f"{str(error)[:300]})") from None
        if not isinstance(data, bytes):
            # The Python loader hands back an array row for a string tensor of rank 2 or more.
            raise Unreadable("TensorBoard stored this frame as a tensor that is not a list of blobs")
        return data

    @staticmethod
    def has_header(frames, datum):
        """Whether the header of `datum` (one of `frames`) was read already."""
        return (datum.step, datum.wall_time, len(datum.values)) in frames.headers

    def header(self, ctx, frames, datum, read_blob=None):
        """A frame's header described with blob indexes, read once per stored frame (with
        `read_blob(key)` when given: a read already under way)."""
        cache_key = (datum.step, datum.wall_time, len(datum.values))
        described = frames.headers.get(cache_key)
        if described is None:
            if not datum.values:
                raise stored_format.FormatError("frame holds no blobs")
            try:
                key = datum.values[0].blob_key
                blob = read_blob(key) if read_blob is not None else self.read_blob(ctx, key)
            except Unreadable as error:
                # Not cached: TensorBoard may be reloading the run.
                raise stored_format.FormatError(str(error)) from None
            try:
                described = stored_format.describe_header(blob, len(datum.values))
            except stored_format.FormatError as error:
                described = error  # damage stays damage: cached like a header
            frames.headers[cache_key] = described
        if isinstance(described, Exception):
            raise stored_format.FormatError(str(described))
        return described

    def shared_image_keys(self, ctx, experiment, run, shared_key, before_header=None, read_blob=None):
        """Blob keys of the PNGs in the INPUTS tag named by `shared_key`, and the wall time of the
        step that holds them (its newest). `before_header(frames, datum)`, when given, is called
        before that step's header is read (with `read_blob`, as in `header`)."""
        tag = stored_format.inputs_tag(shared_key)
        series = self._list(ctx, experiment, run, [tag]).get(tag)
        if series is None:
            raise stored_format.FormatError(f"the frame's images are in tag {tag!r}, which this run does not hold")
        frames = self.frames(ctx, experiment, series)
        if not frames.data:
            raise stored_format.FormatError(f"tag {tag!r} holds no stored images")
        datum = frames.data[-1]
        if before_header is not None:
            before_header(frames, datum)
        described = self.header(ctx, frames, datum, read_blob)
        if described["kind"] != "inputs" or described["images"] is None or "first_blob" not in described["images"]:
            raise stored_format.FormatError(f"tag {tag!r} holds no images")
        first = described["images"]["first_blob"]
        keys = [ref.blob_key for ref in datum.values[first:first + described["num_samples"]]]
        with self._lock:
            used = self._shared.setdefault(run, [])
            if tag in used:
                used.remove(tag)
            used.append(tag)
            del used[:-2]
        return keys, datum.wall_time

    def recent_shared_image_keys(self, run):
        """Blob keys of the probe images that `run`'s frames pointed at lately, from what is cached
        (no call): what a frame of the run whose header is not read yet most likely shows, to read
        beside that header. May be stale or wrong; it only saves time when it is right."""
        keys = []
        with self._lock:
            # The sets its frames pointed at; before any did, every set of the run read so far.
            tags = list(self._shared.get(run, ())) or [s.tag for s in self._inputs.get(run, ())][:4]
            cached = [self._frames.get((run, tag)) for tag in tags]
        for frames in cached:
            if frames is None or not frames.data:
                continue
            datum = frames.data[-1]
            described = frames.headers.get((datum.step, datum.wall_time, len(datum.values)))
            if described is None:
                keys += [ref.blob_key for ref in datum.values]  # its header and its images
            elif isinstance(described, dict) and described["images"] and "first_blob" in described["images"]:
                first = described["images"]["first_blob"]
                keys += [ref.blob_key for ref in datum.values[first:first + described["num_samples"]]]
        return keys

    # Step lists -----------------------------------------------------------------------------------

    def steps(self, ctx, experiment, series, info):
        """The cached Steps of a tag, built again when its frames or its index changed: the frames'
        list key says the first, a list call for the INDEX series the second (made only when the
        frames did not change; a rebuild reads the index anyway)."""
        steps = self._steps_of(ctx, experiment, series, info)
        if steps.written is _UNKNOWN:
            steps.written = self._written_from_header(ctx, self.frames(ctx, experiment, series))
        return steps

    def _steps_of(self, ctx, experiment, series, info):
        cache_key = (series.run, series.tag)
        index_tag = metadata.index_tag(series.tag)
        with self._lock:
            cached = self._steps.get(cache_key)
        index_key = _UNKNOWN
        if cached is not None and cached.key[0] == series.key:
            listed = self._provider.list_tensors(
                ctx, experiment_id=experiment, plugin_name=self._plugin_name,
                run_tag_filter=provider.RunTagFilter(runs=[series.run], tags=[index_tag]),
            ).get(series.run, {}).get(index_tag)
            index_key = None if listed is None else (listed.max_step, listed.max_wall_time)
            if cached.key[1] == index_key:
                return cached
        read_index = lambda: self._provider.read_tensors(  # noqa: E731
            ctx, experiment_id=experiment, plugin_name=self._plugin_name, downsample=ALL,
            run_tag_filter=provider.RunTagFilter(runs=[series.run], tags=[index_tag]),
        ).get(series.run, {}).get(index_tag, [])
        if self.fast_loader:
            # Read beside the references, not after them: the data server holds every answer of
            # more than a few hundred bytes some 40 ms (see benchmarks/README.md), and two reads in
            # flight wait once. The Python loader reads in this process, holding the GIL: there a
            # second thread only adds its hand-overs.
            read_index = _in_background(read_index)
            # The run's shared probe sets too: the /step_data that follows needs their references, and
            # read beside these they cost no wait of their own.
            warm_inputs = _in_background(lambda: self._read_inputs(ctx, experiment, series.run))
        frames = self.frames(ctx, experiment, series)
        data = read_index()
        if self.fast_loader:
            warm_inputs()
        if index_key is _UNKNOWN:
            # What list_tensors reports of the series: its newest step and wall time over what it
            # stores, all of which was read.
            index_key = (max(d.step for d in data), max(d.wall_time for d in data)) if data else None
        steps = _step_list(frames, data, info["kind"], (series.key, index_key), cached)
        with self._lock:
            self._steps[cache_key] = steps
        return steps

    def _read_inputs(self, ctx, experiment, run, most=4):
        """Reads the references of (at most `most` of) the shared probe sets of `run` that the last
        listing named and nothing cached yet."""
        with self._lock:
            todo = [s for s in self._inputs.get(run, ()) if (run, s.tag) not in self._frames][:most]
        for inputs in todo:
            self.frames(ctx, experiment, inputs)

    def _written_from_header(self, ctx, frames):
        """`written` from the newest frame's header, for a tag whose index TensorBoard did not keep
        or cannot read (logs of format version 1 have none): one blob read, cached with the header."""
        if not frames.data:
            return {"frames": 0, "steps": 0}
        try:
            described = self.header(ctx, frames, frames.data[-1])
        except stored_format.FormatError:
            return None
        return _written(described)


def _step_list(frames, index_data, tag_kind, steps_key, cached):
    """The Steps of `frames` (keyed `steps_key`), each step's facts from the INDEX values
    `index_data` as read_tensors gives them; what `cached` built for a frame whose index did not
    change is taken as it is."""
    indexes = {}
    for datum in index_data:
        # The index value goes in the same event as its frame: (step, wall time) names the frame.
        # The Python loader lists every kept value of a step, first written first, and serves
        # that first one's blobs: the first index of a pair is the one that fits.
        indexes.setdefault((datum.step, datum.wall_time), datum.numpy)
    written = _UNKNOWN
    if index_data:
        # Both loaders always keep the newest value of a series, and list it last.
        newest = _index_json(_index_bytes(index_data[-1].numpy), tag_kind)
        if newest is not None:
            written = _written(newest)
    previous = cached.built if cached is not None else {}
    built, entries, ranges = {}, [], {}
    digest = hashlib.blake2b(digest_size=9)
    tokens = {_token(0, digest): 0}
    for datum in frames.data:
        name = (datum.step, datum.wall_time)
        blob = _index_bytes(indexes.get(name))
        done = previous.get(name)
        if done is None or done[0] != blob:
            # Encoded once per frame and index: a tag that grows by a step costs one more.
            index = _index_json(blob, tag_kind)
            text = dumps({"step": datum.step, "wall_time": datum.wall_time, "index": index})
            extent = [(a["key"], a["stage"], a["min"], a["max"]) for a in index["arrays"]] if index else []
            done = (blob, text, extent)
        built[name] = done
        entries.append(done[1])
        digest.update(done[1].encode())
        tokens[_token(len(entries), digest)] = len(entries)
        for key, stage, low, high in done[2]:
            known = ranges.get((key, stage))
            ranges[(key, stage)] = (low, high) if known is None else (min(known[0], low), max(known[1], high))
    return Steps(steps_key, entries, tokens, _token(len(entries), digest), written,
                 [{"key": k, "stage": s, "min": lo, "max": hi} for (k, s), (lo, hi) in ranges.items()],
                 built)


def _in_background(function):
    """Starts `function()` in a daemon thread; returns a callable that waits for it and gives its
    result (or raises its exception)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed over to the waiting thread, which raises it
            outcome["error"] = error

    thread = threading.Thread(target=run, name="tb_saliency read", daemon=True)
    thread.start()

    def wait():
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return wait


def _token(count, digest):
    """Names the first `count` steps of an answer: their number and a digest of their JSON."""
    return f"{count}:{digest.hexdigest()}"


_INDEX_FIELDS = ("num_samples", "frames_written", "steps_written", "wrong_predictions", "arrays")


def _written(facts):
    """`written` of a frame's facts: None when its writer kept no count (frames built by
    `tb_saliency.summary` alone, which has no memory across calls, store 0)."""
    if not facts["frames_written"]:
        return None
    return {"frames": facts["frames_written"], "steps": facts["steps_written"]}


def public_index(described):
    """The index facts a step answers with, of a described header or index."""
    return {k: described[k] for k in _INDEX_FIELDS}


def _index_bytes(value):
    """The FrameIndex bytes of an INDEX tensor value (a NumPy array from the provider), or None when
    there is none or it is not a single string."""
    if value is None or getattr(value, "size", 0) != 1 or getattr(value, "dtype", None) is None:
        return None
    if value.dtype.kind not in ("O", "S"):
        return None
    blob = value.reshape(-1)[0]
    return blob if isinstance(blob, bytes) else None


def _index_json(blob, tag_kind):
    """A step's index facts from its FrameIndex bytes, or None when there are none or they cannot be
    read (damaged, newer, or of another kind than the tag's frames). describe_index refuses
    non-finite ranges and leaves non-finite metrics out."""
    if blob is None:
        return None
    try:
        described = stored_format.describe_index(blob)
    except stored_format.FormatError:
        return None
    if tag_kind != "unknown" and described["kind"] != tag_kind:
        return None
    return public_index(described)
