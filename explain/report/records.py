"""What a batch produced: one `FaceResult` per face, one `FileError` per file that gave none."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FaceResult:
    """One explained face.

    Attributes:
        file: the source path as given (or the name of an in-memory photo).
        face: index of the face in its photo, largest first.
        box: (x, y, w, h) crop box in pixels of the source photo.
        image: float32 (H, W, C) in [0, 1], the model's input.
        crop: uint8 (S, S, 3) RGB, the same box of the source photo at display size.
        probs: float32 (num_classes,), the model's class probabilities.
        target: class index the maps explain.
        maps: method -> float32 (H, W) in [0, 1].
        layers: method -> layer it read ("" when the method reads no layer).
        errors: method -> reason, for methods that failed on this face.
        timing_ms: "decode", "detect" (this face's photo), "predict" and each method
            (this face's share of its batch), in milliseconds.
        face_id: file-name-safe id, unique within the batch (names the output files).
    """

    file: str
    face: int
    box: tuple[int, int, int, int]
    image: np.ndarray
    crop: np.ndarray
    probs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    target: int = -1
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    layers: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    timing_ms: dict[str, float] = field(default_factory=dict)
    face_id: str = ""

    @property
    def predicted(self) -> int:
        """Index of the most probable class."""
        return int(np.argmax(self.probs))


@dataclass
class FileError:
    """A file that gave no face: corrupt, not an image, too large, or no face found."""

    file: str
    reason: str


@dataclass
class BatchResult:
    """Everything `explain_files` found, in input order.

    Attributes:
        model: the model's name.
        classes: class names in output order.
        methods: method names, in the order asked.
        target: "auto" (each face's predicted class) or the class name explained.
        layers: method -> layer it reads ("" when the method reads no layer).
        faces: one `FaceResult` per explained face.
        errors: one `FileError` per file that gave no face.
        timing_ms: totals per stage: "decode", "detect", "predict", "maps" (all methods).
    """

    model: str
    classes: tuple[str, ...]
    methods: tuple[str, ...]
    target: str = "auto"
    layers: dict[str, str] = field(default_factory=dict)
    faces: list[FaceResult] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    timing_ms: dict[str, float] = field(default_factory=dict)

    @property
    def explained(self) -> list[FaceResult]:
        """Faces with at least one map."""
        return [face for face in self.faces if face.maps]
