"""ONNX export: onnxruntime equals Keras (probabilities) and explain.grad_cam (maps)."""

from __future__ import annotations

import json

import keras
import numpy as np
import onnx
import onnxruntime
import pytest
from scipy.stats import spearmanr

from emolens import explain
from emolens.models.export import OPSET, export_onnx
from tests.toy_models import pooled_cnn, tiny_cnn


def _session(path):
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _run_cam(path, images, targets):
    probs, cam = _session(path).run(
        ["probs", "cam"], {"images": images, "targets": np.asarray(targets, np.int32)}
    )
    return probs, cam


def _assert_cam_parity(onnx_maps, keras_maps):
    """Within 1e-4 everywhere; Spearman 1.0 up to the rank swaps of float-noise near-ties.

    Upsampled maps hold many values a few 1e-7 apart, which float32 noise may reorder
    (measured: rho >= 0.999997), so rho is checked to 1e-5 rather than bit-exactly.
    """
    np.testing.assert_allclose(onnx_maps, keras_maps, atol=1e-4)
    for ours, reference in zip(onnx_maps, keras_maps, strict=True):
        if np.ptp(reference) > 0:
            rho = spearmanr(ours.ravel(), reference.ravel()).statistic
            assert rho == pytest.approx(1.0, abs=1e-5)


@pytest.fixture(scope="module")
def small_cnn():
    keras.utils.set_random_seed(0)
    model = pooled_cnn(input_shape=(16, 16, 3), num_classes=3)
    model.class_names = ("a", "b", "c")
    return model


def test_tiny_cnn_probabilities_and_grad_cam_equal_keras(small_cnn, tmp_path):
    path = tmp_path / "small.onnx"
    info = export_onnx(small_cnn, path, with_cam=True)
    images = np.random.default_rng(1).random((6, 16, 16, 3), dtype=np.float32)
    for targets in ([-1] * 6, [0, 1, 2, 0, 1, 2]):
        probs, cam = _run_cam(path, images, targets)
        expected = None if targets[0] == -1 else np.asarray(targets)
        np.testing.assert_allclose(probs, small_cnn.predict(images, verbose=0), atol=1e-5)
        _assert_cam_parity(cam, explain.grad_cam(small_cnn, images, expected))
    assert info.layer == "feat_relu" and info.opset == OPSET
    assert info.inputs == ("images", "targets") and set(info.outputs) == {"probs", "cam"}


def test_chosen_layer_through_relu_and_batch_of_one(tmp_path):
    keras.utils.set_random_seed(2)
    model = tiny_cnn(input_shape=(12, 12, 1), num_classes=3)
    path = tmp_path / "conv1.onnx"
    export_onnx(model, path, with_cam=True, layer="conv1")  # gradient through ReLU and conv
    images = np.random.default_rng(2).random((1, 12, 12, 1), dtype=np.float32)
    _, cam = _run_cam(path, images, [2])
    _assert_cam_parity(cam, explain.grad_cam(model, images, 2, "conv1"))


def test_gradients_through_tanh_sigmoid_and_layer_norm(tmp_path):
    """TanhGrad, SigmoidGrad and RsqrtGrad (LayerNormalization) between the layer and logits."""
    keras.utils.set_random_seed(4)
    images = keras.Input((10, 10, 1))
    x = keras.layers.Conv2D(6, 3, padding="same", name="feat")(images)
    x = keras.layers.LayerNormalization(name="norm")(x)
    x = keras.layers.Dense(6, activation="tanh", name="tanh")(x)
    x = keras.layers.Dense(6, activation="sigmoid", name="sigmoid")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(3, name="logits")(x)
    model = keras.Model(images, keras.layers.Softmax(name="probs")(logits))
    path = tmp_path / "act.onnx"
    export_onnx(model, path, with_cam=True, layer="feat")
    batch = np.random.default_rng(4).random((3, 10, 10, 1), dtype=np.float32)
    probs, cam = _run_cam(path, batch, [0, 1, 2])
    np.testing.assert_allclose(probs, model.predict(batch, verbose=0), atol=1e-5)
    _assert_cam_parity(cam, explain.grad_cam(model, batch, np.array([0, 1, 2]), "feat"))


def test_layer_behind_max_pooling_names_the_missing_gradient_op(small_cnn, tmp_path):
    with pytest.raises(ValueError, match=r"layers: pool\).*MaxPoolGrad.*without --with-cam"):
        export_onnx(small_cnn, tmp_path / "pool.onnx", with_cam=True, layer="conv1")


def test_file_describes_itself_in_metadata(small_cnn, tmp_path):
    path = tmp_path / "meta.onnx"
    export_onnx(small_cnn, path, with_cam=True, name="mine")
    proto = onnx.load(str(path))
    meta = {prop.key: prop.value for prop in proto.metadata_props}
    assert json.loads(meta["emolens.classes"]) == ["a", "b", "c"]
    assert meta["emolens.model"] == "mine" and meta["emolens.layer"] == "feat_relu"
    assert json.loads(meta["emolens.input_shape"]) == [16, 16, 3]
    assert proto.opset_import[0].version == OPSET
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temp file left


def test_prediction_only_export_equals_keras(tmp_path):
    keras.utils.set_random_seed(1)
    model = tiny_cnn(input_shape=(12, 12, 1), num_classes=4)
    info = export_onnx(model, tmp_path / "p.onnx")
    images = np.random.default_rng(3).random((5, 12, 12, 1), dtype=np.float32)
    (probs,) = _session(tmp_path / "p.onnx").run(["probs"], {"images": images})
    np.testing.assert_allclose(probs, model.predict(images, verbose=0), atol=1e-5)
    assert info.inputs == ("images",) and info.outputs == ("probs",) and info.layer is None


def test_normalization_layer_constants_are_folded_in_not_asked_for(tmp_path):
    """A Normalization layer keeps its mean/variance as tensors (keras.applications'
    EfficientNet has one): they are part of the file, and images/targets its only inputs."""
    keras.utils.set_random_seed(2)
    images = keras.Input((12, 12, 1))
    x = keras.layers.Normalization(mean=0.3, variance=0.04, name="norm")(images)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(images, keras.layers.Dense(3, activation="softmax")(x))
    faces = np.random.default_rng(4).random((3, 12, 12, 1), dtype=np.float32)
    info = export_onnx(model, tmp_path / "n.onnx", with_cam=True, layer="conv")
    assert set(info.inputs) == {"images", "targets"}
    probs, cam = _run_cam(tmp_path / "n.onnx", faces, [-1, 0, 2])
    expected = model.predict(faces, verbose=0)
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    targets = [int(expected[0].argmax()), 0, 2]
    _assert_cam_parity(cam, explain.grad_cam(model, faces, targets=targets, layer="conv"))


def test_default_bundled_model_on_real_and_synthetic_faces(
    default_model, default_cam_onnx, faces_48
):
    probs, cam = _run_cam(default_cam_onnx, faces_48, [-1] * len(faces_48))
    assert np.max(np.abs(probs - default_model.predict(faces_48, verbose=0))) < 1e-5
    _assert_cam_parity(cam, explain.grad_cam(default_model, faces_48))
    assert cam[0].max() == pytest.approx(1.0)  # a real map on Grace Hopper, not all zeros


def test_layer_off_the_output_path_is_refused():
    images = keras.Input((8, 8, 1))
    side = keras.layers.Conv2D(2, 3, name="side")(images)
    flat = keras.layers.Flatten()(images)
    logits = keras.layers.Dense(2, name="logits")(flat)
    model = keras.Model(images, [keras.layers.Softmax(name="probs")(logits)])
    model.side = side
    with pytest.raises(ValueError, match="has no spatial|no layer with|not in model"):
        export_onnx(model, "unused.onnx", with_cam=True, layer="side")


def test_exact_gelu_names_its_layer_and_the_fix(tmp_path):
    images = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(images)
    x = keras.layers.Dense(4, activation=lambda t: keras.activations.gelu(t), name="exact")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(images, keras.layers.Dense(2, activation="softmax", name="out")(x))
    with pytest.raises(ValueError, match=r"(?s)exact.*approximate=True"):
        export_onnx(model, tmp_path / "gelu.onnx")
    assert not (tmp_path / "gelu.onnx").exists()


def test_dynamic_stitch_conversion_has_known_answer():
    """TF's stitch [0,1,2,3],[1,2] <- [5,6,7,8],[1,1] is [5,1,1,8] (later indices win)."""
    import tensorflow as tf
    import tf2onnx

    from emolens.models.export._gradient_ops import HANDLERS

    @tf.function
    def stitch(shape):
        return tf.dynamic_stitch([tf.range(tf.size(shape)), tf.constant([1, 2])], [shape, [1, 1]])

    spec = (tf.TensorSpec((None,), tf.int32, name="shape"),)
    proto, _ = tf2onnx.convert.from_function(
        stitch, input_signature=spec, opset=OPSET, custom_op_handlers=dict(HANDLERS)
    )
    session = onnxruntime.InferenceSession(proto.SerializeToString())
    (out,) = session.run(None, {"shape": np.array([5, 6, 7, 8], np.int32)})
    np.testing.assert_array_equal(out, [5, 1, 1, 8])
