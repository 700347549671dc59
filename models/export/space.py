"""A folder ready to push to a Hugging Face Space: app.py, the ONNX file, card, README."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import keras

from emolens.explain._atomic import atomic_write_text
from emolens.models.export.onnx import OPSET, ExportInfo, export_onnx

GRADIO_VERSION = "6.31.0"
REQUIREMENTS = (
    f"gradio=={GRADIO_VERSION}",
    "onnxruntime==1.32.0",
    "numpy==2.4.6",
    "opencv-python-headless==4.14.0.94",
)
"""The Space's requirements.txt: the demo's runtime, no TensorFlow."""

RUNTIME_FILES = ("runtime.py", "ui.py")
"""Modules of emolens.demo copied verbatim into the Space as the package `emolens_demo`."""

MODEL_FILE = "model.onnx"

APP = '''"""Hugging Face Space: the emolens demo of {name} on onnxruntime (no TensorFlow).

Run locally: pip install -r requirements.txt && python app.py  (serves on 127.0.0.1:7860)
"""

from pathlib import Path

from emolens_demo.ui import build_demo

demo = build_demo(Path(__file__).with_name("{model_file}"), title={title!r})

if __name__ == "__main__":
    demo.launch()  # Spaces set GRADIO_SERVER_NAME / GRADIO_SERVER_PORT
'''

README = """---
title: {title}
emoji: 🙂
colorFrom: indigo
colorTo: pink
sdk: gradio
sdk_version: {gradio}
app_file: app.py
license: {license}
pinned: false
short_description: Facial-emotion classifier with Grad-CAM, on onnxruntime
---

# {title}

Facial-emotion classifier `{name}` ({classes}) exported from
[emolens](https://pypi.org/project/emolens/) to ONNX (opset {opset}) with the Grad-CAM step
inside the graph: `{model_file}` takes `images` (N, {shape}) float32 in [0, 1] and `targets`
(N,) int32 (-1: top class) and returns `probs` (N, {num_classes}) and `cam` (N, {height}, {width})
in [0, 1] (layer `{layer}`). The app needs no TensorFlow (see requirements.txt).

Upload a photo or use the webcam: the largest face is cropped, classified and explained.
The model card is in [MODEL_CARD.md](MODEL_CARD.md).

Run it locally: `pip install -r requirements.txt && python app.py`.
"""


def card_markdown(name_or_path: str | os.PathLike) -> str | None:
    """The Markdown card of a bundled name or a model file (`<file>.md` beside it), or None."""
    from emolens.models import zoo

    path = zoo.card_path(zoo._resolve(name_or_path)).with_suffix(".md")
    return path.read_text() if path.is_file() else None


def _card_text(name: str, info: ExportInfo, card_md: str | None) -> str:
    """The model card: the bundled card, or a short one for a model without a card."""
    if card_md:
        return card_md
    classes = ", ".join(info.classes or ()) or "unnamed"
    return (
        f"# {name}\n\n- classes: {classes}\n- exported with emolens to ONNX opset "
        f"{info.opset}, Grad-CAM layer `{info.layer}`\n\nNo card was found for this model; "
        "describe its training data, intended use and limits here before publishing.\n"
    )


def export_space(
    model: keras.Model,
    folder: str | os.PathLike,
    *,
    name: str,
    card_md: str | None = None,
    layer: str | None = None,
    license: str = "mit",
    opset: int = OPSET,
) -> list[Path]:
    """Write a Hugging Face Space folder serving `model` with Grad-CAM on onnxruntime.

    Files: app.py, emolens_demo/ (the TF-free runtime and Gradio UI of `emolens.demo`),
    model.onnx (`export_onnx(..., with_cam=True)`), requirements.txt (no TensorFlow),
    MODEL_CARD.md and README.md with the Space front-matter (title, sdk gradio, sdk_version,
    app_file, license). The graph and every text are made before the first file is written
    (model.onnx last), and each file is written atomically; other files in `folder` are kept.

    Returns:
        The paths written.

    Raises:
        ValueError: the model cannot be exported with Grad-CAM (see `export_onnx`).
    """
    folder = Path(folder)
    staged = folder / f".{MODEL_FILE}.{os.getpid()}.staged"
    try:
        info = export_onnx(model, staged, with_cam=True, layer=layer, opset=opset, name=name)
        texts = _texts(model, name, info, card_md, license)
        for relative, text in texts.items():
            atomic_write_text(folder / relative, text)
        os.replace(staged, folder / MODEL_FILE)
    finally:
        staged.unlink(missing_ok=True)
    return [folder / MODEL_FILE, *(folder / relative for relative in texts)]


def _texts(
    model: keras.Model, name: str, info: ExportInfo, card_md: str | None, license: str
) -> dict[str, str]:
    """{relative path: text} of every file of the Space but model.onnx."""
    height, width, channels = (int(v) for v in model.inputs[0].shape[1:])
    title = f"emolens {name}"
    texts = {
        "app.py": APP.format(name=name, model_file=MODEL_FILE, title=title),
        "requirements.txt": "\n".join(REQUIREMENTS) + "\n",
        "MODEL_CARD.md": _card_text(name, info, card_md),
        "README.md": README.format(
            title=title,
            gradio=GRADIO_VERSION,
            license=license,
            name=name,
            opset=info.opset,
            classes=", ".join(info.classes or ()) or "unnamed classes",
            model_file=MODEL_FILE,
            shape=f"{height}, {width}, {channels}",
            num_classes=int(model.outputs[0].shape[-1]),
            height=height,
            width=width,
            layer=info.layer,
        ),
        "emolens_demo/__init__.py": '"""The emolens demo runtime (copied from emolens.demo)."""\n',
    }
    for file in RUNTIME_FILES:
        texts[f"emolens_demo/{file}"] = resources.files("emolens.demo").joinpath(file).read_text()
    return texts
