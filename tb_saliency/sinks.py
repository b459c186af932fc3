"""Where frames go: the writer's own event file (`Sink`), and what each writer has logged through
tb_saliency (`WriterState`, weakly keyed by the writer): each tag's kind, its frame and step counts,
and the probe sets already written, so that a probe set logged at every step is stored once and
TensorBoard gets each tag's metadata once. `write` builds every summary of a call before it writes
any, so a call that fails leaves the event file and this memory as they were.
"""

import collections
import dataclasses
import threading
import weakref

from tb_saliency import summary
from tb_saliency import format as stored_format
from tb_saliency.distributed import is_rank_zero as _is_rank_zero

# Probe sets whose images a writer remembers, to store a repeated set once (see _place_images).
_REMEMBERED_IMAGE_SETS = 4096


@dataclasses.dataclass
class TagState:
    kind: str
    frames: int = 0
    steps: set = dataclasses.field(default_factory=set)


class WriterState:
    """What one writer has logged through these functions."""

    def __init__(self):
        self.lock = threading.RLock()
        self.tags = {}                                  # tag → TagState
        self.image_sets = collections.OrderedDict()     # content keys of the probe sets written
        self.metric_calls = collections.Counter()       # tag → log_saliency calls with metrics= (metrics_every)


_STATES = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def state_of(owner):
    with _STATES_LOCK:
        try:
            state = _STATES.get(owner)
            if state is None:
                state = _STATES[owner] = WriterState()
        except TypeError:
            # A writer that cannot be weakly referenced gets no memory across calls: every frame then
            # stores its images and metadata, which is correct, only larger.
            state = WriterState()
    return state


class Sink:
    """Where a call's summaries go: the event file of the writer it was given. The writer's type is
    checked on every rank (a rank that fails alone would leave the others waiting in a collective);
    only rank zero writes, and nothing is opened until it does."""

    def __init__(self, writer):
        self.owner = self._owner(writer)
        self.writes = self.owner is not None and _is_rank_zero()
        # Keyed by the writer that owns the event file, so that a Lightning logger and its
        # .experiment share one memory of what that file holds.
        self.state = state_of(self.owner) if self.writes else None

    @staticmethod
    def _owner(writer):
        if writer is None:
            return None
        owner = writer
        if not hasattr(owner, "_get_file_writer") and not hasattr(owner, "add_summary") and hasattr(owner, "experiment"):
            owner = owner.experiment  # a Lightning logger
        if hasattr(owner, "_get_file_writer") or hasattr(owner, "add_summary"):
            return owner
        raise TypeError(
            "writer: expected torch.utils.tensorboard.SummaryWriter, tensorboardX.SummaryWriter, "
            f"tb_saliency.SummaryWriter, a Lightning logger with one as .experiment, or None; got "
            f"{type(writer).__module__}.{type(writer).__name__}"
        )

    def add(self, proto, step, walltime):
        # Asked at each write: torch's writer opens a new file there only if it was closed.
        file_writer = self.owner._get_file_writer() if hasattr(self.owner, "_get_file_writer") else self.owner
        file_writer.add_summary(_converted(proto, file_writer), step, walltime)


def _converted(proto, file_writer):
    """tensorboardX compiles its own copy of TensorBoard's protos: a Summary must be re-parsed into
    its classes before its file writer takes it."""
    if type(file_writer).__module__.startswith("tensorboardX"):
        from tensorboardX.proto import summary_pb2 as tbx_summary_pb2

        return tbx_summary_pb2.Summary.FromString(proto.SerializeToString())
    return proto


def check_kind(state, tag, kind):
    known = state.tags.get(tag)
    if known is not None and known.kind != kind:
        raise ValueError(f"tag: {tag!r} already holds {known.kind} frames in this writer; use another tag for {kind}")


def write(sink, frames, scalars=None):
    """Builds the summaries of `frames` (and `scalars`, {tag: value} at the first frame's step) and
    writes them, under the writer's lock: threads logging into one writer keep its counts and shared
    images consistent, and a tag never gets two kinds. Everything is built before anything is
    written; if building fails, the writer's memory is as it was."""
    if not sink.writes:
        return
    state = sink.state
    with state.lock:
        # Only the frames' own tags can change: those are saved, not the memory of every tag.
        saved_tags = {frame.tag: _copied(state.tags.get(frame.tag)) for frame in frames}
        saved_images = collections.OrderedDict(state.image_sets)
        try:
            built_summaries = [built for frame in frames for built in summaries(state, frame)]
        except BaseException:
            for tag, t in saved_tags.items():
                if t is None:
                    state.tags.pop(tag, None)
                else:
                    state.tags[tag] = t
            state.image_sets = saved_images
            raise
        if scalars:
            built_summaries.append((summary.scalars(scalars), frames[0].global_step, frames[0].walltime))
        for built, step, walltime in built_summaries:
            sink.add(built, step, walltime)


def _copied(tag_state):
    return None if tag_state is None else dataclasses.replace(tag_state, steps=set(tag_state.steps))


def summaries(state, frame):
    """[(summary, step, walltime)] of one frame (its shared probe images first, when this writer has
    not written them yet), recording in `state` what it holds."""
    check_kind(state, frame.tag, frame.kind)  # again: another thread may have claimed the tag since
    step = 0 if frame.global_step is None else frame.global_step  # what TensorBoard files it under
    known = state.tags.get(frame.tag)
    shared_key, shared_summary = _place_images(state, frame.display)
    built = frame.build(
        shared_images_key=shared_key,
        frames_written=(known.frames if known else 0) + 1,
        steps_written=(len(known.steps) + (step not in known.steps)) if known else 1,
        # TensorBoard keeps the first metadata of a tag only, so it is written once.
        with_metadata=known is None,
    )
    if shared_key is not None:
        _remember_images(state, shared_key)
    tag_state = state.tags.setdefault(frame.tag, TagState(frame.kind))
    tag_state.frames += 1
    tag_state.steps.add(step)
    written = [(built, frame.global_step, frame.walltime)]
    return ([(shared_summary, frame.global_step, frame.walltime)] if shared_summary is not None else []) + written


def _place_images(state, display):
    """Where a frame's images go: always the shared INPUTS tag named by their content, written the
    first time this writer meets the probe set. A fixed probe set logged at every step is so stored
    once, and every frame that survives TensorBoard's sampling can show it. A new writer on the same
    run (a resumed run, a second process) writes the set again under the same tag: the copies are
    the same bytes, and readers take any one of them.

    Returns (shared key, INPUTS summary to write first or None); the caller records the key only
    once the frame is written.
    """
    if not isinstance(display, stored_format.DisplayImages):
        return None, None  # token and signal inputs are stored in their frame
    key = display.content_key()
    if key in state.image_sets:
        return key, None
    return key, summary.shared_images(key, display)


def _remember_images(state, key):
    state.image_sets[key] = True
    state.image_sets.move_to_end(key)
    while len(state.image_sets) > _REMEMBERED_IMAGE_SETS:
        state.image_sets.popitem(last=False)
