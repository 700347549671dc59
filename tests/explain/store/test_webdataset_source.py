"""WebDataset-style tar shards as an index source: samples grouped by key, labels from .cls
(FER index or name), .txt or .json, load to the exact pixels; `emolens index --data DIR` on them
gives the store of the same faces passed as a Dataset; broken shards get clear errors."""

import io
import json
import tarfile

import numpy as np
import pytest

from emolens.explain.data import Dataset
from emolens.explain.store import index, open_store
from emolens.explain.store._sources import load_source
from emolens.models import zoo
from tests.explain.store.helpers import SHAPE, index_args, run_cli, tiny_model_file
from tests.explain.store.helpers import png_bytes as _png


def _write_tar(path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def shards(tmp_path):
    """Two shards: 5 samples (one 'disgust', outside emo3; keys with dots and folders), 4 more."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (9, 16, 16), dtype=np.uint8)
    folder = tmp_path / "shards"
    folder.mkdir()
    _write_tar(
        folder / "shard-000.tar",
        [
            ("a/face0.png", _png(pixels[0])),
            ("a/face0.cls", b"3"),  # happy
            ("face1.png", _png(pixels[1])),
            ("face1.txt", b"Sad\n"),
            ("face2.cls", b"1"),  # disgust: dropped (label before image also works)
            ("face2.png", _png(pixels[2])),
            ("face3.crop.png", _png(pixels[3])),  # key 'face3', extension 'crop.png'... no image
            ("face3.json", json.dumps({"label": "angry"}).encode()),
            ("face4.png", _png(pixels[4])),
            ("face4.cls", b"angry"),
        ],
    )
    _write_tar(
        folder / "shard-001.tar",
        [(f"f{k}.{ext}", data) for k in range(5, 9)
         for ext, data in (("png", _png(pixels[k])), ("cls", str([0, 3, 4, 0][k - 5]).encode()))],
    )  # fmt: skip
    return folder, pixels


def test_tar_faces_load_exact_pixels_labels_and_positions(shards):
    folder, pixels = shards
    with pytest.raises(ValueError, match=r"Sample 'face3' .* has no image \(members: crop\.png"):
        load_source(folder, None, "emo3", SHAPE)
    (folder / "shard-000.tar").unlink()
    dataset = load_source(folder, None, "emo3", SHAPE)
    np.testing.assert_array_equal(dataset.images, pixels[5:].astype(np.float32)[..., None] / 255)
    np.testing.assert_array_equal(dataset.labels, [0, 1, 2, 0])
    assert dataset.extras["paths"][1].endswith("shard-001.tar#f6")


def test_keys_labels_and_dropped_classes(tmp_path, shards):
    folder, pixels = shards
    members = [  # the first shard without its broken sample
        ("a/face0.png", _png(pixels[0])), ("a/face0.cls", b"3"),
        ("face1.png", _png(pixels[1])), ("face1.txt", b"Sad\n"),
        ("face2.cls", b"1"), ("face2.png", _png(pixels[2])),
        ("face3.png", _png(pixels[3])), ("face3.json", json.dumps({"label": "angry"}).encode()),
    ]  # fmt: skip
    _write_tar(folder / "shard-000.tar", members)
    dataset = load_source(folder, None, "emo3", SHAPE)
    keep = [0, 1, 3, 5, 6, 7, 8]
    np.testing.assert_array_equal(dataset.images, pixels[keep].astype(np.float32)[..., None] / 255)
    np.testing.assert_array_equal(dataset.labels, [1, 2, 0, 0, 1, 2, 0])
    np.testing.assert_array_equal(dataset.extras["orig_index"], [0, 1, 3, 4, 5, 6, 7])
    assert dataset.extras["paths"][0].endswith("shard-000.tar#a/face0")
    one = load_source(folder / "shard-001.tar", None, "emo3", SHAPE)
    assert len(one.images) == 4


def test_index_on_tar_shards_equals_index_on_the_same_faces(tmp_path, shards):
    folder, pixels = shards
    (folder / "shard-000.tar").unlink()
    model_path = tiny_model_file(tmp_path)
    argv = index_args(model_path, tmp_path / "from_tar", 0)
    argv[argv.index("--data") + 1] = str(folder)
    assert run_cli([*argv, "--split", "none"]) == 0
    direct = index(
        zoo.load(model_path),
        Dataset(pixels[5:].astype(np.float32)[..., None] / 255, np.array([0, 1, 2, 0]),
                ("angry", "happy", "sad")),
        out=tmp_path / "direct", shard_size=8, batch_size=4,
    )  # fmt: skip
    rows = open_store(tmp_path / "from_tar").rows
    columns = [c for c in rows.columns if c not in ("file", "source_index")]
    assert rows[columns].equals(direct.rows[columns])
    np.testing.assert_array_equal(
        open_store(tmp_path / "from_tar").maps("grad_cam"), direct.maps("grad_cam")
    )


def test_broken_shards_are_refused_clearly(tmp_path):
    (tmp_path / "bad.tar").write_bytes(b"not a tar file at all" * 40)
    with pytest.raises(ValueError, match="is not a readable tar file"):
        load_source(tmp_path / "bad.tar", None, "emo3", SHAPE)
    _write_tar(tmp_path / "nolabel.tar", [("x.png", _png(np.zeros((8, 8), np.uint8)))])
    with pytest.raises(ValueError, match=r"Sample 'x' .* has no label: add x\.cls"):
        load_source(tmp_path / "nolabel.tar", None, "emo3", SHAPE)
    _write_tar(tmp_path / "other.tar", [("x.png", _png(np.zeros((8, 8), np.uint8))),
                                        ("x.cls", b"surprise")])  # fmt: skip
    with pytest.raises(ValueError, match="No sample .* has a class of emo3"):
        load_source(tmp_path / "other.tar", None, "emo3", SHAPE)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "x.tar").write_bytes(b"")
    with pytest.raises(ValueError):
        load_source(empty, None, "emo3", SHAPE)
