"""Compare models: two models on the same data, side by side, and where they disagree."""

import streamlit as st

from emolens.dashboard import charts, loaders, widgets
from emolens.dashboard.settings import read_settings

st.title("Compare models")
names = loaders.model_names()
first = loaders.default_model_name()
second = next((n for n in names if "vit" in n and n != first), names[-1])
model_a = st.sidebar.selectbox("Model A", names, index=names.index(first), key="compare_a")
model_b = st.sidebar.selectbox("Model B", names, index=names.index(second), key="compare_b")
alpha, cmap = widgets.overlay_controls("compare_")
if model_a == model_b:
    st.info("Pick two different models in the sidebar.")
    st.stop()
if read_settings().store:
    st.info(
        "The dashboard was started with --store, which holds one model's results: Compare "
        "needs a store per model. Start it without --store to build one for each model."
    )
    st.stop()
stores = widgets.stores_or_stop([model_a, model_b])
store_a, store_b = stores[model_a], stores[model_b]
if store_a.manifest["data"]["sha256"] != store_b.manifest["data"]["sha256"]:

    def held(store) -> str:
        """What a store was indexed on: source, split, classes and image shape."""
        data = store.manifest["data"]
        shape = "x".join(str(v) for v in data["image_shape"])
        return f"{data['source']} {data['split']}, {'/'.join(data['classes'])}, {shape} images"

    st.error(
        f"The two models were indexed on different faces ({model_a}: {held(store_a)}; "
        f"{model_b}: {held(store_b)}). Compare two models with the same classes and input "
        "size, e.g. two emo3 models."
    )
    st.stop()

columns = st.columns(2)
for column, (name, store) in zip(columns, stores.items(), strict=True):
    metrics = loaders.store_metrics(str(store.path), loaders.store_stamp(store.path))
    with column:
        st.subheader(name)
        left, right = st.columns(2)
        left.metric("Accuracy", f"{metrics['accuracy']:.1%}")
        right.metric("Macro-F1", f"{metrics['macro_f1']:.3f}")
        st.plotly_chart(
            charts.confusion_chart(metrics["confusion"], store.classes), key=f"cm_{name}"
        )

rows_a, rows_b = store_a.rows, store_b.rows
disagree = loaders.disagreements(rows_a, rows_b, None)
st.subheader(f"They disagree on {len(disagree):,} of {len(rows_a):,} faces")
shows = {"all disagreements": None, f"{model_a} right": "a", f"{model_b} right": "b"}
which = st.radio("Show", list(shows), horizontal=True)
disagree = loaders.disagreements(rows_a, rows_b, shows[which])
ids = disagree["id"].head(16).to_numpy()
for name, store in stores.items():
    if not store.methods:
        st.info(f"The store of {name} holds no maps.")
        continue
    st.markdown(f"**{name}** ({store.methods[0]})")
    widgets.gallery(store, ids, store.methods[0], alpha, cmap, key=f"compare_{name}_")
