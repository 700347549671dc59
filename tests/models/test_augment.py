import keras
import numpy as np
import pytest

from emolens.models.augment import CutMix, augmentation, mix_batch


def _images(n=8, size=24, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 1), dtype=np.float32)


def _constant_batch(n=12, height=20, width=16):
    """Image i is the constant (i + 1) / (n + 1) with one-hot label i: pixels name their source."""
    values = (np.arange(n, dtype=np.float32) + 1) / (n + 1)
    images = np.broadcast_to(values[:, None, None, None], (n, height, width, 1)).copy()
    return images, np.eye(n, dtype=np.float32), values


def test_augmentation_is_identity_at_inference():
    keras.utils.set_random_seed(0)
    images = _images()
    for layer in (augmentation(seed=1), augmentation(False, 0, 0, 0, 0)):
        out = keras.ops.convert_to_numpy(layer(images, training=False))
        np.testing.assert_allclose(out, images, atol=1e-6)


def test_flip_in_training_mirrors_some_images_and_keeps_the_rest():
    keras.utils.set_random_seed(0)
    images = _images(n=32)
    flip = augmentation(flip=True, rotation=0, zoom=0, translation=0, contrast=0, seed=3)
    assert [type(layer).__name__ for layer in flip.layers] == ["RandomFlip"]
    out = keras.ops.convert_to_numpy(flip(images, training=True))
    assert out.shape == images.shape
    mirrored = np.array([np.allclose(o, i[:, ::-1]) for o, i in zip(out, images, strict=True)])
    kept = np.array([np.allclose(o, i) for o, i in zip(out, images, strict=True)])
    assert np.all(mirrored | kept)
    assert 0 < mirrored.sum() < len(images)


def test_full_augmentation_changes_images_and_keeps_shape_and_range():
    keras.utils.set_random_seed(0)
    images = _images(n=16, size=32)
    layer = augmentation(rotation=0.1, zoom=0.1, translation=0.1, contrast=0.5, seed=0)
    assert [type(sub).__name__ for sub in layer.layers] == [
        "RandomFlip",
        "RandomRotation",
        "RandomZoom",
        "RandomTranslation",
        "RandomContrast",
    ]
    out = keras.ops.convert_to_numpy(layer(images, training=True))
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert np.abs(out - images).mean() > 0.05


def test_augmentation_survives_a_keras_round_trip(tmp_path):
    inputs = keras.Input((24, 24, 1))
    model = keras.Model(inputs, augmentation(seed=0)(inputs))
    model.save(tmp_path / "aug.keras")
    loaded = keras.saving.load_model(tmp_path / "aug.keras", safe_mode=True)
    images = _images()
    np.testing.assert_allclose(loaded.predict(images, verbose=0), images, atol=1e-6)


def test_cutmix_label_weights_equal_pasted_pixel_fractions():
    images, labels, values = _constant_batch()
    out, mixed = mix_batch(images, labels, "cutmix", seed=7)
    assert out.shape == images.shape and out.dtype == np.float32
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-6)
    pixels = out[..., 0].reshape(len(out), -1)  # (N, H*W)
    source = np.abs(pixels[:, :, None] - values[None, None, :]).argmin(axis=2)
    np.testing.assert_allclose(pixels, values[source], atol=1e-6)  # every pixel is copied
    for i, row in enumerate(mixed):
        fractions = np.bincount(source[i], minlength=len(values)) / pixels.shape[1]
        assert np.abs(fractions - row).max() * pixels.shape[1] < 1.0  # within one pixel
    assert (np.diag(mixed) < 1).any()  # some images did get a patch


def test_cutmix_patches_are_rectangles():
    images, labels, values = _constant_batch()
    out, _ = mix_batch(images, labels, "cutmix", seed=11)
    for i in range(len(out)):
        pasted = ~np.isclose(out[i, ..., 0], values[i])
        if pasted.any():
            rows, cols = np.nonzero(pasted.any(axis=1))[0], np.nonzero(pasted.any(axis=0))[0]
            box = pasted[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            assert box.all()


def test_mixup_labels_match_the_pixel_blend():
    images, labels, values = _constant_batch()
    out, mixed = mix_batch(images, labels, "mixup", alpha=0.4, seed=5)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out[:, 0, 0, 0], mixed @ values, atol=1e-6)
    np.testing.assert_allclose(out, out[:, :1, :1, :] * np.ones_like(out), atol=1e-6)
    assert (mixed.max(axis=1) < 0.999).any()


@pytest.mark.parametrize("mode", ["mixup", "cutmix"])
def test_mixing_a_batch_with_itself_gives_itself(mode):
    image = _images(n=1)
    images = np.repeat(image, 6, axis=0)
    labels = np.repeat([[0.0, 1.0, 0.0]], 6, axis=0).astype(np.float32)
    out, mixed = mix_batch(images, labels, mode, seed=2)
    np.testing.assert_allclose(out, images, atol=1e-6)
    np.testing.assert_allclose(mixed, labels, atol=1e-6)


def test_mix_is_seeded_and_none_is_identity():
    images, labels, _ = _constant_batch()
    first = mix_batch(images, labels, "CutMix", seed=3)
    again = mix_batch(images, labels, "cutmix", seed=3)
    other = mix_batch(images, labels, "cutmix", seed=4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])
    same_images, same_labels = mix_batch(images, labels, "none")
    np.testing.assert_array_equal(same_images, images)
    np.testing.assert_array_equal(same_labels, labels)


def test_cutmix_config_round_trip():
    layer = CutMix.from_config(CutMix(0.5, seed=3, name="mix").get_config())
    assert (layer.alpha, layer.seed, layer.name) == (0.5, 3, "mix")


def test_cutmix_layer_is_identity_at_inference():
    images, labels, _ = _constant_batch()
    out = CutMix(seed=0)({"images": images, "labels": labels}, training=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out["images"]), images)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out["labels"]), labels)


def test_mix_batch_errors_say_what_arrived():
    images, labels, _ = _constant_batch()
    with pytest.raises(ValueError, match="mode in cutmix, mixup, none.*'blend'"):
        mix_batch(images, labels, "blend")
    with pytest.raises(ValueError, match="alpha=0"):
        mix_batch(images, labels, "mixup", alpha=0)
    with pytest.raises(ValueError, match=r"got \(12, 20, 16, 1\) and \(12,\).*to_categorical"):
        mix_batch(images, np.arange(12), "cutmix")


def test_mix_batch_inside_a_py_dataset():
    class Batches(keras.utils.PyDataset):
        def __init__(self, images, labels):
            super().__init__()
            self.images, self.labels = images, labels

        def __len__(self):
            return 2

        def __getitem__(self, index):
            rows = slice(index * 6, (index + 1) * 6)
            return mix_batch(self.images[rows], self.labels[rows], "cutmix", seed=index)

    images, labels, _ = _constant_batch()
    batches = Batches(images, labels)
    for index in range(len(batches)):
        batch_images, batch_labels = batches[index]
        assert isinstance(batch_images, np.ndarray) and batch_images.shape == (6, 20, 16, 1)
        np.testing.assert_allclose(batch_labels.sum(axis=1), 1.0, atol=1e-6)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((20, 16, 1)), keras.layers.Flatten(), keras.layers.Dense(12)]
    )
    model.compile("sgd", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    history = model.fit(batches, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
