"""The TensorBoard plugin: serves saliency frames to the Saliency tab. Routes: `http_api.md`.

TensorBoard imports this module at start-up, and an ImportError here kills the whole `tensorboard`
command: nothing heavy at module top, never torch. Data comes only through `context.data_provider`,
which works under both loaders (`--load_fast=true` and `false`).

What a request costs (n stored steps of a tag):
- `/tags`: one `list_blob_sequences` call.
- `/steps`: one list call for the frames, and when they did not change one for their INDEX series;
  when either changed, one `read_blob_sequences` and one `read_tensors` call (together, under the
  fast loader) and O(new steps) decoding; otherwise a lookup. No header or blob is read.
- `/frame`: the list call, then the step's header from the cache, or one `read_blob` (and one more,
  once, for a probe set shared through an INPUTS tag).
- `/blob`: one `read_blob`.
Everything cached is held per (run, tag) and keyed by what the list calls report (newest step and wall
time, longest sequence), so it follows the data with no fixed size: a tag of any length never thrashes,
and a run written again is read again.
"""

import functools
import hashlib
import io
import json
import pathlib
import re
import threading

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from tensorboard.data import provider
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tb_saliency import format as stored_format
from tb_saliency.format import metadata

STATIC_DIR = pathlib.Path(__file__).resolve().parent / "static"
INDEX_JS = STATIC_DIR / "index.js"

# What both loaders keep per blob-sequence tag unless --samples_per_plugin says otherwise.
DEFAULT_SAMPLES_KEPT = 10
KEEP_ALL_FLAG = f"--samples_per_plugin={metadata.PLUGIN_NAME}=0"
# "As many as stored", for the providers' `downsample` argument.
_ALL = 2**31 - 1
_UNKNOWN = object()

# What the loaders raise from `read_blob` for a key or a stored tensor they cannot decode, besides
# TensorBoard's own PublicErrors: the Python loader's key decoding (base64, JSON, unpacking) raises
# ValueError and TypeError, its lookup of a vanished run or tag KeyError, and its slicing of a rank-0
# or mis-shaped string tensor IndexError or ValueError. Caught around that one call only, so that a
# bug in this module is never reported as damaged data.
_LOADER_READ_ERRORS = (errors.PublicError, ValueError, TypeError, KeyError, IndexError, RecursionError)

class _Unreadable(Exception):
    """TensorBoard could not give the bytes of a blob; the message says why."""


class _Missing(Exception):
    """No such run, tag or stored step: a 404 whose message says which."""


def _json_response(request, payload, code=200):
    # Serialised here, not by Respond: every number is finite by construction (allow_nan=False
    # would say otherwise), and Respond's recursive cleansing of a large document is slow.
    body = payload if isinstance(payload, str) else _dumps(payload)
    return http_util.Respond(request, body, "application/json", code=code)


# One encoder for every answer: json.dumps with options builds a new one per call.
_dumps = json.JSONEncoder(allow_nan=False, ensure_ascii=True, separators=(",", ":")).encode


def _error(request, code, message):
    return _json_response(request, {"error": message}, code=code)


def _route(handler):
    """A GET route: a werkzeug application whose TensorBoard errors (a provider's NotFoundError
    while a run reloads, say) answer in this API's JSON, with their status."""

    @functools.wraps(handler)
    def serve(self, request):
        try:
            return handler(self, request)
        except errors.PublicError as error:
            return _error(request, error.http_code, str(error))

    return wrappers.Request.application(serve)


class _Series:
    """What a list call reports of one time series: its facts, and a key that changes whenever the
    stored data does (a new step, a rewritten run, a longer frame)."""

    __slots__ = ("run", "tag", "time_series", "key")

    def __init__(self, run, tag, time_series):
        self.run = run
        self.tag = tag
        self.time_series = time_series
        self.key = (time_series.max_step, time_series.max_wall_time, getattr(time_series, "max_length", None))


class _Frames:
    """The stored frames of one (run, tag): blob references per step, oldest first, as
    `read_blob_sequences` gives them (one per step), and the decoded headers of the steps shown."""

    def __init__(self, key, data):
        self.key = key
        self.data = data
        self.by_step = {datum.step: datum for datum in data}
        self.headers = {}  # (step, wall time, blob count) → described header, or FormatError


class _Steps:
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


class SaliencyPlugin(base_plugin.TBPlugin):
    """Serves the Saliency tab: its bundle, the tag list, step lists, frames, blobs and exports."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._data_provider = context.data_provider
        hint = (context.sampling_hints or {}).get(self.plugin_name, DEFAULT_SAMPLES_KEPT)
        # 0 means "keep every step", for the loaders; the provider wants a number to downsample to.
        self._samples_kept = None if hint == 0 else hint
        self._downsample = _ALL if hint == 0 else hint
        # Only the fast loader's keys break on escaped characters; the Python loader's do not.
        self._fast_loader = type(self._data_provider).__module__ == "tensorboard.data.grpc_provider"
        self._lock = threading.Lock()
        self._frames = {}  # (run, tag) → _Frames
        self._steps = {}   # (run, tag) → _Steps

    def is_active(self):
        # The core enables the tab when the data provider lists this plugin's data.
        return False

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="Saliency")

    def get_plugin_apps(self):
        return {
            "/index.js": self._serve_index_js,
            "/tags": self._serve_tags,
            "/steps": self._serve_steps,
            "/frame": self._serve_frame,
            "/blob": self._serve_blob,
            "/export": self._serve_export,
        }

    @wrappers.Request.application
    def _serve_index_js(self, request):
        # The bundle is one file at a fixed path: no part of a URL ever chooses what is read.
        return http_util.Respond(request, INDEX_JS.read_bytes(), "text/javascript")

    # Reading through the data provider ------------------------------------------------------------

    @staticmethod
    def _request_scope(request):
        return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)

    def _list(self, ctx, experiment, run, tags):
        """{tag: _Series} of `tags` in `run` (one list_blob_sequences call)."""
        listing = self._data_provider.list_blob_sequences(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=tags),
        ).get(run, {})
        return {tag: _Series(run, tag, series) for tag, series in listing.items() if tag in tags}

    def _frames_of(self, ctx, experiment, series):
        """The cached _Frames of a series, read again (one call) when its list key changed."""
        cache_key = (series.run, series.tag)
        with self._lock:
            cached = self._frames.get(cache_key)
        if cached is not None and cached.key == series.key:
            return cached
        data = self._data_provider.read_blob_sequences(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name, downsample=self._downsample,
            run_tag_filter=provider.RunTagFilter(runs=[series.run], tags=[series.tag]),
        ).get(series.run, {}).get(series.tag, [])
        frames = _Frames(series.key, sorted(data, key=lambda datum: datum.step))
        if cached is not None:
            # Headers of frames still stored stay cached; those of frames gone go with them.
            live = {(d.step, d.wall_time, len(d.values)) for d in frames.data}
            # A copy first (one C call): another request may be adding a header to it.
            frames.headers = {k: v for k, v in dict(cached.headers).items() if k in live}
        with self._lock:
            self._frames[cache_key] = frames
        return frames

    def _read_blob(self, ctx, key):
        """The bytes of one blob; _Unreadable when TensorBoard cannot give them."""
        try:
            data = self._data_provider.read_blob(ctx, blob_key=key)
        except _LOADER_READ_ERRORS as error:
            raise _Unreadable(f"TensorBoard cannot read this blob ({type(error).__name__}: "
                              f"{str(error)[:300]})") from None
        if not isinstance(data, bytes):
            # The Python loader hands back an array row for a string tensor of rank 2 or more.
            raise _Unreadable("TensorBoard stored this frame as a tensor that is not a list of blobs")
        return data

    def _header(self, ctx, frames, datum):
        """A frame's header described with blob indexes, read once per stored frame."""
        cache_key = (datum.step, datum.wall_time, len(datum.values))
        described = frames.headers.get(cache_key)
        if described is None:
            if not datum.values:
                raise stored_format.FormatError("frame holds no blobs")
            try:
                blob = self._read_blob(ctx, datum.values[0].blob_key)
            except _Unreadable as error:
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

    @staticmethod
    def _plugin_info(time_series):
        """Parsed metadata of a tag, or a dict with an "error" when it cannot be read."""
        try:
            return metadata.parse_plugin_data(time_series.plugin_content)
        except stored_format.FormatError as error:
            return {"kind": "unknown", "error": str(error), "map_keys": [], "class_names": [], "num_samples": 0}

    def _unservable(self, name):
        """Why the fast loader cannot serve blobs of a run or tag named `name`, or None."""
        if self._fast_loader and metadata.UNSERVABLE_NAME.search(name):
            return ("TensorBoard's fast loader (--load_fast=true) cannot read blobs of a run or tag whose "
                    "name holds a double quote, a backslash or a control character; rename it, or start "
                    "TensorBoard with --load_fast=false")
        return None

    def _frame_tag(self, ctx, experiment, run, tag):
        """(_Series, parsed metadata) of a tag that holds frames, or None."""
        series = self._list(ctx, experiment, run, [tag]).get(tag)
        info = None if series is None else self._frame_info(tag, series.time_series)
        return None if info is None else (series, info)

    def _frame_info(self, tag, time_series):
        """Parsed metadata of a tag that holds frames (or whose metadata cannot be read), else None."""
        if tag.startswith(metadata.RESERVED_TAG_PREFIX):
            return None  # shared probe images and step indexes
        info = self._plugin_info(time_series)
        return info if info["kind"] in (*stored_format.FRAME_KINDS, "unknown") else None

    # /tags ----------------------------------------------------------------------------------------

    @_route
    def _serve_tags(self, request):
        ctx, experiment = self._request_scope(request)
        listing = self._data_provider.list_blob_sequences(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name
        )
        runs, run_errors = {}, {}
        for run, tags in listing.items():
            for tag, series in tags.items():
                info = self._frame_info(tag, series)
                if info is None:
                    continue
                entry = {
                    "kind": info["kind"],
                    "map_keys": info["map_keys"],
                    "class_names": info["class_names"],
                    "num_samples": info["num_samples"],
                    "display_name": series.display_name or tag,
                    "description": series.description or "",
                    "max_step": series.max_step,
                    "max_wall_time": series.max_wall_time,
                }
                error = info.get("error") or self._unservable(tag)
                if error:
                    entry["error"] = error
                runs.setdefault(run, {})[tag] = entry
            run_error = self._unservable(run) if run in runs else None
            if run_error:
                run_errors[run] = run_error
        self._forget_all_but(listing)
        return _json_response(request, {
            "runs": runs,
            "run_errors": run_errors,
            "sampling": {"limit": self._samples_kept, "flag": KEEP_ALL_FLAG},
        })

    def _forget_all_but(self, listing):
        """Drops what is cached of (run, tag)s that TensorBoard no longer lists."""
        with self._lock:
            for cache in (self._frames, self._steps):
                for run, tag in [k for k in cache if k[1] not in listing.get(k[0], {})]:
                    del cache[(run, tag)]

    # /steps ---------------------------------------------------------------------------------------

    @_route
    def _serve_steps(self, request):
        run, tag = request.args.get("run"), request.args.get("tag")
        if run is None or tag is None:
            return _error(request, 400, "steps needs both query parameters 'run' and 'tag'")
        ctx, experiment = self._request_scope(request)
        found = self._frame_tag(ctx, experiment, run, tag)
        if found is None:
            return _error(request, 404, f"run {run!r} has no saliency tag {tag!r}")
        series, info = found
        steps = self._steps_of(ctx, experiment, series, info)
        if steps.written is _UNKNOWN:
            steps.written = self._written_from_header(ctx, self._frames_of(ctx, experiment, series))
        known = steps.tokens.get(request.args.get("token"))
        append = known is not None
        entries = steps.entries[known:] if append else steps.entries
        head = {
            "run": run,
            "tag": tag,
            "kind": info["kind"],
            "class_names": info["class_names"],
            "token": steps.token,
            "append": append,
            "written": steps.written,
            "sampling": {"limit": self._samples_kept, "stored": len(steps.entries)},
            "ranges": steps.ranges,
        }
        if "error" in info:
            head["error"] = info["error"]
        # The steps are spliced in as cached JSON text: a long tag costs no re-encoding per request.
        body = _dumps(head)[:-1] + ',"steps":[' + ",".join(entries) + "]}"
        return _json_response(request, body)

    def _steps_of(self, ctx, experiment, series, info):
        """The cached _Steps of a tag, built again when its frames or its index changed: the frames'
        list key says the first, a list call for the INDEX series the second (made only when the
        frames did not change; a rebuild reads the index anyway)."""
        cache_key = (series.run, series.tag)
        index_tag = metadata.index_tag(series.tag)
        with self._lock:
            cached = self._steps.get(cache_key)
        index_key = _UNKNOWN
        if cached is not None and cached.key[0] == series.key:
            listed = self._data_provider.list_tensors(
                ctx, experiment_id=experiment, plugin_name=self.plugin_name,
                run_tag_filter=provider.RunTagFilter(runs=[series.run], tags=[index_tag]),
            ).get(series.run, {}).get(index_tag)
            index_key = None if listed is None else (listed.max_step, listed.max_wall_time)
            if cached.key[1] == index_key:
                return cached
        read_index = lambda: self._data_provider.read_tensors(  # noqa: E731
            ctx, experiment_id=experiment, plugin_name=self.plugin_name, downsample=_ALL,
            run_tag_filter=provider.RunTagFilter(runs=[series.run], tags=[index_tag]),
        ).get(series.run, {}).get(index_tag, [])
        if self._fast_loader:
            # Read beside the references, not after them: the data server holds every answer of
            # more than a few hundred bytes some 40 ms (see benchmarks/README.md), and two reads in
            # flight wait once. The Python loader reads in this process, holding the GIL: there a
            # second thread only adds its hand-overs.
            read_index = _in_background(read_index)
        frames = self._frames_of(ctx, experiment, series)
        data = read_index()
        if index_key is _UNKNOWN:
            # What list_tensors reports of the series: its newest step and wall time over what it
            # stores, all of which was read.
            index_key = (max(d.step for d in data), max(d.wall_time for d in data)) if data else None
        indexes = {}
        for datum in data:
            # The index value goes in the same event as its frame: (step, wall time) names the frame.
            # The Python loader lists every kept value of a step, first written first, and serves
            # that first one's blobs: the first index of a pair is the one that fits.
            indexes.setdefault((datum.step, datum.wall_time), datum.numpy)
        written = _UNKNOWN
        if data:
            # Both loaders always keep the newest value of a series, and list it last.
            newest = _index_json(_index_bytes(data[-1].numpy), info["kind"])
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
                index = _index_json(blob, info["kind"])
                text = _dumps({"step": datum.step, "wall_time": datum.wall_time, "index": index})
                extent = [(a["key"], a["stage"], a["min"], a["max"]) for a in index["arrays"]] if index else []
                done = (blob, text, extent)
            built[name] = done
            entries.append(done[1])
            digest.update(done[1].encode())
            tokens[_token(len(entries), digest)] = len(entries)
            for key, stage, low, high in done[2]:
                known = ranges.get((key, stage))
                ranges[(key, stage)] = (low, high) if known is None else (min(known[0], low), max(known[1], high))
        steps = _Steps((series.key, index_key), entries, tokens, _token(len(entries), digest), written,
                       [{"key": k, "stage": s, "min": lo, "max": hi} for (k, s), (lo, hi) in ranges.items()],
                       built)
        with self._lock:
            self._steps[cache_key] = steps
        return steps

    def _written_from_header(self, ctx, frames):
        """`written` from the newest frame's header, for a tag whose index TensorBoard did not keep
        or cannot read (logs of format version 1 have none): one blob read, cached with the header."""
        if not frames.data:
            return {"frames": 0, "steps": 0}
        try:
            described = self._header(ctx, frames, frames.data[-1])
        except stored_format.FormatError:
            return None
        return _written(described)

    # /frame ---------------------------------------------------------------------------------------

    def _parse_step_request(self, request, route):
        """(run, tag, step) of a /frame or /export request, or an error response."""
        run, tag, step = (request.args.get(name) for name in ("run", "tag", "step"))
        if run is None or tag is None or step is None:
            return None, _error(request, 400, f"{route} needs the query parameters 'run', 'tag' and 'step'")
        if not re.fullmatch(r"-?[0-9]{1,19}", step):
            return None, _error(request, 400, f"{route}: 'step' must be an integer, got {step[:40]!r}")
        return (run, tag, int(step)), None

    def _frame(self, ctx, experiment, run, tag, step):
        """The `/frame` JSON of a stored step, blob keys included; _Missing when there is no such
        tag or stored step. A frame that cannot be shown comes back with an "error" instead of its
        data."""
        found = self._frame_tag(ctx, experiment, run, tag)
        if found is None:
            raise _Missing(f"run {run!r} has no saliency tag {tag!r}")
        series, info = found
        frames = self._frames_of(ctx, experiment, series)
        datum = frames.by_step.get(step)
        if datum is None:
            raise _Missing(f"tag {tag!r} of run {run!r} has no stored step {step}")
        frame = {"run": run, "tag": tag, "step": datum.step, "wall_time": datum.wall_time}
        try:
            unservable = self._unservable(run) or self._unservable(tag)
            if unservable:
                raise stored_format.FormatError(unservable)
            described = self._header(ctx, frames, datum)
            if described["kind"] not in stored_format.FRAME_KINDS:
                raise stored_format.FormatError(f"its header holds {described['kind']}, which no tag of frames holds")
            if info["kind"] != "unknown" and described["kind"] != info["kind"]:
                raise stored_format.FormatError(
                    f"its header holds {described['kind']}, its tag {info['kind']} frames")
            keys = [ref.blob_key for ref in datum.values]
            frame.update(
                kind=described["kind"],
                num_samples=described["num_samples"],
                samples=described["samples"],
                images=self._images_json(ctx, experiment, run, datum, described),
                maps=[dict(m, blob=keys[m["blob"]]) for m in described["maps"]],
                activations=(
                    dict(described["activations"], blob=keys[described["activations"]["blob"]])
                    if described["activations"] is not None else None
                ),
                randomisation=described["randomisation"],
                index=_public_index(stored_format.index_from_described(described)),
            )
        except stored_format.FormatError as error:
            frame = {**{k: frame[k] for k in ("run", "tag", "step", "wall_time")},
                     "error": f"this frame cannot be shown: {error}"}
        return frame

    def _images_json(self, ctx, experiment, run, datum, described):
        """A frame's `images`: the PNGs' blob keys and the wall time of the step that holds them, a
        shared INPUTS tag's or the frame's own."""
        source = described["images"]
        if source is None:
            return None
        n = described["num_samples"]
        images = {k: v for k, v in source.items() if k not in ("first_blob", "shared_key")}
        if "shared_key" in source:
            keys, images["wall_time"] = self._shared_image_keys(ctx, experiment, run, source["shared_key"])
            if len(keys) < n:
                raise stored_format.FormatError(f"the shared images hold {len(keys)} images for {n} samples")
            images["blobs"] = keys[:n]
        else:
            first = source["first_blob"]
            images["blobs"] = [ref.blob_key for ref in datum.values[first:first + n]]
            images["wall_time"] = datum.wall_time
        return images

    def _shared_image_keys(self, ctx, experiment, run, shared_key):
        """Blob keys of the PNGs in the INPUTS tag named by `shared_key`, and the wall time of the
        step that holds them (its newest)."""
        tag = stored_format.inputs_tag(shared_key)
        series = self._list(ctx, experiment, run, [tag]).get(tag)
        if series is None:
            raise stored_format.FormatError(f"the frame's images are in tag {tag!r}, which this run does not hold")
        frames = self._frames_of(ctx, experiment, series)
        if not frames.data:
            raise stored_format.FormatError(f"tag {tag!r} holds no stored images")
        datum = frames.data[-1]
        described = self._header(ctx, frames, datum)
        if described["kind"] != "inputs" or described["images"] is None or "first_blob" not in described["images"]:
            raise stored_format.FormatError(f"tag {tag!r} holds no images")
        first = described["images"]["first_blob"]
        keys = [ref.blob_key for ref in datum.values[first:first + described["num_samples"]]]
        return keys, datum.wall_time

    @_route
    def _serve_frame(self, request):
        parsed, failure = self._parse_step_request(request, "frame")
        if failure:
            return failure
        ctx, experiment = self._request_scope(request)
        try:
            frame = self._frame(ctx, experiment, *parsed)
        except _Missing as error:
            return _error(request, 404, str(error))
        return _json_response(request, frame)

    # /blob ----------------------------------------------------------------------------------------

    @_route
    def _serve_blob(self, request):
        key = request.args.get("key")
        if not key:
            return _error(request, 400, "blob needs the query parameter 'key'")
        ctx, _ = self._request_scope(request)
        try:
            data = self._read_blob(ctx, key)
        except _Unreadable as error:
            return _error(request, 404, f"no blob can be read with that key: {error}")
        content_type = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "application/octet-stream"
        # No Expires: a run written again reuses blob keys for new bytes.
        return http_util.Respond(request, data, content_type)

    # /export --------------------------------------------------------------------------------------

    @_route
    def _serve_export(self, request):
        parsed, failure = self._parse_step_request(request, "export")
        if failure:
            return failure
        ctx, experiment = self._request_scope(request)
        run, tag, step = parsed
        try:
            frame = self._frame(ctx, experiment, run, tag, step)
            if "error" in frame:
                raise _Missing(frame["error"])
            archive = self._export(ctx, frame)
        except _Missing as error:
            return _error(request, 404, str(error))
        except (stored_format.FormatError, _Unreadable) as error:
            return _error(request, 404, f"this frame cannot be exported: {error}")
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{run}_{tag}_{step}")[:120] or "frame"
        return http_util.Respond(
            request, archive, "application/octet-stream",
            headers=[("Content-Disposition", f'attachment; filename="{name}.npz"')],
        )

    def _export(self, ctx, frame):
        """One frame's raw values as the bytes of an .npz archive (see http_api.md)."""
        import numpy as np

        n = frame["num_samples"]
        arrays = {}

        def raw(block, shape):
            values = stored_format.decode_values(self._read_blob(ctx, block["blob"]), block["dtype"], shape,
                                                 block["scale"])
            return stored_format.narrowest_float(values)

        for block in frame["maps"]:
            name = f"{block['key']}@{block['stage']}" if block["stage"] else block["key"]
            arrays[f"maps/{name}"] = raw(block, (n, block["height"], block["width"]))
            for metric, values in block["metrics"].items():
                arrays[f"metrics/{name}/{metric}"] = np.asarray(values["values"], np.float64)
        if frame["activations"] is not None:
            a = frame["activations"]
            arrays["activations"] = raw(a, (n, a["channels"], a["height"], a["width"]))
            arrays["channel_index"] = np.asarray(a["channel_index"], np.int64).reshape(n, a["channels"])
        if frame["images"] is not None and frame["images"]["blobs"]:
            pictures = []
            for key in frame["images"]["blobs"]:
                png = self._read_blob(ctx, key)
                try:
                    pictures.append(stored_format.decode_png(png))
                except Exception as error:  # Pillow raises several types on damaged PNGs
                    raise stored_format.FormatError(f"an input image is damaged: {error}") from None
            if len({p.shape for p in pictures}) > 1:
                raise stored_format.FormatError("the input images differ in size")
            arrays["images"] = np.stack(pictures)
        for field, plural, dtype in (("label", "labels", np.int64), ("target", "targets", np.int64),
                                     ("prediction", "predictions", np.int64), ("score", "scores", np.float64)):
            values = [sample.get(field) for sample in frame["samples"]]
            if values and all(v is not None for v in values):
                arrays[plural] = np.asarray(values, dtype)
        arrays["header.json"] = np.asarray(_dumps(_without_blob_keys(frame)))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()


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


def _public_index(described):
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
    return _public_index(described)


def _without_blob_keys(frame):
    """The /frame JSON with blob keys left out, for an export's header.json."""
    out = dict(frame)
    out["maps"] = [{k: v for k, v in m.items() if k != "blob"} for m in frame["maps"]]
    if frame["activations"] is not None:
        out["activations"] = {k: v for k, v in frame["activations"].items() if k != "blob"}
    if frame["images"] is not None:
        out["images"] = {k: v for k, v in frame["images"].items() if k != "blobs"}
    return out
