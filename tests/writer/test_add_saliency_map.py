"""`SummaryWriter.add_saliency_map`: what it stores, and the errors that leave the log untouched."""

import numpy as np
import pytest
import torch

from tb_saliency import SummaryWriter
from tb_saliency import format as stored_format
from tests.support.events import summary_tags, summary_values


@pytest.fixture
def writer(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    yield writer
    writer.close()


def _frame(logdir, tag, index=-1):
    step, value = summary_values(logdir, tag)[index]
    return step, value, stored_format.decode_frame(list(value.tensor.string_val))


IMAGES = np.random.default_rng(0).uniform(size=(2, 3, 8, 8)).astype(np.float32)


def test_stores_one_frame_with_every_method_side_by_side(writer, tmp_path):
    maps = {"gradient": np.ones((2, 8, 8)), "gradcam": torch.arange(2 * 2 * 2.0).reshape(2, 2, 2)}
    writer.add_saliency_map("probe", IMAGES, maps, global_step=7, labels=[1, 0],
                            predictions=torch.tensor([1, 1]), scores=[0.9, 0.6],
                            class_names=["cat", "dog"])
    writer.flush()
    step, value, frame = _frame(tmp_path, "probe")
    assert step == 7
    info = stored_format.parse_plugin_data(value.metadata.plugin_data.content)
    assert info["map_keys"] == ["gradient", "gradcam"]
    assert info["class_names"] == ["cat", "dog"]
    np.testing.assert_allclose(frame.maps["gradcam"], maps["gradcam"].numpy(), rtol=1e-3)
    assert frame.header["samples"] == [
        {"label": 1, "prediction": 1, "score": 0.9},
        {"label": 0, "prediction": 1, "score": 0.6},
    ]


def test_single_map_takes_the_method_name_and_n1hw_shape(writer, tmp_path):
    writer.add_saliency_map("captum", IMAGES, np.zeros((2, 1, 4, 4)), method="captum_ig")
    writer.flush()
    _, _, frame = _frame(tmp_path, "captum")
    assert list(frame.maps) == ["captum_ig"] and frame.maps["captum_ig"].shape == (2, 4, 4)


def test_metadata_is_written_once_per_tag(writer, tmp_path):
    for step in range(3):
        writer.add_saliency_map("probe", IMAGES, np.ones((2, 4, 4)), global_step=step)
    writer.flush()
    values = summary_values(tmp_path, "probe")
    assert [v.HasField("metadata") for _, v in values] == [True, False, False]
    assert [stored_format.decode_frame(list(v.tensor.string_val)).header["frames_written"]
            for _, v in values] == [1, 2, 3]


def test_grayscale_and_channels_last_images(writer, tmp_path):
    writer.add_saliency_map("gray", np.zeros((2, 8, 8), np.uint8), np.ones((2, 4, 4)))
    writer.add_saliency_map("nhwc", np.zeros((2, 8, 8, 3)), np.ones((2, 4, 4)), dataformats="NHWC")
    writer.flush()
    assert _frame(tmp_path, "gray")[2].header["images"]["channels"] == 1
    assert _frame(tmp_path, "nhwc")[2].header["images"]["channels"] == 3


def test_scalars_and_images_keep_working_beside_saliency(writer, tmp_path):
    writer.add_scalar("loss", 0.5, 1)
    writer.add_image("picture", IMAGES[0], 1)
    writer.add_saliency_map("probe", IMAGES, np.ones((2, 4, 4)), global_step=1)
    writer.flush()
    tags = summary_tags(tmp_path)
    assert tags[:2] == ["loss", "picture"] and tags[3:] == ["probe", "_saliency_index/probe"]
    assert tags[2].startswith(stored_format.INPUTS_TAG_PREFIX)


BAD_CALLS = [
    ("wrong image rank", dict(images=np.zeros((8, 8)), maps=np.ones((2, 4, 4))),
     ValueError, r"images: expected a batch"),
    ("wrong map rank", dict(images=IMAGES, maps=np.ones((2, 4))), ValueError,
     r"maps: expected N×h×w .* got shape \(2, 4\)"),
    ("map per colour channel", dict(images=IMAGES, maps=np.ones((2, 3, 8, 8))), ValueError,
     r"maps\.sum\(1\)"),
    ("mismatched N", dict(images=IMAGES, maps=np.ones((3, 4, 4))), ValueError,
     r"maps: expected one map per image \(2\), got 3"),
    ("mismatched N in a dict", dict(images=IMAGES, maps={"a": np.ones((2, 4, 4)), "b": np.ones((1, 4, 4))}),
     ValueError, r"maps\['b'\]: expected one map per image \(2\), got 1"),
    ("NaN in maps", dict(images=IMAGES, maps=np.where(np.eye(4)[None] > 0, np.nan, 0) + np.zeros((2, 1, 1))),
     ValueError, r"maps: expected finite values, got NaN or infinity in sample\(s\) \[0, 1\]"),
    ("Inf in maps", dict(images=IMAGES, maps=torch.tensor([[[0.0, float("inf")]], [[0.0, 0.0]]])),
     ValueError, r"maps: expected finite values, got NaN or infinity in sample\(s\) \[0\]"),
    ("empty dict", dict(images=IMAGES, maps={}), ValueError, "maps: expected at least one method"),
    ("labels of wrong length", dict(images=IMAGES, maps=np.ones((2, 4, 4)), labels=[1]),
     ValueError, r"labels: expected one value per sample \(2\)"),
    ("label without a class name", dict(images=IMAGES, maps=np.ones((2, 4, 4)), labels=[0, 2],
                                        class_names=["a", "b"]),
     ValueError, "labels: class id 2 has no name"),
    ("float labels", dict(images=IMAGES, maps=np.ones((2, 4, 4)), labels=[0.5, 1.0]),
     TypeError, "labels: expected integer class ids"),
    ("NaN score", dict(images=IMAGES, maps=np.ones((2, 4, 4)), scores=[0.5, float("nan")]),
     ValueError, "scores: expected finite numbers"),
    ("class names not strings", dict(images=IMAGES, maps=np.ones((2, 4, 4)), class_names="abc"),
     TypeError, "class_names: expected a sequence of strings"),
    ("empty tag", dict(tag="", images=IMAGES, maps=np.ones((2, 4, 4))), TypeError,
     "tag: expected a non-empty string"),
    ("reserved tag", dict(tag="_saliency_inputs/x", images=IMAGES, maps=np.ones((2, 4, 4))),
     ValueError, "tag: names starting with"),
    ("bad dtype", dict(images=IMAGES, maps=np.ones((2, 4, 4)), dtype="int8"), ValueError,
     "dtype: expected one of"),
    ("bad step", dict(images=IMAGES, maps=np.ones((2, 4, 4)), global_step=1.5), TypeError,
     "global_step: expected an int"),
    ("step beyond int64", dict(images=IMAGES, maps=np.ones((2, 4, 4)), global_step=2**64), ValueError,
     r"global_step: expected an int from -2\*\*63 to 2\*\*63 - 1, got 18446744073709551616"),
    ("walltime not a number", dict(images=IMAGES, maps=np.ones((2, 4, 4)), walltime="abc"), TypeError,
     r"walltime: expected seconds since the epoch as a finite number, or None, got 'abc'"),
    ("walltime NaN", dict(images=IMAGES, maps=np.ones((2, 4, 4)), walltime=float("nan")), TypeError,
     r"walltime: expected .* got nan"),
    ("tag with a lone surrogate", dict(tag="probe\udc80", images=IMAGES, maps=np.ones((2, 4, 4))),
     ValueError, r"tag: expected text that UTF-8 can encode, .* surrogate at position 5"),
    ("tag with NUL", dict(tag="pro\0be", images=IMAGES, maps=np.ones((2, 4, 4))), ValueError,
     r"tag: expected a name without .* control characters .* got 'pro\\x00be' with NUL at position 3"),
    ("tag with a tab", dict(tag="a\tb", images=IMAGES, maps=np.ones((2, 4, 4))), ValueError,
     r"tag: expected a name without .* with the control character '\\t' at position 1"),
    ("tag with a double quote", dict(tag='a"b', images=IMAGES, maps=np.ones((2, 4, 4))), ValueError,
     r"tag: expected a name without .* double quote"),
    ("tag with a backslash", dict(tag="a\\b", images=IMAGES, maps=np.ones((2, 4, 4))), ValueError,
     r"tag: expected a name without .* backslash"),
    ("class name with a lone surrogate", dict(images=IMAGES, maps=np.ones((2, 4, 4)), class_names=["a", "\ud800"]),
     ValueError, r"class_names\[1\]: expected text that UTF-8 can encode"),
    ("method name with a lone surrogate", dict(images=IMAGES, maps={"x\ud800": np.ones((2, 4, 4))}),
     ValueError, r"maps: expected text that UTF-8 can encode"),
    ("index tag is reserved too", dict(tag="_saliency_index/probe", images=IMAGES, maps=np.ones((2, 4, 4))),
     ValueError, "tag: names starting with '_saliency_' are reserved"),
]


@pytest.mark.parametrize("case, kwargs, error, message", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises_a_clear_error_and_writes_nothing(writer, tmp_path, case, kwargs, error,
                                                           message):
    kwargs = dict(kwargs)
    tag = kwargs.pop("tag", "probe")
    with pytest.raises(error, match=message):
        writer.add_saliency_map(tag, kwargs.pop("images"), kwargs.pop("maps"), **kwargs)
    writer.flush()
    assert summary_tags(tmp_path) == []
    # The writer is still usable, and the next good frame is the tag's first, with its metadata.
    writer.add_saliency_map("probe", IMAGES, np.ones((2, 4, 4)))
    writer.flush()
    _, value = summary_values(tmp_path, "probe")[0]
    assert value.HasField("metadata")
