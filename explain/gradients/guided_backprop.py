"""Guided backpropagation: input gradients where every ReLU also blocks negative gradients."""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf
from keras.src.models.functional import Functional

from emolens.explain._batch import batches
from emolens.explain._layers import logits_model
from emolens.explain.gradients._common import prepare, target_gradients, top_classes
from emolens.explain.types import Images, Targets

_GUIDED_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_RELU_NAMES = ("relu", "relu6")


@tf.custom_gradient
def _pass_positive_gradients(inputs):
    """Identity forward; backward keeps only positive incoming gradients."""

    def backward(upstream):
        return tf.nn.relu(upstream)

    return tf.identity(inputs), backward


class _GuidedGate(keras.layers.Layer):
    """Placed after a ReLU: with the ReLU's own mask this gives the guided-backprop rule."""

    def call(self, inputs):
        return _pass_positive_gradients(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


def _is_relu(layer) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "") in _RELU_NAMES


def _guided_graph(model: Functional, inputs):
    """Re-run `model`'s graph on `inputs` with a gate after each ReLU, nested models included."""

    def operation_fn(operation):
        if isinstance(operation, Functional):

            def call_nested(*args, **kwargs):
                return _guided_graph(operation, args[0] if len(args) == 1 else list(args))

            return call_nested
        if not _is_relu(operation):
            return operation
        gate = _GuidedGate(name=f"guided_{operation.name}")

        def call_gated(*args, **kwargs):
            return gate(operation(*args, **kwargs))

        return call_gated

    return model._run_through_graph(inputs, operation_fn=operation_fn)


def guided_logits_model(model: keras.Model) -> keras.Model:
    """Cached images -> logits model sharing `model`'s weights, with guided ReLU gradients.

    The user's model is not modified: its layers are re-called in a new graph with a gate
    layer after every ReLU (ReLU layers and layers with a relu/relu6 activation).
    """
    if model not in _GUIDED_MODELS:
        head = logits_model(model)
        inputs = head.inputs[0] if len(head.inputs) == 1 else head.inputs
        _GUIDED_MODELS[model] = keras.Model(inputs, _guided_graph(head, inputs))
    return _GUIDED_MODELS[model]


@tf.function(reduce_retracing=True)
def _gradients(guided, images, targets):
    return target_gradients(guided, images, targets)


def guided_backprop_gradients(
    model: keras.Model, images: Images, targets: Targets = None, *, batch_size: int = 32
) -> Images:
    """Signed guided-backprop gradients of the target logit, (N, H, W, C) float32.

    Reference: Springenberg et al., Striving for Simplicity, https://arxiv.org/abs/1412.6806
    """
    head, images, indices = prepare(model, images, targets, "guided_backprop")
    if indices is None:
        indices = top_classes(head, images, batch_size)
    guided = guided_logits_model(model)
    return np.concatenate(
        [
            _gradients(guided, tf.constant(images[rows]), tf.constant(indices[rows])).numpy()
            for rows in batches(len(images), batch_size)
        ]
    )
