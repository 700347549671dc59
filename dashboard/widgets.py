"""Input groups the pages share; each returns plain values (names, arrays, numbers).

The face in focus lives in `st.session_state["focus"]` (a `Face`), so the Layers and
Attention pages explain the face chosen on "Explain a face" or opened from a gallery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from emolens.dashboard import loaders
from emolens.dashboard.charts import COLORMAPS
from emolens.dashboard.settings import MAX_UPLOAD_MB, read_settings

if TYPE_CHECKING:
    from emolens.explain.store import Store

FOCUS = "focus"
MODEL_ERRORS = (ValueError, FileNotFoundError, TypeError, OSError)  # a model that cannot load
OPENED = "opened"  # the face a gallery's "Explain this face" opened
FROM_GALLERY = "Opened from a gallery"
IMAGE_TYPES = ["jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff", "pgm", "ppm"]


@dataclass(frozen=True)
class Face:
    """A photo to explain: its name, uint8 (H, W, 3) RGB pixels, whether to detect the face."""

    name: str
    photo: np.ndarray
    detect: bool


def model_picker(label: str = "Models", key: str = "models", multi: bool = True) -> list[str]:
    """Model names chosen in the sidebar (bundled, plus the user's `--model`)."""
    names = loaders.model_names()
    default = loaders.default_model_name()
    if not multi:
        return [st.sidebar.selectbox(label, names, index=names.index(default), key=key)]
    return st.sidebar.multiselect(label, names, default=[default], key=key)


def model_info_or_stop(name: str) -> dict:
    """`loaders.model_info(name)`, or the reason it cannot load shown and the page stopped."""
    try:
        return loaders.model_info(name)
    except MODEL_ERRORS as error:
        st.error(f"Model {name!r} could not be loaded: {error}")
        st.stop()


def face_source() -> Face | None:
    """A sample, an upload, a webcam photo or the face a gallery opened (None on bad input).

    Bad input shows a message.
    """
    kinds = ["Sample", "Upload", "Webcam"]
    opened = st.session_state.get(OPENED)
    if opened is not None:
        kinds.append(FROM_GALLERY)
    kind = st.radio("Face", kinds, horizontal=True, key="source")
    if kind == FROM_GALLERY:
        return _focus(opened)
    if kind == "Sample":
        name = st.selectbox("Sample", loaders.sample_names(), key="sample")
        photo, detect = loaders.sample_photo(name)
        return _focus(Face(name, photo, detect))
    if kind == "Upload":
        file = st.file_uploader(
            f"Photo (up to {MAX_UPLOAD_MB} MiB)",
            type=IMAGE_TYPES,
            max_upload_size=MAX_UPLOAD_MB,
            key="upload",
        )
    else:
        file = st.camera_input("Take a photo", key="webcam")
    if file is None:
        st.info("Upload a photo or take one to explain it.")
        return None
    try:
        photo = loaders.decode_upload(file.getvalue())
    except ValueError as error:
        st.error(f"Cannot use {file.name!r}: {error}")
        return None
    return _focus(Face(file.name, photo, True))


def _focus(face: Face) -> Face:
    st.session_state[FOCUS] = face
    return face


def open_face(face: Face) -> None:
    """Make `face` the face in focus and the choice of "Explain a face" (a gallery's button).

    Before, that page's face picker started on "Sample" and put the sample back in focus.
    """
    st.session_state[FOCUS] = st.session_state[OPENED] = face
    st.session_state["source"] = FROM_GALLERY


def focused_face() -> Face:
    """The face in focus, or the first demo face when none was chosen yet."""
    face = st.session_state.get(FOCUS)
    if face is None:
        name = next(n for n in loaders.sample_names() if n.startswith(loaders.DEMO_PREFIX))
        photo, detect = loaders.sample_photo(name)
        face = Face(name, photo, detect)
    st.caption(f"Face in focus: **{face.name}** (change it on *Explain a face*).")
    return face


def focused_face_input(model_name: str) -> np.ndarray:
    """The face in focus as `model_name`'s input (1, H, W, C); the whole photo if no face."""
    face = focused_face()
    try:
        return loaders.face_input(model_name, face.photo, face.detect)
    except ValueError as error:
        st.warning(f"{error}; using the whole photo.")
        return loaders.face_input(model_name, face.photo, False)


def overlay_controls(key: str = "") -> tuple[float, str]:
    """(heatmap opacity in [0, 1], matplotlib colormap name) from the sidebar."""
    alpha = st.sidebar.slider("Overlay opacity", 0.0, 1.0, 0.45, 0.05, key=f"{key}alpha")
    cmap = st.sidebar.selectbox("Colormap", COLORMAPS, key=f"{key}cmap")
    return alpha, cmap


def store_filters(classes: tuple[str, ...], key: str = "") -> dict:
    """Filters for `Store.filter` (true, predicted, correct, confidence) and a sort order."""
    columns = st.columns(4)
    true = columns[0].multiselect("True class", classes, key=f"{key}true")
    predicted = columns[1].multiselect("Predicted class", classes, key=f"{key}pred")
    which = columns[2].selectbox("Predictions", ["all", "mistakes", "right"], key=f"{key}which")
    low, high = columns[3].slider("Confidence", 0.0, 1.0, (0.0, 1.0), 0.05, key=f"{key}conf")
    return {
        "true": true or None,
        "predicted": predicted or None,
        "correct": {"all": None, "mistakes": False, "right": True}[which],
        "confidence": (low, high),
    }


def store_for(model_name: str):
    """The results store of `model_name`: `--store`, else the dashboard's own (built here once).

    Shows a clear message and returns None when no store can be opened or built.
    """
    settings = read_settings()
    if settings.store:
        return _given_store(settings.store, model_name)
    source, split, description = loaders.data_source()
    try:
        path = loaders.store_folder(model_name, source, split)
    except (ValueError, OSError) as error:  # the user's model file is gone, for one
        st.error(f"Could not find model {model_name}: {error}")
        return None
    if not loaders.store_stamp(path):
        note = st.empty()
        note.info(
            f"First visit: indexing {description} with {model_name} (predictions, embeddings, "
            f"Grad-CAM maps) into {path}. Later visits open it at once."
        )
        bar = st.progress(0.0, text="indexing ...")

        def progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"indexed {done} of {total} faces")

        try:
            loaders.build_store(model_name, source, split, path, progress)
        except (ValueError, FileNotFoundError, RuntimeError, OSError) as error:
            st.error(f"Could not build a store for {model_name}: {error}")
            return None
        bar.empty()
        note.empty()
    try:
        return loaders.open_store(str(path), loaders.store_stamp(path))
    except (ValueError, FileNotFoundError) as error:
        st.error(f"Could not open the store {path}: {error}")
        return None


def stores_or_stop(model_names: list[str]) -> dict[str, Store]:
    """{name: Store} for each of `model_names` (duplicates once); stops the page if one fails.

    `store_for` has already shown why a store could not be opened or built.
    """
    stores = {}
    for name in dict.fromkeys(model_names):
        store = store_for(name)
        if store is None:
            st.stop()
        stores[name] = store
    return stores


def store_page(key: str) -> tuple[float, str, Store, str, float]:
    """The prologue of a one-model store page: (alpha, cmap, store, path, stamp).

    Widgets: the sidebar model picker (key `{key}model`) and overlay controls (`{key}alpha`,
    `{key}cmap`); `path` (str) and `stamp` (the manifest's mtime, float) are what the cached
    loaders take. Stops the page when the store cannot be opened or built.
    """
    name = model_picker("Model", key=f"{key}model", multi=False)[0]
    alpha, cmap = overlay_controls(key)
    store = stores_or_stop([name])[name]
    return alpha, cmap, store, str(store.path), loaders.store_stamp(store.path)


def _given_store(path: str, model_name: str):
    """The store passed with --store, with a warning when it was built by another model.

    Models are compared by their weights (the manifest's `weights_sha256`), so a store that
    `emolens index --model FILE` wrote matches `--model FILE` here although the names differ.
    """
    try:
        store = loaders.open_store(path, loaders.store_stamp(path))
    except (ValueError, FileNotFoundError) as error:
        st.error(f"The store given with --store cannot be opened: {error}")
        return None
    built = store.manifest["model"]
    built_by = built["name"]
    recorded = built.get("weights_sha256")
    if not recorded:  # a manifest without the fingerprint: compare names
        same = built_by == model_name
    else:
        try:
            same = recorded == loaders.model_weights_sha256(model_name)
        except (ValueError, OSError):  # the model cannot load: its own page says why
            same = False
    if not same:
        st.warning(
            f"The store {path} was built with {built_by}, not {model_name}: its predictions and "
            f"maps are {built_by}'s. Pick {built_by}, or drop --store to build one per model."
            + (
                " (Same name, other weights: the file changed since it was indexed.)"
                if built_by == model_name
                else ""
            )
        )
    return store


def store_images(store) -> np.ndarray | None:
    """The store's images in id order, or None (with a message) when its data is not here."""
    try:
        return loaders.store_images(str(store.path), loaders.store_stamp(store.path))
    except (ValueError, FileNotFoundError, OSError) as error:
        st.warning(f"The faces of this store cannot be shown ({error}); maps only.")
        return None


def gallery(store, ids, method: str, alpha: float, cmap: str, key: str, columns: int = 8) -> None:
    """Thumbnails of images `ids` with their stored maps; one can be opened on Explain a face."""
    ids = [int(i) for i in ids]
    if not ids:
        st.info("No face matches.")
        return
    images = store_images(store)
    rows = store.rows.loc[ids]
    maps = store.maps(method, ids)
    for k, (row, heatmap) in enumerate(zip(rows.itertuples(), maps, strict=True)):
        if k % columns == 0:
            grid = st.columns(columns)  # one row of thumbnails, left to right
        base = _thumbnail(images, row.id, heatmap.shape)
        picture = loaders.overlay_image(base, heatmap, alpha, cmap)
        caption = f"#{row.id} {row.true_class} → {row.predicted_class} ({row.confidence:.2f})"
        grid[k % columns].image(picture, caption=caption, width="stretch")
    left, right = st.columns([3, 1])
    chosen = left.selectbox("Open a face on Explain a face", ids, key=f"{key}open")
    if right.button("Explain this face", key=f"{key}go") and images is not None:
        photo = np.repeat(np.rint(images[chosen] * 255).astype(np.uint8), 3 // images.shape[-1], -1)
        open_face(Face(f"{store.manifest['data']['source']} #{chosen}", photo, False))
        st.switch_page("views/explain_face.py")


def _thumbnail(images: np.ndarray | None, index: int, shape: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W, 3) image `index`, or mid gray of the map's shape when images are missing."""
    if images is None:
        return np.full((*shape, 3), 128, np.uint8)
    pixels = np.rint(np.clip(images[index], 0, 1) * 255).astype(np.uint8)
    return np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels
