"""The TensorBoard plugin: serves saliency frames to the Saliency tab. Routes: `http_api.md`.

TensorBoard imports this module at start-up, and an ImportError here kills the whole `tensorboard`
command: nothing heavy at module top, never torch. Data comes only through `context.data_provider`,
which works under both loaders (`--load_fast=true` and `false`).
"""

import collections
import pathlib
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

# Decoded frame headers. A blob key names (run, tag, step, index), so a run directory written again
# reuses keys for new bytes: entries are keyed by the datum's wall time and blob count as well.
# The bound keeps a long-lived server's memory flat.
_HEADER_CACHE_SIZE = 4096

# What a frame that cannot be shown raises while it is described; reported per frame, never a 500.
_FRAME_ERRORS = (stored_format.FormatError, errors.PublicError, IndexError, KeyError)


class _LruCache:
    def __init__(self, capacity):
        self._capacity = capacity
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key, value):
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)


def _json_response(request, payload, code=200):
    return http_util.Respond(request, payload, "application/json", code=code)


def _error(request, code, message):
    return _json_response(request, {"error": message}, code=code)


class SaliencyPlugin(base_plugin.TBPlugin):
    """Serves the Saliency tab: its bundle, the tag index, frames and blobs."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        self._data_provider = context.data_provider
        hint = (context.sampling_hints or {}).get(self.plugin_name, DEFAULT_SAMPLES_KEPT)
        # 0 means "keep every step", for the loaders; the provider wants a number to downsample to.
        self._samples_kept = None if hint == 0 else hint
        self._downsample = 2**31 - 1 if hint == 0 else hint
        self._headers = _LruCache(_HEADER_CACHE_SIZE)

    def is_active(self):
        # The core enables the tab when the data provider lists this plugin's data.
        return False

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="Saliency")

    def get_plugin_apps(self):
        return {
            "/index.js": self._serve_index_js,
            "/tags": self._serve_tags,
            "/frames": self._serve_frames,
            "/blob": self._serve_blob,
        }

    @wrappers.Request.application
    def _serve_index_js(self, request):
        # The bundle is one file at a fixed path: no part of a URL ever chooses what is read.
        return http_util.Respond(request, INDEX_JS.read_bytes(), "text/javascript")

    # Data ----------------------------------------------------------------------------------------

    @staticmethod
    def _request_scope(request):
        return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)

    def _read_references(self, ctx, experiment, runs, tags, downsample=None):
        """Blob references (no bytes) of `tags` in `runs`: {run: {tag: [BlobSequenceDatum]}}."""
        return self._data_provider.read_blob_sequences(
            ctx,
            experiment_id=experiment,
            plugin_name=self.plugin_name,
            downsample=self._downsample if downsample is None else downsample,
            run_tag_filter=provider.RunTagFilter(runs=runs, tags=tags),
        )

    @staticmethod
    def _plugin_info(time_series):
        """Parsed metadata of a tag, or a dict with an "error" when it cannot be read."""
        try:
            return metadata.parse_plugin_data(time_series.plugin_content)
        except stored_format.FormatError as error:
            return {"kind": "unknown", "error": str(error)}

    @wrappers.Request.application
    def _serve_tags(self, request):
        ctx, experiment = self._request_scope(request)
        listing = self._data_provider.list_blob_sequences(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name
        )
        runs = {}
        wanted = collections.defaultdict(set)
        for run, tags in listing.items():
            for tag, series in tags.items():
                info = self._plugin_info(series)
                if info["kind"] not in (*stored_format.FRAME_KINDS, "unknown"):
                    continue
                entry = {
                    "kind": info["kind"],
                    "map_keys": info.get("map_keys", []),
                    "class_names": info.get("class_names", []),
                    "num_samples": info.get("num_samples", 0),
                    "display_name": series.display_name or tag,
                    "description": series.description or "",
                    "steps_stored": 0,
                    "max_step": series.max_step,
                    "max_wall_time": series.max_wall_time,
                }
                if "error" in info:
                    entry["error"] = info["error"]
                runs.setdefault(run, {})[tag] = entry
                wanted[run].add(tag)
        if wanted:
            # References only, no blob bytes: cheap even for many steps.
            stored = self._read_references(
                ctx, experiment, list(wanted), sorted(set().union(*wanted.values()))
            )
            for run, tags in stored.items():
                for tag, data in tags.items():
                    if tag in runs.get(run, {}):
                        runs[run][tag]["steps_stored"] = len(data)
        return _json_response(
            request,
            {"runs": runs, "sampling": {"limit": self._samples_kept, "flag": KEEP_ALL_FLAG}},
        )

    def _describe(self, ctx, datum):
        """A frame's header described with blob indexes (cached by the header's blob key)."""
        header_key = datum.values[0].blob_key
        cache_key = (header_key, len(datum.values), datum.wall_time)
        described = self._headers.get(cache_key)
        if described is None:
            blob = self._data_provider.read_blob(ctx, blob_key=header_key)
            described = stored_format.describe_header(blob, len(datum.values))
            self._headers.put(cache_key, described)
        return described

    def _shared_image_keys(self, ctx, experiment, run, shared_key):
        """Blob keys of the PNGs in the INPUTS tag that frames of `run` share under `shared_key`, and
        the wall time of the step that holds them."""
        tag = stored_format.inputs_tag(shared_key)
        data = self._read_references(ctx, experiment, [run], [tag], downsample=1).get(run, {}).get(tag)
        if not data:
            raise stored_format.FormatError(
                f"the frame's images are in tag {tag!r}, which this run does not hold"
            )
        datum = data[-1]
        described = self._describe(ctx, datum)
        if described["images"] is None or "first_blob" not in described["images"]:
            raise stored_format.FormatError(f"tag {tag!r} holds no images")
        first = described["images"]["first_blob"]
        keys = [ref.blob_key for ref in datum.values[first:first + described["num_samples"]]]
        return keys, datum.wall_time

    def _images_json(self, ctx, experiment, run, datum, described, shared_cache):
        """A frame's `images` entry: the PNGs' blob keys and the wall time of the step that holds
        them, which is a shared INPUTS tag's (looked up once per request) or the frame's own."""
        source = described["images"]
        if source is None:
            return None
        n = described["num_samples"]
        images = {k: v for k, v in source.items() if k not in ("first_blob", "shared_key")}
        if "shared_key" in source:
            shared = source["shared_key"]
            if shared not in shared_cache:
                shared_cache[shared] = self._shared_image_keys(ctx, experiment, run, shared)
            shared_keys, images["wall_time"] = shared_cache[shared]
            if len(shared_keys) < n:
                raise stored_format.FormatError(
                    f"the shared images hold {len(shared_keys)} images for {n} samples"
                )
            images["blobs"] = shared_keys[:n]
        else:
            first = source["first_blob"]
            images["blobs"] = [ref.blob_key for ref in datum.values[first:first + n]]
            images["wall_time"] = datum.wall_time
        return images

    def _frame_json(self, ctx, experiment, run, datum, shared_cache):
        """One entry of `/frames`, and how many frames the writer had written when it wrote it."""
        frame = {"step": datum.step, "wall_time": datum.wall_time}
        try:
            described = self._describe(ctx, datum)
            keys = [ref.blob_key for ref in datum.values]
            n = described["num_samples"]
            frame.update(
                num_samples=n,
                samples=described["samples"],
                images=self._images_json(ctx, experiment, run, datum, described, shared_cache),
                maps=[dict(m, blob=keys[m["blob"]]) for m in described["maps"]],
                activations=(
                    dict(described["activations"], blob=keys[described["activations"]["blob"]])
                    if described["activations"] is not None else None
                ),
                randomisation=described["randomisation"],
            )
        except _FRAME_ERRORS as error:
            return {**frame, "error": f"this frame cannot be shown: {error}"}, None
        return frame, described["frames_written"]

    @wrappers.Request.application
    def _serve_frames(self, request):
        run = request.args.get("run")
        tag = request.args.get("tag")
        if run is None or tag is None:
            return _error(request, 400, "frames needs both query parameters 'run' and 'tag'")
        ctx, experiment = self._request_scope(request)
        run_tag = provider.RunTagFilter(runs=[run], tags=[tag])
        series = self._data_provider.list_blob_sequences(
            ctx, experiment_id=experiment, plugin_name=self.plugin_name, run_tag_filter=run_tag
        ).get(run, {}).get(tag)
        if series is None:
            return _error(request, 404, f"run {run!r} has no saliency tag {tag!r}")
        info = self._plugin_info(series)
        if info["kind"] not in (*stored_format.FRAME_KINDS, "unknown"):
            return _error(request, 404, f"run {run!r} has no saliency tag {tag!r}")
        data = self._read_references(ctx, experiment, [run], [tag]).get(run, {}).get(tag, [])
        shared_cache = {}
        frames, frames_written = [], 0
        for datum in data:
            frame, written = self._frame_json(ctx, experiment, run, datum, shared_cache)
            frames.append(frame)
            frames_written = written if written is not None else frames_written
        response = {
            "run": run,
            "tag": tag,
            "kind": info["kind"],
            "class_names": info.get("class_names", []),
            "frames_written": max(frames_written, len(frames)),
            "frames": frames,
        }
        if "error" in info:
            response["error"] = info["error"]
        return _json_response(request, response)

    @wrappers.Request.application
    def _serve_blob(self, request):
        key = request.args.get("key")
        if not key:
            return _error(request, 400, "blob needs the query parameter 'key'")
        ctx, _ = self._request_scope(request)
        try:
            data = self._data_provider.read_blob(ctx, blob_key=key)
        except errors.PublicError as error:
            return _error(request, error.http_code, f"no blob has that key: {error}")
        except Exception:  # a malformed key: the Python loader fails while decoding it
            return _error(request, 404, "no blob has that key")
        content_type = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "application/octet-stream"
        # No Expires: a run written again reuses blob keys for new bytes.
        return http_util.Respond(request, data, content_type)

