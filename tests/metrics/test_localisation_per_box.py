"""The pointing games per box: several boxes of one sample give one result each."""

import pytest
import torch

from tb_saliency.metrics import energy_pointing_game, pointing_game


def peaked_maps():
    maps = torch.zeros(2, 10, 10)
    maps[0, 2, 3] = 1.0  # row 2, column 3
    maps[1, 8, 8] = 2.0
    maps[1, 0, 0] = 1.0
    return maps


def test_each_box_is_its_own_hit():
    boxes = [[[2, 1, 5, 4], [6, 6, 9, 9]], [[7, 7, 10, 10]]]
    result = pointing_game(peaked_maps(), boxes=boxes, size=(10, 10), tolerance=0, per_box=True)
    assert result.hits.tolist() == [True, False, True]
    assert result.samples.tolist() == [0, 0, 1]
    assert result.points.tolist() == [[2, 3], [2, 3], [8, 8]]
    assert result.accuracy == pytest.approx(2 / 3)
    # Without per_box the sample hits when it hits any of its boxes.
    union = pointing_game(peaked_maps(), boxes=boxes, size=(10, 10), tolerance=0)
    assert union.hits.tolist() == [True, True] and union.samples is None


def test_energy_per_box_is_the_share_inside_that_box():
    boxes = [[[0, 0, 5, 5], [5, 5, 10, 10]], [[7, 7, 10, 10]]]
    result = energy_pointing_game(peaked_maps(), boxes=boxes, size=(10, 10), per_box=True)
    assert result.energy.tolist() == pytest.approx([1.0, 0.0, 2 / 3])
    assert result.mask_fraction.tolist() == pytest.approx([0.25, 0.25, 0.09])
    assert result.samples.tolist() == [0, 0, 1]


def test_per_box_needs_boxes_that_cover_a_pixel():
    with pytest.raises(ValueError, match="per_box: .* needs boxes="):
        pointing_game(peaked_maps(), torch.ones(2, 10, 10, dtype=torch.bool), per_box=True)
    with pytest.raises(ValueError, match="boxes: box 1 \\(of sample 0\\) covers no pixel"):
        energy_pointing_game(peaked_maps(), boxes=[[[0, 0, 5, 5], [20, 20, 30, 30]], [[0, 0, 1, 1]]],
                             size=(10, 10), per_box=True)
    with pytest.raises(TypeError, match="per_box"):
        pointing_game(peaked_maps(), boxes=[[0, 0, 5, 5], [0, 0, 5, 5]], size=(10, 10), per_box="yes")
