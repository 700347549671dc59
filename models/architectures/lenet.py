"""LeNet-5 (LeCun et al. 1998), the original project's best emo3 model."""

from __future__ import annotations

import keras
from keras import layers

from emolens.models.architectures._common import classifier_head, model_input


def build_lenet(input_shape=(48, 48, 1), num_classes: int = 3) -> keras.Model:
    """LeNet-5 with ReLU and max pooling, batch-norm after each conv; ~0.3M params at 48x48."""
    images = model_input(input_shape)
    x = layers.Conv2D(6, 5, padding="valid", name="conv1")(images)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 5, padding="valid", name="conv2")(x)
    x = layers.BatchNormalization(name="conv2_bn")(x)
    x = layers.ReLU(name="conv2_relu")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, activation="relu", name="fc1")(x)
    x = layers.Dense(84, activation="relu", name="fc2")(x)
    return keras.Model(images, classifier_head(x, num_classes, 0.2), name="lenet")
