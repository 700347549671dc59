"""Explain a face: the photo and its face box, each model's probabilities, heatmaps, downloads."""

import streamlit as st

from emolens import explain
from emolens.dashboard import charts, loaders, widgets
from emolens.explain.report import render_html, render_pdf

DEFAULT_METHODS = ["grad_cam", "grad_cam_pp", "layer_cam", "saliency"]
MODEL_ERRORS = widgets.MODEL_ERRORS

st.title("Explain a face")
names = widgets.model_picker()
alpha, cmap = widgets.overlay_controls()
if not names:
    st.warning("Pick at least one model in the sidebar.")
    st.stop()

photo_column, choice_column = st.columns([1, 2])
with photo_column:
    face = widgets.face_source()
if face is None:
    st.stop()

infos = {}
for name in names:
    try:
        infos[name] = loaders.model_info(name)
    except MODEL_ERRORS as error:
        st.error(f"Model {name!r} could not be loaded: {error}")
if not infos:
    st.stop()
first = next(iter(infos))
classes = list(dict.fromkeys(c for info in infos.values() for c in info["classes"]))
with choice_column:
    methods = st.multiselect("Methods", list(explain.METHODS), default=DEFAULT_METHODS)
    left, middle, right = st.columns(3)
    target = left.selectbox("Class to explain", ["predicted", *classes])
    layer = middle.selectbox(f"Layer ({first})", ["default", *infos[first]["cam_layers"]])
    detect = not right.checkbox("No face detection", value=not face.detect, key="no_detect")
if not methods:
    st.info("Pick at least one method.")
    st.stop()

results = {}
with st.spinner("Explaining ..."):
    for name in infos:
        chosen_layer = layer if name == first and layer != "default" else None
        wanted = "auto" if target == "predicted" else target
        try:
            results[name] = loaders.explain_face(
                name, face.photo, tuple(methods), chosen_layer, wanted, detect
            )
        except MODEL_ERRORS as error:
            st.error(f"{name}: {error}")

explained = {name: result for name, result in results.items() if result.faces}
for name, result in results.items():
    for problem in result.errors:
        st.warning(
            f"{name}: {problem.reason}. Tick *No face detection* to explain the whole photo."
        )
with photo_column:
    boxes = [next(iter(explained.values())).faces[0].box] if explained and detect else []
    st.image(charts.photo_with_boxes(face.photo, boxes), caption=face.name, width="stretch")
if not explained:
    st.stop()

with choice_column:
    st.plotly_chart(
        charts.probability_chart(
            {name: (r.classes, r.faces[0].probs) for name, r in explained.items()}
        ),
        key="probs",
    )

for name, result in explained.items():
    face_result = result.faces[0]
    top = face_result.predicted
    st.subheader(f"{name}: {result.classes[top]} ({face_result.probs[top]:.0%})")
    st.caption(
        f"Explaining class **{result.classes[face_result.target]}**; time "
        + ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in result.timing_ms.items())
    )
    for column, method in zip(st.columns(len(methods)), methods, strict=True):
        with column:
            if method in face_result.errors:
                st.info(f"**{method}** cannot explain this model: {face_result.errors[method]}")
                continue
            picture = loaders.overlay_image(face_result.crop, face_result.maps[method], alpha, cmap)
            layer_name = face_result.layers.get(method) or "input"
            st.image(picture, caption=f"{method} ({layer_name})", width="stretch")
            st.download_button(
                "Overlay PNG",
                charts.png_bytes(picture),
                file_name=f"{face_result.face_id}_{name}_{method}.png",
                mime="image/png",
                key=f"png_{name}_{method}",
            )
    left, right = st.columns(2)
    left.download_button(
        "Report (HTML)",
        lambda result=result: render_html(result, title=f"emolens: {face.name}"),
        file_name=f"emolens_{name}.html",
        mime="text/html",
        key=f"html_{name}",
    )
    right.download_button(
        "Report (PDF)",
        lambda result=result: render_pdf(result),
        file_name=f"emolens_{name}.pdf",
        mime="application/pdf",
        key=f"pdf_{name}",
    )
