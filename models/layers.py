"""Custom layers of the zoo, registered so `.keras` files load with `safe_mode=True`."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="emolens")
def gelu_tanh(x):
    """GELU, tanh approximation (exports to ONNX without the Erf/Erfc op)."""
    return keras.activations.gelu(x, approximate=True)


@keras.saving.register_keras_serializable(package="emolens")
class ClassToken(keras.layers.Layer):
    """Prepends a learned class token: (N, T, D) -> (N, T + 1, D)."""

    def build(self, input_shape):
        self.token = self.add_weight(
            shape=(1, 1, input_shape[-1]), initializer="zeros", name="token"
        )

    def call(self, tokens):
        batch = ops.shape(tokens)[0]
        cls = ops.broadcast_to(ops.cast(self.token, tokens.dtype), (batch, 1, tokens.shape[-1]))
        return ops.concatenate([cls, tokens], axis=1)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] + 1
        return (input_shape[0], steps, input_shape[2])


@keras.saving.register_keras_serializable(package="emolens")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned position embedding: (N, T, D) -> (N, T, D)."""

    def build(self, input_shape):
        self.embedding = self.add_weight(
            shape=(1, input_shape[1], input_shape[2]),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="embedding",
        )

    def call(self, tokens):
        return tokens + ops.cast(self.embedding, tokens.dtype)
