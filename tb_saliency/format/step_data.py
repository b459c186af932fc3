"""The body of `/step_data`: one step's JSON and every blob it names, in one binary answer, laid out as
`tb_saliency/proto/layout.json` ("step_data") says; the dashboard parses it with the same constants
(frontend/src/data/step_body.ts).

The blobs pass through unchanged (PNG, map arrays in whatever encoding their header announces): this
is a transport, not a stored format, and has its own version.
"""

import struct

from tb_saliency.format.errors import FormatError
from tb_saliency.format.layout import BYTE_ORDER, LAYOUT

_SPEC = LAYOUT["step_data"]
MAGIC = _SPEC["magic"].encode("ascii")
VERSION = _SPEC["version"]
ALIGNMENT = _SPEC["alignment"]
_HEAD = struct.Struct(BYTE_ORDER + "4sIII")
_BLOB_HEAD = struct.Struct(BYTE_ORDER + "II")
assert _HEAD.size == _SPEC["head_bytes"] and _BLOB_HEAD.size == _SPEC["blob_head_bytes"]
_LIMIT = 2**32 - 1


def _padding(length):
    return b"\0" * (-length % ALIGNMENT)


def encode(json_text, blobs):
    """The body of a step: `json_text` (a str) and `blobs`, (key, bytes) pairs in the order given."""
    text = json_text.encode("utf-8")
    if len(text) > _LIMIT:
        raise ValueError(f"step_data: the JSON holds {len(text)} bytes, more than {_LIMIT}")
    parts = [_HEAD.pack(MAGIC, VERSION, len(text), len(blobs)), text, _padding(len(text))]
    for key, data in blobs:
        name = key.encode("utf-8")
        if len(name) > _LIMIT or len(data) > _LIMIT:
            raise ValueError(f"step_data: blob {key[:40]!r} or its key is longer than {_LIMIT} bytes")
        parts += [_BLOB_HEAD.pack(len(name), len(data)), name, _padding(len(name)), data, _padding(len(data))]
    return b"".join(parts)


def decode(body):
    """(JSON text, {key: bytes}) of a body; FormatError naming what is wrong when it is not one."""
    body = memoryview(body)
    if len(body) < _HEAD.size:
        raise FormatError(f"step_data body holds {len(body)} bytes, fewer than its {_HEAD.size}-byte head")
    magic, version, json_bytes, count = _HEAD.unpack_from(body, 0)
    if magic != MAGIC:
        raise FormatError(f"step_data body starts with {bytes(magic)!r}, not {MAGIC!r}")
    if version != VERSION:
        raise FormatError(f"step_data body has version {version}; this reader reads version {VERSION}")
    offset = _HEAD.size

    def take(length, what):
        nonlocal offset
        end = offset + length
        padded = end + (-length % ALIGNMENT)
        if padded > len(body):
            raise FormatError(f"step_data body ends inside {what} (needs {padded} bytes, holds {len(body)})")
        piece = bytes(body[offset:end])
        offset = padded
        return piece

    try:
        text = take(json_bytes, "its JSON").decode("utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(f"step_data JSON is not UTF-8: {error}") from None
    blobs = {}
    for i in range(count):
        if offset + _BLOB_HEAD.size > len(body):
            raise FormatError(f"step_data body ends before blob {i} of {count}")
        key_bytes, blob_bytes = _BLOB_HEAD.unpack_from(body, offset)
        offset += _BLOB_HEAD.size
        try:
            key = take(key_bytes, f"the key of blob {i}").decode("utf-8")
        except UnicodeDecodeError as error:
            raise FormatError(f"step_data key of blob {i} is not UTF-8: {error}") from None
        if key in blobs:
            raise FormatError(f"step_data body holds blob {key[:40]!r} twice")
        blobs[key] = take(blob_bytes, f"blob {i}")
    if offset != len(body):
        raise FormatError(f"step_data body holds {len(body) - offset} bytes after its last blob")
    return text, blobs
