import numpy as np
import pytest

from emolens.explain.metrics import pointing_game, relevance_mass, top_k_iou


def _masks(n=4, size=12, seed=0):
    """Random rectangles, one per image: bool (n, size, size)."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), bool)
    for mask in masks:
        y, x = rng.integers(0, size - 4, 2)
        mask[y : y + rng.integers(2, 5), x : x + rng.integers(2, 5)] = True
    return masks


def test_a_map_equal_to_the_mask_scores_one_and_its_complement_zero():
    masks = _masks()
    maps = masks.astype(np.float32)
    for metric in (pointing_game, relevance_mass, top_k_iou):
        np.testing.assert_array_equal(metric(maps, masks), 1.0)
        np.testing.assert_array_equal(metric(1.0 - maps, masks), 0.0)
        assert metric(maps, masks).dtype == np.float32


def test_random_maps_score_at_chance():
    """2000 uniform random maps against one 6x6 mask on 12x12 (area fraction a = 0.25).

    Expected: mass a (std of the mean ~0.001), hit rate a (binomial std ~0.01), top-k IoU
    ~ a / (2 - a) = 0.143 (+0.0015 from the hypergeometric spread). Tolerances ~4 std.
    """
    rng = np.random.default_rng(0)
    masks = np.zeros((2000, 12, 12), bool)
    masks[:, 3:9, 2:8] = True
    maps = rng.random((2000, 12, 12)).astype(np.float32)
    assert abs(relevance_mass(maps, masks).mean() - 0.25) < 0.005
    assert abs(pointing_game(maps, masks).mean() - 0.25) < 0.04
    assert abs(top_k_iou(maps, masks).mean() - 0.25 / 1.75) < 0.01


def test_relevance_mass_known_values():
    maps = np.zeros((2, 4, 4), np.float32)
    maps[0, 0, 0], maps[0, 3, 3] = 3.0, 1.0  # 3 inside, 1 outside
    masks = np.zeros((2, 4, 4), bool)
    masks[:, :2, :2] = True
    np.testing.assert_allclose(relevance_mass(maps, masks), [0.75, 0.0])  # all-zero map: 0


def test_pointing_game_ties_and_tolerance():
    masks = np.zeros((1, 9, 9), bool)
    masks[0, 4, 4] = True
    peak = np.zeros((1, 9, 9), np.float32)
    peak[0, 4, 6] = 1.0  # 2 px right of the mask
    assert pointing_game(peak, masks)[0] == 0.0
    assert pointing_game(peak, masks, tolerance=1.5)[0] == 0.0
    assert pointing_game(peak, masks, tolerance=2)[0] == 1.0
    flat = np.ones((1, 9, 9), np.float32)
    assert pointing_game(flat, masks)[0] == 0.0  # a flat map points nowhere
    assert pointing_game(flat, np.ones((1, 9, 9), bool))[0] == 1.0
    two = np.zeros((1, 9, 9), np.float32)
    two[0, 4, 4] = two[0, 0, 0] = 1.0  # a tie outside the mask: miss
    assert pointing_game(two, masks)[0] == 0.0


def test_top_k_iou_counts():
    maps = np.arange(16, dtype=np.float32)[::-1].reshape(1, 4, 4)  # pixel 0 best
    masks = np.zeros((1, 4, 4), bool)
    masks[0, 0, :] = True  # pixels 0..3
    np.testing.assert_allclose(top_k_iou(maps, masks, k=2), [2 / 4])
    np.testing.assert_allclose(top_k_iou(maps, masks, k=8), [4 / 8])
    np.testing.assert_allclose(top_k_iou(maps, masks, k=0.5), [4 / 8])
    with pytest.raises(ValueError, match=r"k must be None .* got 0"):
        top_k_iou(maps, masks, k=0)


def test_localisation_errors():
    maps = np.ones((2, 4, 4), np.float32)
    with pytest.raises(ValueError, match=r"same shape; got maps \(2, 4, 4\) and masks \(4, 4\)"):
        relevance_mass(maps, np.ones((4, 4), bool))
    with pytest.raises(ValueError, match=r"masks \[1\] are empty"):
        pointing_game(maps, np.stack([np.ones((4, 4), bool), np.zeros((4, 4), bool)]))
    with pytest.raises(ValueError, match=r"non-negative maps.*np.maximum"):
        top_k_iou(-maps, np.ones((2, 4, 4), bool))
    with pytest.raises(ValueError, match="bool \\(or 0/1\\) masks"):
        relevance_mass(maps, np.full((2, 4, 4), 0.5))
