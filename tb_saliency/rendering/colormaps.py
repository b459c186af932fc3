"""The colormaps of the Saliency tab, read from the file the dashboard's tables are generated from
(`tb_saliency/proto/colormaps.json`), so both draw with the same 256 colours."""

import functools
import json
import pathlib

import numpy as np

COLORMAP_FILE = pathlib.Path(__file__).resolve().parent.parent / "proto" / "colormaps.json"


@functools.lru_cache(maxsize=None)
def _spec():
    return json.loads(COLORMAP_FILE.read_text(encoding="utf-8"))


def sequential():
    return tuple(_spec()["sequential"])


def diverging():
    return tuple(_spec()["diverging"])


def names():
    return sequential() + diverging()


@functools.lru_cache(maxsize=None)
def table(name):
    """256×3 uint8: the colour of positions 0, 1/255, …, 1."""
    hexes = _spec()["tables"][name]
    out = np.frombuffer(bytes.fromhex(hexes), dtype=np.uint8).reshape(256, 3)
    out.flags.writeable = False
    return out
