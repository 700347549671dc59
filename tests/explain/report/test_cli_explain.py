"""`emolens explain` end to end: known maps and probabilities, a foreign model, bad files, exits."""

import csv
import json

import cv2
import keras
import numpy as np
import pytest

from emolens.explain import prepare_faces
from emolens.explain._maps import resize_maps, to_unit_range
from emolens.explain.data.labels import FER7
from tests.explain.report.conftest import GRACE, copy_grace, run_cli, write_bad_files
from tests.explain.report.foreign_model import fer_mini_xception, last_conv_name, signed_probe


def _write_faces(folder, count=3, side=16, seed=0):
    """Pre-cropped gray faces as PNG files; returns their [0, 1] pixels (N, side, side)."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (count, side, side), dtype=np.uint8)
    for index, face in enumerate(pixels):
        cv2.imwrite(str(folder / f"face{index}.png"), face)
    return pixels.astype(np.float32) / 255.0


def _softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("softmax", [True, False], ids=["softmax", "logits"])
def test_known_maps_and_probabilities_of_a_signed_probe_in_minus_one_one(tmp_path, capsys, softmax):
    """The probe sees p = 2x - 1: Grad-CAM of pos is relu(p)/max, logits are (mean p, -mean p)."""
    model_file = tmp_path / "probe.h5"
    signed_probe((16, 16, 1), softmax=softmax).save(model_file)
    pixels = _write_faces(tmp_path / "faces")
    out = tmp_path / "out"
    code, stdout, _ = run_cli(
        capsys, tmp_path / "faces", "--model", model_file, "--classes", "pos,neg",
        "--input-range=-1,1", "--method", "grad_cam,saliency", "--layer", "feat",
        "--no-detect", "--save-maps", "--out", out,
    )  # fmt: skip
    assert code == 0, stdout
    assert "3 face(s) from 3 file(s) explained" in stdout
    signed = 2.0 * pixels - 1.0
    results = json.loads((out / "results.json").read_text())
    assert results["classes"] == ["pos", "neg"] and results["layers"]["grad_cam"] == "feat"
    means = signed.mean(axis=(1, 2))
    expected_probs = _softmax(np.stack([means, -means], axis=1))
    for index, face in enumerate(results["faces"]):
        assert face["file"].endswith(f"face{index}.png") and face["box"] == [0, 0, 16, 16]
        probs = [face["probabilities"]["pos"], face["probabilities"]["neg"]]
        np.testing.assert_allclose(probs, expected_probs[index], atol=2e-6)
        predicted = "pos" if means[index] > 0 else "neg"
        assert face["predicted"] == predicted == face["target"]
        sign = 1.0 if predicted == "pos" else -1.0
        expected = to_unit_range(np.maximum(sign * signed[index], 0.0)[None])[0]
        grad_cam = np.load(out / face["methods"][0]["map"])
        np.testing.assert_allclose(grad_cam, expected, atol=1e-5)
        assert (out / face["methods"][0]["overlay"]).is_file()
        # The probe's logit is the mean of p, so saliency (|d logit / d x|) is flat: all ones.
        np.testing.assert_allclose(np.load(out / face["methods"][1]["map"]), 1.0, atol=1e-5)
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["method"], r["layer"]) for r in rows[:2]] == [("grad_cam", "feat"), ("saliency", "")]
    assert len(rows) == 6 and all(r["error"] == "" for r in rows)


def test_target_class_flag_explains_that_class_for_every_face(tmp_path, capsys):
    model_file = tmp_path / "probe.keras"
    signed_probe((16, 16, 1)).save(model_file)
    pixels = _write_faces(tmp_path / "faces", count=2, seed=1)
    out = tmp_path / "out"
    code, _, _ = run_cli(
        capsys, tmp_path / "faces", "--model", model_file, "--classes", "pos,neg",
        "--input-range=-1,1", "--target", "neg", "--layer", "feat", "--no-detect",
        "--save-maps", "--format", "json", "--out", out,
    )  # fmt: skip
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["target"] == "neg"
    for index, face in enumerate(results["faces"]):
        assert face["target"] == "neg"
        expected = to_unit_range(np.maximum(1.0 - 2.0 * pixels[index], 0.0)[None])[0]
        np.testing.assert_allclose(np.load(out / face["methods"][0]["map"]), expected, atol=1e-5)
    assert sorted(p.name for p in out.iterdir()) == ["maps", "results.json"]  # --format json only


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_foreign_mini_xception_on_a_real_photo(tmp_path, capsys, suffix):
    """64x64x1, [-1, 1], 7 classes: the CLI's maps and probabilities equal the raw model's."""
    raw = fer_mini_xception()
    model_file = tmp_path / f"fer_mini_xception{suffix}"
    raw.save(model_file)
    copy_grace(tmp_path / "photos", "grace.jpg")
    out = tmp_path / "out"
    layer = last_conv_name(raw)
    code, stdout, _ = run_cli(
        capsys, tmp_path / "photos", "--model", model_file, "--classes", "fer7",
        "--input-range=-1,1", "--layer", layer, "--save-maps", "--out", out,
    )  # fmt: skip
    assert code == 0, stdout
    face = json.loads((out / "results.json").read_text())["faces"][0]
    images, boxes = prepare_faces(GRACE, size=64, channels=1)  # the face the CLI must have cut
    assert face["box"] == boxes[0].tolist()
    pixels = 2.0 * images[:1] - 1.0
    probs = keras.ops.convert_to_numpy(raw(pixels, training=False))[0]
    got = [face["probabilities"][name] for name in FER7]
    np.testing.assert_allclose(got, probs, atol=2e-6)
    assert face["predicted"] == FER7[int(np.argmax(probs))]
    # Grad-CAM at the Conv2D(7) feeding the GAP is that class's own channel, ReLU'd and scaled.
    class_maps = keras.Model(raw.inputs[0], raw.get_layer(layer).output)(pixels)
    channel = keras.ops.convert_to_numpy(class_maps)[..., int(np.argmax(probs))]
    expected = to_unit_range(resize_maps(np.maximum(channel, 0.0), (64, 64)))[0]
    np.testing.assert_allclose(np.load(out / face["methods"][0]["map"]), expected, atol=1e-4)


def test_a_batch_with_bad_files_explains_the_good_ones_and_lists_the_rest(
    tmp_path, capsys, tiny_model_file
):
    photos = tmp_path / "photos"
    bad = write_bad_files(photos / "nested")
    copy_grace(photos, "grace1.jpg", "grace2.jpg")
    out = tmp_path / "out"
    missing = tmp_path / "no_such_folder"
    code, stdout, stderr = run_cli(
        capsys, photos, missing, "--model", tiny_model_file, "--classes", "emo3",
        "--method", "grad_cam,score_cam", "--out", out,
    )  # fmt: skip
    assert code == 0, stderr
    assert "2 face(s) from 2 file(s) explained" in stdout and "4 file(s) not explained" in stdout
    rows = list(csv.DictReader((out / "results.csv").open()))
    good = [r for r in rows if r["method"]]
    assert {r["file"].split("/")[-1] for r in good} == {"grace1.jpg", "grace2.jpg"}
    assert len(good) == 4 and all(r["error"] == "" and r["overlay"] for r in good)
    reasons = {r["file"].split("/")[-1]: r["error"] for r in rows if not r["method"]}
    assert set(reasons) == bad | {missing.name}
    assert "corrupt, truncated or not an image" in reasons["corrupt.jpg"]
    assert "corrupt, truncated or not an image" in reasons["text.jpg"]
    assert reasons["no_face.png"].startswith("no face found in the 320x240 photo")
    assert reasons[missing.name].startswith("not found")
    html = (out / "report.html").read_text()
    for name in bad:
        assert name in html
    assert len(list((out / "overlays").glob("*.png"))) == 4


def test_nothing_explained_exits_non_zero_with_one_line(tmp_path, capsys, tiny_model_file):
    write_bad_files(tmp_path / "photos")
    code, stdout, stderr = run_cli(
        capsys, tmp_path / "photos", "--model", tiny_model_file, "--classes", "emo3",
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert code != 0
    assert stderr.strip().count("\n") == 0
    assert stderr.startswith("emolens explain: error: no face was explained (")
    assert "no_face.png: no face found" in stderr
    assert "0 face(s)" in stdout
    assert "3 file(s) not explained" in (tmp_path / "out" / "report.html").read_text()


def test_usage_errors_are_one_line_and_exit_2(tmp_path, capsys, tiny_model_file):
    copy_grace(tmp_path, "grace.jpg")
    common = [tmp_path / "grace.jpg", "--model", tiny_model_file, "--out", tmp_path / "o"]
    code, _, stderr = run_cli(capsys, *common)
    assert code == 2 and "has no class names" in stderr and "--classes" in stderr
    code, _, stderr = run_cli(capsys, *common, "--classes", "emo3", "--method", "gradcam")
    assert code == 2 and "Unknown method(s) gradcam. Choose from: grad_cam" in stderr
    code, _, stderr = run_cli(capsys, *common, "--classes", "emo3", "--format", "png,docx")
    assert code == 2 and "Unknown report format(s) docx" in stderr
    code, _, stderr = run_cli(capsys, *common, "--classes", "emo3", "--target", "joy")
    assert code == 2 and "Unknown class name 'joy'" in stderr
    code, _, stderr = run_cli(capsys, *common, "--classes", "emo3", "--input-range", "0,2,5")
    assert code == 2 and "input_range must be two increasing numbers" in stderr
    assert not (tmp_path / "o").exists()
