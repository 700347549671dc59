"""`as_targets`, behind every explainer's `targets`: ints, class names, or a mix, per image."""

import numpy as np
import pytest

from emolens.explain._batch import as_targets

CLASSES = ("angry", "happy", "sad")


def test_every_form_becomes_one_index_per_image():
    assert as_targets(None, 3, 3, CLASSES) is None
    np.testing.assert_array_equal(as_targets(2, 3, 3), [2, 2, 2])
    np.testing.assert_array_equal(as_targets("happy", 2, 3, CLASSES), [1, 1])
    np.testing.assert_array_equal(as_targets(np.array([0, 2, 1]), 3, 3), [0, 2, 1])
    np.testing.assert_array_equal(as_targets(["sad", "angry"], 2, 3, CLASSES), [2, 0])
    # a mix: before, numpy turned the 0 into the string "0" ("Unknown class name '0'")
    np.testing.assert_array_equal(as_targets([0, "happy", np.int64(2)], 3, 3, CLASSES), [0, 1, 2])
    assert as_targets([0, "happy"], 2, 3, CLASSES).dtype == np.int32


def test_names_without_class_names_say_how_to_fix_it():
    # before: "Targets must be ints or class names; got dtype <U5", for class names
    with pytest.raises(ValueError, match=r"\['happy', 'sad'\] are class names but the model has"):
        as_targets(["happy", "sad"], 2, 3)
    with pytest.raises(ValueError, match=r"set model\.class_names = \[\.\.\.\]"):
        as_targets(np.array(["happy", "sad"]), 2, 3)
    with pytest.raises(ValueError, match=r"ints or class names; got \[0\.5, 1\.0\]"):
        as_targets([0.5, 1.0], 2, 3)
    with pytest.raises(ValueError, match="Got 3 targets for 2 images"):
        as_targets([0, 1, 2], 2, 3)
    with pytest.raises(ValueError, match="Target class 3 is out of range"):
        as_targets([0, 3], 2, 3)
