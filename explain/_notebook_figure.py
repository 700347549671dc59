"""`NotebookFigure`: the matplotlib Figure that emolens's plots return, shown inline in Jupyter."""

from __future__ import annotations

import io

from matplotlib.figure import Figure


class NotebookFigure(Figure):
    """A matplotlib `Figure` (not attached to pyplot) that Jupyter displays as a PNG.

    A bare `Figure` shows as the text "<Figure size ... with N Axes>" in a notebook unless
    `%matplotlib inline` ran first; `_repr_png_` draws it whatever the backend. Everything
    else (savefig, axes, Streamlit's st.pyplot) is the plain Figure's.
    """

    def _repr_png_(self) -> bytes:
        """PNG bytes of the figure at its dpi, cropped to its content, for IPython's display."""
        with io.BytesIO() as buffer:
            self.savefig(buffer, format="png", bbox_inches="tight")
            return buffer.getvalue()
