"""`emolens dashboard` in headless Chromium: the first page renders heatmaps (screenshot kept)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from emolens import models
from tests.dashboard.browser import (
    CHROMIUM,
    FACE_TIP_JS,
    HEATMAP_JS,
    chromium,
    dashboard,
    synthetic_env,
)

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


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (.ci/run installs it: apt-get install -y chromium)",
)
def test_embeddings_page_shows_the_hovered_face_in_chromium(tmp_path):
    (tmp_path / "data").mkdir()
    env = synthetic_env(tmp_path / "cache", tmp_path / "data")
    with dashboard(env) as url, chromium() as tab:
        tab.send("Page.navigate", url=f"{url}/embeddings")
        tab.wait_for_text("Select points", timeout=600)  # first visit: builds the store
        shown = []
        for trace, index in ((0, 0), (1, 2), (0, 7)):
            image_id = tab.hover_point("embedding", trace, index)
            shown.append((image_id, tab.evaluate(FACE_TIP_JS)))
        tab.send("Input.dispatchMouseEvent", type="mouseMoved", x=5, y=5)  # off the chart
        time.sleep(1.0)
        left = tab.evaluate(FACE_TIP_JS)
        shot = tab.screenshot(ARTIFACTS / "dashboard_embeddings_hover.png")
    print(f"screenshot: {shot}")
    for image_id, tip in shown:
        # 96 px tiles, 64 a row (loaders.SPRITE_COLUMNS): tile k at (-96 (k % 64), -96 (k // 64))
        row, column = divmod(image_id, 64)
        assert tip["display"] == "block" and tip["sprite"] and tip["count"] == 1
        assert tip["position"] == f"{-96 * column}px {-96 * row}px"
    assert len({image_id for image_id, _ in shown}) == 3
    assert left["display"] == "none" and left["count"] == 1
