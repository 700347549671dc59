"""open_store: filters select what a direct computation selects, maps and embeddings by id,
class means, labels of classes the model lacks, and clear errors."""

import keras
import numpy as np
import pytest

from emolens import explain
from emolens.explain.data import Dataset
from emolens.explain.store import index, open_store
from tests.toy_models import tiny_cnn

CLASSES = ("angry", "happy", "sad")
DATA_CLASSES = ("angry", "happy", "neutral", "sad")  # neutral is no class of the model


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(store, model, images, data labels): 30 random 12x12 images over 3 shards of 11."""
    keras.utils.set_random_seed(0)
    model = tiny_cnn((12, 12, 1), num_classes=3)
    model.class_names = CLASSES
    rng = np.random.default_rng(0)
    images = rng.random((30, 12, 12, 1), dtype=np.float32)
    labels = rng.integers(0, 4, size=30)
    paths = np.array([f"f{i}.png" for i in range(30)])
    dataset = Dataset(images, labels, DATA_CLASSES, {"paths": paths})
    out = tmp_path_factory.mktemp("reader") / "store"
    store = index(model, dataset, ["grad_cam"], out=out, shard_size=11, batch_size=5, source="toy")
    return store, model, images, labels


def test_rows_keep_every_image_and_mark_classes_the_model_lacks(built):
    store, model, _, labels = built
    rows = store.rows
    assert len(store) == len(rows) == 30
    names = np.array(DATA_CLASSES)[labels]
    assert list(rows["true_class"]) == list(names)
    assert list(rows["file"]) == [f"f{i}.png" for i in range(30)]
    expected = np.array([0, 1, -1, 2])[labels]
    np.testing.assert_array_equal(rows["label"], expected)
    neutral = expected == -1
    assert neutral.any() and rows["loss"][neutral].isna().all()
    assert not rows["correct"][neutral].any()
    assert store.manifest["data"]["source"] == "toy"
    assert store.manifest["class_counts"]["label"] == [int((expected == k).sum()) for k in range(3)]


def test_filters_select_the_rows_a_direct_computation_selects(built):
    store, model, images, labels = built
    probs = model.predict(images, verbose=0)
    predicted, confidence = probs.argmax(axis=1), probs.max(axis=1)
    names = np.array(DATA_CLASSES)[labels]
    label = np.array([0, 1, -1, 2])[labels]

    def ids(frame):
        return list(frame["id"])

    assert ids(store.filter(true="HAPPY")) == list(np.flatnonzero(names == "happy"))
    assert ids(store.filter(true="neutral")) == list(np.flatnonzero(names == "neutral"))
    assert ids(store.filter(true=[0, "sad"])) == list(np.flatnonzero((label == 0) | (label == 2)))
    assert ids(store.filter(predicted=int(predicted[0]))) == list(
        np.flatnonzero(predicted == predicted[0])
    )
    wrong = np.flatnonzero(predicted != label)
    assert ids(store.filter(correct=False)) == list(wrong)
    assert ids(store.filter(correct=True)) == list(np.flatnonzero(predicted == label))
    low, high = np.quantile(confidence, [0.25, 0.75])
    inside = (confidence >= low - 1e-6) & (confidence <= high + 1e-6)
    picked = store.filter(confidence=(low - 1e-6, high + 1e-6))
    assert ids(picked) == list(np.flatnonzero(inside))
    both = store.filter(true="angry", correct=False, confidence=(0.0, 1.0))
    assert ids(both) == list(np.flatnonzero((names == "angry") & (predicted != 0)))


def test_maps_and_embeddings_by_id_cross_shards_in_the_asked_order(built):
    store, model, images, _ = built
    everything = store.maps("grad_cam")
    np.testing.assert_allclose(everything, explain.grad_cam(model, images), atol=1 / 510 + 1e-5)
    ids = [29, 0, 11, 10, 11, 22]  # three shards, unsorted, a repeat
    np.testing.assert_array_equal(store.maps("grad_cam", ids), everything[ids])
    assert store.maps("grad_cam", ids, raw=True).dtype == np.uint8
    np.testing.assert_array_equal(store.embeddings(ids), store.embeddings()[ids])
    np.testing.assert_array_equal(store.probabilities(ids), store.probabilities()[ids])
    mean = store.mean_map("grad_cam", ids)
    np.testing.assert_allclose(mean, everything[ids].mean(axis=0), atol=1e-6)


def test_class_means_are_the_mean_maps_of_each_class(built):
    store, *_ = built
    maps, rows = store.maps("grad_cam"), store.rows
    for by in ("label", "prediction"):
        means = store.class_means("grad_cam", by)
        assert means.shape == (3, 12, 12)
        for k in range(3):
            members = (rows[by] == k).to_numpy()
            expected = maps[members].mean(axis=0) if members.any() else np.zeros((12, 12))
            np.testing.assert_allclose(means[k], expected, atol=1e-6)


def test_reader_errors_say_what_to_do(built, tmp_path):
    store, *_ = built
    with pytest.raises(ValueError, match="holds maps of grad_cam; got 'saliency'"):
        store.maps("saliency", [0])
    with pytest.raises(ValueError, match="Id 30 is out of range.*0..29"):
        store.maps("grad_cam", [30])
    with pytest.raises(ValueError, match="by 'label' or 'prediction'"):
        store.class_means("grad_cam", "shard")
    with pytest.raises(FileNotFoundError, match="No store at"):
        open_store(tmp_path / "nothing")


def test_the_reader_reads_only_what_the_manifest_lists(built, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built[0].path, copy)
    (copy / "shards" / "00099.parquet").write_bytes(b"half a file")  # not in the manifest
    (copy / "shards" / ".00000.parquet.x.tmp").write_bytes(b"PAR1")
    assert len(open_store(copy).rows) == 30
    (copy / "shards" / "00001.embeddings.npy").unlink()
    with pytest.raises(FileNotFoundError, match="lacks 1 file.*00001.embeddings.npy"):
        open_store(copy)
