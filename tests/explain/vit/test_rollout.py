import keras
import numpy as np
import pytest

from emolens.explain import METHODS, attention_rollout
from emolens.explain._layers import spatial_layers
from emolens.models.architectures.vit import build_vit
from tests.explain.vit._expect import expected_maps
from tests.explain.vit.toy_vit import fixed_attention_vit, random_attention, reference_rollout

TOKENS = 5  # class token + 2x2 patches of a 4x4 image


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 4, 4, 1), dtype=np.float32)


def test_uniform_attention_rolls_out_to_a_uniform_map(images):
    model = fixed_attention_vit([np.full((2, TOKENS, TOKENS), 1 / TOKENS, np.float32)] * 3)
    maps = attention_rollout(model, images, discard_ratio=0.0)
    np.testing.assert_allclose(maps, 1.0, atol=1e-6)


def test_identity_attention_gives_no_patch_evidence(images):
    model = fixed_attention_vit([np.stack([np.eye(TOKENS, dtype=np.float32)] * 2)] * 2)
    np.testing.assert_array_equal(attention_rollout(model, images, discard_ratio=0.0), 0.0)


def test_one_layer_is_its_fused_attention_plus_identity_normalised(images):
    pattern = random_attention(heads=3, tokens=TOKENS, seed=1)
    model = fixed_attention_vit([pattern])
    mixed = pattern.mean(axis=0) + np.eye(TOKENS)
    row = (mixed / mixed.sum(axis=1, keepdims=True))[0, 1:]
    expected = expected_maps(np.tile(row, (len(images), 1)), 4)
    maps = attention_rollout(model, images, discard_ratio=0.0)
    np.testing.assert_allclose(maps, expected, atol=1e-5)


@pytest.mark.parametrize("head_fusion", ["mean", "max", "min"])
@pytest.mark.parametrize("discard_ratio", [0.0, 0.5])
def test_three_layers_match_the_slow_reference(images, head_fusion, discard_ratio):
    patterns = [random_attention(heads=2, tokens=TOKENS, seed=s) for s in (2, 3, 4)]
    model = fixed_attention_vit(patterns)
    row = reference_rollout(patterns, head_fusion, discard_ratio)
    expected = expected_maps(np.tile(row, (len(images), 1)), 4)
    maps = attention_rollout(model, images, head_fusion=head_fusion, discard_ratio=discard_ratio)
    np.testing.assert_allclose(maps, expected, atol=1e-5)


def test_layer_stops_the_rollout_early(images):
    patterns = [random_attention(heads=2, tokens=TOKENS, seed=s) for s in (5, 6, 7)]
    model = fixed_attention_vit(patterns)
    expected = expected_maps(np.tile(reference_rollout(patterns[:2]), (3, 1)), 4)
    for layer in ("attn_probs_1", 1, -2):
        maps = attention_rollout(model, images, layer=layer, discard_ratio=0.0)
        np.testing.assert_allclose(maps, expected, atol=1e-5)


@pytest.fixture(scope="module")
def zoo_vit():
    keras.utils.set_random_seed(0)
    return build_vit((16, 16, 1), 3, patch_size=4, dim=16, depth=2, heads=2, mlp_dim=16)


def test_zoo_vit_rollout_matches_reference_on_its_attention_scores(zoo_vit):
    images = np.random.default_rng(1).random((4, 16, 16, 1), dtype=np.float32)
    probe = keras.Model(
        zoo_vit.inputs[0], [zoo_vit.get_layer(f"block{i}_attn").output[1] for i in range(2)]
    )
    scores = [a.numpy() for a in probe(images, training=False)]  # (N, heads, T, T) each
    rows = [reference_rollout([s[n] for s in scores], discard_ratio=0.9) for n in range(4)]
    maps = attention_rollout(zoo_vit, images)
    np.testing.assert_allclose(maps, expected_maps(np.stack(rows), 16), atol=1e-5)


def test_batched_equals_one_by_one(zoo_vit):
    images = np.random.default_rng(2).random((5, 16, 16, 1), dtype=np.float32)
    batched = attention_rollout(zoo_vit, images, batch_size=4)
    single = np.concatenate([attention_rollout(zoo_vit, images[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_registered_and_cams_do_not_pick_attention_layers(zoo_vit):
    assert METHODS["attention_rollout"] is attention_rollout
    assert spatial_layers(zoo_vit) == ["patch_embed"]


def test_bad_options_are_rejected(zoo_vit):
    images = np.zeros((1, 16, 16, 1), np.float32)
    with pytest.raises(ValueError, match="discard_ratio"):
        attention_rollout(zoo_vit, images, discard_ratio=1.0)
    with pytest.raises(ValueError, match="head_fusion"):
        attention_rollout(zoo_vit, images, head_fusion="median")
    with pytest.raises(ValueError, match="not an attention layer"):
        attention_rollout(zoo_vit, images, layer="patch_embed")
