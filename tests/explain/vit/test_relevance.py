import keras
import numpy as np
import pytest

from emolens.explain import METHODS, attention_relevance
from emolens.models.architectures.vit import build_vit
from tests.explain.vit._expect import expected_maps
from tests.explain.vit.toy_vit import fixed_attention_vit, random_attention
from tests.reference import relevance as reference

TOKENS = 5


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 4, 4, 1), dtype=np.float32)


def patch_means(images):
    return images[..., 0].reshape(-1, 2, 2, 2, 2).mean(axis=(2, 4)).reshape(-1, 4)  # (N, 4)


def test_known_answer_on_one_fixed_layer(images):
    # logit 0 = sum_h sum_s attn[h, 0, s] v_s / heads, so grad * attn = attn[h, 0, s] v_s / heads
    pattern = random_attention(heads=2, tokens=TOKENS, seed=1)
    model = fixed_attention_vit([pattern])
    rows = pattern.mean(axis=0)[0, 1:] * patch_means(images)
    np.testing.assert_allclose(
        attention_relevance(model, images, 0), expected_maps(rows, 4), atol=1e-5
    )
    np.testing.assert_array_equal(attention_relevance(model, images, 1), 0.0)


def test_top_class_default_and_per_image_targets(images):
    model = fixed_attention_vit([random_attention(heads=2, tokens=TOKENS, seed=2)])
    # the class token is a positive mix of positive patches, so logit 0 always wins
    np.testing.assert_allclose(
        attention_relevance(model, images), attention_relevance(model, images, 0), atol=1e-6
    )
    mixed = attention_relevance(model, images, [0, 1, 0])
    assert mixed[0].max() == pytest.approx(1.0) and np.all(mixed[1] == 0.0)


@pytest.fixture(scope="module")
def zoo_vit():
    keras.utils.set_random_seed(0)
    return build_vit((16, 16, 1), 3, patch_size=4, dim=16, depth=2, heads=2, mlp_dim=16)


@pytest.mark.parametrize("targets", [None, [1, 0, 1]])
def test_three_fixed_layers_match_the_slow_reference(images, targets):
    model = fixed_attention_vit(
        [random_attention(heads=2, tokens=TOKENS, seed=s) for s in (3, 4, 5)]
    )
    probe = reference.attention_probe(
        model, [model.get_layer(f"attn_probs_{i}").output for i in range(3)]
    )
    rows = reference.attention_relevance(probe, images, targets)
    maps = attention_relevance(model, images, targets)
    np.testing.assert_allclose(maps, expected_maps(rows, 4), atol=1e-5)


def test_zoo_vit_relevance_matches_the_slow_reference(zoo_vit):
    images = np.random.default_rng(1).random((4, 16, 16, 1), dtype=np.float32)
    probe = reference.attention_probe(
        zoo_vit, [zoo_vit.get_layer(f"block{i}_attn").output[1] for i in range(2)]
    )
    for target in (None, 0, 2):
        rows = reference.attention_relevance(
            probe, images, None if target is None else [target] * 4
        )
        maps = attention_relevance(zoo_vit, images, target)
        np.testing.assert_allclose(maps, expected_maps(rows, 16), atol=1e-5)
        assert (maps.reshape(4, -1).std(axis=1) > 0.05).all()  # real maps, not flat ones
    assert np.abs(attention_relevance(zoo_vit, images, 0) - maps).max() > 1e-3  # class-specific
    batched = attention_relevance(zoo_vit, images, 2, batch_size=3)
    single = np.concatenate([attention_relevance(zoo_vit, images[i : i + 1], 2) for i in range(4)])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert METHODS["attention_relevance"] is attention_relevance


def test_attention_the_logits_never_read_is_refused():
    images = keras.Input((4, 4, 1), name="image")
    tokens = keras.layers.Reshape((16, 1))(images)
    _, probs = keras.layers.MultiHeadAttention(1, 2, name="mha")(
        tokens, tokens, return_attention_scores=True
    )
    dead = keras.layers.Identity(name="attn_probs_0")(probs)
    logits = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(tokens))
    model = keras.Model(images, [keras.layers.Softmax(name="probs")(logits), dead])
    with pytest.raises(ValueError, match="do not depend"):
        attention_relevance(model, np.zeros((1, 4, 4, 1), np.float32), 0)
