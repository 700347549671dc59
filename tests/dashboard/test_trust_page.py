"""The Trust page: the map in focus with its scores, sanity curve, benchmark and shortcut pair."""

from __future__ import annotations

import numpy as np

from emolens import explain, models
from emolens.dashboard import loaders, widgets
from emolens.explain.metrics import METRICS
from emolens.explain.metrics.groundtruth_benchmark import ground_truth_benchmark
from tests.dashboard.conftest import TINY, captions, messages, new_app, page


def test_trust_page_scores_the_face_in_focus_and_runs_the_benchmark(app_env):
    at = page(new_app().run(), "views/trust.py")
    assert not at.exception
    assert list(at.dataframe[0].value["metric"]) == list(METRICS)
    at.selectbox(key="trust_model").select(TINY)
    at.run()
    assert not at.exception and not messages(at)["error"]

    # the shown scores are the library's, on the face in focus through the same crop
    face = at.session_state[widgets.FOCUS]
    name = face.name
    images = loaders.face_input(TINY, face.photo, face.detect)
    model = models.load(TINY)
    maps = explain.grad_cam(model, images)
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    noise = np.random.default_rng(0).random((8, *maps.shape[1:]), dtype=np.float32)
    copies = np.repeat(images, 8, axis=0)
    for label, auc in (
        ("deletion AUC (lower = better)", explain.metrics.deletion_auc),
        ("insertion AUC (higher = better)", explain.metrics.insertion_auc),
    ):
        value, chance = auc(model, images, maps)[0], auc(model, copies, noise).mean()
        assert shown[label] == (f"{value:.3f}", f"{value - chance:+.3f} vs random maps")
    assert f"grad_cam on {name}" in captions(at)

    # ground-truth benchmark: the table equals the library's on the same faces and methods
    table = at.dataframe[1].value
    assert list(table["method"]) == ["grad_cam", "saliency"]
    chosen = {m: explain.METHODS[m] for m in ("grad_cam", "saliency")}
    rows, summary = ground_truth_benchmark(
        models.load("mouth_emo3"), models.load("shortcut_emo3"), 12, methods=chosen, steps=8
    )
    np.testing.assert_allclose(table["part_mass"], [r["part_mass"] for r in rows], atol=1e-6)
    # the chance levels are stated as areas, not listed among the accuracies
    chance = f"A random map puts {summary['part_area']:.1%} of its mass on the mouth region"
    assert any(chance in caption.value for caption in at.caption)
    accuracies = at.dataframe[2].value["accuracy"]
    assert set(accuracies.index) == {
        f"{m}_model_on_{d}" for m in ("clean", "shortcut") for d in ("clean", "marked")
    }
    assert (table["mark_mass_shortcut"] > table["mark_mass_clean"]).all()
    assert captions(at).count("shortcut_emo3 grad_cam") == 4

    at.toggle(key="trust_sanity").set_value(True)
    at.run()
    assert not at.exception
    assert len(at.get("arrow_vega_lite_chart")) + len(at.get("vega_lite_chart")) >= 1
