"""Parity of saliency and SmoothGrad with tf-keras-vis 0.8.7's Saliency (given a logits model).

Vanilla saliency is deterministic, so the maps must agree closely. SmoothGrad draws its
noise independently on each side (tf-keras-vis from TensorFlow's global RNG, emolens from a
seeded numpy Generator), so two runs agree only as well as their noise allows: with 64
samples the maps correlate well above 0.9 but not to 0.99.
"""

import numpy as np
import pytest

pytest.importorskip("tf_keras_vis")

from tf_keras_vis.saliency import Saliency  # noqa: E402
from tf_keras_vis.utils.scores import CategoricalScore  # noqa: E402

from emolens.explain import saliency, smoothgrad  # noqa: E402
from tests.toy_models import tiny_cnn_parity_setup  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    return tiny_cnn_parity_setup(image_seed=3)


def _correlations(ours, theirs):
    return [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(ours, theirs, strict=True)]


def test_saliency_matches_tf_keras_vis(setup):
    model, logits, images = setup
    targets = [0, 1, 2, 1]
    ours = saliency(model, images, targets)
    theirs = np.asarray(Saliency(logits, clone=True)(CategoricalScore(targets), images))
    assert min(_correlations(ours, theirs)) >= 0.99


def test_smoothgrad_agrees_with_tf_keras_vis_up_to_its_noise(setup):
    model, logits, images = setup
    targets = [0, 1, 2, 1]
    ours = smoothgrad(model, images, targets, n_samples=64, noise_level=0.2, seed=0)
    theirs = np.asarray(
        Saliency(logits, clone=True)(
            CategoricalScore(targets), images, smooth_samples=64, smooth_noise=0.2
        )
    )
    assert min(_correlations(ours, theirs)) >= 0.9
