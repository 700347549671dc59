"""The other pages, driven headlessly: tiny models on a synthetic store, and the bundled ViT."""

from __future__ import annotations

import base64
import json

import cv2
import numpy as np
import pytest

from emolens import explain, models
from emolens.dashboard import loaders, widgets
from emolens.explain.layer_summary import summary_layers
from emolens.explain.store import open_store
from tests.dashboard.conftest import TINY, TINY2, captions, messages, new_app, page, plotly_specs


def _tiny_store():
    source, split, _ = loaders.data_source()
    return open_store(loaders.store_folder(TINY, source, split))


def _array(value) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array {"dtype": "f4", "bdata": base64}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), value["dtype"])
    return np.asarray(value)


def _on(at, path: str, model_key: str, name: str = TINY):
    at = page(at, path)
    at.selectbox(key=model_key).select(name)
    return at.run()


def test_layers_page_lists_layers_maps_a_channel_and_summarises(app_env):
    at = _on(new_app().run(), "views/layers.py", "layers_model")
    assert not at.exception
    layers = at.dataframe[0].value
    assert list(layers["layer"]) == [layer.name for layer in models.load(TINY).layers]
    assert at.selectbox(key="layer").options == ["conv1", "feat_relu"]
    assert "Grad-CAM at feat_relu" in captions(at)
    at.select_slider(key="steps").set_value(32)
    at.toggle(key="show_channel").set_value(True)
    at.toggle(key="show_summary").set_value(True)
    at.run()
    assert not at.exception
    channel = at.number_input(key="channel").value
    assert f"feat_relu channel {channel}" in captions(at)
    summary = at.dataframe[1].value
    assert list(summary["layer"]) == summary_layers(models.load(TINY))


def test_attention_page_with_the_bundled_vit_and_default_cnn(app_env):
    at = page(new_app().run(), "views/attention.py")
    assert not at.exception
    assert at.selectbox(key="vit").value == "vit_hybrid_emo3_pbn"
    assert at.selectbox(key="cnn").value == models.default_model()
    assert captions(at)[:3] == [
        "model input",
        "attention at block3_attn (mean of heads)",
        "rollout (all layers)",
    ]
    table = at.dataframe[0].value
    assert len(table) == 3  # CNN Grad-CAM, ViT rollout, ViT relevance: three pairs
    assert table["spearman"].between(-1, 1).all() and table["iou"].between(0, 1).all()
    at.selectbox(key="head").select("head 0")
    at.select_slider(key="attention_layer").set_value("block0_attn")
    at.selectbox(key="relevance_class").select("happy")
    at.run()
    assert not at.exception
    assert "attention at block0_attn (head 0)" in captions(at)
    assert "relevance (happy)" in captions(at)


def test_attention_page_on_a_cnn_says_it_has_no_attention(app_env):
    at = page(new_app().run(), "views/attention.py")
    at.selectbox(key="vit").select(TINY).run()
    assert not at.exception
    assert any("has no attention layers" in note for note in messages(at)["info"])


def test_dataset_page_builds_the_store_then_shows_its_numbers(app_env):
    at = _on(new_app().run(), "views/dataset.py", "dataset_model")
    assert not at.exception and not messages(at)["error"]
    store = _tiny_store()
    rows = store.rows
    assert len(rows) == 300  # the synthetic PublicTest faces (no FER2013 in EMOLENS_DATA)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == f"{rows['correct'].mean():.1%}"
    (matrix,) = [spec for spec in plotly_specs(at) if spec["data"][0]["type"] == "heatmap"]
    expected = np.zeros((3, 3), int)
    np.add.at(expected, (rows["label"], rows["prediction"]), 1)
    np.testing.assert_array_equal(matrix["data"][0]["z"], expected)
    mistakes = rows[~rows["correct"]].sort_values("confidence", ascending=False)
    gallery = [c for c in captions(at) if c.startswith("#")]
    assert gallery == [
        f"#{r.id} {r.true_class} → {r.predicted_class} ({r.confidence:.2f})"
        for r in mistakes.head(24).itertuples()
    ]
    means = [c for c in captions(at) if c.endswith("faces)")]
    counts = [(rows["label"] == k).sum() for k in range(len(store.classes))]
    assert means == [f"{c} ({n} faces)" for c, n in zip(store.classes, counts, strict=True)]


def test_dataset_filters_and_sorting(app_env):
    at = _on(new_app().run(), "views/dataset.py", "dataset_model")
    at.multiselect(key="dataset_true").set_value(["happy"])
    at.selectbox(key="dataset_which").select("all")
    at.radio(key="dataset_sort").set_value("loss, highest first")
    at.run()
    assert not at.exception
    rows = _tiny_store().filter(true="happy").sort_values("loss", ascending=False)
    gallery = [c for c in captions(at) if c.startswith("#")]
    assert gallery == [
        f"#{r.id} {r.true_class} → {r.predicted_class} ({r.confidence:.2f})"
        for r in rows.head(24).itertuples()
    ]
    first = rows.iloc[0]
    at.button(key="dataset_go").click().run()  # open the first face on Explain a face
    assert not at.exception
    assert at.subheader[0].value.startswith(f"{models.default_model()}: ")
    # the page explains that face (before, its picker put the sample face back in focus)
    opened = f"synthetic #{first.id}"
    assert at.radio(key="source").value == widgets.FROM_GALLERY
    assert at.session_state[widgets.FOCUS].name == opened and opened in captions(at)
    at = page(at, "views/explain_face.py")  # reruns keep it ...
    assert at.session_state[widgets.FOCUS].name == opened
    at.radio(key="source").set_value("Sample").run()  # ... until the user picks another
    assert at.session_state[widgets.FOCUS].name != opened


def test_right_answers_under_the_mistakes_sort_fall_back_to_confidence(app_env):
    """ "Right" answers (or a diagonal cell) with the default sort, "most confident mistakes",
    showed "0 faces" (that sort keeps mistakes only); now they are sorted by confidence."""
    at = _on(new_app().run(), "views/dataset.py", "dataset_model")
    at.selectbox(key="dataset_which").select("right").run()
    assert not at.exception
    right = _tiny_store().filter(correct=True).sort_values("confidence", ascending=False)
    assert len(right) > 0
    assert any("predicted right" in m and "sorted by confidence" in m for m in messages(at)["info"])
    assert at.subheader[0].value == f"{len(right):,} faces; the first 24"
    gallery = [c.split()[0] for c in captions(at) if c.startswith("#")]
    assert gallery == [f"#{i}" for i in right["id"].head(24)]


def test_embeddings_page_projects_every_stored_face(app_env):
    at = _on(new_app().run(), "views/embeddings.py", "embeddings_model")
    assert not at.exception
    (chart,) = plotly_specs(at)
    points = sum(len(trace["customdata"]) for trace in chart["data"])
    assert points == 300
    store = _tiny_store()
    projection = loaders.store_projection(str(store.path), loaders.store_stamp(store.path))
    for trace in chart["data"]:  # customdata: id first (selection and hover read it)
        ids = [point[0] for point in trace["customdata"]]
        np.testing.assert_allclose(_array(trace["x"]), projection[ids, 0], rtol=1e-6)
        for image_id, true, predicted, confidence in trace["customdata"]:
            row = store.rows.loc[image_id]
            assert (true, predicted) == (row.true_class, row.predicted_class)
            assert confidence == pytest.approx(row.confidence)
    at.radio(key="colour").set_value("right or wrong").run()
    assert not at.exception
    assert {trace["name"] for trace in plotly_specs(at)[0]["data"]} <= {"right", "mistake"}


def test_embeddings_page_sends_every_face_for_the_hover(app_env):
    """The hover component gets a sprite whose tile k is the face of image ids[k]."""
    at = _on(new_app().run(), "views/embeddings.py", "embeddings_model")
    (hover,) = at.get("bidi_component")
    data = json.loads(hover.proto.json)
    assert data["chart"] == "embedding"  # the key of st.plotly_chart
    assert data["ids"] == list(range(300)) and data["columns"] == loaders.SPRITE_COLUMNS
    header, _, encoded = data["sprite"].partition(",")
    assert header == "data:image/jpeg;base64"
    sprite = cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), cv2.IMREAD_UNCHANGED)
    side, columns = loaders.SPRITE_SIDE, loaders.SPRITE_COLUMNS
    assert sprite.shape[:2] == (5 * side, columns * side)  # 300 faces: 5 rows of 64
    store = _tiny_store()
    images = loaders.store_images(str(store.path), loaders.store_stamp(store.path))
    for k in (0, 63, 64, 299):
        row, column = divmod(k, columns)
        tile = sprite[row * side : (row + 1) * side, column * side : (column + 1) * side]
        face = np.rint(images[k, ..., 0] * 255)  # the synthetic faces are 48x48 gray
        assert np.abs(tile.astype(float) - face).mean() < 6  # JPEG quality 80
        other = np.rint(images[k + 1 if k < 299 else 0, ..., 0] * 255)
        assert np.abs(tile.astype(float) - other).mean() > 10
    assert "Hover a point for its face and classes (every face; at most 4,096)" in " ".join(
        c.value for c in at.caption
    )
    _, spread = loaders.store_face_sprite(str(store.path), loaders.store_stamp(store.path), 100)
    assert len(spread) == 100 and spread[0] == 0 and spread[-1] == 299  # the cap: spread out
    assert set(np.diff(spread)) <= {3, 4}  # evenly spread: 299 / 99 apart


def test_compare_page_counts_the_disagreements(app_env):
    at = page(new_app().run(), "views/compare.py")
    at.selectbox(key="compare_a").select(TINY)
    at.selectbox(key="compare_b").select(TINY2)
    at.run()
    assert not at.exception and not messages(at)["error"]
    source, split, _ = loaders.data_source()
    rows_a = open_store(loaders.store_folder(TINY, source, split)).rows
    rows_b = open_store(loaders.store_folder(TINY2, source, split)).rows
    disagree = int((rows_a["predicted_class"] != rows_b["predicted_class"]).sum())
    assert any(s.value == f"They disagree on {disagree:,} of 300 faces" for s in at.subheader)
    at.radio[0].set_value(f"{TINY2} right").run()  # TINY is a prefix of TINY2's name
    assert not at.exception
    b_right = loaders.disagreements(rows_a, rows_b, "b")["id"].head(16)
    shown = [c.split()[0] for c in captions(at) if c.startswith("#")]
    assert shown == [f"#{i}" for i in b_right] * 2


def test_each_model_file_gets_its_own_store_folder(app_env, monkeypatch, tmp_path):
    """Every run folder's checkpoint.keras shows as "checkpoint.keras (yours)": they, a file
    retrained in place, or other --classes must not share one store (before, the second
    silently showed the first one's predictions)."""
    import shutil

    source, split, _ = loaders.data_source()
    first, second = tmp_path / "a" / "checkpoint.keras", tmp_path / "b" / "checkpoint.keras"
    for path, model in ((first, app_env["cnn"]), (second, app_env["dense"])):
        path.parent.mkdir()
        shutil.copy(model, path)

    def folder(model, **env):
        monkeypatch.setenv("EMOLENS_DASHBOARD_MODEL", str(model))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return loaders.store_folder("checkpoint.keras (yours)", source, split)

    folders = [folder(first), folder(second)]
    before = loaders.load_model("checkpoint.keras (yours)")  # second: the env points there
    folder(first)
    loaded = loaders.load_model("checkpoint.keras (yours)")
    shutil.copy(models.zoo._resolve(TINY2), first)  # retrained in place
    folders.append(folder(first))
    # the model is loaded again too, so the new store is not built with the old weights
    retrained = loaders.load_model("checkpoint.keras (yours)")
    assert before is not loaded and retrained is not loaded
    assert len(retrained.weights) == len(loaded.weights)
    assert any(
        not np.array_equal(a.numpy(), b.numpy())
        for a, b in zip(retrained.weights, loaded.weights, strict=True)
    )
    folders.append(folder(first, EMOLENS_DASHBOARD_CLASSES="angry,happy,sad"))
    assert len(set(folders)) == 4
    assert folder(first) == folders[3]  # the same file and options: the same store
    assert folder(second, EMOLENS_DASHBOARD_CLASSES="") == folders[1]
    assert loaders.store_folder(TINY, source, split) == loaders.store_folder(TINY, source, split)


def test_disagreements_keep_the_faces_the_chosen_model_got_right():
    import pandas as pd

    classes = ["angry", "happy", "sad", "happy"]
    rows_a = pd.DataFrame({"id": range(4), "predicted_class": ["angry", "sad", "sad", "happy"]})
    rows_b = pd.DataFrame({"id": range(4), "predicted_class": ["happy", "happy", "sad", "angry"]})
    for rows in (rows_a, rows_b):
        rows["correct"] = rows["predicted_class"] == classes
    assert list(loaders.disagreements(rows_a, rows_b, None)["id"]) == [0, 1, 3]
    assert list(loaders.disagreements(rows_a, rows_b, "a")["id"]) == [0, 3]
    assert list(loaders.disagreements(rows_a, rows_b, "b")["id"]) == [1]
    with pytest.raises(ValueError, match="right must be None, 'a' or 'b'; got 'c'"):
        loaders.disagreements(rows_a, rows_b, "c")


def test_compare_page_with_one_given_store_says_it_needs_one_per_model(app_env, monkeypatch):
    """With --store both models would read the same store ("They disagree on 0 faces")."""
    source, split, _ = loaders.data_source()
    monkeypatch.setenv("EMOLENS_DASHBOARD_STORE", str(loaders.store_folder(TINY, source, split)))
    at = page(new_app().run(), "views/compare.py")
    assert not at.exception and not messages(at)["error"]
    assert any("needs a store per model" in m for m in messages(at)["info"])
    assert not [s for s in at.subheader if s.value.startswith("They disagree")]


def test_a_missing_store_is_reported_and_other_pages_work(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("EMOLENS_DASHBOARD_STORE", str(tmp_path / "no_store"))
    at = page(new_app().run(), "views/dataset.py")
    assert not at.exception
    (error,) = messages(at)["error"]
    assert "--store cannot be opened" in error
    at = page(at, "views/trust.py")
    assert not at.exception


def test_a_store_of_another_model_is_flagged(app_env, monkeypatch):
    store = _tiny_store()  # built by the tests above (or now)
    monkeypatch.setenv("EMOLENS_DASHBOARD_STORE", str(store.path))
    at = _on(new_app().run(), "views/dataset.py", "dataset_model", TINY2)
    assert not at.exception
    (warning,) = messages(at)["warning"]
    assert f"was built with {TINY}, not {TINY2}" in warning


def test_a_store_indexed_from_the_users_file_matches_it(app_env, monkeypatch, capsys):
    """`emolens index --model FILE` then `emolens dashboard --model FILE --store S`: the store's
    model is recognised by its weights (the names differ: the path and "FILE (yours)")."""
    from emolens.cli import main

    store = app_env["cache"] / "indexed_from_file"
    model = str(app_env["cnn"])
    argv = ["index", "--model", model, "--data", "synthetic:24", "--classes", "emo3"]
    assert main([*argv, "--out", str(store), "--shard-size", "8"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("EMOLENS_DASHBOARD_MODEL", model)
    monkeypatch.setenv("EMOLENS_DASHBOARD_STORE", str(store))
    at = page(new_app().run(), "views/dataset.py")
    assert not at.exception
    assert at.selectbox(key="dataset_model").value == f"{TINY}.keras (yours)"
    assert not messages(at)["warning"] and not messages(at)["error"]
    assert len(open_store(store)) == 24
    at.selectbox(key="dataset_model").select(TINY2).run()  # another model's weights
    (warning,) = messages(at)["warning"]
    assert f"was built with {model}, not {TINY2}" in warning


def test_explain_maps_match_the_library(app_env):
    """The Layers page's Grad-CAM is explain.grad_cam of the face in focus (no second copy)."""
    face = loaders.face_input(TINY, *loaders.sample_photo("demo face 1 (angry)"))
    expected = explain.grad_cam(models.load(TINY), face, None, "feat_relu")
    np.testing.assert_allclose(
        loaders.method_maps(TINY, "grad_cam", face, None, "feat_relu"), expected, atol=1e-6
    )
