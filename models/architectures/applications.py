"""keras.applications backbones (MobileNetV2, EfficientNetB0) wrapped for gray faces.

The backbone stays a nested model (as users build it); `explain` reaches layers inside it.
`weights="imagenet"` downloads ImageNet weights (needs internet, 3-channel input inside, so a
gray image is repeated to RGB first); the default `weights=None` never touches the network.
"""

from __future__ import annotations

import keras
from keras import layers

from emolens.models.architectures._common import classifier_head, model_input, to_rgb


def _min_size(input_shape, minimum: int = 32, scale: float = 1.0) -> None:
    if min(input_shape[:2]) < minimum:
        fix = (
            f"Use a larger input_scale (got {scale:g})"
            if scale != 1.0
            else "Resize the faces, set input_scale,"
        )
        raise ValueError(
            f"keras.applications backbones need images of at least {minimum}x{minimum}; "
            f"got {input_shape[:2]}. {fix} or pick 'vgg' or 'lenet'."
        )


def _scaled(images, input_shape, input_scale: float):
    """`images` resized by `input_scale` (bilinear) and the (H, W) the backbone sees.

    The backbones stride 32: a 48x48 face ends on a 2x2 grid, 72x72 (`input_scale=1.5`) on
    3x3, at 2.25x the multiply-adds.
    """
    if not input_scale > 0:
        raise ValueError(f"input_scale must be > 0; got {input_scale}. Use 1.0 for no resizing.")
    size = tuple(round(side * input_scale) for side in input_shape[:2])
    _min_size(size, scale=input_scale)
    if size == tuple(input_shape[:2]):
        return images, size
    return layers.Resizing(*size, interpolation="bilinear", name="upscale")(images), size


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
    input_scale: float = 1.0,
) -> keras.Model:
    """MobileNetV2 (Sandler et al. 2018) backbone + GAP + logits + softmax; ~2.3M params.

    keras.applications' MobileNetV2 uses a BatchNorm momentum of 0.999: with ~100 steps per
    epoch of 48x48 faces its moving statistics lag for ~10 epochs and validation predicts one
    class; `bn_momentum=0.99` (Keras's default elsewhere) fixes that when training from scratch.
    `input_scale` resizes the faces inside the model first (1.5: 48x48 -> 72x72, a 3x3 last
    grid instead of 2x2); the model still takes `input_shape`.
    """
    images = model_input(input_shape)
    resized, size = _scaled(images, input_shape, input_scale)
    rgb = to_rgb(resized)
    scaled = layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(rgb)
    backbone = keras.applications.MobileNetV2(
        input_shape=size + (3,),
        include_top=False,
        weights=weights,
        alpha=alpha,
    )
    _set_bn_momentum(backbone, bn_momentum)
    x = layers.GlobalAveragePooling2D(name="gap")(backbone(scaled))
    return keras.Model(images, classifier_head(x, num_classes, 0.3), name="mobilenetv2")


def _efficientnet_backbone(size, weights, width: float, drop_connect: float) -> keras.Model:
    """EfficientNetB0's backbone for (H, W) `size` (B0 at width 1.0 and drop_connect 0.2).

    `width` scales the channels; `drop_connect` is the last block's stochastic-depth rate.
    """
    if not width > 0:
        raise ValueError(
            f"width must be > 0; got {width}. Use 1.0 for EfficientNetB0 as published."
        )
    if not 0.0 <= drop_connect < 1.0:
        raise ValueError(
            f"drop_connect must be in [0, 1); got {drop_connect}. Use 0.2 (EfficientNetB0's) "
            "or 0.0 to turn stochastic depth off."
        )
    if width == 1.0 and drop_connect == 0.2:
        return keras.applications.EfficientNetB0(
            input_shape=size + (3,), include_top=False, weights=weights
        )
    if weights == "imagenet":
        raise ValueError(
            f"ImageNet weights are loaded only for EfficientNetB0 as published; got "
            f"width={width}, drop_connect={drop_connect}. Use width=1.0 and drop_connect=0.2 "
            "with them, or weights=None to train this net from scratch (or a weights file "
            "saved from a net of this width)."
        )
    # keras.applications exports only the fixed B0-B7 builders; their common builder takes the
    # width coefficient (channels rounded to multiples of 8, as B0-B7 are). Keras is pinned.
    from keras.src.applications.efficientnet import EfficientNet

    return EfficientNet(
        width,
        1.0,
        224,
        0.2,
        drop_connect,
        name="efficientnetb0",
        include_top=False,
        weights=weights,
        input_shape=size + (3,),
    )


def build_efficientnetb0(
    input_shape=(48, 48, 1),
    num_classes: int = 3,
    weights: str | None = None,
    input_scale: float = 1.0,
    width: float = 1.0,
    drop_connect: float = 0.2,
) -> keras.Model:
    """EfficientNetB0 (Tan & Le 2019) backbone + GAP + logits + softmax; ~4.1M params.

    `input_scale` resizes the faces inside the model first, as for `build_mobilenetv2`.
    `width` scales every layer's channels as EfficientNet's width coefficient does (B0 is
    1.0; 0.5 has 1.1M backbone parameters), depth unchanged. `drop_connect` is the stochastic
    depth rate of the last block (earlier blocks drop less; 0.2 as in B0, 0.0 turns it off:
    a small net on 14k faces underfits with it).
    """
    images = model_input(input_shape)
    resized, size = _scaled(images, input_shape, input_scale)
    rgb = to_rgb(resized)
    # The backbone divides by 255 and, with ImageNet weights, normalises by their mean and std
    # (without them its Normalization layer is the identity: the stem sees [0, 1]).
    scaled = layers.Rescaling(255.0, name="to_0_255")(rgb)
    backbone = _efficientnet_backbone(size, weights, width, drop_connect)
    x = layers.GlobalAveragePooling2D(name="gap")(backbone(scaled))
    return keras.Model(images, classifier_head(x, num_classes, 0.3), name="efficientnetb0")
