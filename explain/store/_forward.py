"""One compiled forward pass per batch: prediction, probabilities, embedding and Grad-CAM."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import batches
from emolens.explain._layers import _is_softmax, _producer, feature_model, logits_model
from emolens.explain._maps import unit_maps_graph
from emolens.explain.cam._gradient import cached_step, image_specs
from emolens.explain.cam.grad_cam import _weights as grad_cam_weights


def _penultimate(logits) -> keras.KerasTensor:
    """The input of the layer that produces `logits` (the classifier head's features)."""
    layer, inputs = _producer(logits)
    if isinstance(inputs, (list, tuple)):
        raise ValueError(
            f"The logits come from layer {layer.name!r}, which has {len(inputs)} inputs, so "
            "there is no single penultimate-layer embedding. End the model in one Dense layer."
        )
    return inputs


def _single(inputs):
    return inputs[0] if len(inputs) == 1 else inputs


def store_model(model: keras.Model, layer: str | None, with_cam: bool) -> keras.Model:
    """Sub-model images -> [layer output (N,h,w,K) if with_cam, embedding, logits (N,C)].

    Built on the cached (layer output, logits) model of the CAM family, so the conv output,
    the embedding (input of the logits layer) and the logits come from one graph.
    """
    base = feature_model(model, layer) if with_cam else logits_model(model)
    logits = base.outputs[-1]
    outputs = [*base.outputs[:-1], _penultimate(logits), logits]
    return keras.Model(_single(base.inputs), outputs)


def _outputs_probabilities(model: keras.Model) -> bool:
    """True when the softmax could not be bypassed, so the "logits" are already probabilities."""
    last, _ = _producer(model.outputs[0])
    return _is_softmax(last) and logits_model(model).outputs[0] is model.outputs[0]


def _build_step(model: keras.Model, layer: str | None, with_cam: bool, shape: tuple[int, ...]):
    """Concrete fn images (N,H,W,C) -> {probs, log_probs, embedding, top, maps if with_cam}."""
    sub = store_model(model, layer, with_cam)
    are_probs = _outputs_probabilities(model)

    def head(logits, embedding) -> dict:
        flat = tf.reshape(embedding, (tf.shape(embedding)[0], -1))  # (N, D)
        probs = logits if are_probs else tf.nn.softmax(logits)  # (N, C)
        tiny = tf.constant(np.finfo(np.float32).tiny)
        logs = tf.math.log(tf.maximum(probs, tiny)) if are_probs else tf.nn.log_softmax(logits)
        top = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (N,)
        return {"probs": probs, "log_probs": logs, "embedding": flat, "top": top}

    def step(images):
        if not with_cam:
            embedding, logits = sub(images, training=False)
            return head(logits, embedding)
        with tf.GradientTape() as tape:
            acts, embedding, logits = sub(images, training=False)  # (N,h,w,K), (N,D), (N,C)
            top = tf.argmax(logits, axis=-1, output_type=tf.int32)
            score = tf.gather(logits, top, batch_dims=1)  # (N,) the predicted class's logit
        grads = tape.gradient(score, acts)
        if grads is None:
            raise ValueError(
                "The logits do not depend on the chosen layer's output, so there is no "
                "gradient. Pick a layer on the path to the model's output."
            )
        weights = grad_cam_weights(acts, grads)[:, None, None, :]  # (N,1,1,K)
        low_res = tf.nn.relu(tf.reduce_sum(weights * acts, axis=-1))  # (N,h,w)
        return {**head(logits, embedding), "maps": unit_maps_graph(low_res, shape[:2])}

    return tf.function(step).get_concrete_function(image_specs(shape)[0])


def forward(
    model: keras.Model,
    images: np.ndarray,
    layer: str | None,
    with_cam: bool,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run the one-pass step over `images` (N,H,W,C) float32 in [0, 1], batch by batch.

    Returns:
        probs, log_probs float32 (N, C); embedding float32 (N, D); top int32 (N,), the
        predicted class (argmax of the logits); with `with_cam`, maps float32 (N, H, W):
        Grad-CAM of the predicted class, equal to `explain.grad_cam(model, images)`.
        `on_batch(n)` is called after each batch of n images.
    """
    shape = tuple(images.shape[1:])
    step = cached_step(
        model,
        ("store", layer, with_cam, shape),
        lambda: _build_step(model, layer, with_cam, shape),
    )
    parts = []
    for part in batches(len(images), batch_size):
        parts.append(step(tf.constant(images[part])))
        if on_batch:
            on_batch(part.stop - part.start)
    return {key: np.concatenate([p[key].numpy() for p in parts]) for key in parts[0]}
