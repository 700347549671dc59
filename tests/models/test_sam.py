"""SAM train step: a numpy known answer, parity with Keras's own step at rho 0, state once.

The same tests run again on the JAX backend (the lent GPU machine trains with JAX)."""

import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from emolens.models.augment import augmentation
from emolens.models.sam import use_sam


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_one_sam_step_is_the_gradient_at_the_ascended_weights_applied_at_the_start():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16)]
    w0 = rng.normal(size=(5, 3)).astype(np.float32)
    b0 = rng.normal(size=3).astype(np.float32)
    lr, rho = 0.5, 0.3

    def gradients(w, b):  # mean cross-entropy of softmax(x w + b)
        d = (_softmax(x @ w + b) - y) / len(x)
        return x.T @ d, d.sum(axis=0)

    gw, gb = gradients(w0, b0)
    norm = np.sqrt((gw**2).sum() + (gb**2).sum())
    sw, sb = gradients(w0 + rho * gw / norm, b0 + rho * gb / norm)
    expected_w, expected_b = w0 - lr * sw, b0 - lr * sb

    inputs = keras.Input((5,))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))
    model.set_weights([w0, b0])
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="categorical_crossentropy")
    use_sam(model, rho)
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    w1, b1 = model.get_weights()
    np.testing.assert_allclose(w1, expected_w, atol=1e-5)
    np.testing.assert_allclose(b1, expected_b, atol=1e-5)
    plain_w = w0 - lr * gw  # and the step is not the plain one
    assert np.abs(w1 - plain_w).max() > 1e-3


def _augmented_model(seed: int = 0) -> keras.Model:
    """Random augmentation, BatchNorm and Dropout: every kind of state a step changes."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((12, 12, 1))
    h = augmentation(rotation=0.1, seed=seed)(inputs)
    h = keras.layers.Conv2D(4, 3, use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dropout(0.3, seed=seed)(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    model.compile(optimizer=keras.optimizers.AdamW(1e-2), loss="categorical_crossentropy")
    return model


def _fit_two_steps(rho: float | None, steps: int = 2):
    """Weights, [(kind, value)] of the non-trainable state, and mean loss after `steps` steps
    of 16 faces (plain steps where `rho` is None)."""
    model = _augmented_model()
    if rho is not None:
        use_sam(model, rho)
    rng = np.random.default_rng(1)
    x = rng.random((16 * steps, 12, 12, 1)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 16 * steps)]
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    trainable = [np.array(v) for v in model.trainable_variables]
    state = [(_kind(v), np.array(v)) for v in model.non_trainable_variables]
    return trainable, state, history.history["loss"][0]


def _kind(variable) -> str:
    """'seed_generator_state', 'moving_mean', ...: the path without its auto-numbered layer."""
    return variable.path.split("/")[-1]


@pytest.fixture(scope="module")
def plain():
    return _fit_two_steps(None)


def test_at_rho_zero_the_step_is_keras_own_step_with_augmentation_dropout_and_batchnorm(plain):
    weights, state, loss = _fit_two_steps(0.0)
    for a, b in zip(weights, plain[0], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert [kind for kind, _ in state] == [kind for kind, _ in plain[1]]
    for (kind, value), (_, expected) in zip(state, plain[1], strict=True):
        np.testing.assert_allclose(value, expected, atol=1e-6, err_msg=kind)
    assert loss == pytest.approx(plain[2], rel=1e-6)


def test_the_ascent_pass_leaves_no_trace_in_batchnorm_statistics_or_random_seeds(plain):
    weights, state, loss = _fit_two_steps(0.5)
    # the first step starts from the same weights, so its statistics and draws are the plain
    # step's; the second starts from other weights. So compare after one step.
    assert max(np.abs(a - b).max() for a, b in zip(weights, plain[0], strict=True)) > 1e-4
    seeds = [i for i, (kind, _) in enumerate(state) if kind == "seed_generator_state"]
    assert len(seeds) >= 2
    for i in seeds:  # each generator advanced by the first pass only
        np.testing.assert_array_equal(state[i][1], plain[1][i][1])


def test_after_one_step_batchnorm_counts_the_first_pass_only():
    plain_state, sam_state = _fit_two_steps(None, steps=1)[1], _fit_two_steps(0.5, steps=1)[1]
    stats = [i for i, (kind, _) in enumerate(plain_state) if kind.startswith("moving_")]
    assert len(stats) == 2
    for i in stats:
        np.testing.assert_allclose(sam_state[i][1], plain_state[i][1], atol=1e-6)
        assert np.abs(plain_state[i][1] - [0.0, 1.0][i - stats[0]]).max() > 1e-4  # it moved


def test_a_negative_radius_is_refused_with_the_usual_value():
    model = _augmented_model()
    expected = r"rho \(--sam\) is >= 0 \(0.05 is usual; 0 = off\); got -0.1"
    with pytest.raises(ValueError, match=expected):
        use_sam(model, -0.1)


@pytest.mark.skipif(
    keras.backend.backend() == "jax" or importlib.util.find_spec("jax") is None,
    reason="runs this file on JAX from another backend; jax not installed (pip install .[dev])",
)
def test_these_tests_pass_on_the_jax_backend_too():
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"]
    proc = subprocess.run(
        [*argv, __file__, "-k", "not jax_backend_too"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "5 passed" in proc.stdout
