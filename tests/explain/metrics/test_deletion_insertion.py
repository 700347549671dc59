import keras
import numpy as np
import pytest

from emolens.explain.metrics import deletion_auc, deletion_curve, insertion_auc, insertion_curve
from tests.reference import metrics as reference
from tests.toy_models import linear_pixel_model, tiny_cnn


def sum_model(shape=(6, 6, 1)):
    """Logit 0 = sum of all pixels, logit 1 = 0."""
    weights = np.zeros((2, *shape), np.float32)
    weights[0] = 1.0
    return linear_pixel_model(weights)


def _images(n=3, shape=(6, 6, 1), seed=0):
    return np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def _top_sums(pixels, counts):
    """Sum of the k largest pixel values, per image and k: (N, P), (S,) -> (N, S)."""
    ordered = -np.sort(-pixels.reshape(len(pixels), -1), axis=1)
    cumulative = np.concatenate([np.zeros((len(pixels), 1)), ordered.cumsum(axis=1)], axis=1)
    return cumulative[:, counts]


@pytest.mark.parametrize("steps", [1, 4, 36, 7])
def test_deletion_of_a_pixel_sum_follows_the_sorted_pixels(steps):
    images = _images()
    counts = np.round(np.arange(steps + 1) * 36 / steps).astype(int)
    totals = images.sum(axis=(1, 2, 3))[:, None]
    expected = totals - _top_sums(images[..., 0], counts)  # black baseline removes the values
    curves = deletion_curve(sum_model(), images, images[..., 0], 0, steps=steps)
    assert curves.shape == (3, steps + 1) and curves.dtype == np.float32
    np.testing.assert_allclose(curves, expected, atol=1e-5)
    auc = np.trapezoid(expected, dx=1 / steps, axis=1)
    np.testing.assert_allclose(
        deletion_auc(sum_model(), images, images[..., 0], 0, steps=steps), auc, atol=1e-5
    )


def test_insertion_and_mean_baseline_of_a_pixel_sum():
    images = _images()
    counts = np.round(np.arange(9) * 36 / 8).astype(int)
    top = _top_sums(images[..., 0], counts)
    curves = insertion_curve(sum_model(), images, images[..., 0], 0, steps=8, baseline="black")
    np.testing.assert_allclose(curves, top, atol=1e-5)
    mean = images.mean(axis=(1, 2, 3))[:, None]
    expected = images.sum(axis=(1, 2, 3))[:, None] - top + counts * mean
    curves = deletion_curve(sum_model(), images, images[..., 0], 0, steps=8, baseline="mean")
    np.testing.assert_allclose(curves, expected, atol=1e-5)


def test_a_colour_pixel_is_removed_with_all_its_channels():
    images = _images(shape=(4, 4, 3))
    per_pixel = images.sum(axis=-1)
    counts = np.arange(17)
    expected = per_pixel.sum(axis=(1, 2))[:, None] - _top_sums(per_pixel, counts)
    curves = deletion_curve(sum_model((4, 4, 3)), images, per_pixel, 0, steps=16)
    np.testing.assert_allclose(curves, expected, atol=1e-5)


def test_the_image_is_the_best_deletion_order_and_its_negative_the_worst():
    images = _images(n=4)
    model = sum_model()
    best = deletion_auc(model, images, images[..., 0], 0, steps=12)
    worst = deletion_auc(model, images, -images[..., 0], 0, steps=12)
    for seed in range(5):
        random_maps = np.random.default_rng(seed + 10).random((4, 6, 6))
        auc = deletion_auc(model, images, random_maps, 0, steps=12)
        assert (best < auc).all() and (auc < worst).all()
    assert (insertion_auc(model, images, images[..., 0], 0, baseline="black") > insertion_auc(
        model, images, -images[..., 0], 0, baseline="black")).all()  # fmt: skip


def test_probability_score_is_the_softmax_of_the_logit_curve():
    images = _images()
    logits = deletion_curve(sum_model(), images, images[..., 0], 0, steps=6)
    probs = deletion_curve(sum_model(), images, images[..., 0], 0, steps=6, score="probability")
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-logits)), atol=1e-6)
    ones = deletion_curve(sum_model(), images, images[..., 0], 1, steps=6, score="probability")
    np.testing.assert_allclose(ones, 1 - probs, atol=1e-6)


@pytest.mark.parametrize(
    ("baseline", "kind"), [("black", "logit"), ("blur", "probability"), ("mean", "logit")]
)
@pytest.mark.parametrize("insert", [False, True])
def test_curves_match_the_per_image_reference(baseline, kind, insert):
    keras.utils.set_random_seed(0)
    model = tiny_cnn((12, 12, 1), num_classes=3)
    images = _images(n=3, shape=(12, 12, 1), seed=1)
    maps = np.random.default_rng(2).random((3, 12, 12)).astype(np.float32)
    maps[0, :3] = 0.5  # ties: row-major order
    targets = np.array([0, 2, 1])
    function = insertion_curve if insert else deletion_curve
    curves = function(
        model, images, maps, targets, steps=7, baseline=baseline, score=kind, batch_size=5
    )  # batch_size 5: chunks of (image, step) pairs straddle images
    expected = [
        reference.curve(model, image, m, t, 7, baseline, insert=insert, kind=kind)
        for image, m, t in zip(images, maps, targets, strict=True)
    ]
    np.testing.assert_allclose(curves, np.stack(expected), atol=1e-5)


def test_targets_none_scores_the_top_class():
    keras.utils.set_random_seed(0)
    model = tiny_cnn((12, 12, 1), num_classes=3)
    images = _images(n=4, shape=(12, 12, 1))
    top = np.argmax(model(images).numpy(), axis=1)
    maps = np.random.default_rng(0).random((4, 12, 12))
    np.testing.assert_allclose(
        deletion_curve(model, images, maps, steps=4),
        deletion_curve(model, images, maps, top, steps=4),
        atol=1e-6,
    )


def test_errors_say_what_arrived():
    images = _images()
    model = sum_model()
    with pytest.raises(ValueError, match=r"maps shaped \(N, H, W\).*got \(6, 6\).*maps\[None\]"):
        deletion_auc(model, images[:1], images[0, ..., 0])
    with pytest.raises(ValueError, match="baseline must be one of"):
        deletion_auc(model, images, images[..., 0], baseline="white")
    with pytest.raises(ValueError, match="does not broadcast"):
        deletion_auc(model, images, images[..., 0], baseline=np.zeros((5, 5, 1)))
    with pytest.raises(ValueError, match="score must be one of"):
        insertion_auc(model, images, images[..., 0], score="softmax")
    with pytest.raises(ValueError, match="steps must be an int >= 1; got 0"):
        insertion_curve(model, images, images[..., 0], steps=0)
    with pytest.raises(ValueError, match="NaN or inf"):
        deletion_curve(model, images, np.full((3, 6, 6), np.nan))
