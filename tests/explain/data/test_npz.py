import numpy as np
import pytest

from emolens.explain.data import data_dir, load_fer2013
from emolens.explain.data.labels import EMO3
from tests.explain.data.files import _write_npz


def test_load_fer2013_relabels_to_class_sets(tmp_path):
    labels = [0, 1, 2, 3, 4, 5, 6, 3, 0]
    _write_npz(tmp_path, "train", labels)
    fer7 = load_fer2013("train", "fer7", root=tmp_path)
    assert fer7.images.shape == (9, 48, 48, 1) and fer7.images.dtype == np.float32
    np.testing.assert_array_equal(fer7.labels, labels)
    emo3 = load_fer2013("train", "emo3", root=tmp_path)
    assert emo3.classes == EMO3
    np.testing.assert_array_equal(emo3.labels, [0, 1, 2, 1, 0])  # angry happy sad happy angry
    np.testing.assert_array_equal(emo3.extras["orig_index"], [0, 3, 4, 7, 8])
    raw = np.load(tmp_path / "fer2013" / "train.npz")["x"]
    np.testing.assert_allclose(emo3.images[1, ..., 0], raw[3] / 255.0, atol=1e-7)


def test_load_fer2013_clean_drops_black_and_unknown_rows(tmp_path):
    x = np.random.default_rng(1).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    x[1] = 0
    _write_npz(tmp_path, "publictest", [3, 3, 3, 3], x=x, orig_index=np.array([0, 1, -1, 3]))
    kept = load_fer2013("PublicTest", "emo3", root=tmp_path, clean=True)
    np.testing.assert_array_equal(kept.extras["orig_index"], [0, 3])


def test_load_fer2013_uses_emolens_data_env(tmp_path, monkeypatch):
    _write_npz(tmp_path, "train", [3, 4])
    monkeypatch.setenv("EMOLENS_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    assert len(load_fer2013("train", "emo3")) == 2


def test_missing_data_dir_and_file_say_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLENS_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"EMOLENS_DATA.*emolens data download"):
        data_dir()
    with pytest.raises(FileNotFoundError, match=r"--data.*does not exist"):
        load_fer2013("train", root=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"train.npz.*not found"):
        load_fer2013("train", root=tmp_path)
    with pytest.raises(ValueError, match="Unknown FER2013 split 'validation'"):
        load_fer2013("validation", root=tmp_path)


def test_load_fer2013_rejects_wrong_shape_and_missing_keys(tmp_path):
    _write_npz(tmp_path, "train", [0, 3], x=np.zeros((2, 2304), np.uint8))
    with pytest.raises(ValueError, match=r"x shaped \(2, 2304\).*expected x \(N, H, W\)"):
        load_fer2013("train", root=tmp_path)
    np.savez(tmp_path / "fer2013" / "train.npz", images=np.zeros((2, 48, 48)))
    with pytest.raises(ValueError, match="lacks key.*x, y.*images"):
        load_fer2013("train", root=tmp_path)
