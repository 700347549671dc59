"""keras.applications backbones (MobileNetV2, EfficientNetB0) wrapped for gray faces.

The backbone stays a nested model (as users build it); `explain` reaches layers inside it.
`weights="imagenet"` downloads ImageNet weights (needs internet, 3-channel input inside, so a
gray image is repeated to RGB first); the default `weights=None` never touches the network.
"""

from __future__ import annotations

import keras
from keras import layers

from emolens.models.architectures._common import classifier_head, model_input, to_rgb


def _min_size(input_shape, minimum: int = 32) -> None:
    if min(input_shape[:2]) < minimum:
        raise ValueError(
            f"keras.applications backbones need images of at least {minimum}x{minimum}; "
            f"got {input_shape[:2]}. Resize the faces or pick 'vgg' or 'lenet'."
        )


def _set_bn_momentum(model: keras.Model, momentum: float | None) -> None:
    """Set every BatchNormalization layer's moving-average momentum (None: leave Keras's)."""
    if momentum is None:
        return
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"bn_momentum must be in [0, 1); got {momentum}. Keras's default is 0.99.")
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = momentum


def build_mobilenetv2(
    input_shape=(48, 48, 1),
    num_classes: int = 3,
    weights: str | None = None,
    alpha: float = 1.0,
    bn_momentum: float | None = None,
) -> keras.Model:
    """MobileNetV2 (Sandler et al. 2018) backbone + GAP + logits + softmax; ~2.3M params.

    keras.applications' MobileNetV2 uses a BatchNorm momentum of 0.999: with ~100 steps per
    epoch of 48x48 faces its moving statistics lag for ~10 epochs and validation predicts one
    class; `bn_momentum=0.99` (Keras's default elsewhere) fixes that when training from scratch.
    """
    _min_size(input_shape)
    images = model_input(input_shape)
    rgb = to_rgb(images)
    scaled = layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(rgb)
    backbone = keras.applications.MobileNetV2(
        input_shape=tuple(input_shape[:2]) + (3,),
        include_top=False,
        weights=weights,
        alpha=alpha,
    )
    _set_bn_momentum(backbone, bn_momentum)
    x = layers.GlobalAveragePooling2D(name="gap")(backbone(scaled))
    return keras.Model(images, classifier_head(x, num_classes, 0.3), name="mobilenetv2")


def build_efficientnetb0(
    input_shape=(48, 48, 1), num_classes: int = 3, weights: str | None = None
) -> keras.Model:
    """EfficientNetB0 (Tan & Le 2019) backbone + GAP + logits + softmax; ~4.1M params."""
    _min_size(input_shape)
    images = model_input(input_shape)
    rgb = to_rgb(images)
    scaled = layers.Rescaling(255.0, name="to_0_255")(rgb)  # the backbone normalises itself
    backbone = keras.applications.EfficientNetB0(
        input_shape=tuple(input_shape[:2]) + (3,), include_top=False, weights=weights
    )
    x = layers.GlobalAveragePooling2D(name="gap")(backbone(scaled))
    return keras.Model(images, classifier_head(x, num_classes, 0.3), name="efficientnetb0")
