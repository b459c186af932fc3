"""A real `tensorboard` process for tests: 127.0.0.1, a free port, stopped when the test ends."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/)")
STARTUP_TIMEOUT_S = 90


def get(url, timeout=30):
    """(status, headers, body bytes) of a GET, without raising on HTTP errors."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(url, timeout=30):
    status, _, body = get(url, timeout)
    if status != 200:
        raise AssertionError(f"GET {url} answered {status}: {body[:500]!r}")
    return json.loads(body)


@contextlib.contextmanager
def tensorboard(logdir, *, load_fast, samples_per_plugin=None, reload_interval=1, wait_for_plugin=True,
                extra_args=()):
    """Starts `tensorboard --logdir logdir` and yields its base URL ("http://127.0.0.1:PORT/").

    With `wait_for_plugin`, returns only once /data/plugins_listing shows the saliency plugin
    enabled, which under --load_fast=true means the Rust data server has loaded the logdir.
    """
    args = [
        sys.executable, "-m", "tensorboard.main",
        "--logdir", str(logdir),
        "--host", "127.0.0.1",
        "--port", "0",
        f"--load_fast={'true' if load_fast else 'false'}",
        f"--reload_interval={reload_interval}",
        *extra_args,
    ]
    if samples_per_plugin is not None:
        args.append(f"--samples_per_plugin={samples_per_plugin}")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            # This checkout's tb_saliency first, whatever else is installed.
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                 "PYTHONPATH": os.pathsep.join(filter(None, [_REPO_ROOT, os.environ.get("PYTHONPATH")]))},
        )
        try:
            url = _wait_for_url(process, log)
            if wait_for_plugin:
                _wait_for_plugin(url, process, log)
            yield url
        finally:
            _stop(process)


def _output(log):
    log.seek(0)
    return log.read().decode("utf-8", "replace")


def _wait_for_url(process, log):
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        found = _URL_LINE.search(_output(log))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise AssertionError(f"tensorboard exited with {process.returncode}:\n{_output(log)}")
        time.sleep(0.1)
    raise AssertionError(f"tensorboard printed no URL in {STARTUP_TIMEOUT_S} s:\n{_output(log)}")


def _wait_for_plugin(url, process, log):
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    listing = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"tensorboard exited with {process.returncode}:\n{_output(log)}")
        status, _, body = get(url + "data/plugins_listing")
        if status == 200:
            listing = json.loads(body)
            if listing.get("saliency", {}).get("enabled"):
                return listing
        time.sleep(0.25)
    raise AssertionError(
        f"the saliency plugin was not enabled in {STARTUP_TIMEOUT_S} s; last listing "
        f"{json.dumps(listing)[:2000]}\n{_output(log)}"
    )


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
