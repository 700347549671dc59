"""Every method registered in explain.METHODS honours the one explainer contract.

Registering a method enrols it here. Attention methods (names starting 'attention' or 'vit',
or methods that reject the CNN with a ValueError that mentions attention) get a tiny ViT.
"""

import keras
import numpy as np
import pytest

from emolens.explain import METHODS
from tests.toy_models import tiny_cnn

CLASSES = ("angry", "happy", "sad")
OPTIONS = {  # small settings for slow methods; anything else runs with its defaults
    "smoothgrad": {"n_samples": 4},
    "integrated_gradients": {"steps": 4},
    "rise": {"n_masks": 32, "cells": 4},
    "occlusion": {"patch": 4, "stride": 4},
    "score_cam": {"top_k": 4},
}
TARGET_FORMS = [None, 1, np.array([0, 2, 1]), "happy"]


def _with_classes(model: keras.Model) -> keras.Model:
    model.class_names = CLASSES
    return model


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).random((3, 12, 12, 1), dtype=np.float32)
    return _with_classes(tiny_cnn((12, 12, 1), num_classes=3)), images


@pytest.fixture(scope="module")
def vit():
    from emolens.models.architectures.vit import build_vit

    keras.utils.set_random_seed(0)
    model = build_vit((16, 16, 1), num_classes=3, patch_size=4, dim=16, depth=2, heads=2)
    images = np.random.default_rng(0).random((3, 16, 16, 1), dtype=np.float32)
    return _with_classes(model), images


def _needs_vit(name: str, method, cnn) -> bool:
    if name.startswith(("attention", "vit")):
        return True
    model, images = cnn
    try:
        method(model, images[:1], None, **OPTIONS.get(name, {}))
    except ValueError as error:
        if "attention" in str(error).lower():
            return True
        raise
    return False


@pytest.mark.parametrize("name", sorted(METHODS))
def test_method_honours_the_contract(name, cnn, vit):
    method = METHODS[name]
    model, images = vit if _needs_vit(name, method, cnn) else cnn
    options = OPTIONS.get(name, {})
    for targets in TARGET_FORMS:
        maps = method(model, images, targets, **options)
        assert maps.shape == images.shape[:3], (name, targets)
        assert maps.dtype == np.float32, (name, targets)
        assert not np.isnan(maps).any(), (name, targets)
        assert maps.min() >= 0.0 and maps.max() <= 1.0, (name, targets)
    keras.utils.set_random_seed(0)
    first = method(model, images, 1, **options)
    keras.utils.set_random_seed(0)
    np.testing.assert_array_equal(first, method(model, images, 1, **options))
    by_name = method(model, images, "sad", **options)
    np.testing.assert_array_equal(by_name, method(model, images, 2, **options))
