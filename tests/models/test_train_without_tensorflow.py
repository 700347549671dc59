"""Training runs where Keras has only its JAX backend and TensorFlow is absent (the lent GPU
machine has JAX but no TensorFlow): `import emolens.explain` loads no TensorFlow, and
`emolens train` trains, evaluates and writes its model and card."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

# Runs `emolens` with every `tensorflow` / `tf2onnx` import refused, as on that machine.
NO_TENSORFLOW = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("tensorflow", "tf2onnx"):
            raise ImportError(f"No module named {name!r} (refused by the test)")
sys.meta_path.insert(0, Refuse())
"""


def _run(code: str, backend: str, *args: str, refuse: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": os.getcwd()}
    return subprocess.run(
        [sys.executable, "-W", "error::ImportWarning", "-c"]
        + [(NO_TENSORFLOW if refuse else "import sys\n") + code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_explain_and_the_training_modules_import_without_tensorflow():
    code = (
        "import emolens.explain, emolens.explain.data, emolens.models.train, emolens.cli\n"
        "from emolens.explain import class_names\n"
        "assert 'tensorflow' not in sys.modules\n"
        "print(class_names('emo3'))\n"
    )
    proc = _run(code, "numpy")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "('angry', 'happy', 'sad')" in proc.stdout
    proc = _run("import emolens.explain\nemolens.explain.grad_cam\n", "numpy")
    assert "refused by the test" in proc.stderr  # the explainers do need TensorFlow


def test_explain_loads_no_tensorflow_where_it_is_installed_and_binds_its_names():
    code = (
        "import emolens.explain, emolens.explain.data, emolens.models.train, emolens.cli\n"
        "assert 'tensorflow' not in sys.modules, 'a light import loaded TensorFlow'\n"
        "import emolens.explain.types, emolens.explain.faces, emolens.explain.compare\n"
        "assert emolens.explain.faces.__name__ == 'emolens.explain.faces'\n"
        "assert emolens.explain.compare.__name__ == 'compare'  # the function, not the module\n"
        "assert emolens.explain.types.__name__ == 'emolens.explain.types'\n"
        "assert len(emolens.explain.METHODS) == 18 and 'grad_cam' in dir(emolens.explain)\n"
        "print('ok')\n"
    )
    proc = _run(code, "numpy", refuse=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install .[dev])"
)
def test_emolens_train_with_jax_and_no_tensorflow_writes_model_and_card(tmp_path):
    code = "from emolens.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    argv = ["train", "--arch", "lenet", "--classes", "emo3", "--data", "synthetic"]
    argv += ["--out", str(tmp_path), "--epochs", "1", "--batch-size", "32", "--sam", "0.05"]
    proc = _run(code, "jax", *argv)
    assert proc.returncode == 0, proc.stderr[-3000:]
    card = json.loads((tmp_path / "lenet_emo3.json").read_text())
    assert card["backend"] == "jax" and card["device"].startswith("jax")
    assert "SAM steps (rho 0.05)" in card["training"]  # its JAX step needs no TensorFlow
    assert 0.0 <= card["validation"]["accuracy"] <= 1.0
    assert (tmp_path / "lenet_emo3.keras").stat().st_size == card["size_bytes"]
