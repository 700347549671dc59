"""emolens dashboard: the page navigation (start it with `emolens dashboard`)."""

import streamlit as st

from emolens.dashboard._runtime import keep_keras_session

keep_keras_session()
st.set_page_config(page_title="emolens", page_icon=":mag:", layout="wide")
st.navigation(
    {
        "Explain": [
            st.Page("views/explain_face.py", title="Explain a face", default=True),
            st.Page("views/layers.py", title="Layers"),
            st.Page("views/attention.py", title="Attention (ViT)"),
        ],
        "Dataset": [
            st.Page("views/dataset.py", title="Dataset and mistakes"),
            st.Page("views/embeddings.py", title="Embeddings"),
            st.Page("views/compare.py", title="Compare models"),
        ],
        "Trust": [st.Page("views/trust.py", title="Explanation metrics")],
    }
).run()
