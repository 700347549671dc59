"""Attention (ViT): raw attention per layer and head, rollout, relevance, CNN vs ViT agreement."""

import numpy as np
import streamlit as st

from emolens.dashboard import charts, loaders, widgets

VIT_DEFAULT = "vit_hybrid_emo3_pbn"

st.title("Attention (ViT)")
names = loaders.model_names()
vits = sorted(names, key=lambda name: "vit" not in name.lower())  # ViTs first
vit = st.sidebar.selectbox(
    "ViT", vits, index=vits.index(VIT_DEFAULT) if VIT_DEFAULT in vits else 0, key="vit"
)
cnns = [n for n in names if n != vit]
default_cnn = loaders.default_model_name()
cnn = st.sidebar.selectbox(
    "CNN to compare with",
    cnns,
    index=cnns.index(default_cnn) if default_cnn in cnns else 0,
    key="cnn",
)
alpha, cmap = widgets.overlay_controls("attention_")
info = widgets.model_info_or_stop(vit)
if not info["attention_layers"]:
    st.info(f"{vit} has no attention layers; pick a ViT such as {VIT_DEFAULT}.")
    st.stop()
images = widgets.focused_face_input(vit)
display = charts.to_rgb_uint8(images[0], 192)
classes = info["classes"]

layers = info["attention_layers"]
left, middle, right = st.columns(3)
layer = left.select_slider("Attention layer", layers, layers[-1], key="attention_layer")
heads = ["mean of heads", "max of heads", *[f"head {h}" for h in range(info["attention_heads"])]]
head = middle.selectbox("Heads", heads, key="head")
discard = right.slider("Rollout: share of weakest links dropped", 0.0, 0.95, 0.9, 0.05)
target = st.selectbox("Relevance for class", ["predicted", *classes], key="relevance_class")
target_index = None if target == "predicted" else classes.index(target)
options = (
    (("head", int(head.split()[1])),)
    if head.startswith("head")
    else (("head_fusion", head.split()[0]),)
)
maps = {
    f"attention at {layer} ({head})": loaders.method_maps(
        vit, "attention_map", images, None, layer, options
    ),
    "rollout (all layers)": loaders.method_maps(
        vit, "attention_rollout", images, None, None, (("discard_ratio", float(discard)),)
    ),
    f"relevance ({target})": loaders.method_maps(vit, "attention_relevance", images, target_index),
}
columns = st.columns(len(maps) + 1)
columns[0].image(display, caption="model input", width="stretch")
for column, (title, heatmaps) in zip(columns[1:], maps.items(), strict=True):
    column.image(
        loaders.overlay_image(display, heatmaps[0], alpha, cmap), caption=title, width="stretch"
    )

st.subheader(f"{cnn} (Grad-CAM) vs {vit} (rollout, relevance)")
cnn_info = widgets.model_info_or_stop(cnn)
if cnn_info["input_shape"] != info["input_shape"]:
    st.info(
        f"{cnn} takes {cnn_info['input_shape']} inputs and {vit} {info['input_shape']}: pick "
        "another CNN."
    )
    st.stop()
if not cnn_info["cam_layers"]:
    st.info(f"{cnn} has no layer with a spatial output for Grad-CAM: pick another CNN.")
    st.stop()
comparison = loaders.compare_cnn_vit(cnn, vit, images)
columns = st.columns(len(comparison.maps))
for column, (title, heatmaps) in zip(columns, comparison.maps.items(), strict=True):
    column.image(
        loaders.overlay_image(display, heatmaps[0], alpha, cmap), caption=title, width="stretch"
    )
table = comparison.table
st.dataframe(table, hide_index=True, width="stretch")
st.caption(
    f"spearman: rank correlation of two maps (1: same order of pixels); iou: overlap of their "
    f"top {comparison.top_fraction:.0%} pixels. Mean Spearman over pairs: "
    f"{np.nanmean(table['spearman']):.2f}."
)
