"""Progress bars over chunked computations (the passes of smoothgrad, integrated gradients, Score-CAM
and every `MethodWithPasses`, deletion, insertion, the randomisation test's stages).

`progress=None` (the default) shows bars when someone can see them: stderr is a terminal, or the
code runs in a Jupyter kernel. No bar is ever shown on a rank other than zero. tqdm draws them; it
comes with the `torch` extra, and without it every call runs as it would, with no bar and no error,
since many training environments install tb_saliency without its extras.
"""

from __future__ import annotations

import sys

from tb_saliency.distributed import is_rank_zero
from tb_saliency.value_checks import describe


def stderr_is_terminal() -> bool:
    stream = sys.stderr
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def in_notebook() -> bool:
    """Whether this is a Jupyter kernel (Jupyter, JupyterLab, VS Code, Colab): an IPython shell with a
    kernel, unlike the terminal's IPython, whose stderr is a terminal anyway."""
    ipython = sys.modules.get("IPython")  # never imported here: a kernel has imported it already
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too old or too broken to answer counts as none
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progress:
    """Whether a call shows bars, and how: `nested` bars (a method's passes inside a randomisation
    stage) are cleared once done, so the outer bar stays the one left on screen."""

    def __init__(self, enabled: bool, nested: bool = False):
        self.enabled = enabled
        self.nested = nested

    def inner(self) -> "Progress":
        return Progress(self.enabled, nested=True)

    def ranges(self, ranges, total: int, description: str):
        """Yield the (start, stop) pairs of `ranges`, advancing a bar of `total` units by stop - start."""
        bar = self._bar(total, description)
        if bar is None:
            yield from ranges
            return
        try:
            for start, stop in ranges:
                yield start, stop
                bar.update(stop - start)
            # tqdm skips draws within its minimum interval: the finished count is always drawn once.
            bar.refresh()
        finally:
            bar.close()

    def _bar(self, total, description):
        if not self.enabled:
            return None
        bar_class = _bar_class()
        if bar_class is None:
            return None
        return bar_class(total=total, desc=description, leave=not self.nested, dynamic_ncols=True)


NONE = Progress(False)


def resolve(progress) -> Progress:
    """The `progress=` argument as a `Progress`: None means "when stderr is a terminal or in a
    notebook"; a `Progress` passes through (a metric handing its own on to the engine)."""
    if isinstance(progress, Progress):
        return progress
    if progress is None:
        enabled = stderr_is_terminal() or in_notebook()
    elif isinstance(progress, bool):
        enabled = progress
    else:
        raise TypeError(f"progress: expected True, False or None (when stderr is a terminal or in a notebook), "
                        f"got {describe(progress)}")
    return Progress(enabled and is_rank_zero())


def _bar_class():
    """tqdm's notebook widget in a Jupyter kernel with ipywidgets, its text bar elsewhere; None without tqdm."""
    try:
        import tqdm
    except ImportError:
        return None
    if in_notebook():
        try:
            from tqdm import notebook
        except ImportError:
            notebook = None
        # Without ipywidgets the widget bar raises when drawn; the text bar shows in the cell's stderr.
        if notebook is not None and getattr(notebook, "IProgress", None) is not None:
            return notebook.tqdm
    return tqdm.tqdm
