"""Embeddings: a 2-D projection of the stored embeddings, faces on hover, selection to a gallery."""

import streamlit as st

from emolens.dashboard import loaders, widgets
from emolens.dashboard.hover import face_hover

COLOURS = {"true class": "true_class", "prediction": "predicted_class", "right or wrong": "correct"}

st.title("Embeddings")
alpha, cmap, store, path, stamp = widgets.store_page("embeddings_")
try:
    import umap  # noqa: F401  (optional extra)

    projections = ["PCA", "UMAP"]
except ImportError:
    projections = ["PCA"]
left, right = st.columns(2)
projection = left.radio("Projection", projections, horizontal=True, key="projection")
colour = right.radio("Colour by", list(COLOURS), horizontal=True, key="colour")
event = st.plotly_chart(
    loaders.embedding_figure(path, stamp, projection.lower(), COLOURS[colour]),
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    key="embedding",
)
ids = [point["customdata"][0] for point in event.selection.points] if event else []
try:
    sprite, hover_ids = loaders.store_face_sprite(path, stamp)
except (ValueError, FileNotFoundError, OSError) as error:
    hover = f"Its faces cannot be shown on hover ({error})."
else:
    face_hover("embedding", sprite, hover_ids, loaders.SPRITE_COLUMNS)
    shown = "every face" if len(hover_ids) == len(store) else f"{len(hover_ids):,} faces"
    hover = f"Hover a point for its face and classes ({shown}; at most {loaders.HOVER_FACES:,})."
st.caption(
    f"{len(store):,} faces, {store.manifest['embedding']['layer']} embeddings "
    f"({store.manifest['embedding']['dim']} values). {hover} Select points (click, box or "
    "lasso) to see their faces with their maps."
)
if ids and store.methods:
    st.subheader(f"{len(ids)} selected faces; the first 32")
    widgets.gallery(store, ids[:32], store.methods[0], alpha, cmap, key="embeddings_")
