import numpy as np
import pytest

from emolens.explain.data.ferplus import FERPLUS_COLUMNS, ferplus_distribution
from emolens.explain.data.labels import EMO3, FER7


def test_each_class_reads_its_own_column():
    for k, name in enumerate(FER7):
        votes = np.zeros((1, 10), np.int16)
        column = {"angry": "anger", "happy": "happiness", "sad": "sadness"}.get(name, name)
        votes[0, FERPLUS_COLUMNS.index(column)] = 5
        distribution, valid = ferplus_distribution(votes, FER7)
        assert valid.all() and distribution[0].argmax() == k and distribution[0, k] == 1.0


def test_votes_outside_the_class_set_are_dropped_before_normalising():
    # neutral 2, happiness 3, sadness 1, contempt 4, NF 1
    votes = np.array([[2, 3, 0, 1, 0, 0, 0, 4, 0, 1], [-1] * 10], np.int16)
    distribution, valid = ferplus_distribution(votes, EMO3)
    np.testing.assert_allclose(distribution[0], [0.0, 0.75, 0.25])
    assert valid.tolist() == [True, False] and distribution[1].tolist() == [0, 0, 0]


def test_bad_shapes_and_classes_are_named():
    with pytest.raises(ValueError, match=r"must be \(N, 10\).*got shape \(2, 7\)"):
        ferplus_distribution(np.zeros((2, 7)), EMO3)
    with pytest.raises(ValueError, match="No FERPlus column for class\\(es\\) contempt"):
        ferplus_distribution(np.zeros((2, 10)), ("happy", "contempt"))
