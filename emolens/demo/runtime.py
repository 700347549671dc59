"""Run an emolens ONNX export with onnxruntime, numpy and OpenCV only (no TensorFlow).

The face crop repeats `emolens.explain.faces.prepare_faces` (Haar cascade, 20% margin, gray,
area resize) so the demo sees the pixels `emolens explain` would; tests check they agree.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime

DETECT_FACE_PX = 48  # as explain.faces: photos are resampled so the smallest face is 48 px
SCALE_FACTOR = 1.15  # as explain.faces
MARGIN = 0.2  # as explain.faces.prepare_faces
_CASCADE_LOCK = threading.Lock()  # one shared cascade is not thread-safe (Gradio uses threads)


@dataclass
class Prediction:
    """One face: probabilities (classes,), Grad-CAM map (H, W) or None, crop box (x, y, w, h)."""

    probs: np.ndarray
    cam: np.ndarray | None
    box: tuple[int, int, int, int]
    face: np.ndarray  # float32 (H, W, C) in [0, 1], what the model saw


class OnnxClassifier:
    """An exported emolens model: `predict(images)` and, with Grad-CAM inside, `explain`."""

    def __init__(self, path: str | os.PathLike, threads: int = 0):
        """Open `path` (an `emolens export` file) on the CPU; `threads` 0 lets ORT choose."""
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        meta = self.session.get_modelmeta().custom_metadata_map
        self.name = meta.get("emolens.model", os.path.basename(str(path)))
        classes = json.loads(meta.get("emolens.classes", "null"))
        outputs = [output.name for output in self.session.get_outputs()]
        self.num_classes = int(self.session.get_outputs()[outputs.index("probs")].shape[-1])
        self.classes = tuple(classes or (f"class {i}" for i in range(self.num_classes)))
        self.input_shape = tuple(self.session.get_inputs()[0].shape[1:])  # (H, W, C)
        self.has_cam = "cam" in outputs
        self.layer = meta.get("emolens.layer") or None
        self.opset = meta.get("emolens.opset")

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes) float32 of images (N, H, W, C) float32 in [0, 1]."""
        feeds = {"images": self._checked(images)}
        if self.has_cam:
            feeds["targets"] = np.full((len(images),), -1, dtype=np.int32)
        return self.session.run(["probs"], feeds)[0]

    def explain(
        self, images: np.ndarray, targets: np.ndarray | int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(probs (N, classes), Grad-CAM maps (N, H, W) in [0, 1]) from one onnxruntime run.

        targets: None or -1 (each image's top class), a class index, or (N,) indices.

        Raises:
            ValueError: the file was exported without --with-cam, or a target is out of range.
        """
        if not self.has_cam:
            raise ValueError(
                f"{self.name!r} was exported without Grad-CAM; re-export it with "
                "`emolens export --with-cam` to explain with onnxruntime."
            )
        images = self._checked(images)
        targets = np.broadcast_to(np.asarray(-1 if targets is None else targets), len(images))
        if np.any((targets < -1) | (targets >= self.num_classes)):
            raise ValueError(
                f"targets must be -1 (top class) or 0..{self.num_classes - 1}; got {targets}."
            )
        feeds = {"images": images, "targets": targets.astype(np.int32)}
        probs, cam = self.session.run(["probs", "cam"], feeds)
        return probs, cam

    def _checked(self, images: np.ndarray) -> np.ndarray:
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1:] != self.input_shape:
            raise ValueError(
                f"{self.name!r} takes images shaped (N, {', '.join(map(str, self.input_shape))})"
                f"; got {images.shape}. Crop faces with crop_face first."
            )
        return images


def _cascade() -> cv2.CascadeClassifier:
    if not hasattr(_cascade, "classifier"):
        path = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
        _cascade.classifier = cv2.CascadeClassifier(path)
    return _cascade.classifier


def _gray(photo: np.ndarray) -> np.ndarray:
    return photo[..., 0] if photo.shape[-1] == 1 else cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)


def _resample(gray: np.ndarray, scale: float) -> np.ndarray:
    """As explain.faces._resample: area-averaged down (a whole factor first), bilinear up."""
    height, width = gray.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if scale > 1.0:
        return cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR)
    factor = int(1 / scale)
    if factor >= 2:
        gray = cv2.resize(gray, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def detect_face(photo: np.ndarray) -> tuple[int, int, int, int] | None:
    """Largest frontal face (x, y, w, h) of uint8 (H, W, 3) RGB, grown by MARGIN; or None."""
    gray = _gray(photo)
    height, width = gray.shape
    min_face = max(24.0, min(height, width) / 12)
    scale = min(2.0, DETECT_FACE_PX / min_face)
    if scale > 1.0 and height * width > 1_000_000:
        scale = 1.0
    if scale != 1.0:
        gray = _resample(gray, scale)
    min_side = round(min_face * scale)
    with _CASCADE_LOCK:
        found = _cascade().detectMultiScale(
            gray, scaleFactor=SCALE_FACTOR, minNeighbors=5, minSize=(min_side, min_side)
        )
    boxes = [tuple(round(v / scale) for v in box) for box in np.asarray(found).reshape(-1, 4)]
    if not boxes:
        return None
    x, y, w, h = max(boxes, key=lambda box: box[2] * box[3])
    side = min(round(max(w, h) * (1.0 + 2.0 * MARGIN)), height, width)
    left = min(max(round(x + w / 2 - side / 2), 0), width - side)
    top = min(max(round(y + h / 2 - side / 2), 0), height - side)
    return left, top, side, side


def crop_face(
    photo: np.ndarray, size: int, channels: int, whole_image_fallback: bool = True
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Model-ready face float32 (size, size, channels) in [0, 1] and its box, from uint8 RGB.

    Raises:
        ValueError: no face found and no fallback.
    """
    photo = np.ascontiguousarray(photo[..., :3] if photo.ndim == 3 else photo[..., None])
    box = detect_face(photo)
    if box is None:
        if not whole_image_fallback:
            raise ValueError(f"No face found in the {photo.shape[1]}x{photo.shape[0]} photo.")
        box = (0, 0, photo.shape[1], photo.shape[0])
    x, y, w, h = box
    crop = photo[y : y + h, x : x + w]
    pixels = _gray(crop) if channels == 1 else crop
    if channels == 3 and crop.shape[-1] == 1:
        pixels = np.repeat(crop, 3, axis=-1)
    resized = cv2.resize(np.ascontiguousarray(pixels), (size, size), interpolation=cv2.INTER_AREA)
    return resized.reshape(size, size, channels).astype(np.float32) / 255.0, box


def analyse(model: OnnxClassifier, photo: np.ndarray, target: int = -1) -> Prediction:
    """Classify (and explain, with Grad-CAM inside) the largest face of a uint8 RGB photo.

    The whole photo is the face when none is found; `target` -1 explains the top class.
    """
    size, _, channels = model.input_shape
    face, box = crop_face(photo, size, channels)
    if model.has_cam:
        probs, cam = model.explain(face[None], target)
        return Prediction(probs[0], cam[0], box, face)
    return Prediction(model.predict(face[None])[0], None, box, face)


def overlay(face: np.ndarray, cam: np.ndarray, alpha: float = 0.4, side: int = 240) -> np.ndarray:
    """uint8 (side, side, 3) RGB: the face in gray with the jet-coloured map blended over it."""
    rgb = np.repeat(face, 3, axis=-1) if face.shape[-1] == 1 else face
    rgb = cv2.resize(rgb.astype(np.float32), (side, side), interpolation=cv2.INTER_CUBIC)
    heat = cv2.resize(cam.astype(np.float32), (side, side), interpolation=cv2.INTER_LINEAR)
    colours = cv2.applyColorMap(np.uint8(np.clip(heat, 0, 1) * 255), cv2.COLORMAP_JET)
    colours = cv2.cvtColor(colours, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    blended = (1.0 - alpha) * np.clip(rgb, 0, 1) + alpha * colours
    return np.uint8(np.round(blended * 255.0))
