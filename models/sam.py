"""Sharpness-aware minimization (SAM) as the train step of a compiled `keras.Model`.

Each step takes the gradient g at the weights w, moves to w + rho * g / ||g|| (the steepest
ascent within a ball of radius rho), takes the gradient there, and lets the model's optimizer
apply that second gradient at w. Both passes see the same random draws (augmentation, dropout,
the batch), and BatchNorm statistics count the first pass only.

Reference: Foret et al., "Sharpness-Aware Minimization for Efficiently Improving
Generalization", ICLR 2021, https://arxiv.org/abs/2010.01412
"""

from __future__ import annotations

import keras


def use_sam(model: keras.Model, rho: float) -> None:
    """Make `model.fit` take SAM steps of radius `rho` (TensorFlow or JAX; twice the compute).

    Call after `model.compile` (and again after loading a saved model: the step is not saved).
    With `rho = 0` a step is exactly Keras's own step, only slower.

    Args:
        model: a compiled model; its trainable weights are perturbed, its optimizer applies.
        rho: radius of the neighbourhood, in the L2 norm over all trainable weights (>= 0;
            0.05 is the paper's default).

    Raises:
        ValueError: `rho` is negative, or the backend is neither TensorFlow nor JAX.
    """
    check_sam(rho)
    if keras.backend.backend() == "jax":

        def train_step(state, data):
            return _sam_step_jax(model, state, data, rho)

    else:

        def train_step(data):
            return _sam_step(model, data, rho)

    model.train_step = train_step
    model.train_function = None  # make_train_function builds from the new step


def check_sam(rho: float) -> None:
    """Refuse a radius `use_sam` cannot take, before anything is trained or written.

    Raises:
        ValueError: `rho` is negative (or NaN), or the backend is neither TensorFlow nor JAX.
    """
    if not rho >= 0.0:
        raise ValueError(f"SAM's radius rho (--sam) is >= 0 (0.05 is usual; 0 = off); got {rho}.")
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        raise ValueError(
            f"SAM steps are written for the TensorFlow and JAX backends; this process runs "
            f"{backend!r}. Train with KERAS_BACKEND=tensorflow (or jax), or without --sam."
        )


def _sam_step(model: keras.Model, data, rho: float) -> dict:
    import tensorflow as tf

    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    weights = model.trainable_weights
    state = model.non_trainable_variables  # BatchNorm statistics, random seeds
    before = [tf.identity(v) for v in state]

    def loss_and_gradients():
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            scaled = model.optimizer.scale_loss(loss)
        return y_pred, loss, tape.gradient(scaled, weights)

    y_pred, loss, gradients = loss_and_gradients()
    after = [tf.identity(v) for v in state]
    # the norm of a scaled gradient cancels out: epsilon does not depend on loss scaling
    scale = rho / (tf.linalg.global_norm(gradients) + 1e-12)
    epsilons = [g * tf.cast(scale, g.dtype) for g in gradients]
    for variable, value in zip(state, before, strict=True):
        variable.assign(value)  # replay the same random draws from the same statistics
    for weight, epsilon in zip(weights, epsilons, strict=True):
        weight.assign_add(epsilon)
    _, _, sharp_gradients = loss_and_gradients()
    for weight, epsilon in zip(weights, epsilons, strict=True):
        weight.assign_sub(epsilon)
    for variable, value in zip(state, after, strict=True):
        variable.assign(value)  # as the first pass left them
    model.optimizer.apply_gradients(zip(sharp_gradients, weights, strict=True))
    model._loss_tracker.update_state(loss, sample_weight=tf.shape(y_pred)[0])
    return model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def _sam_step_jax(model: keras.Model, state, data, rho: float):
    """Keras's JAX train step with the gradient taken at the ascended weights.

    Pure: the second pass starts from the step's own non-trainable state (the same random
    draws), and the state the step returns is the first pass's.
    """
    import jax
    import jax.numpy as jnp

    weights, fixed, optimizer_state, metrics_state = state
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    grad_fn = jax.value_and_grad(model.compute_loss_and_updates, has_aux=True)

    def gradients(at):
        return grad_fn(
            at,
            fixed,
            metrics_state,
            x,
            y,
            sample_weight,
            training=True,
            optimizer_variables=optimizer_state,
        )

    (_, (loss, y_pred, fixed_after, metrics_after)), first = gradients(weights)
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(g.astype("float32"))) for g in first))
    scale = rho / (norm + 1e-12)
    ascended = [w + (g * scale).astype(w.dtype) for w, g in zip(weights, first, strict=True)]
    _, sharp = gradients(ascended)
    weights, optimizer_state = model.optimizer.stateless_apply(optimizer_state, sharp, weights)
    logs, metrics_after = model._update_metrics_variables(
        metrics_after, loss, x, y, y_pred, sample_weight
    )
    return logs, (weights, fixed_after, optimizer_state, metrics_after)
