"""Explanation metrics: a place for the faithfulness and sanity-check pages (metrics work)."""

import streamlit as st

from emolens.explain.metrics import METRICS

st.title("Explanation metrics")
st.info(
    "Pages that score the heatmaps (how faithful and how robust each method is on the face in "
    "focus and over the store) come with the explanation-metrics work. The library already "
    "has them: `from emolens.explain.metrics import METRICS`."
)
st.dataframe(
    {"metric": list(METRICS), "what": [(f.__doc__ or "").split("\n")[0] for f in METRICS.values()]},
    hide_index=True,
    width="stretch",
)
