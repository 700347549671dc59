import keras
import numpy as np
import pytest

from emolens.explain import METHODS, attention_map
from emolens.models.architectures.vit import build_vit
from tests.explain.vit._expect import expected_maps
from tests.explain.vit.toy_vit import fixed_attention_vit, random_attention
from tests.toy_models import tiny_cnn

TOKENS = 5


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((2, 4, 4, 1), dtype=np.float32)


@pytest.mark.parametrize("head_fusion", ["mean", "max", "min"])
def test_map_is_the_fused_class_token_row_of_the_chosen_layer(images, head_fusion):
    patterns = [random_attention(heads=3, tokens=TOKENS, seed=s) for s in (1, 2)]
    model = fixed_attention_vit(patterns)
    fuse = {"mean": np.mean, "max": np.max, "min": np.min}[head_fusion]
    for layer, pattern in ((None, patterns[1]), ("attn_probs_0", patterns[0])):
        row = fuse(pattern, axis=0)[0, 1:]
        expected = expected_maps(np.tile(row, (2, 1)), 4)
        maps = attention_map(model, images, layer=layer, head_fusion=head_fusion)
        np.testing.assert_allclose(maps, expected, atol=1e-5)


def test_one_head_is_that_heads_class_token_row(images):
    pattern = random_attention(heads=3, tokens=TOKENS, seed=4)
    model = fixed_attention_vit([pattern])
    for head in range(3):
        expected = expected_maps(np.tile(pattern[head, 0, 1:], (2, 1)), 4)
        np.testing.assert_allclose(attention_map(model, images, head=head), expected, atol=1e-5)
    with pytest.raises(ValueError, match="head=3 is out of range"):
        attention_map(model, images, head=3)


def test_patches_are_row_major(images):
    pattern = np.zeros((1, TOKENS, TOKENS), np.float32)
    pattern[0, :, 0] = 1.0
    pattern[0, 0] = [0.0, 0.0, 1.0, 0.0, 0.0]  # class token looks at patch 1: top right
    maps = attention_map(fixed_attention_vit([pattern]), images)
    assert maps.shape == (2, 4, 4)
    assert maps[0, 0, 3] == pytest.approx(1.0)
    assert maps[0, 3, 0] == pytest.approx(0.0)


@pytest.mark.parametrize("stem", ["patch", "conv"])
def test_zoo_vit_default_layers_and_contract(stem):
    keras.utils.set_random_seed(0)
    model = build_vit((12, 12, 1), 3, patch_size=4, dim=8, depth=2, heads=2, mlp_dim=8, stem=stem)
    images = np.random.default_rng(1).random((3, 12, 12, 1), dtype=np.float32)
    probe = keras.Model(model.inputs[0], model.get_layer("block1_attn").output[1])
    row = probe(images, training=False).numpy().mean(axis=1)[:, 0, 1:]  # (N, 9)
    np.testing.assert_allclose(
        attention_map(model, images, [0, 1, 2]), expected_maps(row, 12), atol=1e-5
    )
    assert METHODS["attention_map"] is attention_map


def test_custom_attention_layer_names(images):
    pattern = random_attention(heads=2, tokens=TOKENS, seed=3)
    model = fixed_attention_vit([pattern, pattern])
    renamed = attention_map(model, images, attention_layers=["attn_probs_0"])
    expected = expected_maps(np.tile(pattern.mean(0)[0, 1:], (2, 1)), 4)
    np.testing.assert_allclose(renamed, expected, atol=1e-5)


def test_cnn_is_refused_with_a_pointer_to_grad_cam():
    model = tiny_cnn((8, 8, 1))
    with pytest.raises(ValueError, match="has none; use grad_cam for CNNs"):
        attention_map(model, np.zeros((1, 8, 8, 1), np.float32))


def test_bad_targets_are_checked_like_every_method(images):
    model = fixed_attention_vit([random_attention(2, TOKENS, 0)])
    with pytest.raises(ValueError, match="out of range"):
        attention_map(model, images, targets=5)
