"""`emolens dashboard` in headless Chromium: the first page renders heatmaps (screenshot kept)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emolens import models
from tests.dashboard.browser import CHROMIUM, HEATMAP_JS, chromium, dashboard, synthetic_env

ARTIFACTS = Path(
    os.environ.get("EMOLENS_TEST_ARTIFACTS", Path(__file__).parents[2] / "build" / "test-artifacts")
)


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (.ci/run installs it: apt-get install -y chromium)",
)
def test_explain_page_renders_heatmaps_in_chromium(tmp_path):
    (tmp_path / "data").mkdir()
    env = synthetic_env(tmp_path / "cache", tmp_path / "data")
    with dashboard(env) as url, chromium() as tab:
        assert url.startswith("http://127.0.0.1:")
        tab.send("Page.navigate", url=url)
        tab.wait_for_text("Report (PDF)")
        text = tab.evaluate("document.body.innerText")
        images = tab.evaluate(HEATMAP_JS)
        shot = tab.screenshot(ARTIFACTS / "dashboard_explain_face.png")
    print(f"screenshot: {shot}")
    assert f"{models.default_model()}: " in text and "grad_cam (" in text
    assert "Grace Hopper" in text
    # the photo and four overlays loaded; the three CAM overlays are colour-mapped heatmaps
    assert images["loaded"] >= 5
    assert images["colourful"] >= 3
    assert shot.stat().st_size > 20_000
