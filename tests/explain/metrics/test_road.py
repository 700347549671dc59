import keras
import numpy as np
import pytest

from emolens.explain.metrics import road, road_curve
from emolens.explain.metrics._imputation import linear_impute
from tests.explain.metrics.test_deletion_insertion import sum_model
from tests.reference import metrics as reference
from tests.toy_models import tiny_cnn

FRACTIONS = (0.1, 0.2, 0.3)


def _bump(size=12):
    """A smooth peak in the middle: its top 30% of pixels stay off the border."""
    y, x = np.mgrid[:size, :size] - (size - 1) / 2
    return np.exp(-(x**2 + y**2) / 8).astype(np.float32)


def test_imputation_reproduces_constant_and_linear_images_exactly():
    y, x = np.mgrid[:12, :12].astype(np.float32)
    ramp = np.stack([0.02 * y + 0.03 * x + 0.1, 0.5 - 0.01 * x], axis=-1)  # (12, 12, 2)
    removed = _bump() > np.quantile(_bump(), 0.7)  # interior block of pixels
    np.testing.assert_allclose(linear_impute(ramp, removed), ramp, atol=1e-6)
    flat = np.full((12, 12, 1), 0.3)
    border = np.zeros((12, 12), bool)
    border[:, :4] = True  # touching the border too: neighbours renormalised
    np.testing.assert_allclose(linear_impute(flat, border), flat, atol=1e-9)


def test_imputation_matches_the_dense_reference():
    image = np.random.default_rng(0).random((9, 7, 3))
    removed = np.random.default_rng(1).random((9, 7)) < 0.6
    filled = linear_impute(image, removed)
    np.testing.assert_allclose(filled, reference.impute(image, removed), atol=1e-9)
    np.testing.assert_array_equal(filled[~removed], image[~removed])


def test_road_on_a_pixel_sum_of_a_linear_image_is_flat():
    y, x = np.mgrid[:12, :12].astype(np.float32)
    image = (0.02 * y + 0.03 * x + 0.1)[None, ..., None]  # (1, 12, 12, 1)
    curve = road_curve(
        sum_model((12, 12, 1)), image, _bump()[None], 0, fractions=FRACTIONS, noise=0
    )
    np.testing.assert_allclose(curve, np.full((1, 3), image.sum()), rtol=1e-5)


def test_morf_removes_a_bright_peak_and_lerf_keeps_it():
    image = (0.1 + 0.8 * _bump())[None, ..., None]
    model = sum_model((12, 12, 1))
    morf = road_curve(model, image, image[..., 0], 0, fractions=FRACTIONS, noise=0)
    lerf = road_curve(model, image, image[..., 0], 0, fractions=FRACTIONS, order="lerf", noise=0)
    total = image.sum()
    assert (np.diff(morf[0]) < 0).all() and morf[0, -1] < total - 3  # the peak is gone
    assert (lerf >= total - 1e-4).all() and (lerf < 1.05 * total).all()  # dim tails: ~kept
    combined = road(model, image, image[..., 0], 0, fractions=FRACTIONS, noise=0)
    np.testing.assert_allclose(combined, ((lerf - morf) / 2).mean(axis=1), rtol=1e-6)
    assert combined[0] > 1


@pytest.mark.parametrize("order", ["morf", "lerf"])
def test_road_matches_the_per_image_reference(order):
    keras.utils.set_random_seed(0)
    model = tiny_cnn((10, 10, 1), num_classes=3)
    images = np.random.default_rng(0).random((3, 10, 10, 1), dtype=np.float32)
    maps = np.random.default_rng(1).random((3, 10, 10)).astype(np.float32)
    maps[1, 2:5] = 0.25  # ties
    targets = np.array([2, 0, 1])
    curves = road_curve(
        model, images, maps, targets, order=order, fractions=(0.15, 0.5, 0.85), noise=0,
        score="probability", batch_size=2,
    )  # fmt: skip
    expected = [
        reference.road_curve(model, im, m, t, (0.15, 0.5, 0.85), order, "probability")
        for im, m, t in zip(images, maps, targets, strict=True)
    ]
    np.testing.assert_allclose(curves, np.stack(expected), atol=1e-5)


def test_noise_is_seeded_and_drawn_per_image_and_fraction_in_order():
    images = np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32)
    maps = np.random.default_rng(1).random((2, 8, 8))
    model = sum_model((8, 8, 1))
    fractions = (0.25, 0.5)
    clean = road_curve(model, images, maps, 0, fractions=fractions, noise=0)
    noisy = road_curve(model, images, maps, 0, fractions=fractions, noise=0.05, seed=3)
    rng = np.random.default_rng(3)
    draws = [0.05 * rng.standard_normal((k, 1)).sum() for _ in range(2) for k in (16, 32)]
    np.testing.assert_allclose(noisy - clean, np.reshape(draws, (2, 2)), atol=1e-4)
    again = road_curve(model, images, maps, 0, fractions=fractions, noise=0.05, seed=3)
    np.testing.assert_array_equal(noisy, again)


def test_road_errors():
    images = np.random.default_rng(0).random((1, 6, 6, 1), dtype=np.float32)
    model = sum_model()
    with pytest.raises(ValueError, match=r"fractions must be in \[0, 1\)"):
        road_curve(model, images, images[..., 0], fractions=(0.5, 1.0))
    with pytest.raises(ValueError, match="order must be one of"):
        road_curve(model, images, images[..., 0], order="combined")
    with pytest.raises(ValueError, match="noise is a standard deviation"):
        road(model, images, images[..., 0], noise=-1)
