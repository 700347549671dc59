import keras
import numpy as np
import pytest

from emolens.explain.data.synthetic import DRAWABLE, PARTS, SyntheticFaces, demo_faces, faces


def test_faces_shapes_dtypes_and_range():
    batch = faces(30, seed=0, size=40)
    assert isinstance(batch, SyntheticFaces)
    assert len(batch) == 30
    assert batch.images.shape == (30, 40, 40, 1)
    assert batch.images.dtype == np.float32
    assert 0.0 <= batch.images.min() and batch.images.max() <= 1.0
    assert batch.labels.dtype == np.int64 and batch.labels.shape == (30,)
    assert batch.classes == DRAWABLE
    assert set(batch.masks) == set(PARTS)
    for mask in batch.masks.values():
        assert mask.shape == (30, 40, 40) and mask.dtype == bool


def test_classes_are_balanced_and_shuffled():
    labels = faces(61, seed=3).labels
    assert sorted(np.bincount(labels)) == [20, 20, 21]
    assert not np.array_equal(labels, np.arange(61) % 3)


def test_same_seed_same_faces_other_seed_other_faces():
    first, again, other = faces(9, seed=5), faces(9, seed=5), faces(9, seed=6)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.labels, again.labels)
    for part in PARTS:
        np.testing.assert_array_equal(first.masks[part], again.masks[part])
    assert not np.allclose(first.images, other.images)


def test_parts_lie_inside_the_face_and_are_not_empty():
    batch = faces(60, seed=1)
    face = batch.masks["face"]
    assert face.sum(axis=(1, 2)).min() > 0.15 * 48 * 48
    for part in ("brows", "eyes", "mouth"):
        mask = batch.masks[part]
        assert mask.sum(axis=(1, 2)).min() > 0, part
        assert not (mask & ~face).any(), f"{part} mask leaves the face"
    assert not (batch.masks["brows"] & batch.masks["eyes"]).any()
    assert not (batch.masks["eyes"] & batch.masks["mouth"]).any()


def test_masks_match_the_drawn_parts():
    # Features are drawn darker than the skin: inside the face, masked part pixels
    # are darker than the bare skin pixels of the same face.
    batch = faces(40, seed=2)
    features = batch.masks["brows"] | batch.masks["eyes"] | batch.masks["mouth"]
    skin = batch.masks["face"] & ~features
    for image, feature, bare in zip(batch.images[..., 0], features, skin, strict=True):
        assert np.median(image[feature]) < np.median(image[bare]) - 0.05


def test_expressions_differ_where_the_parts_are():
    # Mean faces of two classes differ most at the mouth and brows, not the cheeks.
    batch = faces(300, seed=4)
    means = [batch.images[batch.labels == k, ..., 0].mean(axis=0) for k in range(3)]
    happy_vs_sad = np.abs(means[1] - means[2])
    mouth_rows = happy_vs_sad[30:42].mean()
    border_rows = happy_vs_sad[:4].mean()
    assert mouth_rows > 3 * border_rows


def test_class_subset_any_case_and_channels():
    batch = faces(8, seed=0, classes=["SAD", "Happy"], channels=3)
    assert batch.classes == ("sad", "happy")
    assert set(batch.labels.tolist()) == {0, 1}
    assert batch.images.shape == (8, 48, 48, 3)
    np.testing.assert_array_equal(batch.images[..., 0], batch.images[..., 2])


def test_undrawable_class_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"cannot draw 'fear'.*angry, happy, sad"):
        faces(4, classes=("angry", "fear"))
    with pytest.raises(ValueError, match="at most once"):
        faces(4, classes=("sad", "Sad"))
    with pytest.raises(ValueError, match="channels 1 or 3; got n=4, size=48, channels=2"):
        faces(4, channels=2)
    with pytest.raises(ValueError, match="n >= 1"):
        faces(0)


def test_demo_faces_are_fixed_and_grouped_by_class():
    demo = demo_faces()
    assert demo.images.shape == (12, 48, 48, 1)
    np.testing.assert_array_equal(demo.labels, np.repeat([0, 1, 2], 4))
    np.testing.assert_array_equal(demo.images, demo_faces().images)
    assert demo.masks["mouth"].shape == (12, 48, 48)


def test_a_tiny_cnn_learns_the_expressions():
    keras.utils.set_random_seed(0)
    train, test = faces(600, seed=10), faces(300, seed=11)
    model = keras.Sequential(
        [
            keras.Input((48, 48, 1)),
            keras.layers.Conv2D(16, 5, strides=2, activation="relu"),
            keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(train.images, train.labels, batch_size=32, epochs=12, verbose=0)
    _, accuracy = model.evaluate(test.images, test.labels, verbose=0)
    print(f"held-out accuracy {accuracy:.3f}")
    assert accuracy > 0.9
