"""The face under the pointer, for a scatter the page draws with `st.plotly_chart`.

Plotly's hover labels hold text only. This `st.components.v2` component (JavaScript in the
page, no iframe) listens to the chart's `plotly_hover` events and shows the hovered face beside
the pointer, cut from one sprite image of the faces (a JPEG data URI, `charts.face_sprite`).
The chart stays Streamlit's own, so its selection still reruns the page and fills the gallery;
no plotly.js is shipped again. The chart is found by its key: Streamlit gives the element of
`st.plotly_chart(..., key=K)` the class `st-key-K`; plotly's graph div has `js-plotly-plot`.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

_JS = """
function tooltip() {
  const tip = document.createElement("div");
  tip.setAttribute("data-testid", "emolensFaceHover");
  Object.assign(tip.style, {
    position: "fixed", display: "none", zIndex: 100000, pointerEvents: "none",
    border: "2px solid white", borderRadius: "4px", boxShadow: "0 1px 6px rgba(0,0,0,0.45)",
    backgroundRepeat: "no-repeat", backgroundColor: "#808080",
  });
  document.body.appendChild(tip);
  return tip;
}

function hoverState() {
  const state = { tip: tooltip(), charts: new Set(), data: null, slots: new Map() };
  state.show = (event) => {
    const data = state.data, point = event && event.points && event.points[0];
    const id = point && point.customdata ? Number(point.customdata[0]) : NaN;
    const slot = state.slots.get(id);
    if (slot === undefined) { state.tip.style.display = "none"; return; }
    const size = data.show, column = slot % data.columns, row = Math.floor(slot / data.columns);
    state.tip.style.backgroundPosition = `${-column * size}px ${-row * size}px`;
    const mouse = event.event || {};
    const x = (mouse.clientX || 0) + 18, y = (mouse.clientY || 0) + 18;
    state.tip.style.left = `${Math.max(0, Math.min(x, window.innerWidth - size - 12))}px`;
    state.tip.style.top = `${Math.max(0, Math.min(y, window.innerHeight - size - 12))}px`;
    state.tip.style.display = "block";
  };
  state.hide = () => { state.tip.style.display = "none"; };
  state.hook = () => {  // the chart's div is new after Streamlit remounts it
    if (!state.data) return;
    const selector = `.st-key-${state.data.chart} .js-plotly-plot`;
    for (const chart of document.querySelectorAll(selector)) {
      if (!state.charts.has(chart) && typeof chart.on === "function") {
        chart.on("plotly_hover", state.show);
        chart.on("plotly_unhover", state.hide);
        state.charts.add(chart);
      }
    }
    for (const chart of [...state.charts]) if (!chart.isConnected) state.charts.delete(chart);
  };
  state.timer = setInterval(state.hook, 300);
  state.cleanup = () => {
    clearInterval(state.timer);
    for (const chart of state.charts) {
      chart.removeListener("plotly_hover", state.show);
      chart.removeListener("plotly_unhover", state.hide);
    }
    state.tip.remove();
  };
  return state;
}

export default function ({ parentElement, data }) {
  const host = parentElement.host || parentElement;  // called again on every new `data`
  const state = host.__emolensFaceHover || (host.__emolensFaceHover = hoverState());
  if (!state.data || state.data.sprite !== data.sprite) {
    state.tip.style.backgroundImage = `url("${data.sprite}")`;
  }
  state.data = data;
  state.slots = new Map(data.ids.map((id, slot) => [id, slot]));
  Object.assign(state.tip.style, {
    width: `${data.show}px`, height: `${data.show}px`,
    backgroundSize: `${data.columns * data.show}px auto`,
  });
  state.hook();
  return state.cleanup;
}
"""

_face_hover = st.components.v2.component("emolens_face_hover", js=_JS)


def face_hover(
    chart_key: str, sprite: str, ids: Sequence[int], columns: int, show: int = 96
) -> None:
    """Show face `ids[k]` (sprite tile k) when the pointer is over its point of the chart.

    Args:
        chart_key: the `key` the page gave `st.plotly_chart`; its points carry the image id
            as `customdata[0]`.
        sprite: data URI of the faces, tiled row by row, `columns` tiles a row.
        ids: image id of each tile, in tile order; points of other ids show no face.
        columns: tiles per row of the sprite.
        show: side in CSS pixels the face is shown at.
    """
    _face_hover(
        key=f"{chart_key}_face_hover",
        data={
            "chart": chart_key,
            "sprite": sprite,
            "ids": [int(i) for i in ids],
            "columns": int(columns),
            "show": int(show),
        },
    )
