"""Face pipeline for arbitrary photos: safe decode -> detect -> crop -> gray -> resize."""

from __future__ import annotations

import functools
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
DETECT_FACE_PX = 48
"""Photos are resampled so that the smallest face searched is this many pixels."""
SCALE_FACTOR = 1.15
"""Ratio between successive face sizes searched (1.1: about 1.4x the time)."""
MAX_PIXELS = 100_000_000
"""Largest image `decode_image` decodes by default (100 MP: 300 MB of RGB pixels)."""
_CASCADE_LOCK = threading.Lock()  # detectMultiScale on one shared classifier is not thread-safe


def decode_image(
    data: bytes | bytearray | memoryview | str | os.PathLike, *, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Decode an image file (bytes or path) into an RGB pixel array.

    Decoding goes through `cv2.imdecode` on the raw bytes, so file names with any
    characters work and nothing but pixels comes back: EXIF and other metadata are
    dropped (the EXIF orientation is applied first, so phone photos come out upright);
    alpha is dropped; 16-bit images become 8-bit. The pixel count is read from the header
    (Pillow, which decodes nothing on open) and checked before decoding, so a
    decompression bomb (a small file declaring a huge image) is refused, never decoded.

    Args:
        data: encoded image bytes, or the path of an image file (JPEG, PNG, BMP,
            WebP, TIFF, PPM/PGM and the other formats OpenCV reads).
        max_pixels: larger images (width x height from the header) are refused.

    Returns:
        uint8 (H, W, 3), RGB.

    Raises:
        FileNotFoundError: `data` is a path that does not exist.
        TypeError: `data` is neither bytes nor a path.
        ValueError: the bytes are empty, corrupt, not an image format OpenCV reads, or
            over `max_pixels`.
    """
    source, raw = _read_bytes(data)
    if not raw:
        raise ValueError(f"Cannot decode {source}: it is empty (0 bytes).")
    width, height = header_size(raw)
    if width * height > max_pixels:
        raise ValueError(
            f"Cannot decode {source}: too large, {width * height / 1e6:.0f} megapixels "
            f"declared in its header (the limit is {max_pixels / 1e6:.0f} MP). "
            "Resize the photo first, or raise max_pixels."
        )
    try:
        bgr = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as error:  # e.g. images over OpenCV's pixel limit
        raise ValueError(f"Cannot decode {source}: {error.err or error}.") from error
    if bgr is None or bgr.size == 0:
        raise ValueError(
            f"Cannot decode {source} ({len(raw)} bytes, starting {bytes(raw[:8])!r}): "
            "corrupt, truncated or not an image. Use a JPEG, PNG, BMP, WebP or TIFF file."
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def header_size(raw: bytes) -> tuple[int, int]:
    """(width, height) declared by an image header, read without decoding pixels.

    (0, 0) when Pillow does not know the format (OpenCV then decides, with its own limit).
    A header over Pillow's hard decompression-bomb limit gives (its pixel count, 1).
    """
    import io

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked by the caller
        try:
            with Image.open(io.BytesIO(raw)) as image:
                return image.size
        except Image.DecompressionBombError as error:  # "Image size (N pixels) exceeds ..."
            pixels = [int(word.strip("(")) for word in str(error).split() if word[1:].isdigit()]
            return (pixels[0], 1) if pixels else (2**31, 1)
        except Exception:  # noqa: BLE001  (unknown or broken header: OpenCV decides)
            return 0, 0


def _read_bytes(data: object) -> tuple[str, bytes]:
    """(description for errors, raw bytes) of bytes-like or path input."""
    if isinstance(data, bytes | bytearray | memoryview):
        return "the image bytes", bytes(data)
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.is_file():
            raise FileNotFoundError(f"Image file {str(path)!r} not found (or not a file).")
        return f"image file {str(path)!r}", path.read_bytes()
    raise TypeError(
        f"decode_image expects encoded bytes or a file path; got {type(data).__name__}. "
        "For an array that is already decoded, pass it to prepare_faces directly."
    )


@functools.cache
def _cascade() -> cv2.CascadeClassifier:
    """OpenCV's bundled frontal-face Haar cascade, loaded once."""
    path = Path(cv2.data.haarcascades) / CASCADE_FILE
    classifier = cv2.CascadeClassifier(str(path))
    if classifier.empty():
        raise RuntimeError(
            f"Could not load the Haar cascade {str(path)!r}. Install opencv-python-headless 4.x "
            "(OpenCV 5 wheels ship no Haar cascades)."
        )
    return classifier


def detect_faces(
    image: np.ndarray, *, min_size: int | None = None
) -> list[tuple[int, int, int, int]]:
    """Frontal faces in one image, largest first (OpenCV Haar cascade).

    The photo is resampled so that the smallest face searched is `DETECT_FACE_PX` (48) px,
    twice the cascade's 24 px window: the same photo at any resolution is searched on the same
    grid of face sizes, so it gives the same boxes (relative to its size) at about the same
    cost. Photos over 1 MP are never enlarged, others at most 2x. Boxes come back in pixels of
    `image`; `prepare_faces` cuts its crops from the full-resolution photo.

    Args:
        image: (H, W), (H, W, 1) or (H, W, 3) RGB; uint8, or float in [0, 1].
        min_size: smallest face side searched, in pixels of `image` (at least 24). Default:
            1/12 of the shorter image side (smaller faces carry little expression at 48x48,
            and a smaller minimum searches more windows, so it takes longer).

    Returns:
        A list of (x, y, w, h) boxes in pixels of `image`; empty if no face is found.

    Reference: Viola & Jones, Rapid object detection using a boosted cascade of simple
    features, CVPR 2001.
    """
    gray = _to_gray_uint8(_as_image(image))
    height, width = gray.shape
    min_face = max(24.0, min_size or min(height, width) / 12)
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
    return sorted(boxes, key=lambda box: -box[2] * box[3])


def _resample(gray: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) uint8 resized by `scale`: area-averaged down, bilinear up.

    Shrinking goes by a whole factor first (OpenCV's fast path: 4x quicker on a 14 MP photo).
    """
    height, width = gray.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if scale > 1.0:
        return cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR)
    factor = int(1 / scale)
    if factor >= 2:
        gray = cv2.resize(gray, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def prepare_faces(
    image_or_images: np.ndarray | Sequence[np.ndarray] | bytes | str | os.PathLike,
    size: int = 48,
    channels: int = 1,
    margin: float = 0.2,
    whole_image_fallback: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Model-ready face crops from photos: detect -> crop with margin -> gray -> resize.

    One image gives every face found in it, largest first. A sequence of images (or an
    (N, H, W, C) array) gives the largest face of each, so `faces[i]` comes from image i.

    Args:
        image_or_images: one image ((H, W) or (H, W, C) array, uint8 or float [0, 1];
            encoded bytes; or a file path), or a sequence / 4-D array of images.
        size: side of the square output crops.
        channels: 1 (gray) or 3 (RGB).
        margin: extra border around each detected box, as a fraction of its side.
        whole_image_fallback: where no face is found, use the whole image (resized,
            with a warning) instead of raising.

    Returns:
        faces: float32 (N, size, size, channels) in [0, 1].
        boxes: int64 (N, 4) crop boxes (x, y, w, h) in pixels of the source image,
            margin included and clipped to the image.

    Raises:
        ValueError: no face found (and no fallback), bad `channels`/`size`, or an
            image that is not (H, W) / (H, W, C).
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (gray) or 3 (RGB); got {channels}.")
    if size < 1:
        raise ValueError(f"size must be a positive number of pixels; got {size}.")
    images, is_batch = _as_image_list(image_or_images)
    faces, boxes = [], []
    for index, image in enumerate(images):
        found = detect_faces(image)
        if not found:
            found = [_no_face(image, index if is_batch else None, whole_image_fallback)]
        else:
            found = [with_margin(box, margin, image.shape[:2]) for box in found]
        for x, y, w, h in found[:1] if is_batch else found:
            faces.append(crop_resize(image[y : y + h, x : x + w], size, channels))
            boxes.append((x, y, w, h))
    return np.stack(faces), np.asarray(boxes, dtype=np.int64).reshape(-1, 4)


def _as_image_list(images: object) -> tuple[list[np.ndarray], bool]:
    """Split the input into (H, W, C) arrays; True when the caller passed a batch."""
    if isinstance(images, bytes | bytearray | memoryview | str | os.PathLike):
        return [decode_image(images)], False
    if isinstance(images, np.ndarray) and images.ndim == 4:
        return [_as_image(image) for image in images], True
    if isinstance(images, list | tuple):
        return [
            decode_image(image) if not isinstance(image, np.ndarray) else _as_image(image)
            for image in images
        ], True
    return [_as_image(images)], False


def _as_image(image: object) -> np.ndarray:
    """One image as uint8 (H, W, 1 or 3)."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4) or min(array.shape[:2]) < 1:
        raise ValueError(
            f"Expected an image shaped (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got "
            f"{array.shape}. For a batch pass an (N, H, W, C) array or a list of images."
        )
    if array.shape[-1] == 4:
        array = array[..., :3]
    if array.dtype != np.uint8:
        if array.size and float(array.max()) > 1.0 + 1e-3:
            raise ValueError(
                f"Float images must have values in [0, 1]; got max {float(array.max()):.3g}. "
                "Pass uint8 images or divide by 255."
            )
        array = np.rint(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    return array


def _to_gray_uint8(image: np.ndarray) -> np.ndarray:
    """(H, W, 1 or 3) uint8 -> (H, W) uint8."""
    if image.shape[-1] == 1:
        return np.ascontiguousarray(image[..., 0])
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def with_margin(box: tuple, margin: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Square (x, y, w, h) box around a face box, grown by `margin` of its side.

    Clipped to an image of `shape` (height, width) and kept square; every face crop uses it.
    """
    x, y, w, h = box
    height, width = shape
    side = min(round(max(w, h) * (1.0 + 2.0 * margin)), height, width)
    left = min(max(round(x + w / 2 - side / 2), 0), width - side)
    top = min(max(round(y + h / 2 - side / 2), 0), height - side)
    return left, top, side, side


def _no_face(image: np.ndarray, index: int | None, fallback: bool) -> tuple[int, int, int, int]:
    """The whole-image box when `fallback`, else the "no face" error."""
    height, width = image.shape[:2]
    which = "the image" if index is None else f"image {index}"
    if not fallback:
        raise ValueError(
            f"No face found in {which} ({height}x{width}). Pass whole_image_fallback=True "
            "to use the whole image, or crop the face first."
        )
    warnings.warn(
        f"No face found in {which} ({height}x{width}); using the whole image.", stacklevel=3
    )
    return 0, 0, width, height


def crop_resize(crop: np.ndarray, size: int, channels: int) -> np.ndarray:
    """uint8 (h, w, C) crop -> float32 (size, size, channels) in [0, 1].

    `channels` 1 converts to gray, 3 repeats a gray crop's channel; resizing is area-averaged
    (cv2.INTER_AREA). The loaders and `prepare_faces` all turn a crop into a face with this.
    """
    if channels == 1:
        pixels = _to_gray_uint8(crop)
    else:
        pixels = np.repeat(crop, 3, axis=-1) if crop.shape[-1] == 1 else crop
    resized = cv2.resize(np.ascontiguousarray(pixels), (size, size), interpolation=cv2.INTER_AREA)
    return resized.reshape(size, size, channels).astype(np.float32) / 255.0


__all__ = ["crop_resize", "decode_image", "detect_faces", "prepare_faces", "with_margin"]
