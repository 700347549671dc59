"""The library pipeline: paths, size limits, several faces, targets, failing methods, logits."""

import cv2
import keras
import numpy as np
import pytest

from emolens.explain.report import collect_paths, explain_files, predict_probs
from tests.explain.report.conftest import GRACE, copy_grace
from tests.explain.report.foreign_model import signed_probe


def test_collect_paths_expands_folders_recursively_and_globs(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    for name in ("a/1.png", "a/b/2.JPG", "a/b/notes.txt", "a/.hidden/3.png", "c/4.webp"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    files, missing = collect_paths(
        [tmp_path / "a", str(tmp_path / "c" / "*.webp"), tmp_path / "a" / "1.png",
         tmp_path / "a" / "b" / "notes.txt", str(tmp_path / "**" / "2.JPG"), tmp_path / "nope",
         tmp_path / "empty"]
    )  # fmt: skip
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a/1.png", "a/b/2.JPG", "c/4.webp", "a/b/notes.txt"
    ]  # fmt: skip
    assert [(m.file, m.reason.split(" (")[0]) for m in missing] == [
        (str(tmp_path / "nope"), "not found"),
        (str(tmp_path / "empty"), "no image files in this folder"),
    ]


def test_too_large_files_are_refused_before_decoding(tmp_path, tiny_model):
    copy_grace(tmp_path, "grace.jpg")
    result = explain_files(tiny_model, [tmp_path], max_bytes=10_000)
    assert not result.faces and result.errors[0].reason.startswith("too large: 0.1 MiB")
    result = explain_files(tiny_model, [tmp_path], max_pixels=100_000)
    assert result.errors[0].reason == "too large: 512x600 pixels (0 MP, limit 0 MP)"


def test_all_faces_gives_every_face_of_a_photo(tmp_path, tiny_model):
    photo = cv2.imread(GRACE)  # 600x512
    small = np.zeros_like(photo)
    small[150:450, 128:384] = cv2.resize(photo, (256, 300), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(tmp_path / "two.png"), np.hstack([photo, small]))  # 600x1024, two faces
    largest = explain_files(tiny_model, [tmp_path / "two.png"])
    both = explain_files(tiny_model, [tmp_path / "two.png"], all_faces=True)
    assert len(largest.faces) == 1 and len(both.faces) == 2
    assert [f.face for f in both.faces] == [0, 1] and both.faces[0].box == largest.faces[0].box
    # the same face, batched with another: equal up to float rounding (oneDNN's convolution
    # sums in another order for a batch of 2; 1.5e-7 seen), as in the batch-size test below
    np.testing.assert_allclose(
        both.faces[0].maps["grad_cam"], largest.faces[0].maps["grad_cam"], atol=1e-6
    )
    (x0, _, w0, _), (x1, _, w1, _) = both.faces[0].box, both.faces[1].box
    assert x0 + w0 <= 512 < x1 and w0 > w1  # the full-size face first, then the small one


def test_batches_give_the_same_numbers_as_one_face_at_a_time(tmp_path, tiny_model):
    copy_grace(tmp_path, "g1.jpg", "g2.png", "g3.bmp")
    together = explain_files(tiny_model, [tmp_path], ["grad_cam", "score_cam"], batch_size=32)
    apart = explain_files(tiny_model, [tmp_path], ["grad_cam", "score_cam"], batch_size=1)
    for a, b in zip(together.faces, apart.faces, strict=True):
        assert a.file == b.file and a.box == b.box
        np.testing.assert_allclose(a.probs, b.probs, atol=1e-6)
        for method in ("grad_cam", "score_cam"):
            np.testing.assert_allclose(a.maps[method], b.maps[method], atol=1e-5)
    assert set(together.timing_ms) == {"decode", "detect", "predict", "maps"}


def test_a_failing_method_is_reported_per_face_and_the_others_still_run(tmp_path, tiny_model):
    copy_grace(tmp_path, "grace.jpg")
    result = explain_files(tiny_model, [tmp_path], ["attention_rollout", "grad_cam"])
    (face,) = result.faces
    assert set(face.maps) == {"grad_cam"} and "attention_rollout" in face.errors
    assert result.explained == [face]


def test_target_by_name_and_index(tmp_path, tiny_model):
    copy_grace(tmp_path, "grace.jpg")
    by_name = explain_files(tiny_model, [tmp_path], target="sad")
    by_index = explain_files(tiny_model, [tmp_path], target=2)
    assert by_name.target == by_index.target == "sad"
    assert by_name.faces[0].target == by_index.faces[0].target == 2
    np.testing.assert_array_equal(
        by_name.faces[0].maps["grad_cam"], by_index.faces[0].maps["grad_cam"]
    )
    with pytest.raises(ValueError, match=r"index 3 is out of range for 3 classes"):
        explain_files(tiny_model, [tmp_path], target=3)


def test_logits_and_softmax_models_report_the_same_probabilities():
    images = np.random.default_rng(0).random((5, 16, 16, 1), dtype=np.float32)
    with_softmax = predict_probs(signed_probe(softmax=True), images)
    from_logits = predict_probs(signed_probe(softmax=False), images)
    np.testing.assert_allclose(from_logits, with_softmax, atol=1e-6)
    np.testing.assert_allclose(from_logits.sum(axis=1), 1.0, atol=1e-6)
    means = images.mean(axis=(1, 2, 3))  # the probe's logits are (mean x, -mean x)
    np.testing.assert_allclose(from_logits[:, 0], 1.0 / (1.0 + np.exp(-2.0 * means)), atol=1e-6)


def test_a_softmax_emolens_cannot_bypass_is_not_applied_twice():
    """A final softmax inside a layer emolens cannot re-apply without it (here EinsumDense):
    the outputs are already probabilities (before, a second softmax flattened them)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 1))
    flat = keras.layers.Flatten()(inputs)
    probs = keras.layers.EinsumDense("ab,bc->ac", output_shape=3, activation="softmax")(flat)
    model = keras.Model(inputs, probs)
    images = np.random.default_rng(0).random((6, 4, 4, 1), dtype=np.float32) * 4
    got = predict_probs(model, images)
    np.testing.assert_allclose(got, model.predict(images, verbose=0), atol=1e-6)


def test_batch_size_reaches_every_method(tmp_path, tiny_model, monkeypatch):
    """batch_size is the methods' batch too (before, they ran at their own default of 32)."""
    from emolens import explain

    copy_grace(tmp_path / "photos", "g1.jpg", "g2.jpg", "g3.jpg")
    saliency, asked = explain.METHODS["saliency"], []

    def spy(*args, batch_size=32, **kwargs):
        asked.append(batch_size)
        return saliency(*args, batch_size=batch_size, **kwargs)

    monkeypatch.setitem(explain.METHODS, "saliency", spy)
    result = explain_files(tiny_model, [tmp_path / "photos"], ["saliency"], batch_size=2)
    assert len(result.faces) == 3 and asked == [2, 2]  # groups of 2 then 1, each at 2
    with pytest.raises(ValueError, match="batch_size must be >= 1; got 0"):
        explain_files(tiny_model, [tmp_path / "photos"], batch_size=0)


def test_request_errors_before_any_file_is_read(tmp_path, tiny_model):
    unnamed = keras.Model(tiny_model.inputs, tiny_model.outputs)  # no class_names attribute
    with pytest.raises(ValueError, match="has no class names.*--classes"):
        explain_files(unnamed, [tmp_path])
    with pytest.raises(ValueError, match="has 3 outputs but 2 class names"):
        explain_files(tiny_model, [tmp_path], classes=["a", "b"])
    with pytest.raises(ValueError, match=r"Unknown method\(s\) nope"):
        explain_files(tiny_model, [tmp_path], ["grad_cam", "nope"])
    flat = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"takes inputs shaped \(10,\).*square image input"):
        explain_files(flat, [tmp_path], classes=["a", "b", "c"])
