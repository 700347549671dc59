"""Dataset and mistakes: metrics, a clickable confusion matrix, galleries, class-mean maps."""

import numpy as np
import pandas as pd
import streamlit as st

from emolens.dashboard import charts, loaders, widgets

SORTS = {  # label: (column, descending)
    "confidence, highest first": ("confidence", True),
    "loss, highest first": ("loss", True),
    "margin, smallest first (ambiguous faces)": ("margin", False),
}
MISTAKES = "most confident mistakes"

st.title("Dataset and mistakes")
alpha, cmap, store, path, stamp = widgets.store_page("dataset_")
metrics = loaders.store_metrics(path, stamp)
classes = store.classes
data = store.manifest["data"]

columns = st.columns(4)
columns[0].metric("Accuracy", f"{metrics['accuracy']:.1%}")
columns[1].metric("Macro-F1", f"{metrics['macro_f1']:.3f}")
columns[2].metric("Faces", f"{metrics['labelled']:,} / {metrics['images']:,}")
columns[3].metric("Split", str(data["split"]))
st.caption(f"Store {store.path}: model {store.manifest['model']['name']}, data {data['source']}.")
st.dataframe(
    pd.DataFrame([metrics["recall"]], columns=list(classes), index=["recall"]),
    width="stretch",
)

left, right = st.columns([2, 3])
with left:
    event = st.plotly_chart(
        charts.confusion_chart(metrics["confusion"], classes),
        on_select="rerun",
        selection_mode="points",
        key="confusion",
    )
    cell = event.selection.points[0] if event and event.selection.points else None
    st.caption("Click a cell to open its faces in the gallery.")
    method = st.selectbox("Maps", store.methods, key="dataset_method") if store.methods else None
with right:
    filters = widgets.store_filters(classes, "dataset_")
    if cell is not None:
        filters.update(true=[cell["y"]], predicted=[cell["x"]])
        st.info(f"Confusion cell: true **{cell['y']}**, predicted **{cell['x']}**.")
    order = st.radio("Sort", [MISTAKES, *SORTS], horizontal=True, key="dataset_sort")
rows = store.filter(**filters)
if order == MISTAKES and len(rows) and rows["correct"].all():
    st.info(
        f"All {len(rows):,} faces here are predicted right, and the sort *{MISTAKES}* shows "
        "mistakes only: sorted by confidence instead."
    )
    order = "confidence, highest first"
if order == MISTAKES:
    rows = rows[~rows["correct"]].sort_values("confidence", ascending=False)
else:
    column, descending = SORTS[order]
    rows = rows.sort_values(column, ascending=not descending)
st.subheader(f"{len(rows):,} faces; the first 24")
if method is None:
    st.info("This store holds no maps; index it with --method grad_cam to see them.")
    st.dataframe(rows.head(24), hide_index=True)
    st.stop()
widgets.gallery(store, rows["id"].head(24), method, alpha, cmap, key="dataset_")

st.subheader(f"Mean {method} map per class")
by = st.radio("Group by", ["label", "prediction"], horizontal=True, key="dataset_by")
means = store.class_means(method, by)
images = widgets.store_images(store)
grid = st.columns(len(classes))
for k, (column, heatmap) in enumerate(zip(grid, means, strict=True)):
    group = store.rows[store.rows[by] == k]["id"].to_numpy()
    base = np.full((*heatmap.shape, 3), 128, np.uint8)
    if images is not None and len(group):
        mean = images[group].mean(axis=0)
        base = charts.to_rgb_uint8(mean)
    column.image(
        loaders.overlay_image(base, heatmap, alpha, cmap),
        caption=f"{classes[k]} ({len(group)} faces)",
        width="stretch",
    )
