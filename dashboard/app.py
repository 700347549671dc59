"""emolens dashboard: the page navigation (start it with `emolens dashboard`)."""

import streamlit as st

from emolens.dashboard._runtime import keep_keras_session

keep_keras_session()
st.set_page_config(page_title="emolens", page_icon=":mag:", layout="wide")
st.navigation(
    {
        "Explain": [
            st.Page("pages/explain_face.py", title="Explain a face", default=True),
            st.Page("pages/layers.py", title="Layers"),
            st.Page("pages/attention.py", title="Attention (ViT)"),
        ],
        "Dataset": [
            st.Page("pages/dataset.py", title="Dataset and mistakes"),
            st.Page("pages/embeddings.py", title="Embeddings"),
            st.Page("pages/compare.py", title="Compare models"),
        ],
        "Trust": [st.Page("pages/trust.py", title="Explanation metrics")],
    }
).run()
