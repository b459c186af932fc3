"""Hostile requests and image headers of issue 15 (item 7), for the in-process and the real-loader
tests: a blob key whose JSON nests too deep for TensorBoard to decode, and image headers that claim
no pixels or far too many."""

import base64
import io

from PIL import Image

from tb_saliency.proto import saliency_pb2
from tests.support import hostile, raw

BRACKETS = 10_000
# TensorBoard's Python loader base64-decodes a key, then json.loads it: this nesting raises RecursionError.
NESTED_KEY = base64.urlsafe_b64encode(("[" * BRACKETS + "]" * BRACKETS).encode()).decode().rstrip("=")
RAW_BRACKETS_KEY = "[" * BRACKETS + "]" * BRACKETS

# tag → (width, height) the header claims, and what /frame says of it.
IMAGE_CLAIMS = {
    "no_pixels": ((0, 0), "images has an empty shape (0, 0, 3)"),
    "too_many_pixels": ((100_000, 100_000), "images claims 30000000000 values, more than a frame can hold"),
}


def write_image_claims(logdir):
    """Run "images": one frame per IMAGE_CLAIMS tag, its header claiming that size for a 2×2 PNG."""
    values = []
    for tag, ((width, height), _) in IMAGE_CLAIMS.items():
        header = hostile.one_map_header(blob=2)
        header.images.CopyFrom(saliency_pb2.ImageSet(width=width, height=height, channels=3, first_blob=1))
        values.append(raw.blob_value(tag, [header.SerializeToString(), _png(), hostile.MAP_BLOB]))
    raw.write_values(f"{logdir}/images", [(0, 1.0, values)])


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    return buffer.getvalue()
