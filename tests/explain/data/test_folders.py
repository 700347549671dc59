import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.explain.data import load_image_folder
from emolens.explain.data.labels import EMO3
from tests.explain.data.files import _write_image


def test_load_image_folder_kaggle_layout(kaggle_folder):
    train = load_image_folder(kaggle_folder, "train", "emo3")
    assert train.images.shape == (9, 48, 48, 1) and train.images.dtype == np.float32
    assert train.classes == EMO3
    np.testing.assert_array_equal(train.labels, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    first = cv2.imread(str(kaggle_folder / "train" / "angry" / "train_0.png"), 0)
    np.testing.assert_allclose(train.images[0, ..., 0], first / 255.0, atol=1e-7)
    assert train.extras["paths"][0].endswith("angry/train_0.png")
    with pytest.warns(UserWarning, match="no images of fear, surprise"):
        fer7 = load_image_folder(kaggle_folder, "TEST", "fer7")
    np.testing.assert_array_equal(np.bincount(fer7.labels, minlength=7), [2, 2, 0, 2, 2, 0, 2])


def test_load_image_folder_human_layout_mixed_case_colour_sizes(human_folder):
    dataset = load_image_folder(human_folder, None, "emo3", size=32)
    assert dataset.images.shape == (6, 32, 32, 1)
    np.testing.assert_array_equal(dataset.labels, [0, 1, 1, 2, 2, 2])
    assert 0.0 <= dataset.images.min() and dataset.images.max() <= 1.0
    bgr = cv2.imread(str(human_folder / "HAPPY" / "img1.jpg"))
    expected = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (32, 32), interpolation=3)
    np.testing.assert_allclose(dataset.images[2, ..., 0], expected / 255.0, atol=1e-7)
    colour = load_image_folder(human_folder, None, "emo3", channels=3)
    assert colour.images.shape == (6, 48, 48, 3)


def test_load_image_folder_crops_faces_when_asked(tmp_path):
    from matplotlib import cbook

    hopper = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()
    (tmp_path / "happy").mkdir()
    (tmp_path / "happy" / "hopper.jpg").write_bytes(hopper)
    _write_image(tmp_path / "sad" / "blank.png", np.full((60, 60), 90, np.uint8))
    _write_image(tmp_path / "Angry" / "wide.png", np.full((30, 80, 3), 200, np.uint8))
    with pytest.warns(UserWarning, match="No face found in 2 of 3 images"):
        dataset = load_image_folder(tmp_path, None, "emo3", detect_faces=True)
    np.testing.assert_array_equal(dataset.extras["face_found"], [False, True, False])
    from emolens.explain.faces import prepare_faces

    np.testing.assert_allclose(dataset.images[0], 200 / 255.0, atol=1e-6)
    np.testing.assert_allclose(dataset.images[1], prepare_faces(hopper)[0][0], atol=1e-7)
    np.testing.assert_allclose(dataset.images[2], 90 / 255.0, atol=1e-6)


def test_load_image_folder_skips_corrupt_files_with_a_warning(human_folder):
    (human_folder / "Sad" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (human_folder / "Sad" / "notes.txt").write_text("not an image")
    (human_folder / "Sad" / ".DS_Store").write_bytes(b"\0")
    with pytest.warns(UserWarning, match=r"Skipped 2 corrupt or non-image files.*broken.jpg"):
        dataset = load_image_folder(human_folder, None, "emo3")
    assert len(dataset) == 6
    assert not any("broken" in p or "notes" in p for p in dataset.extras["paths"])


def test_load_image_folder_errors_name_the_problem_and_fix(tmp_path, human_folder):
    for name in ("img0.jpg", "img1.jpg", "img2.jpg"):
        (human_folder / "Sad" / name).write_bytes(b"garbage")
    for name in ("Angry", "HAPPY"):
        for path in (human_folder / name).iterdir():
            path.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"No image under .* could be decoded \(6 files"):
        load_image_folder(human_folder, None, "emo3")
    (human_folder / "Bored").mkdir()
    with pytest.raises(ValueError, match=r"Folder 'Bored' matches no known class.*angry, disgust"):
        load_image_folder(human_folder, None, "emo3")
    empty = tmp_path / "empty"
    (empty / "Happy").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"Class folder .*Happy' is empty.*Add images of 'happy'"):
        load_image_folder(empty, None, "emo3")
    with pytest.raises(ValueError, match="no class subfolders"):
        load_image_folder(empty / "Happy", None, "emo3")
    with pytest.raises(FileNotFoundError, match=r"Image folder .*missing' not found"):
        load_image_folder(tmp_path / "missing")


def test_load_image_folder_split_errors(kaggle_folder):
    with pytest.raises(
        FileNotFoundError, match=r"no 'val' split folder.*subfolders are test, train"
    ):
        load_image_folder(kaggle_folder, "val")
    with pytest.raises(ValueError, match=r"holds split folders.*Pass split='train'"):
        load_image_folder(kaggle_folder, None)
    with pytest.raises(ValueError, match="channels must be 1"):
        load_image_folder(kaggle_folder, "train", channels=2)


def test_load_image_folder_ignores_classes_outside_the_set_and_accepts_aliases(tmp_path):
    rng = np.random.default_rng(2)
    for name in ("Happiness", "happy", "anger", "contempt", "Surprise"):
        _write_image(tmp_path / name / "a.png", rng.integers(0, 256, (48, 48), dtype=np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no sad images
        dataset = load_image_folder(tmp_path, None, "emo3")
    np.testing.assert_array_equal(dataset.labels, [0, 1, 1])
    folders = [Path(p).parent.name for p in dataset.extras["paths"]]
    assert folders == ["anger", "Happiness", "happy"]
    for name in ("Happiness", "happy", "anger"):
        (tmp_path / name / "a.png").unlink()
        (tmp_path / name).rmdir()
    with pytest.raises(
        ValueError, match=r"no folder for any class of 'emo3'.*it has Surprise, contempt"
    ):
        load_image_folder(tmp_path, None, "emo3")
