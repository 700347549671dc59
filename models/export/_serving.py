"""The traced functions that become ONNX graphs: prediction, or prediction + Grad-CAM."""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf

from emolens.explain._layers import feature_model, logits_output, resolve_layer
from emolens.explain._maps import unit_maps_graph
from emolens.explain.cam._gradient import resolve_top
from emolens.explain.cam.grad_cam import _weights as grad_cam_weights


def input_shape(model: keras.Model) -> tuple[int, int, int]:
    """(H, W, C) of the model's image input.

    Raises:
        ValueError: the model has no single (N, H, W, C) input of known size.
    """
    shape = tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else ()
    if len(shape) != 3 or None in shape:
        shapes = [tuple(tensor.shape) for tensor in model.inputs]
        raise ValueError(
            f"ONNX export needs one image input (N, H, W, C) of known size; model "
            f"{model.name!r} has inputs {shapes}. Rebuild it with keras.Input(shape=(H, W, C))."
        )
    return shape


def _ends_in_softmax(model: keras.Model) -> bool:
    """True when the model's output is a softmax over reachable logits."""
    return logits_output(model) is not model.outputs[0]


def prediction_function(model: keras.Model) -> tuple[Callable, tuple[tf.TensorSpec, ...]]:
    """tf.function images (N, H, W, C) -> {"probs": (N, classes)}, and its input signature."""
    shape = input_shape(model)

    def predict(images):
        return {"probs": model(images, training=False)}

    return tf.function(predict), (tf.TensorSpec((None, *shape), tf.float32, name="images"),)


def cam_function(
    model: keras.Model, layer: str | None
) -> tuple[Callable, tuple[tf.TensorSpec, ...], str]:
    """tf.function (images, targets) -> {"probs", "cam"}, its signature, the layer's name.

    images (N, H, W, C) float32 in [0, 1]; targets (N,) int32, -1 for each image's top class.
    probs (N, classes) as the model outputs them; cam (N, H, W) float32 in [0, 1], the
    Grad-CAM map of `layer` (None: `explain.grad_cam`'s default) computed as `explain.grad_cam`
    does (the gradient of the target's logit is part of the graph).
    """
    shape = input_shape(model)
    name = resolve_layer(model, layer, tokens=True)
    features = feature_model(model, name)  # images -> [acts (N,h,w,K), logits (N,classes)]
    has_softmax = _ends_in_softmax(model)

    def explain(images, targets):
        with tf.GradientTape() as tape:
            acts, logits = features(images, training=False)
            score = tf.gather(logits, resolve_top(logits, targets), batch_dims=1)  # (N,)
        grads = tape.gradient(score, acts)  # (N,h,w,K)
        if grads is None:
            raise ValueError(
                f"The logits of {model.name!r} do not depend on layer {name!r}, so there is no "
                "gradient to export. Pick a layer on the path to the output (--layer)."
            )
        weights = grad_cam_weights(acts, grads)[:, None, None, :]  # (N,1,1,K)
        low_res = tf.nn.relu(tf.reduce_sum(weights * acts, axis=-1))  # (N,h,w)
        probs = tf.nn.softmax(logits) if has_softmax else logits
        return {"probs": probs, "cam": unit_maps_graph(low_res, shape[:2])}  # (N,H,W)

    signature = (
        tf.TensorSpec((None, *shape), tf.float32, name="images"),
        tf.TensorSpec((None,), tf.int32, name="targets"),
    )
    return tf.function(explain), signature, name
