import io
import sys
import tarfile
import warnings
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from emolens.explain.data import (
    Dataset,
    data_dir,
    download,
    load_dataset,
    load_fer2013,
    load_fer2013_csv,
    load_image_folder,
    read_fer2013_csv,
    split_validation,
)
from emolens.explain.data.download import convert_fer2013_csv, download_fer2013
from emolens.explain.data.labels import EMO3, FER7

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# FER2013 labels: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
CSV_LABELS = [0, 3, 4, 6, 1, 3, 0, 4, 2, 5]
CSV_USAGES = ["Training"] * 6 + ["PublicTest"] * 3 + ["PrivateTest"]


def _pixels(row: int) -> np.ndarray:
    return ((np.arange(48 * 48) + 7 * row) % 256).astype(np.uint8).reshape(48, 48)


def _write_csv(path: Path, rows: list[str] | None = None, header: str = "emotion,pixels,Usage"):
    if rows is None:
        rows = [
            f'{label},"{" ".join(map(str, _pixels(i).ravel()))}",{usage}'
            for i, (label, usage) in enumerate(zip(CSV_LABELS, CSV_USAGES, strict=True))
        ]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _write_npz(folder: Path, split: str, labels: list[int], **arrays) -> None:
    (folder / "fer2013").mkdir(parents=True, exist_ok=True)
    count = len(labels)
    rng = np.random.default_rng(0)
    defaults = {
        "x": rng.integers(0, 256, (count, 48, 48), dtype=np.uint8),
        "y": np.asarray(labels, np.int64),
        "names": np.array([f"Training_{i}.jpg" for i in range(count)]),
        "paths": np.array([f"train/{FER7[y]}/Training_{i}.jpg" for i, y in enumerate(labels)]),
        "orig_index": np.arange(count, dtype=np.int64),
        "ferplus_votes": np.zeros((count, 10), np.int16),
        "classes": np.array(FER7),
    }
    np.savez(folder / "fer2013" / f"{split}.npz", **{**defaults, **arrays})


def _write_image(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cv2.imencode(path.suffix, image)[1].tobytes())


# --- FER2013 npz --------------------------------------------------------------------------


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


# --- fer2013.csv ----------------------------------------------------------------------------


def test_load_fer2013_csv_filters_usage_and_relabels(tmp_path):
    path = _write_csv(tmp_path / "fer2013.csv")
    every = load_fer2013_csv(path)
    assert every.images.shape == (10, 48, 48, 1)
    np.testing.assert_array_equal(every.labels, CSV_LABELS)
    np.testing.assert_allclose(every.images[7, ..., 0], _pixels(7) / 255.0, atol=1e-7)
    train = load_fer2013_csv(path, "emo3", usage="Training")
    np.testing.assert_array_equal(train.labels, [0, 1, 2, 1])  # angry happy sad happy
    np.testing.assert_array_equal(train.extras["orig_index"], [0, 1, 2, 5])
    public = load_fer2013_csv(path, "fer7", usage="publictest")
    np.testing.assert_array_equal(public.extras["orig_index"], [6, 7, 8])
    with pytest.raises(ValueError, match="Unknown FER2013 usage 'Validation'"):
        load_fer2013_csv(path, usage="Validation")


def test_load_fer2013_csv_reads_kaggle_icml_header(tmp_path):
    rows = [
        f'3, Training, "{" ".join(["9"] * 2304)}"',
        f'4, PublicTest, "{" ".join(["1"] * 2304)}"',
    ]
    path = _write_csv(tmp_path / "icml_face_data.csv", rows, header="emotion, Usage, pixels")
    dataset = load_fer2013_csv(path, usage="Training")
    np.testing.assert_allclose(dataset.images, 9 / 255.0, atol=1e-7)


@pytest.mark.parametrize(
    ("rows", "header", "match"),
    [
        (['0,"1 2 3",Training'], "emotion,Usage", r"lacks column\(s\) pixels"),
        (['0,"1 2 3",Training'], "label,pixels,Usage", r"lacks column\(s\) emotion"),
        (['0,"1 2 x 4",Training'], None, r"data row 0 \(line 2\).*non-integer pixel value 'x'"),
        (['0,"1 2 3",Training'], None, r"data row 0 .*3 pixel values; expected a square"),
        (['0,"1 2 3 999",Training'], None, r"pixel values in \[1, 999\]; expected 0-255"),
        (['0,"1 2 3 4",Training', '3,"1 2 3 4 5 6 7 8 9",Training'], None, r"row 1 .*expected 4"),
        (['7,"1 2 3 4",Training'], None, r"emotion '7'; expected an integer 0-6"),
        (['0,"1 2 3 4"'], None, r"data row 0 \(line 2\) has 2 fields"),
    ],
)
def test_load_fer2013_csv_names_the_bad_row_or_column(tmp_path, rows, header, match):
    path = _write_csv(tmp_path / "bad.csv", rows, header or "emotion,pixels,Usage")
    with pytest.raises(ValueError, match=match):
        load_fer2013_csv(path, usage="Training")


def test_load_fer2013_csv_missing_file_and_missing_usage(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv.*not found"):
        load_fer2013_csv(tmp_path / "nope.csv")
    rows = ['0,"1 1 1 1",PublicTest', '0,"1 1 1 1",PrivateTest']
    path = _write_csv(tmp_path / "fer.csv", rows)
    with pytest.raises(
        ValueError, match=r"no rows with Usage 'Training' \(found: PrivateTest, Pub"
    ):
        read_fer2013_csv(path, "training")
    without_usage = _write_csv(tmp_path / "train.csv", ['0,"1 1 1 1"'], header="emotion,pixels")
    assert len(load_fer2013_csv(without_usage)) == 1
    with pytest.raises(ValueError, match=r"lacks column\(s\) usage"):
        load_fer2013_csv(without_usage, usage="Training")


# --- FER2013 download / conversion (no network) ---------------------------------------------


def test_convert_fer2013_csv_writes_npz_that_load_fer2013_reads(tmp_path):
    csv_path = _write_csv(tmp_path / "fer2013.csv")
    written = convert_fer2013_csv(csv_path, tmp_path / "data")
    assert set(written) == {"train", "publictest"}
    with np.load(written["train"]) as npz:
        assert npz["x"].dtype == np.uint8 and npz["x"].shape == (6, 48, 48)
        np.testing.assert_array_equal(npz["x"][4], _pixels(4))
        np.testing.assert_array_equal(npz["y"], CSV_LABELS[:6])
        assert tuple(npz["classes"]) == FER7
    assert not [p for p in (tmp_path / "data" / "fer2013").iterdir() if p.suffix == ".tmp"]
    public = load_fer2013("publictest", "fer7", root=tmp_path / "data")
    np.testing.assert_array_equal(public.labels, CSV_LABELS[6:9])
    np.testing.assert_allclose(public.images[1, ..., 0], _pixels(7) / 255.0, atol=1e-7)


def test_download_fer2013_converts_a_csv_placed_by_hand(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_kaggle_command", lambda: pytest.fail("network used"))
    _write_csv((tmp_path / "fer2013").mkdir() or tmp_path / "fer2013" / "fer2013.csv")
    assert download_fer2013(tmp_path) == tmp_path
    assert len(load_fer2013("train", "emo3", root=tmp_path)) == 4
    before = (tmp_path / "fer2013" / "train.npz").stat().st_mtime_ns
    download_fer2013(tmp_path)  # already there: nothing rewritten
    assert (tmp_path / "fer2013" / "train.npz").stat().st_mtime_ns == before


def test_download_fer2013_without_kaggle_explains_the_manual_route(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_kaggle_command", lambda: None)
    with pytest.raises(
        FileNotFoundError, match=r"kaggle.*not installed.*by hand.*put it at .*fer2013.csv"
    ):
        download_fer2013(tmp_path)


def _fake_kaggle(tmp_path: Path, archive: bytes, exit_code: int = 0) -> str:
    """A stand-in `kaggle` command that writes `archive` into its -p folder."""
    (tmp_path / "archive.zip").write_bytes(archive)
    script = tmp_path / "kaggle"
    script.write_text(
        f"#!{sys.executable}\nimport shutil, sys\n"
        f"folder = sys.argv[sys.argv.index('-p') + 1]\n"
        f"shutil.copy({str(tmp_path / 'archive.zip')!r}, folder + '/fer.zip')\n"
        f"sys.stderr.write('403 Forbidden')\nsys.exit({exit_code})\n"
    )
    script.chmod(0o755)
    return str(script)


def _kaggle_zip(csv_bytes: bytes) -> bytes:
    """Kaggle's competition zip: fer2013.csv inside fer2013.tar.gz."""
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        info = tarfile.TarInfo("fer2013/fer2013.csv")
        info.size = len(csv_bytes)
        tar.addfile(info, io.BytesIO(csv_bytes))
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("example_submission.csv", "id\n")
        archive.writestr("fer2013.tar.gz", packed.getvalue())
    return bundle.getvalue()


def test_download_fer2013_through_a_stand_in_kaggle_command(tmp_path, monkeypatch):
    csv_bytes = _write_csv(tmp_path / "source.csv").read_bytes()
    command = _fake_kaggle(tmp_path, _kaggle_zip(csv_bytes))
    monkeypatch.setattr(download, "_kaggle_command", lambda: command)
    data = download_fer2013(tmp_path / "data")
    assert (data / "fer2013" / "fer2013.csv").read_bytes() == csv_bytes
    assert len(load_fer2013("publictest", root=data)) == 3
    assert [p.name for p in (data / "fer2013").iterdir() if p.name.startswith(".")] == []


def test_download_fer2013_reports_a_failed_download(tmp_path, monkeypatch):
    command = _fake_kaggle(tmp_path, b"not a zip", exit_code=1)
    monkeypatch.setattr(download, "_kaggle_command", lambda: command)
    with pytest.raises(RuntimeError, match=r"failed \(exit 1\): 403 Forbidden.*rules"):
        download_fer2013(tmp_path / "data")


# --- image folders ----------------------------------------------------------------------------


@pytest.fixture
def kaggle_folder(tmp_path) -> Path:
    """Kaggle FER2013 layout: train/test, lowercase classes, 48x48 gray PNGs."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("test", 2)):
        for name in ("angry", "disgust", "happy", "sad", "neutral"):
            for i in range(count):
                gray = rng.integers(0, 256, (48, 48), dtype=np.uint8)
                _write_image(tmp_path / split / name / f"{split}_{i}.png", gray)
    return tmp_path


@pytest.fixture
def human_folder(tmp_path) -> Path:
    """Human Emotions Dataset layout: Angry/Happy/Sad colour JPEGs of different sizes."""
    rng = np.random.default_rng(1)
    for k, name in enumerate(("Angry", "HAPPY", "Sad")):
        for i, (h, w) in enumerate([(120, 90), (64, 200), (300, 300)][: k + 1]):
            colour = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            _write_image(tmp_path / "photos" / name / f"img{i}.jpg", colour)
    return tmp_path / "photos"


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


# --- load_dataset and split_validation ------------------------------------------------------


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


def test_split_validation_is_stratified_seeded_and_disjoint():
    labels = np.repeat([0, 1, 2], [50, 100, 30])
    images = np.arange(len(labels), dtype=np.float32).reshape(-1, 1, 1, 1)
    dataset = Dataset(images, labels, EMO3, {"orig_index": np.arange(len(labels))})
    train, val = split_validation(dataset, fraction=0.1, seed=3)
    np.testing.assert_array_equal(np.bincount(val.labels), [5, 10, 3])
    np.testing.assert_array_equal(np.bincount(train.labels), [45, 90, 27])
    ids = np.concatenate([train.extras["orig_index"], val.extras["orig_index"]])
    np.testing.assert_array_equal(np.sort(ids), np.arange(len(labels)))
    np.testing.assert_array_equal(val.images[:, 0, 0, 0], val.extras["orig_index"])
    again = split_validation(dataset, fraction=0.1, seed=3)[1]
    np.testing.assert_array_equal(again.extras["orig_index"], val.extras["orig_index"])
    other = split_validation(dataset, fraction=0.1, seed=4)[1]
    assert not np.array_equal(other.extras["orig_index"], val.extras["orig_index"])


def test_split_validation_rejects_bad_fraction_and_tiny_classes():
    dataset = Dataset(np.zeros((5, 1, 1, 1), np.float32), np.array([0, 0, 1, 1, 2]), EMO3)
    with pytest.raises(ValueError, match="fraction must be between 0 and 1"):
        split_validation(dataset, fraction=1.5)
    with pytest.raises(ValueError, match="class.*sad have a single image"):
        split_validation(dataset)


# --- the real data --------------------------------------------------------------------------


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
