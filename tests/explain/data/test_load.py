from pathlib import Path

import numpy as np
import pytest

from emolens.explain.data import load_dataset, load_fer2013, load_fer2013_csv
from emolens.explain.data.synthetic import faces
from tests.explain.data.files import _write_csv, _write_npz

REAL_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def test_load_dataset_dispatches_every_format(tmp_path, kaggle_folder):
    _write_npz(tmp_path / "data", "publictest", [0, 3, 4, 1])
    assert len(load_dataset("fer2013", "test", "emo3", root=tmp_path / "data")) == 3
    csv_path = _write_csv(tmp_path / "fer2013.csv")
    assert len(load_dataset(csv_path, "train", "emo3")) == 4
    assert len(load_dataset(str(csv_path), "publictest", "fer7")) == 3
    assert len(load_dataset(csv_path, None, "fer7")) == 10
    folder = load_dataset(kaggle_folder, "publictest", "emo3", size=24)
    assert folder.images.shape == (6, 24, 24, 1)
    with pytest.raises(FileNotFoundError, match="Pass 'fer2013', a fer2013.csv path, or an image"):
        load_dataset(tmp_path / "nothing", "train", "emo3")
    (tmp_path / "weights.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="not 'fer2013', a .csv file or a folder"):
        load_dataset(tmp_path / "weights.h5", "train", "emo3")
    with pytest.raises(ValueError, match="Unknown FER2013 split 'dev'"):
        load_dataset("fer2013", "dev", "emo3", root=tmp_path / "data")


def test_load_dataset_reads_a_folder_holding_fer2013_and_the_default_folder(tmp_path, monkeypatch):
    x = np.random.default_rng(4).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    x[2] = 0  # near-black: dropped by clean
    _write_npz(tmp_path / "data", "train", [0, 3, 4, 1, 3], x=x)
    expected = load_fer2013("train", "emo3", root=tmp_path / "data")
    folder = load_dataset(tmp_path / "data", "training", "emo3")
    np.testing.assert_array_equal(folder.images, expected.images)
    np.testing.assert_array_equal(folder.extras["orig_index"], [0, 1, 2, 4])
    monkeypatch.setenv("EMOLENS_DATA", str(tmp_path / "data"))
    default = load_dataset(None, "train", "emo3", clean=True)
    np.testing.assert_array_equal(default.extras["orig_index"], [0, 1, 4])
    with pytest.raises(FileNotFoundError, match="publictest.npz.*not found"):
        load_dataset(str(tmp_path / "data"), "test", "emo3")


def test_load_dataset_limit_keeps_a_seeded_subset_in_file_order(tmp_path):
    _write_npz(tmp_path, "train", [3] * 20)
    picked = load_dataset("fer2013", "train", "emo3", tmp_path, limit=5, seed=3)
    expected = np.sort(np.random.default_rng(3).permutation(20)[:5])
    np.testing.assert_array_equal(picked.extras["orig_index"], expected)
    full = load_fer2013("train", "emo3", root=tmp_path)
    np.testing.assert_array_equal(picked.images, full.images[expected])
    again = load_dataset("fer2013", "train", "emo3", tmp_path, limit=5, seed=3)
    np.testing.assert_array_equal(again.extras["orig_index"], expected)
    other = load_dataset("fer2013", "train", "emo3", tmp_path, limit=5, seed=4)
    assert not np.array_equal(other.extras["orig_index"], expected)
    assert len(load_dataset("fer2013", "train", "emo3", tmp_path, limit=50)) == 20


def test_load_dataset_clean_leaves_csv_rows_alone(tmp_path):
    path = _write_csv(tmp_path / "fer2013.csv")
    cleaned = load_dataset(path, "train", "fer7", clean=True)
    np.testing.assert_array_equal(cleaned.images, load_fer2013_csv(path, "fer7", "Training").images)


def test_load_dataset_synthetic_draws_a_fixed_seed_per_split():
    train = load_dataset("synthetic", "train", "emo3", limit=9, seed=5)
    np.testing.assert_array_equal(train.images, faces(9, seed=0).images)
    np.testing.assert_array_equal(train.labels, faces(9, seed=0).labels)
    assert train.classes == ("angry", "happy", "sad") and train.extras == {}
    test = load_dataset("synthetic", "test", "emo3", limit=9)
    np.testing.assert_array_equal(test.images, faces(9, seed=1).images)
    public = load_dataset("synthetic", "publictest", "emo3", size=32)
    assert public.images.shape == (300, 32, 32, 1)
    np.testing.assert_array_equal(public.images[:4], faces(300, seed=1, size=32).images[:4])
    with pytest.raises(ValueError, match="cannot draw 'disgust'"):
        load_dataset("synthetic", "train", "fer7", limit=3)


def test_a_missing_dataset_names_every_accepted_source_and_the_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="holding fer2013/.*emolens data download fer2013"):
        load_dataset(tmp_path / "nothing", "train", "emo3")


@pytest.mark.slow
@pytest.mark.skipif(
    not (REAL_DATA / "fer2013" / "train.npz").is_file(),
    reason=f"real FER2013 npz files not found under {REAL_DATA}",
)
def test_real_fer2013_emo3_counts():
    expected = {"train": [3995, 7215, 4830], "publictest": [467, 895, 653]}
    for split, counts in expected.items():
        dataset = load_dataset("fer2013", split, "emo3", root=REAL_DATA)
        assert dataset.images.shape[1:] == (48, 48, 1)
        np.testing.assert_array_equal(np.bincount(dataset.labels), counts)
