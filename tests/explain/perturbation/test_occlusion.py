import keras
import numpy as np
import pytest

from emolens.explain.perturbation.occlusion import occlusion
from tests.toy_models import linear_pixel_model, region_sum_model, tiny_cnn


def _images(n=3, shape=(12, 12, 1), seed=0):
    return 0.5 + 0.5 * np.random.default_rng(seed).random((n, *shape), dtype=np.float32)


def test_occlusion_finds_the_summed_region():
    model = region_sum_model((12, 12, 1), (4, 8, 2, 6), scale=0.2)
    maps = occlusion(model, _images(), 0, patch=2, stride=2, fill=0.0)
    truth = np.zeros((12, 12), bool)
    truth[4:8, 2:6] = True
    assert (maps[:, truth] > 0.5).all()
    np.testing.assert_array_equal(maps[:, ~truth], 0.0)


def test_occlusion_other_class_gains_so_its_map_is_zero():
    model = region_sum_model((12, 12, 1), (4, 8, 2, 6), scale=0.2)
    maps = occlusion(model, _images(), 1, patch=2, fill=0.0, score="probability")
    np.testing.assert_array_equal(maps, 0.0)  # class 1's probability only rises
    # its logit is constant 0: no drop either
    np.testing.assert_array_equal(occlusion(model, _images(), 1, patch=2, fill=0.0), 0.0)


def test_occlusion_logit_score_is_the_linear_models_patch_sum():
    """Known answer: on a linear model, the logit drop of a patch filled with 0 is sum(w * x)."""
    weights = np.random.default_rng(1).random((2, 12, 12, 1), dtype=np.float32)
    weights[1] = -weights[0]  # class 1 is class 0's negative, so probabilities saturate
    model = linear_pixel_model(weights)
    images = _images()
    drops = (weights[0] * images)[..., 0].reshape(3, 6, 2, 6, 2).sum(axis=(2, 4))  # (3, 6, 6)
    expected = np.repeat(np.repeat(drops, 2, axis=1), 2, axis=2)
    expected /= expected.max(axis=(1, 2), keepdims=True)
    maps = occlusion(model, images, 0, patch=2, stride=2, fill=0.0)  # default score: logit
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    probability = occlusion(model, images, 0, patch=2, stride=2, fill=0.0, score="probability")
    assert np.abs(probability - expected).max() > 0.1  # the saturated softmax differs


def test_occlusion_rejects_an_unknown_score():
    with pytest.raises(ValueError, match="occlusion score must be one of"):
        occlusion(region_sum_model((6, 6, 1), (0, 2, 0, 2)), _images(1, (6, 6, 1)), score="prob")


def _reference_one(model, image, target, patch, stride, fill, score="probability"):
    """Slow reference: every patch position, one forward pass each, mean drop per pixel."""
    logits = keras.Model(model.inputs[0], model.get_layer("logits").output)
    probs = lambda x: (  # noqa: E731
        keras.ops.softmax(logits(x[None])) if score == "probability" else logits(x[None])
    ).numpy()[0, target]
    size = image.shape[0]
    starts = sorted(set(range(0, size - patch + 1, stride)) | {size - patch})
    total, count = np.zeros((size, size)), np.zeros((size, size))
    base = probs(image)
    for y in starts:
        for x in starts:
            covered = image.copy()
            covered[y : y + patch, x : x + patch] = fill
            total[y : y + patch, x : x + patch] += max(base - probs(covered), 0.0)
            count[y : y + patch, x : x + patch] += 1
    result = total / count
    return result / result.max() if result.max() > 0 else result


@pytest.mark.parametrize("score", ["logit", "probability"])
def test_occlusion_batched_matches_the_one_by_one_reference(score):
    keras.utils.set_random_seed(0)
    model = tiny_cnn((9, 9, 1))
    images = _images(3, (9, 9, 1))
    maps = occlusion(
        model, images, [0, 1, 2], patch=3, stride=2, fill=0.2, batch_size=5, score=score
    )
    for i in range(3):
        np.testing.assert_allclose(
            maps[i], _reference_one(model, images[i], i, 3, 2, 0.2, score), atol=1e-5
        )


def test_occlusion_errors():
    model = region_sum_model((6, 6, 1), (0, 2, 0, 2))
    images = _images(1, (6, 6, 1))
    with pytest.raises(ValueError, match=r"patch \(8, 8\) is larger than the images \(6, 6\)"):
        occlusion(model, images, patch=8)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        occlusion(model, images, stride=0)


def test_occlusion_defaults_to_each_images_top_class():
    images = _images(2, (8, 8, 1))
    images[1, :4], images[1, 4:] = 0.0, 1.0  # image 1: dark top, bright bottom
    weights = np.zeros((2, 8, 8, 1), np.float32)
    weights[0, :4], weights[1, 4:] = 0.2, 0.2  # class 0 reads the top half, class 1 the bottom
    model = linear_pixel_model(weights)
    assert np.argmax(model(images), axis=1).tolist() == [0, 1]
    top = occlusion(model, images, None, patch=2, stride=2, fill=0.0)
    np.testing.assert_array_equal(
        top, occlusion(model, images, [0, 1], patch=2, stride=2, fill=0.0)
    )
    assert top[1, 4:].min() > 0.0 and np.all(top[1, :4] == 0.0)  # class 1's evidence: bottom
