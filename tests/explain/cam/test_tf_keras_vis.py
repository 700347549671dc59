"""Parity with tf-keras-vis 0.8.7 on a small functional CNN, given a logits model.

tf-keras-vis' ReplaceToLinear does nothing when the softmax is a separate layer, so it gets
`Model(inputs, logits)`. The feature grid has the image's size (12x12), so neither side
resizes; tf-keras-vis scales maps by min-max, emolens by max, which correlation ignores.
"""

import keras
import numpy as np
import pytest

pytest.importorskip("tf_keras_vis")

from tf_keras_vis.gradcam import Gradcam  # noqa: E402
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus  # noqa: E402
from tf_keras_vis.layercam import Layercam  # noqa: E402
from tf_keras_vis.scorecam import Scorecam  # noqa: E402
from tf_keras_vis.utils.scores import CategoricalScore  # noqa: E402

from emolens.explain import METHODS  # noqa: E402
from tests.toy_models import pooled_cnn, tiny_cnn_parity_setup  # noqa: E402

PAIRS = {
    "grad_cam": Gradcam,
    "grad_cam_pp": GradcamPlusPlus,
    "layer_cam": Layercam,
    "score_cam": Scorecam,
}


@pytest.fixture(scope="module")
def setup():
    return tiny_cnn_parity_setup(image_seed=2)


@pytest.mark.parametrize("name", list(PAIRS))
def test_maps_correlate_with_tf_keras_vis(name, setup):
    model, logits, images = setup
    targets = [0, 1, 2, 1]
    ours = METHODS[name](model, images, targets, "feat_relu")
    theirs = PAIRS[name](logits, clone=True)(
        CategoricalScore(targets),
        images,
        penultimate_layer="feat_relu",
        seek_penultimate_conv_layer=False,
    )
    for mine, other in zip(ours, np.asarray(theirs), strict=True):
        assert mine.std() > 0 and other.std() > 0
        assert np.corrcoef(mine.ravel(), other.ravel())[0, 1] >= 0.99


@pytest.fixture(scope="module")
def pooled_setup():
    keras.utils.set_random_seed(1)
    model = pooled_cnn((16, 16, 1), num_classes=3)
    logits = keras.Model(model.inputs, model.get_layer("logits").output)
    images = np.random.default_rng(2).random((4, 16, 16, 1), dtype=np.float32)
    return model, logits, images


@pytest.mark.parametrize("name", ["grad_cam", "grad_cam_pp"])
def test_a_layer_before_pooling_matches_tf_keras_vis(name, pooled_setup):
    # conv1 (16x16, the image's grid) feeds max pooling and a conv, so its gradients vary by
    # position: Grad-CAM's mean and the ++ alphas give different maps here (checked below),
    # unlike on feat_relu next to GAP where every position has the same gradient
    model, logits, images = pooled_setup
    targets = [0, 1, 2, 1]
    ours = METHODS[name](model, images, targets, "conv1")
    theirs = PAIRS[name](logits, clone=True)(
        CategoricalScore(targets),
        images,
        penultimate_layer="conv1",
        seek_penultimate_conv_layer=False,
    )
    for mine, other in zip(ours, np.asarray(theirs), strict=True):
        assert mine.std() > 0 and other.std() > 0
        assert np.corrcoef(mine.ravel(), other.ravel())[0, 1] >= 0.9999
    other_name = {"grad_cam": "grad_cam_pp", "grad_cam_pp": "grad_cam"}[name]
    others = METHODS[other_name](model, images, targets, "conv1")
    pairs = zip(ours, others, strict=True)
    assert min(np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in pairs) < 0.9
