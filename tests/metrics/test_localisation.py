"""The pointing game and the energy-based pointing game: exact values, boundaries, ties, boxes, errors."""

import math

import numpy as np
import pytest
import torch

from tb_saliency.metrics import energy_pointing_game, pointing_game


def one_pixel(n, h, w, points):
    masks = torch.zeros(n, h, w, dtype=torch.bool)
    for i, (row, col) in enumerate(points):
        masks[i, row, col] = True
    return masks


def peak(h, w, row, col, value=1.0):
    m = torch.zeros(h, w)
    m[row, col] = value
    return m


def test_hit_exactly_at_the_tolerance_and_miss_just_beyond():
    # The maximum at (3, 4), the only mask pixel at (0, 0): distance 5.
    maps = peak(8, 8, 3, 4)[None].expand(4, 8, 8)
    masks = one_pixel(4, 8, 8, [(0, 0)] * 4)
    for tolerance, hit in ((5, True), (5.0, True), (4.999, False), (0, False)):
        result = pointing_game(maps, masks, tolerance=tolerance)
        assert result.hits.tolist() == [hit] * 4 and result.hits.dtype == torch.bool
        assert result.points.tolist() == [[3, 4]] * 4
        assert result.distances.tolist() == [5.0] * 4
    assert pointing_game(maps, masks, tolerance=5).accuracy == 1.0


def test_the_nearest_mask_pixel_counts_and_the_default_tolerance_is_15():
    maps = torch.stack([peak(40, 40, 20, 20), peak(40, 40, 20, 20), peak(40, 40, 0, 39)])
    masks = torch.zeros(3, 40, 40, dtype=torch.bool)
    masks[0, 20, 35] = True  # 15 to the right: a hit
    masks[1, 32, 29] = True  # 12 down, 9 right: 15 again, a hit
    masks[1, 39, 39] = True
    masks[2, 39, 0] = True  # far corner
    result = pointing_game(maps, masks)
    assert result.hits.tolist() == [True, True, False]
    torch.testing.assert_close(result.distances, torch.tensor([15.0, 15.0, 39 * 2**0.5]))
    assert result.options["tolerance"] == 15.0


def test_ties_go_to_the_first_maximum_in_raster_order():
    m = torch.zeros(1, 6, 6)
    m[0, 0, 5] = m[0, 5, 0] = 1.0  # (0, 5) comes first in raster order
    assert pointing_game(m, one_pixel(1, 6, 6, [(5, 0)]), tolerance=0).hits.tolist() == [False]
    assert pointing_game(m, one_pixel(1, 6, 6, [(0, 5)]), tolerance=0).hits.tolist() == [True]
    # A constant map points at its first pixel, so it does not hit everywhere.
    flat = torch.ones(1, 6, 6)
    assert pointing_game(flat, one_pixel(1, 6, 6, [(3, 3)]), tolerance=0).points.tolist() == [[0, 0]]
    assert pointing_game(flat, one_pixel(1, 6, 6, [(3, 3)]), tolerance=0).hits.tolist() == [False]


def test_low_resolution_maps_are_upsampled_bilinearly_to_the_mask():
    # A 2×2 map with its peak bottom-right becomes a 4×4 map whose unique maximum is (3, 3).
    maps = torch.tensor([[[0.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 0.0]]])
    masks = one_pixel(2, 4, 4, [(3, 3), (3, 3)])
    result = pointing_game(maps, masks, tolerance=0)
    assert result.points.tolist() == [[3, 3], [0, 3]] and result.hits.tolist() == [True, False]
    assert result.options["upsampling"] == "bilinear, align_corners=False"
    assert result.options["map_size"] == [2, 2] and result.options["size"] == [4, 4]


def test_boxes_are_half_open_pixel_ranges_and_a_list_takes_several_per_sample():
    h, w = 10, 12
    maps = torch.stack([peak(h, w, 5, 6), peak(h, w, 4, 6), peak(h, w, 5, 7), peak(h, w, 9, 11)])
    # x0=2, y0=1, x1=7, y1=5: columns 2..6, rows 1..4.
    box = [2, 1, 7, 5]
    result = pointing_game(maps, boxes=torch.tensor([box] * 4), size=(h, w), tolerance=0)
    assert result.hits.tolist() == [False, True, False, False]
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[1:5, 2:7] = True
    same = pointing_game(maps, mask.expand(4, h, w), tolerance=0)
    assert torch.equal(result.hits, same.hits) and torch.equal(result.distances, same.distances)
    several = pointing_game(maps, boxes=[box, box, [box, [7, 5, 8, 6]], np.array([[0, 0, 1, 1], [11, 9, 12, 10]])],
                            size=(h, w), tolerance=0)
    assert several.hits.tolist() == [False, True, True, True]
    assert several.options["region"] == "boxes"


def test_an_n_by_4_tensor_gives_each_sample_its_own_box():
    # Sample 0's box holds sample 1's peak and the reverse: a box lent to the wrong sample turns
    # misses into hits; the energy game sees the same boxes.
    h, w = 6, 8
    maps = torch.stack([peak(h, w, 1, 1), peak(h, w, 4, 6)])
    boxes = torch.tensor([[5, 3, 8, 6], [0, 0, 3, 3]])
    result = pointing_game(maps, boxes=boxes, size=(h, w), tolerance=0)
    assert result.hits.tolist() == [False, False]
    swapped = pointing_game(maps, boxes=boxes.flip(0), size=(h, w), tolerance=0)
    assert swapped.hits.tolist() == [True, True]
    energy = energy_pointing_game(maps, boxes=boxes, size=(h, w))
    assert energy.energy.tolist() == [0.0, 0.0]
    torch.testing.assert_close(energy.mask_fraction, torch.full((2,), 9 / 48, dtype=energy.mask_fraction.dtype))


def test_energy_is_the_share_of_positive_mass_in_the_mask():
    maps = torch.tensor(
        [
            [[1.0, -1.0], [2.0, 3.0]],
            [[0.0, 0.0], [0.0, 0.0]],
            [[-1.0, -2.0], [-3.0, -4.0]],
            [[0.0, 5.0], [0.0, 0.0]],
        ]
    )
    masks = torch.tensor([[[True, False], [False, True]]] * 4)
    result = energy_pointing_game(maps, masks)
    torch.testing.assert_close(result.energy, torch.tensor([4 / 6, 0.0, 0.0, 0.0]), rtol=0, atol=1e-7)
    torch.testing.assert_close(result.mask_fraction, torch.full((4,), 0.5))
    all_in = energy_pointing_game(maps[:1], torch.ones(1, 2, 2, dtype=torch.bool))
    assert all_in.energy.tolist() == [1.0]


def test_energy_of_an_upsampled_constant_map_is_the_mask_area():
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[0, :2] = True
    masks[1, 3:6, 3:5] = True
    result = energy_pointing_game(torch.full((2, 1, 1), 0.3), masks)
    torch.testing.assert_close(result.energy, torch.tensor([16 / 64, 6 / 64]))
    torch.testing.assert_close(result.energy, result.mask_fraction)


def test_arrays_n1hw_and_integer_masks_are_accepted_on_the_maps_device_and_dtype():
    maps = np.random.default_rng(0).random((2, 1, 5, 5))
    masks = np.zeros((2, 1, 5, 5), dtype=np.uint8)
    masks[:, 0, 2, 2] = 1
    result = energy_pointing_game(maps, masks)
    assert result.energy.dtype == torch.float64 and result.energy.shape == (2,)
    expected = maps[:, 0, 2, 2] / maps.reshape(2, -1).sum(axis=1)
    np.testing.assert_allclose(result.energy.numpy(), expected, rtol=1e-12)


def boxes(value, size=(4, 4)):
    return {"masks": None, "boxes": value, "size": size}


BAD = [
    ({"masks": torch.ones(3, 4, 4, dtype=torch.bool)}, ValueError, r"masks: expected 2 masks \(one per map\), got 3"),
    ({"masks": torch.ones(2, 4, dtype=torch.bool)}, ValueError, r"masks: expected boolean masks shaped N×H×W"),
    ({"masks": torch.full((2, 4, 4), 2)}, ValueError, r"masks: expected booleans \(or numbers that are all 0 or 1\)"),
    ({"masks": torch.zeros(2, 4, 4, dtype=torch.bool)}, ValueError, r"masks: the mask of sample 0 covers no pixel"),
    ({"masks": None}, TypeError, r"masks: give either masks .* or boxes="),
    ({"boxes": [[0, 0, 1, 1]] * 2}, TypeError, r"masks: give either masks .* or boxes="),
    (boxes(torch.tensor([[0, 0, 2, 2]] * 2), size=None), ValueError, r"size: expected the image size \(H, W\)"),
    (boxes(torch.tensor([[0, 0, 2, 2]] * 3)), ValueError, r"boxes: expected 2 boxes"),
    (boxes(torch.tensor([[0, 0, 2, 2, 2]] * 2)), ValueError, r"boxes: expected N×4"),
    (boxes([[2, 0, 2, 2]] * 2), ValueError, r"boxes\[0\]: expected x1 > x0 and y1 > y0"),
    (boxes([[4, 4, 6, 6]] * 2), ValueError, r"boxes: the box of sample 0 covers no pixel"),
    (boxes([[0, 0, 1, 1]]), ValueError, r"boxes: expected 2 items"),
    ({"size": (4, 4)}, ValueError, r"size: only used with boxes"),
    ({"maps": torch.ones(2, 3, 4, 4)}, ValueError, r"maps: expected one map per sample shaped N×h×w"),
    ({"maps": torch.tensor([[[float("inf")]]] * 2)}, ValueError, r"maps: map 0 holds NaN or infinite values"),
    ({"maps": torch.ones(2, 4, 4, dtype=torch.bool)}, TypeError, r"maps: expected real-valued maps, got dtype"),
    ({"maps": "map"}, TypeError, r"maps: expected a torch.Tensor or a numpy array, got 'map'"),
]


@pytest.mark.parametrize("metric", [pointing_game, energy_pointing_game])
@pytest.mark.parametrize("change, error, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_fail_naming_the_argument(metric, change, error, message):
    arguments = {"maps": torch.rand(2, 4, 4), "masks": torch.ones(2, 4, 4, dtype=torch.bool)}
    arguments.update(change)
    maps, masks = arguments.pop("maps"), arguments.pop("masks")
    with pytest.raises(error, match=message):
        metric(maps, masks, **arguments)


@pytest.mark.parametrize("tolerance", [-1, float("nan"), float("inf"), "15", True])
def test_bad_tolerance(tolerance):
    with pytest.raises(ValueError, match="tolerance: expected a finite number >= 0"):
        pointing_game(torch.rand(1, 2, 2), torch.ones(1, 2, 2, dtype=torch.bool), tolerance=tolerance)


def test_distances_beyond_float32s_integers_are_compared_and_stored_exactly():
    # The maximum at (0, 0), the one mask pixel at (4096, 1): squared distance 2^24 + 1, which float32
    # rounds to 2^24. The tolerance's square lies between the two, so only exact arithmetic misses.
    maps = torch.zeros(1, 4097, 2, dtype=torch.float64)
    maps[0, 0, 0] = 1.0
    masks = one_pixel(1, 4097, 2, [(4096, 1)])
    result = pointing_game(maps, masks, tolerance=math.sqrt(2**24 + 0.5))
    assert result.hits.tolist() == [False]
    assert result.distances.dtype == torch.float64 and result.distances.tolist() == [math.sqrt(2**24 + 1)]
    assert pointing_game(maps, masks, tolerance=math.sqrt(2**24 + 1)).hits.tolist() == [True]


def test_each_result_records_how_it_was_computed():
    maps = torch.zeros(1, 4, 6)
    maps[0, 1, 1] = 1.0
    boxes = torch.tensor([[0, 0, 2, 2]])
    assert pointing_game(maps, boxes=boxes, size=(4, 6)).options == {
        "tolerance": 15, "ties": "first in raster order", "region": "boxes",
        "box_convention": "x0, y0, x1, y1 in pixels; x1, y1 exclusive",
        "map_size": [4, 6], "size": [4, 6], "upsampling": "none",
    }
    masks = torch.zeros(1, 8, 12, dtype=torch.bool)
    masks[0, 2, 2] = True
    assert energy_pointing_game(maps, masks).options == {
        "relu": True, "no_positive_mass": 0.0, "region": "masks",
        "map_size": [4, 6], "size": [8, 12], "upsampling": "bilinear, align_corners=False",
    }
