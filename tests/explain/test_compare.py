import keras
import numpy as np
import pytest

from emolens import explain
from emolens.explain.compare import compare, plot_comparison, spearman, top_iou, top_mask
from emolens.models.architectures.vit import build_vit
from tests.toy_models import tiny_cnn


def image_map(model, images, targets=None, layer=None, **options):
    return images[..., 0] / images[..., 0].max(axis=(1, 2), keepdims=True)


def inverted_map(model, images, targets=None, layer=None, **options):
    return 1.0 - image_map(model, images)


@pytest.fixture
def fake_methods(monkeypatch):
    monkeypatch.setitem(explain.METHODS, "image_map", image_map)
    monkeypatch.setitem(explain.METHODS, "inverted_map", inverted_map)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)


def test_metrics_known_answers():
    a = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert spearman(a, a) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(a, a**3) == pytest.approx(1.0)  # ranks, not values
    assert np.isnan(spearman(a, np.zeros_like(a)))
    assert top_iou(a, a, 0.25) == 1.0 and top_iou(a, -a, 0.25) == 0.0
    assert top_mask(a, 0.25).sum() == 4 and top_mask(a, 0.25)[3].all()
    disjoint = np.zeros((4, 4))
    disjoint[0] = 1.0
    assert top_iou(a, disjoint, 0.25) == 0.0
    half = np.zeros((4, 4))
    half[3, :2] = 1.0
    half[0, :2] = 0.5  # top 4 of `half`: row 3 left half + row 0 left half
    assert top_iou(a, half, 0.25) == pytest.approx(2 / 6)


def test_compare_map_with_itself_and_its_inverse(fake_methods, images):
    model = tiny_cnn((8, 8, 1))
    result = compare(
        {"cnn": model}, images, ["image_map", "image_map", "inverted_map"], top_fraction=0.2
    )
    assert list(result.maps) == ["cnn/image_map", "cnn/inverted_map"]  # repeats run once
    row = result.table.iloc[0]
    assert (row.a, row.b) == ("cnn/image_map", "cnn/inverted_map")
    assert row.spearman == pytest.approx(-1.0) and row.iou == 0.0
    same = compare({"a": model, "b": model}, images, "image_map")
    assert same.table.spearman.item() == pytest.approx(1.0) and same.table.iou.item() == 1.0


def test_cnn_against_vit_with_per_model_methods(images):
    keras.utils.set_random_seed(0)
    cnn = tiny_cnn((8, 8, 1))
    vit = build_vit((8, 8, 1), 3, patch_size=4, dim=8, depth=2, heads=2, mlp_dim=8)
    result = compare(
        {"cnn": cnn, "vit": vit},
        images,
        {"cnn": "grad_cam", "vit": ["attention_rollout", "attention_map"]},
        targets=1,
    )
    assert list(result.maps) == ["cnn/grad_cam", "vit/attention_rollout", "vit/attention_map"]
    assert len(result.table) == 3
    assert result.table.iou.between(0, 1).all()
    assert result.table.spearman.dropna().between(-1, 1).all()
    figure = plot_comparison(result, max_images=2)
    assert len(figure.axes) == 2 * 4 + 2  # faces + maps, the matrix and its colorbar


def test_bad_arguments(fake_methods, images):
    model = tiny_cnn((8, 8, 1))
    with pytest.raises(ValueError, match="Unknown method 'nope'"):
        compare({"m": model}, images, ["nope"])
    with pytest.raises(ValueError, match="not among the models"):
        compare({"m": model}, images, {"other": "image_map"})
    with pytest.raises(ValueError, match="top_fraction"):
        compare({"m": model}, images, ["image_map"], top_fraction=0.0)
    with pytest.raises(ValueError, match=r"at least two maps.*give 1\. Pass two models"):
        compare({"m": model}, images, ["image_map"])  # before: an empty table, no error
    with pytest.raises(ValueError, match=r"give 0"):
        compare({"m": model}, images, [])
