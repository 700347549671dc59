"""The Gradio demo: a photo (upload or webcam) -> face, class probabilities, Grad-CAM overlay.

Runs an `emolens export --with-cam` file on onnxruntime; imports no TensorFlow.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine

import gradio as gr  # noqa: E402  (after the analytics switch)
import numpy as np  # noqa: E402

from .runtime import OnnxClassifier, analyse, overlay  # noqa: E402

TOP_CLASS = "predicted class"
DISPLAY_SIDE = 240


def _face_display(face: np.ndarray) -> np.ndarray:
    """uint8 (DISPLAY_SIDE, DISPLAY_SIDE, 3) of the face the model saw."""
    return overlay(face, np.zeros(face.shape[:2], np.float32), alpha=0.0, side=DISPLAY_SIDE)


def analyse_photo(model: OnnxClassifier, photo: np.ndarray | None, explain: str = TOP_CLASS):
    """(face image, {class: prob}, overlay or None, details dict) for one RGB photo."""
    if photo is None:
        raise gr.Error("Upload a photo or take one with the webcam first.")
    target = -1 if explain in (None, TOP_CLASS) else model.classes.index(explain)
    result = analyse(model, np.asarray(photo, dtype=np.uint8), target)
    probs = {name: float(p) for name, p in zip(model.classes, result.probs, strict=True)}
    heat = None if result.cam is None else overlay(result.face, result.cam, side=DISPLAY_SIDE)
    details = {
        "model": model.name,
        "probs": probs,
        "predicted": model.classes[int(np.argmax(result.probs))],
        "explained": model.classes[int(np.argmax(result.probs))] if target < 0 else explain,
        "box": [int(v) for v in result.box],
        "layer": model.layer,
    }
    return _face_display(result.face), probs, heat, details


def build_demo(model_path: str | os.PathLike, title: str | None = None) -> gr.Blocks:
    """The Gradio app for one exported model file (its API endpoint is named 'analyse')."""
    model = OnnxClassifier(model_path)
    title = title or f"emolens: {model.name}"
    cam_note = (
        f"Grad-CAM of layer `{model.layer}`, computed inside the ONNX graph."
        if model.has_cam
        else "This file has no Grad-CAM inside (exported without --with-cam)."
    )
    with gr.Blocks(title=title) as demo:
        gr.Markdown(
            f"# {title}\nUpload a photo or use the webcam. The largest face is cropped "
            f"({model.input_shape[0]}x{model.input_shape[1]}), classified "
            f"({', '.join(model.classes)}) and explained. {cam_note} "
            "Runs on onnxruntime; nothing is sent anywhere."
        )
        with gr.Row():
            with gr.Column():
                photo = gr.Image(sources=["upload", "webcam"], type="numpy", label="Photo")
                explain = gr.Dropdown(
                    [TOP_CLASS, *model.classes], value=TOP_CLASS, label="Explain which class"
                )
                button = gr.Button("Analyse", variant="primary")
            with gr.Column():
                face = gr.Image(label="Face the model saw", type="numpy")
                label = gr.Label(label="Class probabilities", num_top_classes=model.num_classes)
                heat = gr.Image(label="Grad-CAM overlay", type="numpy", visible=model.has_cam)
                details = gr.JSON(label="Details")
        button.click(
            lambda image, which: analyse_photo(model, image, which),
            [photo, explain],
            [face, label, heat, details],
            api_name="analyse",
        )
    return demo


def serve(model_path: str | os.PathLike, host: str = "127.0.0.1", port: int | None = None):
    """Build the demo and serve it until interrupted (127.0.0.1 unless `host` says otherwise)."""
    build_demo(model_path).launch(server_name=host, server_port=port, share=False)
