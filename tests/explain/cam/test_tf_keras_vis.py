"""Parity with tf-keras-vis 0.8.7 on a small functional CNN, given a logits model.

tf-keras-vis' ReplaceToLinear does nothing when the softmax is a separate layer, so it gets
`Model(inputs, logits)`. The feature grid has the image's size (12x12), so neither side
resizes; tf-keras-vis scales maps by min-max, emolens by max, which correlation ignores.
"""

import numpy as np
import pytest

pytest.importorskip("tf_keras_vis")

from tf_keras_vis.gradcam import Gradcam  # noqa: E402
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus  # noqa: E402
from tf_keras_vis.layercam import Layercam  # noqa: E402
from tf_keras_vis.scorecam import Scorecam  # noqa: E402
from tf_keras_vis.utils.scores import CategoricalScore  # noqa: E402

from emolens.explain import METHODS  # noqa: E402
from tests.toy_models import tiny_cnn_parity_setup  # noqa: E402

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
