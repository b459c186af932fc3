"""Reads back what a writer put in its event files, to check what was (not) written."""

import glob

from tensorboard.backend.event_processing import event_file_loader


def summary_tags(logdir):
    """Every summary value's tag in every event file under `logdir`, in write order."""
    tags = []
    for path in sorted(glob.glob(f"{logdir}/**/events.out.tfevents.*", recursive=True)):
        for event in event_file_loader.LegacyEventFileLoader(path).Load():
            tags.extend(value.tag for value in event.summary.value)
    return tags


def summary_values(logdir, tag):
    """(step, value) of every summary value with `tag`, in write order."""
    found = []
    for path in sorted(glob.glob(f"{logdir}/**/events.out.tfevents.*", recursive=True)):
        for event in event_file_loader.LegacyEventFileLoader(path).Load():
            found.extend((event.step, v) for v in event.summary.value if v.tag == tag)
    return found
