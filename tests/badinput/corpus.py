"""Generate the bad-input photo corpus in a folder (no committed binaries): name -> bytes.

Every file is built here with numpy, OpenCV and Pillow. A face comes from matplotlib's
sample photo of Grace Hopper (512x600, one frontal face), so detection has something real.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from matplotlib import cbook
from PIL import Image

GRACE = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)


def grace_rgb() -> np.ndarray:
    """uint8 (600, 512, 3) RGB photo with one face."""
    return np.asarray(Image.open(GRACE).convert("RGB"))


def _pil_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _cv_bytes(ext: str, array: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(ext, array)
    if not ok:
        raise RuntimeError(f"cv2 could not encode {ext}")
    return encoded.tobytes()


def big_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A black gray PNG declaring width x height, its zlib stream built row block by row block
    (zeros compress ~1000:1, so a 20000x20000 file is ~400 KB). With `rows`, only that many
    rows are stored: a decompression bomb that would also turn out truncated if decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    packer, block, stored = zlib.compressobj(1), bytes(512 * (width + 1)), rows or height
    parts = [packer.compress(block) for _ in range(stored // 512)]
    parts += [packer.compress(bytes((stored % 512) * (width + 1))), packer.flush()]
    idat = b"".join(parts)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def exif_rotated_jpeg() -> bytes:
    """Grace Hopper stored lying on her side (rotated 90 degrees) with EXIF Orientation 6
    ("rotate 90 CW to display"), as a phone writes a portrait photo."""
    stored = Image.open(GRACE).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _pil_bytes(stored, "JPEG", exif=exif.tobytes(), quality=92)


def two_faces_png() -> bytes:
    """Grace Hopper twice side by side: a full-size face and a half-size one."""
    rgb = grace_rgb()
    small = cv2.resize(rgb, (256, 300), interpolation=cv2.INTER_AREA)
    canvas = np.full((600, 512 + 256, 3), 128, np.uint8)
    canvas[:, :512] = rgb
    canvas[150:450, 512:] = small
    return _cv_bytes(".png", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))


def photo_files() -> dict[str, bytes]:
    """File name -> content of every photo case (bad files and odd-but-valid ones)."""
    rgb = grace_rgb()
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    image = Image.fromarray(rgb)
    jpeg = Path(GRACE).read_bytes()
    png = _cv_bytes(".png", bgr)
    wall = np.full((240, 320, 3), 150, np.uint8)
    cv2.rectangle(wall, (40, 40), (120, 200), (60, 90, 200), -1)
    return {
        "empty.jpg": b"",
        "truncated.jpg": jpeg[:400],
        "truncated.png": png[:300],
        "text.jpg": b"this is not an image\n",
        "html.png": b"<!doctype html><html><body>404</body></html>",
        "animated.gif": _pil_bytes(
            image.convert("P"),
            "GIF",
            save_all=True,
            append_images=[Image.new("P", image.size)],
            duration=100,
        ),
        "photo.tiff": _pil_bytes(image, "TIFF"),
        "photo.webp": _pil_bytes(image, "WEBP", quality=90),
        "photo.bmp": _pil_bytes(image, "BMP"),
        "deep16.png": _cv_bytes(".png", bgr.astype(np.uint16) * 257),
        "cmyk.jpg": _pil_bytes(image.convert("CMYK"), "JPEG", quality=92),
        "gray.png": _pil_bytes(image.convert("L"), "PNG"),
        "rgba.png": _pil_bytes(image.convert("RGBA"), "PNG"),
        "palette.png": _pil_bytes(image.convert("P"), "PNG"),
        "exif_rotated.jpg": exif_rotated_jpeg(),
        "one_pixel.png": _cv_bytes(".png", np.zeros((1, 1, 3), np.uint8)),
        "huge_20000.png": big_png(20000, 20000),
        "bomb.png": big_png(30000, 30000, rows=64),
        "no_face.png": _cv_bytes(".png", wall),
        "two_faces.png": two_faces_png(),
        "unicode ünï 表情 face.jpg": jpeg,
        "space name.png": png,
        "uppercase.JPG": jpeg,
        "no_extension": jpeg,
        "wrong_ext.png": jpeg,  # a JPEG named .png: content decides
    }


PHOTO_OK = {  # graceful results: one face found, explained
    "animated.gif",
    "photo.tiff",
    "photo.webp",
    "photo.bmp",
    "deep16.png",
    "cmyk.jpg",
    "gray.png",
    "rgba.png",
    "palette.png",
    "exif_rotated.jpg",
    "two_faces.png",
    "unicode ünï 表情 face.jpg",
    "space name.png",
    "uppercase.JPG",
    "no_extension",
    "wrong_ext.png",
}
PHOTO_ERRORS = {  # file -> regex of its one-line reason (what is wrong)
    "empty.jpg": "empty",
    "truncated.jpg": "truncated",
    "truncated.png": "truncated",
    "text.jpg": "not an image",
    "html.png": "not an image",
    "one_pixel.png": "no face found",
    "huge_20000.png": "too large|limit is",
    "bomb.png": "too large|limit is",
    "no_face.png": "no face found",
}


def write_photos(folder: Path) -> dict[str, Path]:
    """Write every photo case into `folder`; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, content in photo_files().items():
        paths[name] = folder / name
        paths[name].write_bytes(content)
    return paths
