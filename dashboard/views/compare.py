"""Compare models: two models on the same data, side by side, and where they disagree."""

import streamlit as st

from emolens.dashboard import charts, loaders, widgets

st.title("Compare models")
names = loaders.model_names()
first = loaders.default_model_name()
second = next((n for n in names if "vit" in n and n != first), names[-1])
model_a = st.sidebar.selectbox("Model A", names, index=names.index(first), key="compare_a")
model_b = st.sidebar.selectbox("Model B", names, index=names.index(second), key="compare_b")
alpha, cmap = widgets.overlay_controls("compare_")
stores = widgets.stores_or_stop([model_a, model_b])
if len(stores) < 2:
    st.info("Pick two different models in the sidebar.")
    st.stop()
store_a, store_b = stores[model_a], stores[model_b]
if store_a.manifest["data"]["sha256"] != store_b.manifest["data"]["sha256"]:
    st.error(
        f"The two stores hold different data ({store_a.manifest['data']['source']} vs "
        f"{store_b.manifest['data']['source']}): compare models indexed on the same data."
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
disagree = rows_a[rows_a["predicted_class"] != rows_b["predicted_class"]]
st.subheader(f"They disagree on {len(disagree):,} of {len(rows_a):,} faces")
which = st.radio(
    "Show", ["all disagreements", f"{model_a} right", f"{model_b} right"], horizontal=True
)
if which != "all disagreements":
    winner = rows_a if which.startswith(model_a) else rows_b
    disagree = disagree[winner.loc[disagree.index, "correct"].to_numpy()]
ids = disagree["id"].head(16).to_numpy()
for name, store in stores.items():
    if not store.methods:
        st.info(f"The store of {name} holds no maps.")
        continue
    st.markdown(f"**{name}** ({store.methods[0]})")
    widgets.gallery(store, ids, store.methods[0], alpha, cmap, key=f"compare_{name}_")
