"""Layers: layer list, a layer's top feature maps and CAM, a channel's visualisation, summary."""

import streamlit as st

from emolens import explain
from emolens.dashboard import charts, loaders, widgets

st.title("Layers")
name = widgets.model_picker("Model", key="layers_model", multi=False)[0]
alpha, cmap = widgets.overlay_controls("layers_")
info = widgets.model_info_or_stop(name)
images = widgets.focused_face_input(name)

table = loaders.layer_table(name)
with st.expander(f"{name}: {len(table)} layers, {info['params']:,} parameters"):
    st.dataframe(table, hide_index=True, width="stretch")
choices = info["conv_blocks"] or info["cam_layers"]
if not choices:
    st.info(f"{name} has no layer with a spatial (N, h, w, K) output: no feature maps to show.")
    st.stop()
left, right = st.columns([1, 3])
layer = left.selectbox("Layer", choices, index=len(choices) - 1, key="layer")
k = left.slider("Feature maps shown", 4, 32, 16, 4, key="top_k")
acts = loaders.layer_activations(name, images, layer)
with left:
    st.image(charts.to_rgb_uint8(images[0], 192), caption="model input", width=192)
    if layer in info["cam_layers"]:
        maps = loaders.method_maps(name, "grad_cam", images, None, layer)
        picture = loaders.overlay_image(charts.to_rgb_uint8(images[0], 192), maps[0], alpha, cmap)
        st.image(picture, caption=f"Grad-CAM at {layer}", width=192)
with right:
    if acts.ndim == 4:
        st.pyplot(explain.plot_feature_maps(acts, k=k, columns=8), clear_figure=True)
        st.caption(f"Top {k} of {acts.shape[-1]} channels of {layer}, by mean activation.")
    else:
        st.info(f"{layer} outputs {acts.shape[1:]}, not a (h, w, K) grid: no maps to draw.")

st.subheader("What a channel looks for")
channels = acts.shape[-1]
strongest = int(explain.top_channels(acts.reshape(1, -1, channels), 1)[0, 0])
left, right = st.columns([1, 3])
channel = left.number_input("Channel", 0, channels - 1, strongest, key="channel")
steps = left.select_slider("Ascent steps", [32, 64, 128, 256], 64, key="steps")
if left.toggle("Visualise the channel (activation maximisation)", key="show_channel"):
    picture = loaders.channel_image(name, layer, int(channel), int(steps))
    right.image(charts.to_rgb_uint8(picture, 192), caption=f"{layer} channel {channel}", width=192)

st.subheader("Layer summary over the data")
source, split, description = loaders.data_source()
if st.toggle(f"Summarise every layer on 256 faces of {description}", key="show_summary"):
    try:
        summary = loaders.layer_summary_table(name)
    except ValueError as error:
        st.warning(f"No summary for {name}: {error}")
    else:
        st.dataframe(summary, hide_index=True, width="stretch")
        st.caption(
            "dead_fraction: channels that are 0 on every face; mean_<class>: mean activation "
            "over that class's faces; selectivity: how much one class drives the layer."
        )
