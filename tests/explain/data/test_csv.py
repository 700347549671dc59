import numpy as np
import pytest

from emolens.explain.data import load_fer2013_csv, read_fer2013_csv
from tests.explain.data.files import CSV_LABELS, _pixels, _write_csv


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
