"""Runs a user's script in a fresh process, as a user would, with this checkout's tb_saliency first on
the path, and a timeout that kills the whole process group (a launcher's workers too)."""

import os
import pathlib
import signal
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 180


def run(command, folder, timeout_s=RUN_TIMEOUT_S, env=None):
    """The output of `command` run in `folder`; AssertionError when it fails or outlives `timeout_s`."""
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"{command} still running after {timeout_s} s:\n{output[-5000:]}")
    assert process.returncode == 0, f"{command} exited with {process.returncode}:\n{output[-8000:]}"
    return output


def run_script(folder, code, *, launcher=(), **kwargs):
    """Writes `code` to folder/script.py and runs it with `python` (or `python -m <launcher...>`)."""
    script = pathlib.Path(folder) / "script.py"
    script.write_text(code, encoding="utf-8")
    command = [sys.executable, *(["-m", *launcher] if launcher else []), str(script)]
    return run(command, folder, **kwargs)
