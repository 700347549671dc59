"""One installed name: `emolens` alone reaches site-packages, and nothing beside it shadows it."""

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from emolens.models import zoo

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = {"emolens": "emolens", "explain": "emolens.explain", "models": "emolens.models"}
NAMESPACE["dashboard"] = "emolens.dashboard"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_folders() -> set[str]:
    """Dotted names of every folder with an __init__.py under the mapped top-level folders."""
    names = set()
    for folder, dotted in NAMESPACE.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            parts = init.parent.relative_to(ROOT / folder).parts
            names.add(".".join((dotted, *parts)))
    return names


def test_every_package_folder_is_mapped_into_the_namespace():
    config = _pyproject()["tool"]["setuptools"]
    # and the data folders (weights, cards), listed so that setuptools does not warn about them
    assert set(config["packages"]) == _package_folders() | set(config["package-data"])
    for folder, dotted in NAMESPACE.items():
        if (ROOT / folder / "__init__.py").is_file():
            assert config["package-dir"][dotted] == folder


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools builds in ROOT/build and never prunes it: a file deleted from the tree (a dropped
    # model) would still reach the wheel from a stale build/lib.
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v"]
        + ["-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        cwd=out,
    )
    (path,) = out.glob("emolens-*.whl")
    (out / "build.log").write_text(build.stdout + build.stderr)
    return path


def test_the_build_does_not_warn_that_a_folder_would_be_ignored(wheel):
    """The README's install printed setuptools' "Package would be ignored" banner four times
    (for models/weights and models/cards) until they were listed as packages."""
    log = (wheel.parent / "build.log").read_text()
    assert "running bdist_wheel" in log  # -v shows the backend's output
    assert "absent from the `packages` configuration" not in log


def test_the_wheel_installs_the_name_emolens_alone(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"emolens"}
    for module in ("emolens/explain/cam/grad_cam.py", "emolens/models/zoo.py", "emolens/cli.py"):
        assert module in names
    bundled = {f"emolens/models/weights/{name}.keras" for name in zoo.bundled()}
    assert bundled <= set(names)
    assert f"emolens/models/cards/{zoo.default_model()}.json" in names
    shipped = {n for n in names if n.startswith("emolens/models/weights/")}
    assert shipped == bundled, f"weights in the wheel but not bundled: {sorted(shipped - bundled)}"


def test_the_wheel_stays_under_60_mb(wheel):
    size = wheel.stat().st_size
    assert size < 60e6, (
        f"the wheel is {size / 1e6:.1f} MB (limit 60 MB): drop a model from models/weights "
        "(keep its card under docs/model_history/)"
    )


def test_own_models_and_explain_modules_beside_a_notebook_do_not_shadow_emolens(tmp_path):
    for name in ("models", "explain", "dashboard"):
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('the user\\'s own {name}.py')\n")
    (tmp_path / "models").mkdir()  # a package of the same name as well
    (tmp_path / "models" / "__init__.py").write_text("raise ImportError('user package')\n")
    script = (
        "import sys\n"
        "from emolens import explain, models\n"
        "import emolens.cli, emolens.models.train\n"
        "bare = sorted(m for m in sys.modules if m.split('.')[0] in ('explain', 'models'))\n"
        "print(explain.__file__, models.__file__, bare)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    explain_file, models_file, bare = result.stdout.split(maxsplit=2)
    assert Path(explain_file).parent.name == "explain" and not explain_file.startswith(
        str(tmp_path)
    )
    assert Path(models_file).parent.name == "models" and not models_file.startswith(str(tmp_path))
    assert bare.strip() == "[]", "a module was loaded under a bare name as well"


def _registered_names(path: Path) -> set[str]:
    """Every `registered_name` of a custom object in a `.keras` file's config."""
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    names, stack = set(), [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            name = node.get("registered_name")
            if isinstance(name, str) and ">" in name:
                names.add(name)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


@pytest.mark.parametrize("name", zoo.bundled())
def test_bundled_model_files_load_under_safe_mode_by_their_registered_names(name):
    path = zoo.WEIGHTS_DIR / f"{name}.keras"
    for registered in _registered_names(path):
        assert keras.saving.get_registered_object(registered) is not None, registered
    model = keras.saving.load_model(path, safe_mode=True)
    probs = model.predict(np.zeros((1, *model.input_shape[1:]), "float32"), verbose=0)
    np.testing.assert_allclose(probs.sum(), 1.0, atol=1e-5)
