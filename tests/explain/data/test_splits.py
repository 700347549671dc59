import numpy as np
import pytest

from emolens.explain.data import Dataset, split_validation, subset
from emolens.explain.data.labels import EMO3


def test_split_validation_is_stratified_seeded_and_disjoint():
    labels = np.repeat([0, 1, 2], [50, 100, 30])
    images = np.arange(len(labels), dtype=np.float32).reshape(-1, 1, 1, 1)
    dataset = Dataset(images, labels, EMO3, {"orig_index": np.arange(len(labels))})
    train, val = split_validation(dataset, fraction=0.1, seed=3)
    np.testing.assert_array_equal(np.bincount(val.labels), [5, 10, 3])
    np.testing.assert_array_equal(np.bincount(train.labels), [45, 90, 27])
    ids = np.concatenate([train.extras["orig_index"], val.extras["orig_index"]])
    np.testing.assert_array_equal(np.sort(ids), np.arange(len(labels)))
    np.testing.assert_array_equal(val.images[:, 0, 0, 0], val.extras["orig_index"])
    again = split_validation(dataset, fraction=0.1, seed=3)[1]
    np.testing.assert_array_equal(again.extras["orig_index"], val.extras["orig_index"])
    other = split_validation(dataset, fraction=0.1, seed=4)[1]
    assert not np.array_equal(other.extras["orig_index"], val.extras["orig_index"])


def test_split_validation_rejects_bad_fraction_and_tiny_classes():
    dataset = Dataset(np.zeros((5, 1, 1, 1), np.float32), np.array([0, 0, 1, 1, 2]), EMO3)
    with pytest.raises(ValueError, match="fraction must be between 0 and 1"):
        split_validation(dataset, fraction=1.5)
    with pytest.raises(ValueError, match="class.*sad have a single image"):
        split_validation(dataset)


def test_subset_is_seeded_keeps_order_and_extras_and_is_whole_when_larger():
    labels = np.arange(12) % 3
    dataset = Dataset(np.arange(12, dtype=np.float32).reshape(-1, 1, 1, 1), labels, EMO3)
    dataset.extras["orig_index"] = np.arange(12) * 10
    picked = subset(dataset, 4, seed=1)
    rows = np.sort(np.random.default_rng(1).permutation(12)[:4])
    np.testing.assert_array_equal(picked.images[:, 0, 0, 0], rows)
    np.testing.assert_array_equal(picked.labels, labels[rows])
    np.testing.assert_array_equal(picked.extras["orig_index"], rows * 10)
    assert subset(dataset, None) is dataset and subset(dataset, 12) is dataset
