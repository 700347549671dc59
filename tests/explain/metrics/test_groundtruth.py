import numpy as np
import pytest

from emolens import explain, models
from emolens.explain.metrics import pointing_game, relevance_mass
from emolens.explain.metrics.benchmark import accuracy
from emolens.explain.metrics.groundtruth import (
    MARK_SIZE,
    add_mark,
    deciding_faces,
    mark_masks,
    part_region,
)


def test_a_map_equal_to_the_deciding_mask_scores_one():
    batch = deciding_faces(9, seed=3)
    truth = batch.masks["mouth"]
    maps = truth.astype(np.float32)
    np.testing.assert_array_equal(relevance_mass(maps, truth), 1.0)
    np.testing.assert_array_equal(pointing_game(maps, truth), 1.0)
    other = batch.masks["brows"].astype(np.float32)  # brows never overlap the mouth
    np.testing.assert_array_equal(relevance_mass(other, truth), 0.0)


def test_deciding_faces_are_seeded_and_checked():
    np.testing.assert_array_equal(
        deciding_faces(4, seed=1).images, deciding_faces(4, seed=1).images
    )
    with pytest.raises(ValueError, match="part="):
        deciding_faces(4, part="nose")


def test_the_mark_sits_in_the_labels_corner_and_changes_nothing_else():
    images = np.full((3, 48, 48, 1), 0.5, np.float32)
    marked, masks = add_mark(images, np.array([0, 1, 2]))
    np.testing.assert_array_equal(masks, mark_masks(np.array([0, 1, 2])))
    assert masks[0, :MARK_SIZE, :MARK_SIZE].all() and masks[1, :MARK_SIZE, -MARK_SIZE:].all()
    assert masks[2, -MARK_SIZE:, :MARK_SIZE].all() and masks.sum() == 3 * MARK_SIZE**2
    np.testing.assert_array_equal(marked[~masks], 0.5)
    assert set(np.unique(marked[masks])) == {0.0, 1.0}


def _test_faces(n=45):
    batch = deciding_faces(n, seed=12)
    marked, mark = add_mark(batch.images, batch.labels)
    return batch, marked, mark


def test_the_ground_truth_models_grad_cam_finds_the_mouth():
    model = models.load("mouth_emo3")
    batch, _, _ = _test_faces()
    assert accuracy(model, batch.images, batch.labels) > 0.8
    maps = explain.grad_cam(model, batch.images, batch.labels)
    regions = {part: part_region(batch.masks[part]) for part in ("mouth", "eyes", "brows")}
    mass = {part: relevance_mass(maps, region).mean() for part, region in regions.items()}
    assert mass["mouth"] > 3 * regions["mouth"].mean()  # chance: the region's area, ~10%
    assert mass["mouth"] > 1.5 * max(mass["eyes"], mass["brows"])  # brows/eyes say nothing
    assert pointing_game(maps, regions["mouth"]).mean() > 0.5


def test_part_region_grows_the_mask_by_a_disk():
    masks = np.zeros((1, 15, 15), bool)
    masks[0, 7, 7] = True
    grown = part_region(masks, 3)[0]
    rows, cols = np.nonzero(grown)
    assert np.hypot(rows - 7, cols - 7).max() <= 3 and grown[7, 4] and grown[4, 7]
    assert not grown[4, 4]  # a disk, not a square
    np.testing.assert_array_equal(part_region(masks, 0), masks)


def test_the_shortcut_model_needs_the_mark_and_its_maps_move_there():
    clean, shortcut = models.load("mouth_emo3"), models.load("shortcut_emo3")
    batch, marked, mark = _test_faces()
    on_clean = accuracy(shortcut, batch.images, batch.labels)
    on_marked = accuracy(shortcut, marked, batch.labels)
    assert on_marked > 0.95 and on_clean < on_marked - 0.3
    mouth = part_region(batch.masks["mouth"])
    for method in ("grad_cam", "saliency", "occlusion"):
        shortcut_maps = explain.METHODS[method](shortcut, marked, batch.labels)
        clean_maps = explain.METHODS[method](clean, marked, batch.labels)
        shortcut_mouth = relevance_mass(shortcut_maps, mouth).mean()
        assert shortcut_mouth < relevance_mass(clean_maps, mouth).mean() / 3, method
        if method != "grad_cam":  # Grad-CAM's channel means blur a max-pooled model's maps
            shortcut_mark = relevance_mass(shortcut_maps, mark).mean()
            assert shortcut_mark > relevance_mass(clean_maps, mark).mean() + 0.04, method
