"""Keep Keras' state between reruns: Streamlit resets it after every script run.

Streamlit's script runner calls `keras.backend.clear_session()` after each run (for apps that
build models in the script). That runs a full `gc.collect()` and clears TensorFlow's kernel
cache: about 1.6 s per rerun on a 2-core CPU with the bundled models loaded, and every later
TensorFlow call warms up again. The dashboard builds no model in its scripts (models are
shared `cache_resource` objects), so the reset is skipped; matplotlib figures are still closed.
"""

from __future__ import annotations

import sys


def _close_matplotlib_only() -> None:
    """What Streamlit's `_clean_problem_modules` does, minus the Keras reset."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def keep_keras_session() -> None:
    """Replace Streamlit's per-run module cleanup by `_close_matplotlib_only` (idempotent)."""
    from streamlit.runtime.scriptrunner import script_runner

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = _close_matplotlib_only
