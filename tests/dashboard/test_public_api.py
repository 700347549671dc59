"""The dashboard is a client of the public library: it imports no private emolens module or name.

Private (a leading underscore) means free to move (STYLE.md); a dashboard that reaches into
`emolens.explain._layers` breaks when the library reorganises. The one exception is the
dashboard's own `_runtime` (Streamlit plumbing, imported by app.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
ALLOWED = {"emolens.dashboard._runtime"}


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _module_of(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of a `from ... import`, relative imports resolved in `package`."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _private_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "emolens" and module not in ALLOWED and any(map(_is_private, parts))


def private_uses(source: str, package: str = "emolens.dashboard") -> list[str]:
    """Every private emolens module or name `source` imports or reaches as an attribute."""
    found, modules = [], {}  # modules: local name -> the emolens module it is bound to
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _private_module(alias.name):
                    found.append(alias.name)
                if alias.name.startswith("emolens"):
                    local = alias.asname or alias.name.split(".")[0]
                    modules[local] = alias.name if alias.asname else "emolens"
        elif isinstance(node, ast.ImportFrom):
            module = _module_of(node, package)
            if not module.startswith("emolens"):
                continue
            if _private_module(module):
                found.append(module)
            for alias in node.names:
                qualified = f"{module}.{alias.name}"
                if _is_private(alias.name) and qualified not in ALLOWED:
                    found.append(qualified)
                modules[alias.asname or alias.name] = qualified
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names = [a.value for a in node.args if isinstance(a, ast.Constant)]
            found += [n for n in names if isinstance(n, str) and _private_module(n)]
    for node in ast.walk(ast.parse(source)):  # explain._layers.find_layer and the like
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                qualified = f"{modules[root.id]}.{ast.unparse(node)[len(root.id) + 1 :]}"
                if qualified not in ALLOWED:
                    found.append(qualified)
    return found


def _package(path: Path) -> str:
    parts = path.relative_to(DASHBOARD).parent.parts
    return ".".join(("emolens.dashboard", *parts))


@pytest.mark.parametrize(
    "path", sorted(DASHBOARD.rglob("*.py")), ids=lambda p: str(p.relative_to(DASHBOARD))
)
def test_dashboard_module_uses_only_public_emolens_apis(path):
    assert private_uses(path.read_text(), _package(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "from emolens.explain._layers import find_layer",
        "from emolens.explain.store import _sources",
        "from emolens.explain.store._sources import load_source",
        "import emolens.explain._maps as maps",
        "import emolens.explain._maps",
        "from emolens import explain\nexplain._layers.find_layer(model, 'x')",
        "from emolens.models import zoo\nzoo._REGISTERED.pop('x')",
        "from ..views import _hidden",
        "import importlib\nimportlib.import_module('emolens.explain._layers')",
        "def f():\n    from emolens.explain.vit._attention_model import find_attention_layers",
    ],
)
def test_the_check_catches_private_imports(source):
    assert private_uses(source, "emolens.dashboard.views")


@pytest.mark.parametrize(
    "source",
    [
        "from emolens.dashboard._runtime import keep_keras_session",
        "from emolens.explain.layers import find_layer, spatial_layers",
        "from emolens.explain.store import class_set_of, load_source",
        "from emolens.explain.vit import find_attention_layers",
        "from __future__ import annotations",
        "from streamlit.runtime.scriptrunner import script_runner\nscript_runner._clean = 1",
        "from emolens import explain\nexplain.METHODS.__len__()",
        "from . import loaders",
    ],
)
def test_the_check_allows_public_imports(source):
    assert private_uses(source, "emolens.dashboard") == []
