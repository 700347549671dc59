"""Training augmentation as Keras 3 layers (any backend): geometry/contrast, CutMix, MixUp."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

MIX_MODES: tuple[str, ...] = ("cutmix", "mixup", "none")


def augmentation(
    flip: bool = True,
    rotation: float = 0.1,
    zoom: float = 0.1,
    translation: float = 0.1,
    contrast: float = 0.2,
    seed: int | None = None,
    fill_mode: str = "reflect",
) -> keras.Sequential:
    """Random flip, rotation, zoom, shift and contrast for images in [0, 1].

    Active only when called with `training=True` (as `fit` does); identity at inference.
    A strength of 0 (or `flip=False`) leaves that layer out.

    Args:
        flip: mirror left-right with probability 1/2.
        rotation: largest rotation, as a fraction of a full turn (0.1 = 36 degrees).
        zoom: largest zoom in or out, as a fraction of the image size.
        translation: largest shift, as a fraction of height and width.
        contrast: largest contrast change factor; results are clipped to [0, 1].
        seed: seed of the first layer (the next ones get seed + 1, seed + 2, ...).
        fill_mode: how pixels moved in from outside are filled ("reflect", "nearest", ...).

    Returns:
        `keras.Sequential` named "augmentation": (N, H, W, C) -> (N, H, W, C) float32.
    """

    def next_seed() -> int | None:
        return None if seed is None else seed + len(layers)

    layers: list[keras.layers.Layer] = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=next_seed()))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, fill_mode, seed=next_seed()))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode=fill_mode, seed=next_seed()))
    if translation:
        layers.append(
            keras.layers.RandomTranslation(
                translation, translation, fill_mode=fill_mode, seed=next_seed()
            )
        )
    if contrast:
        layers.append(keras.layers.RandomContrast(contrast, value_range=(0, 1), seed=next_seed()))
    if not layers:
        layers.append(keras.layers.Identity())
    pipeline = keras.Sequential(layers, name="augmentation")
    allow_jit(pipeline)
    return pipeline


def allow_jit(model: keras.Model) -> None:
    """Under JAX, mark the random image layers in `model` as jit-safe (also after loading).

    Keras marks RandomRotation as not XLA-safe because of TensorFlow's transform op; the JAX
    implementation compiles fine, and without jit a JAX train step runs op by op (~40x
    slower). Other backends are left as they are.
    """
    if keras.backend.backend() != "jax":
        return
    for layer in model._flatten_layers(include_self=False):
        layer.supports_jit = True


@keras.saving.register_keras_serializable(package="emolens")
class CutMix(keras.layers.Layer):
    """CutMix with whole-pixel boxes: labels mix by exactly the pasted pixel fraction.

    Each image gets a box from a shuffled partner in the batch; box area is
    `1 - lam` of the image with `lam ~ Beta(alpha, alpha)`, rounded to whole rows and
    columns. Unlike `keras.layers.CutMix` (fractional box edges), the label weight
    of the partner is the exact fraction of pixels that came from it.

    Call on {"images": (N, H, W, C), "labels": (N, K) float}; returns the same dict.
    Identity when `training=False`.

    Reference: Yun et al., CutMix, https://arxiv.org/abs/1905.04899
    """

    def __init__(self, alpha: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.alpha, self.seed = float(alpha), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _box(self, batch, length, side):
        """Per image (N, length) bool: which rows (or columns) the box covers."""
        cut = ops.cast(ops.round(side * ops.cast(length, "float32")), "int32")  # (N,)
        room = ops.cast(length - cut + 1, "float32")
        start = ops.floor(keras.random.uniform((batch,), seed=self.seed_generator) * room)
        start = ops.cast(start, "int32")[:, None]
        positions = ops.arange(length, dtype="int32")[None, :]
        return (positions >= start) & (positions < start + cut[:, None])

    def call(self, data, training=True):
        """Mix {"images": (N, H, W, C), "labels": (N, K)}; identity unless training."""
        if not training:
            return data
        images, labels = data["images"], ops.cast(data["labels"], "float32")
        batch, height, width = ops.shape(images)[0], ops.shape(images)[1], ops.shape(images)[2]
        lam = keras.random.beta((batch,), self.alpha, self.alpha, seed=self.seed_generator)
        side = ops.sqrt(1.0 - lam)  # (N,) box side as a fraction of the image side
        rows, cols = self._box(batch, height, side), self._box(batch, width, side)
        boxes = rows[:, :, None] & cols[:, None, :]  # (N, H, W)
        partner = keras.random.shuffle(ops.arange(batch, dtype="int32"), seed=self.seed_generator)
        mixed = ops.where(boxes[..., None], ops.take(images, partner, axis=0), images)
        pasted = ops.mean(ops.cast(boxes, "float32"), axis=(1, 2))[:, None]  # (N, 1)
        labels = (1.0 - pasted) * labels + pasted * ops.take(labels, partner, axis=0)
        return {"images": mixed, "labels": labels}

    def compute_output_shape(self, input_shape):
        """Same shapes as the input dict."""
        return input_shape

    def get_config(self):
        """Layer config with `alpha` and `seed`, for `.keras` round trips."""
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}


def _check_batch(images: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    """float32 (N, H, W, C) images and float32 (N, K) labels, or a ValueError."""
    images, labels = np.asarray(images, np.float32), np.asarray(labels, np.float32)
    if images.ndim != 4 or labels.ndim != 2 or len(images) != len(labels):
        raise ValueError(
            "mix_batch expects images (N, H, W, C) and one-hot labels (N, K); got "
            f"{images.shape} and {labels.shape}. One-hot encode integer labels with "
            "keras.utils.to_categorical(labels, num_classes)."
        )
    return images, labels


def mix_batch(
    images: np.ndarray,
    labels_onehot: np.ndarray,
    mode: str = "cutmix",
    alpha: float | None = None,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mix a batch with a shuffled copy of itself: images and labels alike.

    Made for `keras.utils.PyDataset.__getitem__`: numpy in, numpy out. The same
    `seed` gives the same mix; None draws a fresh one.

    Args:
        images: float32 (N, H, W, C).
        labels_onehot: (N, K) one-hot (or soft) labels.
        mode: "cutmix" (pasted boxes, `CutMix`), "mixup" (`keras.layers.MixUp`
            blends) or "none" (returned unchanged).
        alpha: Beta(alpha, alpha) parameter of the mixing weight. None: 1.0 for
            CutMix, 0.2 for MixUp (the papers' defaults).
        seed: seed of this batch's mix.

    Returns:
        (images float32 (N, H, W, C), labels float32 (N, K)); label rows keep their sums.

    Raises:
        ValueError: unknown `mode`, `alpha` <= 0, or mismatched shapes.
    """
    images, labels = _check_batch(images, labels_onehot)
    key = str(mode).lower()
    if alpha is None:
        alpha = 0.2 if key == "mixup" else 1.0
    if key not in MIX_MODES or not alpha > 0:
        raise ValueError(
            f"mix_batch needs mode in {', '.join(MIX_MODES)} and alpha > 0; "
            f"got mode={mode!r}, alpha={alpha}."
        )
    if key == "none":
        return images, labels
    if key == "cutmix":
        layer = CutMix(alpha, seed=seed)
    else:
        layer = keras.layers.MixUp(alpha, seed=seed)
    mixed = layer({"images": images, "labels": labels}, training=True)
    return (
        ops.convert_to_numpy(mixed["images"]).astype(np.float32),
        ops.convert_to_numpy(mixed["labels"]).astype(np.float32),
    )


__all__ = ["MIX_MODES", "CutMix", "augmentation", "mix_batch"]
