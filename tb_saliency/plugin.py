"""The TensorBoard plugin: serves saliency frames to the Saliency tab. Routes: `http_api.md`.

TensorBoard imports this module at start-up, and an ImportError here kills the whole `tensorboard`
command: nothing heavy at module top, never torch. Data comes only through `context.data_provider`,
which works under both loaders (`--load_fast=true` and `false`), and only through the series/step
index of `series.py`, which caches what it reads; this module turns requests into its questions and
its answers into JSON.

What a request costs (n stored steps of a tag):
- `/tags`: one `list_blob_sequences` call.
- `/steps`: one list call for the frames, and when they did not change one for their INDEX series;
  when either changed, one `read_blob_sequences` and one `read_tensors` call (together, under the
  fast loader, with the references of the run's shared probe sets not read yet) and O(new steps)
  decoding; otherwise a lookup. No header or blob is read.
- `/frame`: the list call, then the step's header from the cache, or one `read_blob` (and one more,
  once, for a probe set shared through an INPUTS tag).
- `/step_data`: what `/frame` costs, then one `read_blob` per blob the step draws, all in flight
  together under the fast loader (the frame's blobs beside its header when the header is not cached
  yet), in one answer.
- `/blob`: one `read_blob`.
- `/audio`: what `/frame` costs, and one `read_blob` (the signal).
"""

import functools
import io
import pathlib
import re

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tb_saliency import format as stored_format
from tb_saliency import audio, series, step_bundle
from tb_saliency.format import metadata
from tb_saliency.format import step_data as step_body

STATIC_DIR = pathlib.Path(__file__).resolve().parent / "static"
INDEX_JS = STATIC_DIR / "index.js"

# What both loaders keep per blob-sequence tag unless --samples_per_plugin says otherwise.
DEFAULT_SAMPLES_KEPT = 10
KEEP_ALL_FLAG = f"--samples_per_plugin={metadata.PLUGIN_NAME}=0"


class _Missing(Exception):
    """No such run, tag or stored step: a 404 whose message says which."""


def _json_response(request, payload, code=200):
    # Serialised here, not by Respond: Respond's recursive cleansing of a large document is slow.
    body = payload if isinstance(payload, str) else series.dumps(payload)
    return http_util.Respond(request, body, "application/json", code=code)


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


class SaliencyPlugin(base_plugin.TBPlugin):
    """Serves the Saliency tab: its bundle, the tag list, step lists, frames, blobs and exports."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        hint = (context.sampling_hints or {}).get(self.plugin_name, DEFAULT_SAMPLES_KEPT)
        # 0 means "keep every step", for the loaders; the provider wants a number to downsample to.
        self._samples_kept = None if hint == 0 else hint
        self._series = series.SeriesIndex(
            context.data_provider, self.plugin_name, downsample=series.ALL if hint == 0 else hint)
        self._reads = step_bundle.BlobReads(self._series, parallel=self._series.fast_loader)

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
            "/step_data": self._serve_step_data,
            "/blob": self._serve_blob,
            "/export": self._serve_export,
            "/audio": self._serve_audio,
        }

    @wrappers.Request.application
    def _serve_index_js(self, request):
        # The bundle is one file at a fixed path: no part of a URL ever chooses what is read.
        return http_util.Respond(request, INDEX_JS.read_bytes(), "text/javascript")

    @staticmethod
    def _request_scope(request):
        return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)

    # /tags ----------------------------------------------------------------------------------------

    @_route
    def _serve_tags(self, request):
        ctx, experiment = self._request_scope(request)
        listing = self._series.listing(ctx, experiment)
        runs, run_errors = {}, {}
        for run, tags in listing.items():
            for tag, time_series in tags.items():
                info = series.frame_info(tag, time_series)
                if info is None:
                    continue
                entry = {
                    "kind": info["kind"],
                    "map_keys": info["map_keys"],
                    "class_names": info["class_names"],
                    "num_samples": info["num_samples"],
                    "display_name": time_series.display_name or tag,
                    "description": time_series.description or "",
                    "max_step": time_series.max_step,
                    "max_wall_time": time_series.max_wall_time,
                }
                error = info.get("error") or self._series.unservable(tag)
                if error:
                    entry["error"] = error
                runs.setdefault(run, {})[tag] = entry
            run_error = self._series.unservable(run) if run in runs else None
            if run_error:
                run_errors[run] = run_error
        return _json_response(request, {
            "runs": runs,
            "run_errors": run_errors,
            "sampling": {"limit": self._samples_kept, "flag": KEEP_ALL_FLAG},
        })

    # /steps ---------------------------------------------------------------------------------------

    @_route
    def _serve_steps(self, request):
        run, tag = request.args.get("run"), request.args.get("tag")
        if run is None or tag is None:
            return _error(request, 400, "steps needs both query parameters 'run' and 'tag'")
        ctx, experiment = self._request_scope(request)
        found = self._series.frame_tag(ctx, experiment, run, tag)
        if found is None:
            return _error(request, 404, f"run {run!r} has no saliency tag {tag!r}")
        listed, info = found
        steps = self._series.steps(ctx, experiment, listed, info)
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
        body = series.dumps(head)[:-1] + ',"steps":[' + ",".join(entries) + "]}"
        return _json_response(request, body)

    # /frame ---------------------------------------------------------------------------------------

    def _parse_step_request(self, request, route):
        """(run, tag, step) of a /frame or /export request, or an error response."""
        run, tag, step = (request.args.get(name) for name in ("run", "tag", "step"))
        if run is None or tag is None or step is None:
            return None, _error(request, 400, f"{route} needs the query parameters 'run', 'tag' and 'step'")
        if not re.fullmatch(r"-?[0-9]{1,19}", step):
            return None, _error(request, 400, f"{route}: 'step' must be an integer, got {step[:40]!r}")
        return (run, tag, int(step)), None

    def _frame(self, ctx, experiment, run, tag, step, before_header=None, read_blob=None):
        """The `/frame` JSON of a stored step, blob keys included; _Missing when there is no such
        tag or stored step. A frame that cannot be shown comes back with an "error" instead of its
        data. `before_header(frames, datum)`, when given, is called once the step's blob references
        are known, before its header is read (and again for the step of shared probe images);
        `read_blob(key)`, when given, reads those headers (a read already under way)."""
        found = self._series.frame_tag(ctx, experiment, run, tag)
        if found is None:
            raise _Missing(f"run {run!r} has no saliency tag {tag!r}")
        listed, info = found
        frames = self._series.frames(ctx, experiment, listed)
        datum = frames.by_step.get(step)
        if datum is None:
            raise _Missing(f"tag {tag!r} of run {run!r} has no stored step {step}")
        frame = {"run": run, "tag": tag, "step": datum.step, "wall_time": datum.wall_time}
        try:
            unservable = self._series.unservable(run) or self._series.unservable(tag)
            if unservable:
                raise stored_format.FormatError(unservable)
            if before_header is not None:
                before_header(frames, datum)
            described = self._series.header(ctx, frames, datum, read_blob)
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
                images=self._images_json(ctx, experiment, run, datum, described, before_header, read_blob),
                maps=[dict(m, blob=keys[m["blob"]]) for m in described["maps"]],
                activations=(
                    dict(described["activations"], blob=keys[described["activations"]["blob"]])
                    if described["activations"] is not None else None
                ),
                randomisation=described["randomisation"],
                index=series.public_index(stored_format.index_from_described(described)),
            )
            # Format version 3: frames over text or signals say so; frames over images stay as before.
            if described["tokens"] is not None:
                frame.update(input="tokens", tokens=described["tokens"])
            elif described["signals"] is not None:
                frame.update(input="signals", signals=dict(described["signals"], blob=keys[described["signals"]["blob"]]))
        except stored_format.FormatError as error:
            frame = {**{k: frame[k] for k in ("run", "tag", "step", "wall_time")},
                     "error": f"this frame cannot be shown: {error}"}
        return frame

    def _images_json(self, ctx, experiment, run, datum, described, before_header=None, read_blob=None):
        """A frame's `images`: the PNGs' blob keys and the wall time of the step that holds them, a
        shared INPUTS tag's or the frame's own (`before_header` and `read_blob` as for _frame)."""
        source = described["images"]
        if source is None:
            return None
        n = described["num_samples"]
        images = {k: v for k, v in source.items() if k not in ("first_blob", "shared_key")}
        if "shared_key" in source:
            keys, images["wall_time"] = self._series.shared_image_keys(ctx, experiment, run, source["shared_key"],
                                                                       before_header, read_blob)
            if len(keys) < n:
                raise stored_format.FormatError(f"the shared images hold {len(keys)} images for {n} samples")
            images["blobs"] = keys[:n]
        else:
            first = source["first_blob"]
            images["blobs"] = [ref.blob_key for ref in datum.values[first:first + n]]
            images["wall_time"] = datum.wall_time
        return images

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

    # /step_data -----------------------------------------------------------------------------------

    @_route
    def _serve_step_data(self, request):
        parsed, failure = self._parse_step_request(request, "step_data")
        if failure:
            return failure
        ctx, experiment = self._request_scope(request)
        started, candidates = {}, set()

        def read_blob(key):
            return started[key]() if key in started else self._series.read_blob(ctx, key)

        def before_header(frames, datum):
            keys = [ref.blob_key for ref in datum.values[1:]]
            candidates.update(keys)
            if self._reads.parallel and not self._series.has_header(frames, datum):
                # The header names which of these (and which shared probe images) the step draws;
                # reading them beside it waits once.
                keys = [ref.blob_key for ref in datum.values[:1]] + keys
                keys += self._series.recent_shared_image_keys(parsed[0])
                started.update(self._reads.start(ctx, [key for key in keys if key not in started]))

        try:
            frame = self._frame(ctx, experiment, *parsed, before_header=before_header, read_blob=read_blob)
        except _Missing as error:
            return _error(request, 404, str(error))
        blobs, unreadable = [], {}
        if "error" not in frame:
            if frame["images"] is not None:
                candidates.update(frame["images"]["blobs"])
            keys = step_bundle.named_keys(frame, candidates)
            started.update(self._reads.start(ctx, [key for key in keys if key not in started]))
            blobs, unreadable = self._reads.collect(started, keys)
        body = step_body.encode(series.dumps({"frame": frame, "unreadable": unreadable}), blobs)
        return http_util.Respond(request, body, "application/octet-stream")

    # /blob ----------------------------------------------------------------------------------------

    @_route
    def _serve_blob(self, request):
        key = request.args.get("key")
        if not key:
            return _error(request, 400, "blob needs the query parameter 'key'")
        ctx, _ = self._request_scope(request)
        try:
            data = self._series.read_blob(ctx, key)
        except series.Unreadable as error:
            return _error(request, 404, f"no blob can be read with that key: {error}")
        content_type = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "application/octet-stream"
        # No Expires: a run written again reuses blob keys for new bytes.
        return http_util.Respond(request, data, content_type)

    # /audio ---------------------------------------------------------------------------------------

    @_route
    def _serve_audio(self, request):
        """One sample of a signal frame with a sample rate, as a WAV file (see tb_saliency/audio.py)."""
        parsed, failure = self._parse_step_request(request, "audio")
        if failure:
            return failure
        sample = request.args.get("sample", "")
        if not re.fullmatch(r"[0-9]{1,6}", sample):
            return _error(request, 400, f"audio: 'sample' must be a sample index, got {sample[:40]!r}")
        ctx, experiment = self._request_scope(request)
        try:
            frame = self._frame(ctx, experiment, *parsed)
            if "error" in frame:
                raise _Missing(frame["error"])
            signals = frame.get("signals")
            if signals is None or signals["sample_rate"] is None:
                raise _Missing("this frame holds no signal with a sample rate")
            n, i = frame["num_samples"], int(sample)
            if i >= n:
                raise _Missing(f"this frame has {n} samples, not a sample {i}")
            values = stored_format.decode_values(self._series.read_blob(ctx, signals["blob"]), signals["dtype"],
                                                 (n, signals["channels"], signals["length"]), signals["scale"])
            wav = audio.wav_bytes(values[i], signals["sample_rate"])
        except _Missing as error:
            return _error(request, 404, str(error))
        except (stored_format.FormatError, series.Unreadable) as error:
            return _error(request, 404, f"this frame's audio cannot be read: {error}")
        return http_util.Respond(request, wav, "audio/wav")

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
        except (stored_format.FormatError, series.Unreadable) as error:
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
            values = stored_format.decode_array(self._series.read_blob(ctx, block["blob"]), block, shape)
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
        if frame.get("signals") is not None:
            s = frame["signals"]
            arrays["signals"] = raw(s, (n, s["channels"], s["length"]))
        if frame["images"] is not None and frame["images"]["blobs"]:
            pictures = []
            for key in frame["images"]["blobs"]:
                png = self._series.read_blob(ctx, key)
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
        arrays["header.json"] = np.asarray(series.dumps(_without_blob_keys(frame)))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()


def _without_blob_keys(frame):
    """The /frame JSON with blob keys left out, for an export's header.json."""
    out = dict(frame)
    out["maps"] = [{k: v for k, v in m.items() if k != "blob"} for m in frame["maps"]]
    if frame["activations"] is not None:
        out["activations"] = {k: v for k, v in frame["activations"].items() if k != "blob"}
    if frame["images"] is not None:
        out["images"] = {k: v for k, v in frame["images"].items() if k != "blobs"}
    if frame.get("signals") is not None:
        out["signals"] = {k: v for k, v in frame["signals"].items() if k != "blob"}
    return out
