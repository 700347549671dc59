"""Parquet shards as an index source: PNG bytes (plain or Hugging Face struct) with class-name
or FER2013-index labels load to the exact pixels, and `emolens index --data DIR` on them gives
the store of the same faces passed as a Dataset."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emolens.explain.data import Dataset
from emolens.explain.store import index, open_store
from emolens.explain.store._sources import load_source
from emolens.models import zoo
from tests.explain.store.helpers import SHAPE, index_args, run_cli, tiny_model_file
from tests.explain.store.helpers import png_bytes as _png


@pytest.fixture
def shards(tmp_path):
    """Two files: 6 faces labelled by name (one 'disgust', outside emo3), 4 by FER index."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (10, 16, 16), dtype=np.uint8)
    folder = tmp_path / "shards"
    folder.mkdir()
    names = ["happy", "sad", "disgust", "angry", "happy", "sad"]
    pq.write_table(
        pa.table({"image": [_png(p) for p in pixels[:6]], "label": names}),
        folder / "part-0.parquet",
    )
    structs = [{"bytes": _png(p), "path": f"face{k}.png"} for k, p in enumerate(pixels[6:])]
    pq.write_table(
        pa.table({"image": structs, "label": pa.array([0, 3, 4, 0], pa.int64())}),
        folder / "part-1.parquet",
    )
    keep = np.array([0, 1, 3, 4, 5, 6, 7, 8, 9])  # 'disgust' dropped
    labels = np.array([1, 2, 0, 1, 2, 0, 1, 2, 0])  # emo3: angry, happy, sad
    return folder, pixels[keep].astype(np.float32)[..., None] / 255.0, labels


def test_parquet_faces_load_exact_pixels_and_labels(shards):
    folder, images, labels = shards
    dataset = load_source(folder, None, "emo3", SHAPE)
    np.testing.assert_array_equal(dataset.images, images)
    np.testing.assert_array_equal(dataset.labels, labels)
    assert dataset.classes == ("angry", "happy", "sad")
    np.testing.assert_array_equal(dataset.extras["orig_index"], [0, 1, 3, 4, 5, 6, 7, 8, 9])
    assert dataset.extras["paths"][0].endswith("part-0.parquet#0")
    one = load_source(folder / "part-1.parquet", None, "emo3", SHAPE)
    np.testing.assert_array_equal(one.images, images[5:])


def test_index_on_parquet_equals_index_on_the_same_faces(tmp_path, shards):
    folder, images, labels = shards
    model_path = tiny_model_file(tmp_path)
    argv = index_args(model_path, tmp_path / "from_parquet", 0)
    argv[argv.index("--data") + 1] = str(folder)
    assert run_cli([*argv, "--split", "none"]) == 0
    direct = index(
        zoo.load(model_path),
        Dataset(images, labels, ("angry", "happy", "sad")),
        out=tmp_path / "direct",
        shard_size=8,
        batch_size=4,
    )
    rows = open_store(tmp_path / "from_parquet").rows
    columns = [c for c in rows.columns if c not in ("file", "source_index")]
    assert rows[columns].equals(direct.rows[columns])
    np.testing.assert_array_equal(rows["source_index"], [0, 1, 3, 4, 5, 6, 7, 8, 9])
    np.testing.assert_array_equal(
        open_store(tmp_path / "from_parquet").maps("grad_cam"), direct.maps("grad_cam")
    )


def test_parquet_without_an_image_column_is_refused(tmp_path):
    pq.write_table(pa.table({"pixels": [b"x"], "label": ["happy"]}), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="'image' column"):
        load_source(tmp_path / "bad.parquet", None, "emo3", SHAPE)
