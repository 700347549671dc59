"""Every method in explain.METHODS is deterministic: the same model, images, method and seed give
bit-identical maps on a rerun, and maps within ATOL whatever the batch size.

Across batch sizes, TensorFlow's CPU kernels (conv, matmul) may sum in another order for another
batch shape, so float32 maps differ by a few ulps; the measured worst case is in the README.
"""

import inspect

import keras
import numpy as np
import pytest

from emolens.explain import METHODS
from tests.explain.test_contract import OPTIONS, _needs_vit
from tests.toy_models import tiny_cnn

ATOL = 1e-6  # maps are in [0, 1]: one part in a million
BIT_IDENTICAL = {"occlusion", "rise"}
"""Methods whose forward passes have a fixed shape whatever the batch size (perturbation/_passes:
a map divides score differences by the largest one, which would magnify the ~1e-7 rounding of a
logit by batch shape to 1e-5), so their maps are equal bit for bit across batch sizes."""
IMAGES = 4


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(1).random((IMAGES, 12, 12, 1), dtype=np.float32)
    return tiny_cnn((12, 12, 1), num_classes=3), images


@pytest.fixture(scope="module")
def vit():
    from emolens.models.architectures.vit import build_vit

    keras.utils.set_random_seed(0)
    model = build_vit((16, 16, 1), num_classes=3, patch_size=4, dim=16, depth=2, heads=2)
    return model, np.random.default_rng(1).random((IMAGES, 16, 16, 1), dtype=np.float32)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_same_inputs_same_maps_across_runs_and_batch_sizes(name, cnn, vit):
    method = METHODS[name]
    model, images = vit if _needs_vit(name, method, cnn) else cnn
    options = dict(OPTIONS.get(name, {}))
    if "seed" in inspect.signature(method).parameters:
        options["seed"] = 3
    first = method(model, images, None, **options)
    again = method(model, images, None, **options)
    np.testing.assert_array_equal(first, again)  # bit-identical on a rerun
    if "batch_size" not in inspect.signature(method).parameters:
        pytest.skip(f"{name} has no batch_size")
    singles = method(model, images, None, batch_size=1, **options)
    pairs = method(model, images, None, batch_size=2, **options)
    worst = max(np.abs(singles - first).max(), np.abs(pairs - first).max())
    print(f"{name}: max |batch 1 - batch {IMAGES}| = {worst:.2e}")
    np.testing.assert_allclose(singles, first, rtol=0, atol=ATOL)
    np.testing.assert_allclose(pairs, first, rtol=0, atol=ATOL)
    if name in BIT_IDENTICAL:
        np.testing.assert_array_equal(singles, first)
        np.testing.assert_array_equal(pairs, first)
        odd = method(model, images, None, batch_size=17, **options)  # not whole passes
        np.testing.assert_array_equal(odd, first)
