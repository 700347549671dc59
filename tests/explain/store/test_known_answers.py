"""Known answers through `emolens index`: the store's rows equal what is derived on paper or
computed directly with the library (predictions, probabilities, embeddings, maps)."""

import keras
import numpy as np
import pytest

from emolens import explain
from emolens.explain.store import open_store
from emolens.explain.store._forward import forward
from emolens.models import zoo
from tests.explain.store.helpers import (
    index_args,
    probe_model_file,
    run_cli,
    synthetic_images,
    tiny_model_file,
)
from tests.toy_models import tiny_cnn

UINT8_STEP = 1 / 510  # round(255 * m) / 255 is within half a step of m
FLOAT16_STEP = 2.0**-11  # float16 relative precision near 1


def test_linear_probe_store_holds_the_answers_derived_on_paper(tmp_path):
    """logits (m, -m) with m = mean(x): class 0 always wins, p0 = 1 / (1 + exp(-2m)),
    the embedding (GAP of the +x/-x conv) is (m, -m), Grad-CAM is x / max(x)."""
    out = tmp_path / "store"
    assert run_cli(index_args(probe_model_file(tmp_path), out)) == 0
    store = open_store(out)
    images, labels = synthetic_images(24)
    x = images[..., 0].astype(np.float64)
    m = x.mean(axis=(1, 2))
    p0 = 1.0 / (1.0 + np.exp(-2.0 * m))
    rows = store.rows
    assert store.classes == ("angry", "happy")
    np.testing.assert_array_equal(rows["id"], np.arange(24))
    np.testing.assert_array_equal(rows["prediction"], 0)
    assert (rows["predicted_class"] == "angry").all()
    np.testing.assert_allclose(rows["prob_angry"], p0, atol=1e-6)
    np.testing.assert_allclose(rows["prob_happy"], 1.0 - p0, atol=1e-6)
    np.testing.assert_allclose(rows["confidence"], p0, atol=1e-6)
    np.testing.assert_allclose(rows["margin"], 2.0 * p0 - 1.0, atol=1e-6)
    # emo3 labels: angry -> 0, happy -> 1, sad -> -1 (the model has no sad class)
    expected_label = np.array([0, 1, -1])[labels]
    np.testing.assert_array_equal(rows["label"], expected_label)
    assert list(rows["true_class"]) == [("angry", "happy", "sad")[k] for k in labels]
    np.testing.assert_array_equal(rows["correct"], expected_label == 0)
    loss = np.where(expected_label == 0, -np.log(p0), -np.log(1.0 - p0))
    known = expected_label >= 0
    np.testing.assert_allclose(rows["loss"][known], loss[known], rtol=1e-5)
    assert rows["loss"][~known].isna().all()
    np.testing.assert_allclose(store.embeddings(), np.stack([m, -m], axis=1), atol=1e-6)
    expected_maps = x / x.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(store.maps("grad_cam"), expected_maps, atol=UINT8_STEP + 1e-6)
    assert store.manifest["cam_layer"] == "feat"
    assert store.manifest["embedding"] == {"layer": "gap", "dim": 2, "dtype": "float32"}


@pytest.mark.parametrize(("map_dtype", "step"), [("uint8", UINT8_STEP), ("float16", FLOAT16_STEP)])
def test_store_rows_equal_direct_library_calls(tmp_path, map_dtype, step):
    path = tiny_model_file(tmp_path)
    out = tmp_path / "store"
    argv = index_args(path, out, 20, "--method", "grad_cam,saliency", "--map-dtype", map_dtype)
    assert run_cli(argv) == 0
    store = open_store(out)
    model = zoo.load(path)
    images, labels = synthetic_images(20)
    probs = model.predict(images, verbose=0)
    predictions = probs.argmax(axis=1)
    embedding = keras.Model(model.inputs[0], model.get_layer("gap").output)(images).numpy()
    rows = store.rows
    np.testing.assert_array_equal(rows["prediction"], predictions)
    np.testing.assert_array_equal(rows["label"], labels)
    np.testing.assert_array_equal(rows["correct"], predictions == labels)
    np.testing.assert_allclose(store.probabilities(), probs, atol=1e-6)
    np.testing.assert_allclose(
        rows["loss"], -np.log(probs[np.arange(20), labels]), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(store.embeddings(), embedding, atol=1e-5)
    assert store.maps("grad_cam", raw=True).dtype == np.dtype(map_dtype)
    np.testing.assert_allclose(
        store.maps("grad_cam"), explain.grad_cam(model, images), atol=step + 1e-5
    )
    np.testing.assert_allclose(
        store.maps("saliency"), explain.saliency(model, images, predictions), atol=step + 1e-5
    )


@pytest.mark.parametrize("batch_size", [1, 3, 7])
def test_one_pass_grad_cam_equals_explain_grad_cam(batch_size):
    """The store's in-tape Grad-CAM (before quantisation) is explain.grad_cam's, any batch."""
    keras.utils.set_random_seed(1)
    model = tiny_cnn((12, 12, 1), num_classes=4)
    images = np.random.default_rng(2).random((7, 12, 12, 1), dtype=np.float32)
    result = forward(model, images, None, True, batch_size)
    np.testing.assert_allclose(result["maps"], explain.grad_cam(model, images), atol=1e-6)
    np.testing.assert_allclose(result["probs"], model.predict(images, verbose=0), atol=1e-6)
    np.testing.assert_array_equal(result["top"], result["probs"].argmax(axis=1))
    conv = forward(model, images, "conv1", True, batch_size)["maps"]
    np.testing.assert_allclose(conv, explain.grad_cam(model, images, None, "conv1"), atol=1e-6)
