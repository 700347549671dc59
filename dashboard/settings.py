"""What `emolens dashboard` passes to the app: environment variables, read once per run.

The command sets them before starting Streamlit (`streamlit run` owns the command line), so
the app and its tests read the same place:

    EMOLENS_DASHBOARD_MODEL        a user's .keras/.h5 file shown beside the bundled models
    EMOLENS_DASHBOARD_CLASSES      its class names ("fer7", "emo3" or "a,b,c")
    EMOLENS_DASHBOARD_INPUT_RANGE  its pixel range ("0,1", "-1,1", "0,255")
    EMOLENS_DASHBOARD_UNSAFE_LOAD  "1": load it with safe_mode=False (--unsafe-load)
    EMOLENS_DATA                   the data folder holding fer2013/ (as everywhere in emolens)
    EMOLENS_DASHBOARD_STORE        a results store written by `emolens index`
    EMOLENS_DASHBOARD_CACHE        where the dashboard builds its own stores
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_UPLOAD_MB = 20
"""Largest upload in MiB (also passed to Streamlit as server.maxUploadSize)."""
MAX_PIXELS = 40_000_000
"""Largest photo decoded, in pixels (40 MP); larger ones are refused with a message."""


@dataclass(frozen=True)
class Settings:
    """The dashboard's options (see the module docstring for their variables)."""

    model: str | None
    classes: str | None
    input_range: str
    data: str | None
    store: str | None
    cache: Path
    unsafe_load: bool = False

    @property
    def user_model_label(self) -> str | None:
        """How the user's model is listed beside the bundled ones ("file.keras (yours)")."""
        return f"{Path(self.model).name} (yours)" if self.model else None


def read_settings() -> Settings:
    """The current options, from the environment."""
    env = os.environ
    cache = env.get("EMOLENS_DASHBOARD_CACHE") or Path.home() / ".cache" / "emolens" / "dashboard"
    return Settings(
        model=env.get("EMOLENS_DASHBOARD_MODEL") or None,
        classes=env.get("EMOLENS_DASHBOARD_CLASSES") or None,
        input_range=env.get("EMOLENS_DASHBOARD_INPUT_RANGE") or "0,1",
        data=env.get("EMOLENS_DATA") or None,
        store=env.get("EMOLENS_DASHBOARD_STORE") or None,
        cache=Path(cache).expanduser(),
        unsafe_load=env.get("EMOLENS_DASHBOARD_UNSAFE_LOAD") == "1",
    )
