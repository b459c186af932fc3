"""Input images for display: layouts, de-normalisation and their errors."""

import numpy as np
import pytest

from tb_saliency import format as stored_format


def test_float_images_in_unit_range_are_kept():
    images = np.linspace(0, 1, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    display = stored_format.to_display(images)
    assert display.display_transform == "none"
    assert display.pixels.shape == (2, 4, 4, 3) and display.pixels.dtype == np.uint8
    np.testing.assert_array_equal(display.pixels, np.rint(images.transpose(0, 2, 3, 1) * 255))


def test_mean_std_are_undone_per_channel():
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    original = np.random.default_rng(0).uniform(size=(2, 3, 5, 5))
    normalised = (original - mean[:, None, None]) / std[:, None, None]
    display = stored_format.to_display(normalised, mean=mean, std=std)
    assert display.display_transform == "mean_std"
    np.testing.assert_allclose(display.pixels / 255, original.transpose(0, 2, 3, 1), atol=0.5 / 255 + 1e-9)


def test_out_of_range_floats_are_stretched_per_image_and_say_so():
    images = np.stack([np.full((1, 2, 2), -3.0), np.full((1, 2, 2), 7.0)])
    images[0, 0, 0, 0] = 5.0
    display = stored_format.to_display(images)
    assert display.display_transform == "minmax"
    assert display.pixels[0].max() == 255 and display.pixels[0].min() == 0


def test_uint8_grayscale_and_channels_last():
    gray = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    display = stored_format.to_display(gray)
    assert display.pixels.shape == (2, 4, 4, 1)
    rgb_last = np.zeros((2, 4, 4, 3), np.uint8)
    assert stored_format.to_display(rgb_last, layout="NHWC").pixels.shape == (2, 4, 4, 3)


@pytest.mark.parametrize(
    "images, kwargs, error, message",
    [
        (np.zeros((4, 4)), {}, ValueError, r"images: expected a batch .* got an array of shape \(4, 4\)"),
        (np.zeros((2, 5, 4, 4)), {}, ValueError, r"images: expected 1 \(grey\), 2 \(grey\+alpha\), 3 \(RGB\) or 4"),
        (np.zeros((0, 3, 4, 4)), {}, ValueError, "images: expected at least one"),
        (np.full((1, 3, 2, 2), np.nan), {}, ValueError, "images: expected finite"),
        (np.zeros((1, 3, 2, 2)), {"mean": [0.5]}, ValueError, "mean, std: expected both"),
        (np.zeros((1, 3, 2, 2)), {"mean": [0.5, 0.5], "std": [1, 1]}, ValueError,
         r"mean: expected one number or one per image channel \(3\), got 2"),
        (np.zeros((1, 3, 2, 2), np.uint8), {"mean": 0.5, "std": 0.2}, ValueError, "uint8"),
        (np.zeros((1, 3, 2, 2)), {"layout": "CHWN"}, ValueError, "dataformats"),
        (np.array([[[["a"]]]]), {}, TypeError, "images: expected float or uint8"),
    ],
)
def test_bad_images_name_the_argument(images, kwargs, error, message):
    with pytest.raises(error, match=message):
        stored_format.to_display(images, **kwargs)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trip_is_lossless(channels):
    pixels = np.random.default_rng(0).integers(0, 256, size=(3, 7, 5, channels), dtype=np.uint8)
    display = stored_format.to_display(pixels, layout="NHWC")
    for png, original in zip(display.encode_png(), pixels):
        np.testing.assert_array_equal(stored_format.decode_png(png), original)
