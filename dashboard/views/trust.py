"""Trust: the metrics of the map in focus, the ground-truth benchmark, sanity curves, shortcut."""

import numpy as np
import pandas as pd
import streamlit as st

from emolens.dashboard import loaders, widgets
from emolens.explain.metrics import METRICS

GROUND_TRUTH = ("mouth_emo3", "shortcut_emo3")  # bundled by models/train_groundtruth.py
PIXEL_METHODS = ("grad_cam", "saliency", "occlusion", "integrated_gradients", "layer_cam")


RANDOM_MAPS = 8  # the chance level of deletion/insertion: random maps of the same face


def random_maps(shape: tuple[int, ...]) -> np.ndarray:
    """float32 (RANDOM_MAPS, H, W) uniform maps, seeded: the same for every face and rerun."""
    return np.random.default_rng(0).random((RANDOM_MAPS, *shape), dtype=np.float32)


@st.cache_data(max_entries=32, ttl=3600, show_spinner="Scoring the map ...")
def face_scores(model_name: str, method: str, images: np.ndarray, maps: np.ndarray) -> dict:
    """{label: (score of one face's map, the mean over random maps or None)}.

    Deletion/insertion AUC (logit) against `RANDOM_MAPS` random maps of the same face, and
    the random-logit Spearman of the map.
    """
    from emolens.explain import metrics

    model = loaders.load_model(model_name)
    check = metrics.random_logit(model, images, method)
    noise, copies = random_maps(maps.shape[1:]), np.repeat(images[:1], RANDOM_MAPS, axis=0)
    return {
        "deletion AUC (lower = better)": (
            float(metrics.deletion_auc(model, images, maps)[0]),
            float(metrics.deletion_auc(model, copies, noise).mean()),
        ),
        "insertion AUC (higher = better)": (
            float(metrics.insertion_auc(model, images, maps)[0]),
            float(metrics.insertion_auc(model, copies, noise).mean()),
        ),
        "Spearman with another class's map (lower = better)": (float(check.spearman[0]), None),
    }


@st.cache_data(max_entries=8, ttl=3600, show_spinner="Randomising the model layer by layer ...")
def sanity_curve(model_name: str, method: str, images: np.ndarray) -> pd.DataFrame:
    """Mean Spearman/SSIM of the maps after each cascading re-initialisation, output first."""
    from emolens.explain import metrics

    check = metrics.model_randomisation(loaders.load_model(model_name), images, method)
    return pd.DataFrame(
        {
            "layer": check.layers,
            "spearman": check.spearman.mean(axis=1),
            "ssim": check.ssim.mean(axis=1),
        }
    )


@st.cache_data(max_entries=4, ttl=3600, show_spinner="Running the ground-truth benchmark ...")
def benchmark(methods: tuple[str, ...], n: int) -> tuple[pd.DataFrame, dict]:
    """`ground_truth_benchmark` of the two bundled ground-truth models on `n` faces."""
    from emolens import explain
    from emolens.explain.metrics.groundtruth_benchmark import ground_truth_benchmark

    clean, shortcut = (loaders.load_model(name) for name in GROUND_TRUTH)
    chosen = {name: explain.METHODS[name] for name in methods}
    rows, summary = ground_truth_benchmark(clean, shortcut, n, methods=chosen, steps=8)
    return pd.DataFrame(rows), summary


@st.cache_data(max_entries=4, ttl=3600, show_spinner=False)
def shortcut_pair(method: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marked faces (n, 48, 48, 1) and the maps of the clean and shortcut models (n, 48, 48)."""
    from emolens import explain
    from emolens.explain.metrics.groundtruth import add_mark, deciding_faces

    faces = deciding_faces(n, seed=12)
    marked, _ = add_mark(faces.images, faces.labels)
    maps = [
        explain.METHODS[method](loaders.load_model(m), marked, faces.labels) for m in GROUND_TRUTH
    ]
    return marked, maps[0], maps[1]


st.title("Explanation metrics")
st.caption("Can this map be trusted? Numbers beside the map, and methods tested on known answers.")

with st.expander("Metrics in the library (explain.metrics.METRICS)"):
    st.dataframe(
        {
            "metric": list(METRICS),
            "what": [(f.__doc__ or "").split("\n")[0] for f in METRICS.values()],
        },
        hide_index=True,
        width="stretch",
    )

st.header("The map in focus")
model_name = widgets.model_picker("Model", key="trust_model", multi=False)[0]
method = st.selectbox("Method", PIXEL_METHODS, key="trust_method")
face = widgets.focused_face()
try:
    loaders.model_info(model_name)
except widgets.MODEL_ERRORS as error:
    st.error(f"Model {model_name!r} could not be loaded: {error}")
    images = None
else:
    try:
        images = loaders.face_input(model_name, face.photo, face.detect)
    except ValueError as error:
        st.error(f"{face.name}: {error}")
        images = None
maps = None
if images is not None:
    try:
        maps = loaders.method_maps(model_name, method, images)
    except ValueError as error:  # a CAM method on a model without a spatial layer
        st.info(f"{method} cannot explain {model_name}: {error} Pick saliency or occlusion.")
if maps is not None:
    left, right = st.columns(2)
    overlay = loaders.overlay_image(images[0], maps[0], 0.45, "jet")
    left.image(overlay, caption=f"{method} on {face.name}", width=240)
    scores = face_scores(model_name, method, images, maps)
    for label, (value, chance) in scores.items():
        delta = None if chance is None else f"{value - chance:+.3f} vs random maps"
        right.metric(label, f"{value:.3f}", delta, "inverse" if "lower" in label else "normal")
    right.caption(
        f"Deltas: against the mean of {RANDOM_MAPS} random maps of this face (chance). Red "
        "means this map does worse than a random one on this face."
    )

st.header("Sanity check")
if maps is not None and st.toggle("Randomise the model layer by layer", key="trust_sanity"):
    curve = sanity_curve(model_name, method, images)
    st.line_chart(curve.set_index("layer")[["spearman", "ssim"]])
    st.caption(
        "Similarity to the intact model's maps; a map that stays similar ignores the weights."
    )

st.header("Ground truth and the shortcut model")
st.caption(
    "mouth_emo3 learnt synthetic faces whose mouth alone decides the class; shortcut_emo3 the "
    "same faces with a corner mark that encodes the label. Mass: share of the map on the mouth "
    "grown by 4 px (or on the mark)."
)
chosen = st.multiselect("Methods", PIXEL_METHODS, default=["grad_cam", "saliency"], key="bench")
if chosen:
    table, summary = benchmark(tuple(chosen), 12)
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        f"A random map puts {summary['part_area']:.1%} of its mass on the mouth region and "
        f"{summary['mark_area']:.1%} on the mark (their share of the image): the chance levels."
    )
    accuracies = {k: v for k, v in summary.items() if k not in ("n", "part_area", "mark_area")}
    st.dataframe(pd.DataFrame({"accuracy": accuracies}), width="stretch")
    marked, clean_maps, shortcut_maps = shortcut_pair(chosen[0], 4)
    for title, pair_maps in (("mouth_emo3", clean_maps), ("shortcut_emo3", shortcut_maps)):
        columns = st.columns(4)
        for i, column in enumerate(columns):
            blended = loaders.overlay_image(marked[i], pair_maps[i], 0.45, "jet")
            column.image(blended, caption=f"{title} {chosen[0]}", width=120)
