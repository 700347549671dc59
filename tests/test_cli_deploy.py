"""`emolens export`, `predict --backend onnx|keras` and `export-space`, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest
from matplotlib import cbook

from emolens.cli import main
from emolens.models import zoo

GRACE = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A random tiny emo3 VGG saved without a card."""
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("deploy") / "tiny.keras"
    zoo.build("vgg", "emo3", (48, 48, 1), widths=(4,)).save(path)
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """A folder with Grace Hopper (JPEG and a mirrored PNG) and a file that is no image."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "hopper.jpg").write_bytes(GRACE.read_bytes())
    cv2.imwrite(str(folder / "mirrored.png"), cv2.imread(str(GRACE))[:, ::-1])
    (folder / "notes.txt").write_text("not a photo")
    return folder


def _json_run(capsys, args: list[str]) -> dict:
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_predict_onnx_equals_keras(capsys, photos):
    paths = [str(photos / "hopper.jpg"), str(photos / "mirrored.png"), str(photos / "notes.txt")]
    on_keras = _json_run(capsys, ["predict", *paths, "--backend", "keras", "--json"])
    on_onnx = _json_run(capsys, ["predict", *paths, "--backend", "onnx", "--json"])
    assert len(on_keras["faces"]) == 2 and on_keras["classes"] == ["angry", "happy", "sad"]
    for ours, theirs in zip(on_onnx["faces"], on_keras["faces"], strict=True):
        assert (ours["file"], ours["box"], ours["predicted"]) == (
            theirs["file"],
            theirs["box"],
            theirs["predicted"],
        )
        gaps = [abs(ours["probs"][c] - theirs["probs"][c]) for c in on_keras["classes"]]
        assert max(gaps) < 1e-5
    assert [e["file"] for e in on_onnx["errors"]] == [str(photos / "notes.txt")]
    assert on_onnx["errors"] == on_keras["errors"]


def test_predict_goes_on_past_a_photo_it_may_not_read(capsys, photos, monkeypatch):
    """PermissionError per photo is that photo's error (before, it ended the run, exit 1)."""
    from emolens.explain import report

    read_photo = report.read_photo

    def guarded(path, *args, **kwargs):
        if Path(path).name == "mirrored.png":
            raise PermissionError(13, "Permission denied", str(path))
        return read_photo(path, *args, **kwargs)

    monkeypatch.setattr(report, "read_photo", guarded)
    paths = [str(photos / "hopper.jpg"), str(photos / "mirrored.png")]
    result = _json_run(capsys, ["predict", *paths, "--backend", "keras", "--json"])
    assert [face["file"] for face in result["faces"]] == [paths[0]]
    assert result["errors"][0]["file"] == paths[1]
    assert "Permission denied" in result["errors"][0]["reason"]


def test_export_states_opset_and_predict_reads_the_file(capsys, tiny_model, photos, tmp_path):
    out = tmp_path / "tiny.onnx"
    args = ["export", "--model", str(tiny_model), "--classes", "neg,mid,pos", "--out", str(out)]
    assert main([*args, "--with-cam"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out} (ONNX opset 17, tf2onnx 1.17.0)" in text
    assert "targets (N,) int32" in text and "classes: neg, mid, pos" in text
    report = _json_run(
        capsys, ["predict", str(photos), "--backend", "onnx", "--onnx", str(out), "--json"]
    )
    expected = _json_run(
        capsys, ["predict", str(photos), "--model", str(tiny_model), "--json", "--classes",
                 "neg,mid,pos"],
    )  # fmt: skip
    assert report["classes"] == ["neg", "mid", "pos"] and len(report["faces"]) == 2
    for ours, theirs in zip(report["faces"], expected["faces"], strict=True):
        assert max(abs(ours["probs"][c] - theirs["probs"][c]) for c in ours["probs"]) < 1e-5


def test_usage_errors_are_one_line(capsys, tiny_model, tmp_path):
    assert main(["export", "--out", str(tmp_path / "x.onnx"), "--layer", "feat"]) == 2
    assert "--layer only applies with --with-cam" in capsys.readouterr().err
    assert main(["predict", "x.png", "--onnx", "m.onnx"]) == 2
    assert "--onnx FILE needs --backend onnx" in capsys.readouterr().err
    assert main(["demo", "--onnx", str(tmp_path / "missing.onnx")]) == 2
    assert "not found" in capsys.readouterr().err
    missing = ["predict", "x.png", "--backend", "onnx", "--onnx", str(tmp_path / "no.onnx")]
    assert main(missing) == 2
    assert f"ONNX file {str(tmp_path / 'no.onnx')!r} not found" in capsys.readouterr().err
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"not read: refused before")
    for command in (["predict", "x.png", "--backend", "onnx"], ["demo"]):
        argv = [*command, "--onnx", str(onnx), "--classes", "a,b,c", "--input-range=-1,1"]
        assert main(argv) == 2  # before: both flags silently ignored
        err = capsys.readouterr().err
        assert "--classes, --input-range describe a Keras --model" in err, err


def _front_matter(readme: str) -> dict:
    head = readme.split("---\n")[1]
    return dict(line.split(": ", 1) for line in head.strip().splitlines())


def test_export_space_writes_a_tf_free_space_folder(capsys, tiny_model, tmp_path):
    space = tmp_path / "space"
    assert main(["export-space", str(space), "--model", str(tiny_model)]) == 0
    files = sorted(str(p.relative_to(space)) for p in space.rglob("*") if p.is_file())
    assert files == [
        "MODEL_CARD.md",
        "README.md",
        "app.py",
        "emolens_demo/__init__.py",
        "emolens_demo/runtime.py",
        "emolens_demo/ui.py",
        "model.onnx",
        "requirements.txt",
    ]
    meta = _front_matter((space / "README.md").read_text())
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == "6.31.0" and meta["license"] == "mit"
    assert meta["title"] == "emolens tiny"
    requirements = (space / "requirements.txt").read_text().lower()
    assert "tensorflow" not in requirements and "keras" not in requirements
    assert "onnxruntime==1.32.0" in requirements and "gradio==6.31.0" in requirements
    source = Path(__file__).resolve().parents[1] / "emolens" / "demo" / "runtime.py"
    assert (space / "emolens_demo" / "runtime.py").read_text() == source.read_text()


def test_a_space_that_fails_midway_keeps_the_earlier_one(tiny_model, tmp_path, monkeypatch):
    """The graph and the texts are made before anything is written: a card that cannot be
    rendered leaves the earlier Space as it was (before, a new model.onnx was already in)."""
    from emolens.models.export import space as space_module

    space = tmp_path / "space"
    assert main(["export-space", str(space), "--model", str(tiny_model)]) == 0
    before = {p: p.read_bytes() for p in space.rglob("*") if p.is_file()}

    def broken(*args, **kwargs):
        raise RuntimeError("card could not be rendered")

    monkeypatch.setattr(space_module, "_card_text", broken)
    with pytest.raises(RuntimeError, match="could not be rendered"):
        space_module.export_space(zoo.load(tiny_model), space, name="other")
    assert {p: p.read_bytes() for p in space.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_space_folder_runs_in_a_fresh_virtual_environment(tmp_path):
    """The Space's own requirements.txt, a new venv, `python app.py`, a call over HTTP."""
    from emolens.explain.faces import prepare_faces
    from tests.demo.conftest import analyse_remote, free_port, wait_for_http

    space, env_dir = tmp_path / "space", tmp_path / "venv"
    assert main(["export-space", str(space)]) == 0
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(space / "requirements.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode != 0 and _no_index(install.stderr):
        pytest.skip(f"pip cannot reach a package index: {install.stderr.strip()[-300:]}")
    assert install.returncode == 0, install.stderr
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONPATH": "",
    }
    server = subprocess.Popen(
        [str(python), "app.py"],
        cwd=space,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    photo = tmp_path / "hopper.png"
    cv2.imwrite(str(photo), cv2.imread(str(GRACE)))
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, server)
        details = analyse_remote(url, photo)
    finally:
        server.terminate()
        server.wait(timeout=30)
    faces, _ = prepare_faces(photo, size=48, channels=1)
    expected = zoo.load().predict(faces, verbose=0)[0]
    served = np.array([details["probs"][c] for c in ("angry", "happy", "sad")])
    assert np.max(np.abs(served - expected)) < 1e-5
    listed = subprocess.run(
        [str(python), "-m", "pip", "list"], capture_output=True, text=True, check=True
    ).stdout.lower()
    assert "tensorflow" not in listed and "keras" not in listed and sys.prefix != str(env_dir)


def _no_index(stderr: str) -> bool:
    signs = ("No matching distribution", "Could not find a version", "NewConnectionError")
    return any(sign in stderr for sign in signs)
