"""Every cached function of the dashboard: models, faces, explanations, stores.

Caches are bounded (`max_entries`, `ttl`): models are shared objects (`cache_resource`), arrays
and tables are copied per session (`cache_data`). Arguments Streamlit must not hash start with
an underscore. Errors are raised as `ValueError`/`FileNotFoundError` with a message for the
page to show; nothing here draws on the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from emolens.dashboard.settings import MAX_PIXELS, MAX_UPLOAD_MB, read_settings

HOUR = 3600
HOVER_FACES = 4096
"""Most faces the Embeddings page shows on hover (FER2013 PublicTest's 3,589 all fit)."""
SPRITE_SIDE, SPRITE_COLUMNS = 48, 64  # hover faces: 48x48 tiles, 64 a row (3072 px wide)
DEMO_PREFIX = "demo face "
SAMPLE_PHOTOS = {
    "Grace Hopper (matplotlib sample, public domain)": "grace_hopper",
    "Astronaut Eileen Collins (scikit-image sample, public domain)": "astronaut",
}


# --- models ---------------------------------------------------------------------------------


def model_names() -> list[str]:
    """Names the model pickers offer: the user's model (if any), then the bundled ones."""
    from emolens import models

    user = read_settings().user_model_label
    return ([user] if user else []) + models.bundled()


def default_model_name() -> str:
    """The user's model when one was given, else the zoo's default model."""
    from emolens import models

    return read_settings().user_model_label or models.default_model()


def load_model(name: str):
    """The Keras model listed as `name` (bundled, registered, or the user's file).

    Cached with a digest of its file, so a file retrained in place is loaded again.
    """
    return _load_model(name, _model_digest(name))


@st.cache_resource(max_entries=6, show_spinner="Loading the model ...")
def _load_model(name: str, digest: str):
    """`load_model`'s cached loader (`digest`: the cache key only)."""
    from emolens import models

    settings = read_settings()
    if name == settings.user_model_label:
        return models.load(
            settings.model,
            classes=settings.classes,
            input_range=settings.input_range,
            safe_mode=not settings.unsafe_load,
        )
    return models.load(name)


@st.cache_data(max_entries=16, show_spinner=False)
def model_weights_sha256(name: str) -> str:
    """sha256 of the weights of the model listed as `name`: what a store's manifest records."""
    from emolens.explain.store import weights_sha256

    return weights_sha256(load_model(name))


@st.cache_data(max_entries=32, show_spinner=False)
def model_info(name: str) -> dict:
    """Classes, input shape and the layers each page can choose from, for model `name`."""
    from emolens.explain.feature_maps import default_layers
    from emolens.explain.layers import spatial_layers, token_layers

    model = load_model(name)
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or any(d is None for d in shape):
        raise ValueError(
            f"{name} takes inputs of shape {shape}; the dashboard needs a fixed (H, W, C) "
            "input. Save the model with one, e.g. keras.Input(shape=(48, 48, 1))."
        )
    blocks = default_layers(model)
    attention = _attention_layers(model)
    return {
        "classes": tuple(getattr(model, "class_names", ()) or ()),
        "input_shape": tuple(int(d) for d in shape),
        "cam_layers": list(dict.fromkeys([*spatial_layers(model), *token_layers(model)])),
        "conv_blocks": [layer for layer in blocks if layer not in attention],
        "attention_layers": attention,
        "attention_heads": _heads(model, attention),
        "params": int(model.count_params()),
    }


def _attention_layers(model) -> list[str]:
    """Qualified names of the model's attention layers; [] for a model without any."""
    from emolens.explain.vit import find_attention_layers

    try:
        return find_attention_layers(model)
    except ValueError:
        return []


def _heads(model, attention: list[str]) -> int:
    """Heads of the first attention layer (its output is (N, heads, T, T)), 0 without one."""
    if not attention:
        return 0
    from emolens.explain.layers import find_layer

    _, layer = find_layer(model, attention[0])
    output = layer.output[1] if isinstance(layer.output, list | tuple) else layer.output
    return int(output.shape[1]) if len(output.shape) == 4 else 0


@st.cache_data(max_entries=16, show_spinner=False)
def layer_table(name: str) -> pd.DataFrame:
    """One row per layer of model `name`: name, type, output shape, parameters."""
    model = load_model(name)
    rows = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape[1:])
        except (AttributeError, ValueError):
            shape = ()
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output shape": str(shape).replace("None", "?"),
                "parameters": int(layer.count_params()),
            }
        )
    return pd.DataFrame(rows)


# --- faces ----------------------------------------------------------------------------------


def sample_names() -> list[str]:
    """The built-in faces: sample photos of installed packages, then the synthetic demo faces."""
    names = list(SAMPLE_PHOTOS)
    try:
        import skimage.data  # noqa: F401
    except ImportError:
        names.remove(next(n for n in names if SAMPLE_PHOTOS[n] == "astronaut"))
    faces = _demo_faces()
    labels = [faces.classes[label] for label in faces.labels]
    return names + [f"{DEMO_PREFIX}{k + 1} ({label})" for k, label in enumerate(labels)]


@st.cache_resource(max_entries=1, show_spinner=False)
def _demo_faces():
    from emolens.explain.data.synthetic import demo_faces

    return demo_faces()


@st.cache_data(max_entries=16, show_spinner=False)
def sample_photo(name: str) -> tuple[np.ndarray, bool]:
    """(uint8 (H, W, 3) RGB, whether to detect a face) of a built-in sample."""
    if name.startswith(DEMO_PREFIX):  # already a 48x48 face crop: no detection
        index = int(name[len(DEMO_PREFIX) :].split()[0]) - 1
        gray = np.rint(_demo_faces().images[index, ..., 0] * 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=-1), False
    if SAMPLE_PHOTOS.get(name) == "astronaut":
        import skimage.data

        return np.ascontiguousarray(skimage.data.astronaut()), True
    if SAMPLE_PHOTOS.get(name) == "grace_hopper":
        import matplotlib.cbook

        from emolens.explain.faces import decode_image

        return decode_image(matplotlib.cbook.get_sample_data("grace_hopper.jpg").read()), True
    raise ValueError(f"Unknown sample {name!r}. Samples: {', '.join(sample_names())}.")


@st.cache_data(max_entries=16, ttl=HOUR, show_spinner=False)
def decode_upload(data: bytes) -> np.ndarray:
    """uint8 (H, W, 3) RGB of an uploaded file, after checking its size.

    Raises:
        ValueError: too large (bytes or pixels), empty, corrupt or not an image.
    """
    from emolens.explain.faces import decode_image

    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise ValueError(
            f"The file is {len(data) / 2**20:.1f} MiB; the limit is {MAX_UPLOAD_MB} MiB. "
            "Upload a smaller photo."
        )
    width, height = _header_size(data)
    if width * height > MAX_PIXELS:
        raise ValueError(
            f"The photo is {width}x{height} pixels ({width * height / 1e6:.0f} MP); the limit "
            f"is {MAX_PIXELS / 1e6:.0f} MP. Resize it first."
        )
    return decode_image(data)


def _header_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the image header, (0, 0) when Pillow cannot tell."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError:
        return 10**6, 10**6  # over Pillow's own hard limit: certainly too large
    except Exception:  # noqa: BLE001  (not an image Pillow knows: OpenCV decides)
        return 0, 0


# --- live explanations of the face in focus -------------------------------------------------


@st.cache_data(max_entries=32, ttl=HOUR, show_spinner=False)
def explain_face(
    model_name: str,
    photo: np.ndarray,
    methods: tuple[str, ...],
    layer: str | None,
    target: str,
    detect: bool,
):
    """`explain.report.explain_photo` of one photo: a `BatchResult` (face, probs, maps, errors).

    Raises:
        ValueError: the model cannot explain photos (input shape, class names) or `target`
            is not one of its classes. A photo without a face is a `FileError` in the result.
    """
    from emolens.explain.report import explain_photo

    model = load_model(model_name)
    return explain_photo(
        model, photo, methods, layer=layer, target=target, detect=detect, model_name=model_name
    )


@st.cache_data(max_entries=128, ttl=HOUR, show_spinner=False)
def overlay_image(image: np.ndarray, heatmap: np.ndarray, alpha: float, cmap: str) -> np.ndarray:
    """uint8 (H, W, 3): `heatmap` (h, w) in [0, 1] blended over `image` (`explain.overlay`)."""
    from emolens import explain

    return explain.overlay(image[None], heatmap[None], cmap=cmap, alpha=alpha)[0]


@st.cache_data(max_entries=32, ttl=HOUR, show_spinner=False)
def face_input(model_name: str, photo: np.ndarray, detect: bool) -> np.ndarray:
    """float32 (1, S, S, C): the largest face of `photo` as model `model_name` takes it.

    Raises:
        ValueError: no face found (with `detect`).
    """
    from emolens.explain.report import crop_faces

    size, _, channels = model_info(model_name)["input_shape"]
    image, _, _ = crop_faces(photo, size, channels, detect=detect)[0]
    return image[None]


@st.cache_data(max_entries=64, ttl=HOUR, show_spinner=False)
def method_maps(
    model_name: str,
    method: str,
    images: np.ndarray,
    target: int | None = None,
    layer: str | None = None,
    options: tuple = (),
) -> np.ndarray:
    """float32 (N, H, W) maps of `explain.METHODS[method]` (options: (key, value) pairs)."""
    from emolens import explain

    model = load_model(model_name)
    return explain.METHODS[method](model, images, target, layer, **dict(options))


@st.cache_data(max_entries=32, ttl=HOUR, show_spinner=False)
def probabilities(model_name: str, images: np.ndarray) -> np.ndarray:
    """float32 (N, classes) class probabilities of `images`."""
    from emolens.explain.report import predict_probs

    return predict_probs(load_model(model_name), images)


@st.cache_data(max_entries=32, ttl=HOUR, show_spinner=False)
def layer_activations(model_name: str, images: np.ndarray, layer: str) -> np.ndarray:
    """float32 (N, ...) output of `layer` for `images` (`explain.feature_maps`)."""
    from emolens import explain

    return explain.feature_maps(load_model(model_name), images, layer)[layer]


@st.cache_data(max_entries=32, ttl=HOUR, show_spinner=False)
def channel_image(model_name: str, layer: str, channel: int, steps: int) -> np.ndarray:
    """float32 (H, W, C): the input that maximises `channel` of `layer` (activation max.)."""
    from emolens import explain

    model = load_model(model_name)
    return explain.activation_maximization(model, layer, channel, steps=steps)[0]


@st.cache_data(max_entries=8, ttl=HOUR, show_spinner=False)
def summary_faces(class_set: tuple[str, ...], count: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) for layer summaries: FER2013 PublicTest when found, else synthetic."""
    source, split, _ = data_source()
    from emolens.explain.data import subset
    from emolens.explain.store import load_source

    dataset = load_source(source, split, _class_set(class_set))
    picked = subset(dataset, count, seed=0) if len(dataset) > count else dataset
    return picked.images, picked.labels


@st.cache_data(max_entries=8, ttl=HOUR, show_spinner="Summarising every layer ...")
def layer_summary_table(model_name: str, count: int = 256) -> pd.DataFrame:
    """`explain.layer_summary` of model `model_name` over `count` faces of the data."""
    from emolens import explain

    model = load_model(model_name)
    classes = model_info(model_name)["classes"]
    images, labels = summary_faces(classes, count)
    return explain.layer_summary(model, images, labels, classes)


@st.cache_data(max_entries=16, ttl=HOUR, show_spinner="Comparing the two models ...")
def compare_cnn_vit(cnn_name: str, vit_name: str, images: np.ndarray):
    """`explain.compare` of the CNN's Grad-CAM with the ViT's rollout and relevance."""
    from emolens import explain

    models = {cnn_name: load_model(cnn_name), vit_name: load_model(vit_name)}
    methods = {cnn_name: "grad_cam", vit_name: ["attention_rollout", "attention_relevance"]}
    return explain.compare(models, images, methods)


def _class_set(classes: tuple[str, ...]) -> str:
    """The class set ("fer7", "emo3") named by `classes`.

    Raises:
        ValueError: the classes are no known class set.
    """
    from emolens.explain.store import class_set_of

    return class_set_of(tuple(classes))


# --- results stores -------------------------------------------------------------------------


def data_source() -> tuple[str, str, str]:
    """(source, split, description) of the dataset pages: FER2013 when found, else synthetic."""
    from emolens.explain.data import data_dir

    settings = read_settings()
    try:
        folder = data_dir(settings.data)
    except FileNotFoundError:
        folder = None
    if folder is not None and (folder / "fer2013" / "publictest.npz").is_file():
        return str(folder), "publictest", f"FER2013 PublicTest from {folder}"
    return "synthetic", "publictest", "300 synthetic faces (FER2013 not found)"


def store_folder(model_name: str, source: str, split: str) -> Path:
    """Where the dashboard keeps its own store of `model_name` on `source`/`split`.

    The name holds a digest of the model's file (and of --classes/--input-range for the
    user's model): two files shown under one label (every run folder's checkpoint.keras), a
    file retrained in place, or bundled weights changed by an upgrade each get a store of
    their own, instead of the one indexed with other weights.
    """
    slug = lambda text: re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:60]  # noqa: E731
    digest = _model_digest(model_name)
    return read_settings().cache / f"{slug(model_name)}-{digest}--{slug(source)}--{split}"


def _model_digest(name: str) -> str:
    """10 hex digits of sha256 over the model file of `name` and how the dashboard loads it."""
    from emolens.models import zoo

    settings = read_settings()
    if name == settings.user_model_label:
        path, options = Path(settings.model), f"{settings.classes}|{settings.input_range}"
    else:
        path, options = zoo.model_path(name), ""
    stat = path.stat()
    return _file_digest(str(path), stat.st_mtime_ns, stat.st_size, options)


@st.cache_data(max_entries=64, show_spinner=False)
def _file_digest(path: str, mtime_ns: int, size: int, options: str) -> str:
    """sha256 of the file at `path` and `options` (mtime and size: the cache key only)."""
    import hashlib

    digest = hashlib.sha256(options.encode())
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:10]


def store_stamp(path: str | Path) -> float:
    """The store's manifest time (0.0 when unfinished): part of every cache key of a store."""
    manifest = Path(path) / "manifest.json"
    return manifest.stat().st_mtime if manifest.is_file() else 0.0


@st.cache_resource(max_entries=8, show_spinner=False)
def open_store(path: str, stamp: float):
    """The `Store` at `path` (reopened when its manifest changes, through `stamp`).

    Raises:
        FileNotFoundError / ValueError: no store there, or an unfinished one.
    """
    from emolens.explain.store import open_store as open_results

    return open_results(path)


def build_store(model_name: str, source: str, split: str, out: Path, progress) -> None:
    """Index `source`/`split` with model `model_name` into `out` (Grad-CAM maps).

    Not cached: the page calls it once when the store is missing, with `progress(done, total)`.

    Raises:
        ValueError: the data is synthetic and the model has classes no synthetic face shows.
    """
    from emolens.explain.data import CLASS_SETS
    from emolens.explain.data.synthetic import DRAWABLE
    from emolens.explain.store import index

    model = load_model(model_name)
    names = [str(c).lower() for c in getattr(model, "class_names", ()) or ()]
    missing = [c for c in names if c not in DRAWABLE]
    if source == "synthetic" and missing and set(names) <= {*CLASS_SETS["fer7"]}:
        raise ValueError(
            f"FER2013 is not here, and the synthetic faces that stand in for it show no "
            f"{', '.join(missing)}. Point --data (or EMOLENS_DATA) at a folder holding "
            "fer2013/ (`emolens data download fer2013`), or pick an emo3 model."
        )
    index(
        model,
        source,
        ["grad_cam"],
        out=out,
        split=split,
        progress=progress,
        model_name=model_name,
    )


@st.cache_resource(max_entries=4, show_spinner="Loading the store's images ...")
def store_images(path: str, stamp: float) -> np.ndarray:
    """float32 (N, H, W, C) images of the store, in id order, from the data it was built on.

    Raises:
        FileNotFoundError / ValueError: the data is not on this machine, or it changed.
    """
    from emolens.explain.store import load_source

    manifest = open_store(path, stamp).manifest
    data = manifest["data"]
    dataset = load_source(
        data["source"], data["split"], _class_set(tuple(data["classes"])), data["image_shape"]
    )
    if len(dataset) != data["num_images"]:
        raise ValueError(
            f"The store's data {data['source']!r} ({data['split']}) now has {len(dataset)} images, "
            f"the store {data['num_images']}. Rebuild the store."
        )
    return dataset.images


@st.cache_data(max_entries=8, show_spinner=False)
def store_metrics(path: str, stamp: float) -> dict:
    """Accuracy, macro-F1, per-class recall and the confusion matrix of a store's rows."""
    from sklearn.metrics import confusion_matrix, f1_score, recall_score

    store = open_store(path, stamp)
    rows = store.rows[store.rows["label"] >= 0]
    labels = list(range(len(store.classes)))
    truth, predicted = rows["label"].to_numpy(), rows["prediction"].to_numpy()
    return {
        "images": len(store),
        "labelled": len(rows),
        "accuracy": float(rows["correct"].mean()) if len(rows) else float("nan"),
        "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro")),
        "recall": recall_score(truth, predicted, labels=labels, average=None, zero_division=0),
        "confusion": confusion_matrix(truth, predicted, labels=labels),
    }


def disagreements(rows_a: pd.DataFrame, rows_b: pd.DataFrame, right: str | None) -> pd.DataFrame:
    """Rows of `rows_a` (same faces as `rows_b`) where the two models predict different classes.

    `right`: None keeps them all, "a" or "b" only those that model got right.
    """
    if right not in (None, "a", "b"):
        raise ValueError(f"right must be None, 'a' or 'b'; got {right!r}.")
    differ = rows_a[rows_a["predicted_class"] != rows_b["predicted_class"]]
    if right is None:
        return differ
    winner = rows_a if right == "a" else rows_b
    return differ[winner.loc[differ.index, "correct"].to_numpy()]


@st.cache_data(max_entries=8, show_spinner="Projecting the embeddings ...")
def store_projection(path: str, stamp: float, method: str = "pca") -> np.ndarray:
    """float32 (N, 2) projection of the store's embeddings: PCA, or UMAP when installed."""
    embeddings = open_store(path, stamp).embeddings()
    if method == "umap":
        import umap

        return umap.UMAP(random_state=0).fit_transform(embeddings).astype(np.float32)
    from sklearn.decomposition import PCA
    from threadpoolctl import threadpool_limits

    # One BLAS thread: 3,589 x 320 takes ~40 ms; with OpenBLAS' threads on busy cores it took
    # 0.5-3 s (threads spin waiting for each other).
    with threadpool_limits(limits=1, user_api="blas"):
        projection = PCA(n_components=2, random_state=0).fit_transform(embeddings)
    return projection.astype(np.float32)


@st.cache_data(max_entries=8, show_spinner=False)
def embedding_figure(path: str, stamp: float, method: str, colour: str):
    """The plotly scatter of the store's 2-D projection, coloured by column `colour`."""
    from emolens.dashboard.charts import embedding_chart

    rows = open_store(path, stamp).rows
    return embedding_chart(store_projection(path, stamp, method), rows, colour)


@st.cache_data(max_entries=4, show_spinner=False)
def store_face_sprite(path: str, stamp: float, cap: int = HOVER_FACES) -> tuple[str, list[int]]:
    """(JPEG data URI of up to `cap` of the store's faces, 48x48 tiles 64 a row, their ids).

    A store of more than `cap` images gets `cap` ids spread evenly over its id range.

    Raises:
        FileNotFoundError / ValueError: the store's data is not on this machine (`store_images`).
    """
    from emolens.dashboard.charts import face_sprite, jpeg_data_uri

    images = store_images(path, stamp)  # (N, H, W, C) in id order
    count = len(images)
    ids = np.arange(count) if count <= cap else np.linspace(0, count - 1, cap).round().astype(int)
    return jpeg_data_uri(face_sprite(images[ids], SPRITE_SIDE, SPRITE_COLUMNS), 80), ids.tolist()
