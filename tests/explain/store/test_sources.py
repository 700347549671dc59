"""`emolens index` on an image folder and on FER2013 PublicTest (skipped without the data)."""

from pathlib import Path

import cv2
import keras
import numpy as np
import pytest

from emolens.explain.data import FER7, load_dataset
from emolens.explain.store import open_store
from emolens.models import zoo
from tests.explain.store.helpers import run_cli, save_model, synthetic_images, tiny_model_file
from tests.toy_models import tiny_cnn

FER2013 = Path(__file__).resolve().parents[4] / "shared" / "data"


def test_an_image_folder_is_indexed_with_its_files(tmp_path):
    images, labels = synthetic_images(9)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = tmp_path / "faces" / "test" / ("Angry", "happy", "SAD")[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{i:02d}.png"), np.round(image[..., 0] * 255).astype(np.uint8))
    model_path = tiny_model_file(tmp_path)
    out = tmp_path / "store"
    argv = ["index", "--model", str(model_path), "--data", str(tmp_path / "faces")]
    assert run_cli([*argv, "--split", "test", "--out", str(out)]) == 0
    store = open_store(out)
    loaded = load_dataset(tmp_path / "faces", "test", "emo3", size=16, channels=1)
    rows = store.rows
    assert list(rows["file"]) == [str(p) for p in loaded.extras["paths"]]
    assert [Path(f).parent.name.lower() for f in rows["file"]] == list(rows["true_class"])
    np.testing.assert_array_equal(rows["label"], loaded.labels)
    probs = zoo.load(model_path).predict(loaded.images, verbose=0)
    np.testing.assert_allclose(store.probabilities(), probs, atol=1e-6)
    assert store.manifest["data"]["split"] == "test"


@pytest.mark.skipif(
    not (FER2013 / "fer2013" / "publictest.npz").is_file(),
    reason=f"FER2013 not found under {FER2013} (get it with `emolens data download fer2013`)",
)
def test_fer2013_publictest_keeps_all_3589_faces_for_an_emo3_model(tmp_path):
    keras.utils.set_random_seed(0)
    model_path = save_model(tiny_cnn((48, 48, 1), 3), tmp_path, "tiny48", ["angry", "happy", "sad"])
    out = tmp_path / "store"
    argv = ["index", "--model", str(model_path), "--data", str(FER2013), "--classes", "fer7"]
    assert run_cli([*argv, "--method", "none", "--out", str(out)]) == 0
    store = open_store(out)
    fer7 = load_dataset(str(FER2013), "publictest", "fer7")
    rows = store.rows
    assert len(store) == len(fer7) == 3589
    assert store.methods == ()
    assert list(rows["true_class"]) == [FER7[k] for k in fer7.labels]
    emo3 = {"angry": 0, "happy": 1, "sad": 2}
    np.testing.assert_array_equal(rows["label"], [emo3.get(FER7[k], -1) for k in fer7.labels])
    if "orig_index" in fer7.extras:
        np.testing.assert_array_equal(rows["source_index"], fer7.extras["orig_index"])
    assert store.embeddings([0, 3588]).shape == (2, 8)
