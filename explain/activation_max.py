"""Activation maximisation: images that most excite a channel or a class logit."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._batch import as_targets, model_classes
from emolens.explain._layers import logits_model, outputs_model, resolve_layer


def _initial_images(shape: tuple[int, int, int], count: int, seed: int) -> np.ndarray:
    """Mid-gray images with faint noise, the same for the same seed: (count, H, W, C) float32."""
    rng = np.random.default_rng(seed)
    return np.clip(0.5 + 0.02 * rng.standard_normal((count, *shape)), 0.0, 1.0).astype(np.float32)


def _blur(images: tf.Tensor, sigma: float) -> tf.Tensor:
    """3x3 Gaussian blur per channel with reflected borders: (N, H, W, C) -> same."""
    taps = np.exp(-(np.arange(-1, 2) ** 2) / (2 * sigma**2))
    kernel2d = np.outer(taps, taps) / np.outer(taps, taps).sum()
    channels = images.shape[-1]
    kernel = tf.constant(np.tile(kernel2d[:, :, None, None], (1, 1, channels, 1)), tf.float32)
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")


def _objective(outputs, units: tf.Tensor) -> tf.Tensor:
    """Mean activation of each image's unit over all positions: (N,)."""
    acts = outputs[0] if isinstance(outputs, (list, tuple)) else outputs  # (N, ..., K)
    flat = tf.reshape(acts, (tf.shape(acts)[0], -1, tf.shape(acts)[-1]))  # (N, P, K)
    return tf.reduce_mean(tf.gather(flat, units, axis=2, batch_dims=1), axis=1)


_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _ascent_step(sub_model: keras.Model):
    """Cached tf.function doing one normalised gradient-ascent step, clipped to [0, 1]."""
    if sub_model not in _STEPS:

        @tf.function(reduce_retracing=True)
        def step(images, units, shift, lr):
            with tf.GradientTape() as tape:
                tape.watch(images)
                jittered = tf.roll(images, shift=shift, axis=[1, 2])
                score = tf.reduce_sum(_objective(sub_model(jittered, training=False), units))
            grads = tape.gradient(score, images)  # (N, H, W, C)
            scale = tf.math.reduce_std(grads, axis=[1, 2, 3], keepdims=True) + 1e-8
            return tf.clip_by_value(images + lr * grads / scale, 0.0, 1.0)

        _STEPS[sub_model] = step
    return _STEPS[sub_model]


def _units(model, layer, channel, target_class):
    """(sub-model, (N,) int32 units to maximise) for a channel of `layer` or class logits."""
    if (channel is None) == (target_class is None):
        raise ValueError(
            "activation_maximization needs exactly one of channel=... (with layer=...) or "
            f"target_class=...; got channel={channel!r}, target_class={target_class!r}."
        )
    if target_class is not None:
        sub_model = logits_model(model)
        targets = [target_class] if isinstance(target_class, (int, str)) else target_class
        units = as_targets(
            list(targets), len(targets), sub_model.outputs[0].shape[-1], model_classes(model)
        )
        return sub_model, units
    name = resolve_layer(model, layer)
    sub_model = outputs_model(model, (name,))
    units = np.atleast_1d(np.asarray(channel)).astype(np.int32)
    width = int(sub_model.outputs[0].shape[-1])
    if units.ndim != 1 or units.min() < 0 or units.max() >= width:
        raise ValueError(
            f"channel {channel!r} is out of range for layer {name!r} with {width} channels."
        )
    return sub_model, units


def activation_maximization(
    model: keras.Model,
    layer: str | None = None,
    channel: int | Sequence[int] | None = None,
    target_class: int | str | Sequence[int | str] | None = None,
    *,
    steps: int = 128,
    lr: float = 0.05,
    jitter: int = 2,
    blur_every: int = 4,
    blur_sigma: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """Images that maximise a channel's mean activation or a class logit.

    Gradient ascent from mid-gray noise: each step rolls the images by a random shift of up to
    `jitter` pixels, takes a gradient step normalised by its standard deviation, and clips to
    [0, 1]; every `blur_every` steps a 3x3 Gaussian blur removes high-frequency noise.

    Args:
        model: Keras model with a fixed input size (N, H, W, C).
        layer: layer whose channel to maximise (spatial layer name). Default: the last one.
        channel: channel index, or a list of them (one image each).
        target_class: class index or name, or a list of them, to maximise its logit instead.
        steps: number of ascent steps.
        lr: step size in units of the normalised gradient.
        jitter: largest random shift in pixels per step (0: none).
        blur_every: blur period in steps (0: never).
        blur_sigma: Gaussian blur width in pixels.
        seed: start images and shifts depend only on it, so results are reproducible.

    Returns:
        float32 (N, H, W, C) in [0, 1], one image per channel or class asked.

    Raises:
        ValueError: not exactly one of `channel` / `target_class`, one out of range, or the
            model's input size is not fixed.

    Reference: Erhan et al. 2009; Olah et al., Feature Visualization, Distill 2017.
    """
    sub_model, units = _units(model, layer, channel, target_class)
    shape = tuple(model.inputs[0].shape[1:])
    if None in shape:
        raise ValueError(f"activation_maximization needs a fixed input size; got {shape}.")
    images = tf.constant(_initial_images(shape, len(units), seed))
    shifts = np.random.default_rng(seed + 1).integers(-jitter, jitter + 1, (steps, 2), np.int32)
    units, step_fn = tf.constant(units), _ascent_step(sub_model)
    for step in range(steps):
        images = step_fn(images, units, tf.constant(shifts[step]), tf.constant(lr, tf.float32))
        if blur_every and (step + 1) % blur_every == 0 and step + 1 < steps:
            images = _blur(images, blur_sigma)
    return images.numpy()
