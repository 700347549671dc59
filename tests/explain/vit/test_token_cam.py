"""CAM methods on a ViT's tokens: patch tokens on the patch grid, class token dropped."""

import keras
import numpy as np
import pytest

from emolens.explain import METHODS, grad_cam
from emolens.explain._layers import feature_model, token_grid, token_layers
from emolens.explain.cam.multi_layer_cam import default_layers
from emolens.models.architectures.vit import build_vit
from tests.reference import cam as reference

SIZE, PATCH = 16, 4  # a 4x4 patch grid, 16 patch tokens + 1 class token
GRID = SIZE // PATCH


@pytest.fixture(scope="module")
def vit():
    keras.utils.set_random_seed(3)
    return build_vit(
        (SIZE, SIZE, 1), num_classes=3, patch_size=PATCH, dim=8, depth=2, heads=2, mlp_dim=16
    )


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, SIZE, SIZE, 1), dtype=np.float32)


def test_token_layers_are_found_on_the_patch_grid(vit):
    layers = token_layers(vit)
    assert layers[0] == "patch_tokens" and "block1_ln1" in layers and "final_ln" in layers
    assert "block0_attn" not in layers  # its output is attention, not tokens
    assert token_grid(vit, "patch_tokens") == (0, GRID, GRID)
    assert token_grid(vit, "block1_ln1") == (1, GRID, GRID)
    assert token_grid(vit, "logits") is None


def test_default_layer_is_the_residual_stream_into_the_last_attention_on_the_grid(vit, images):
    features = feature_model(vit)
    assert features.outputs[0].shape[1:] == (GRID, GRID, 8)
    acts, _ = features(images)
    tokens = keras.Model(vit.inputs[0], vit.get_layer("block0_out").output)(images)
    np.testing.assert_allclose(
        np.asarray(acts), np.asarray(tokens)[:, 1:].reshape(-1, GRID, GRID, 8), atol=1e-6
    )


@pytest.mark.parametrize("layer", [None, "block0_ln1", "block1_ln1"])
@pytest.mark.parametrize("target", [None, 1])  # class 1 is top for image 1 only
def test_grad_cam_matches_a_per_image_reference_on_tokens(vit, images, layer, target):
    name = layer or "block0_out"
    assert vit.get_layer(name).output.shape[1:] == (1 + GRID * GRID, 8)  # class token first
    maps = grad_cam(vit, images, targets=target, layer=layer)
    for image, got in zip(images, maps, strict=True):
        np.testing.assert_allclose(got, reference.grad_cam(vit, image, target, name), atol=1e-5)
    assert (maps.reshape(len(maps), -1).std(axis=1) > 0.05).all()  # parity on real maps


def test_score_cam_and_eigen_cam_match_references_on_tokens(vit, images):
    score = METHODS["score_cam"](vit, images)
    eigen = METHODS["eigen_cam"](vit, images)
    for image, got_score, got_eigen in zip(images, score, eigen, strict=True):
        expected = reference.score_cam(vit, image, None, "block0_out")
        np.testing.assert_allclose(got_score, expected, atol=1e-4)
        expected = reference.eigen_cam(vit, image, None, "block0_out")
        np.testing.assert_allclose(got_eigen, expected, atol=1e-4)


def test_after_the_last_attention_patch_tokens_get_no_gradient(vit, images):
    """Why the default is the last attention's input: only the class token reaches the head."""
    assert np.all(grad_cam(vit, images, layer="final_ln") == 0.0)
    assert grad_cam(vit, images, layer="block1_ln1").max() == 1.0


@pytest.mark.parametrize(
    "method", ["grad_cam_pp", "xgrad_cam", "layer_cam", "hires_cam", "ablation_cam"]
)
def test_every_cam_method_matches_its_reference_on_vit_tokens(vit, images, method):
    # HiResCAM is compared on block1_ln1: at the default layer, the residual stream into the
    # last attention block, patch tokens reach the logits only through a LayerNorm, which
    # ignores a token's scale, so sum_k grad_k * act_k is 0 at every token up to float noise
    layer = "block1_ln1" if method == "hires_cam" else None
    maps = METHODS[method](vit, images, layer=layer)
    expected = reference.explain(method, vit, images, None, layer or "block0_out")
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    assert (expected.reshape(len(expected), -1).std(axis=1) > 0.02).all()  # real maps


def test_multi_layer_cam_on_a_vit_is_layer_cam_of_its_patch_embedding(vit, images):
    assert default_layers(vit) == ["patch_embed"]  # the ViT's only spatial layer
    expected = reference.explain("layer_cam", vit, images, None, "patch_embed")
    np.testing.assert_allclose(METHODS["multi_layer_cam"](vit, images), expected, atol=1e-5)


def test_a_layer_that_is_neither_spatial_nor_tokens_names_both_kinds(vit, images):
    with pytest.raises(ValueError, match="no spatial .* or ViT token output.*block1_ln1"):
        grad_cam(vit, images, layer="cls_flat")


def test_bundled_vit_default_map_is_not_blacked_out_by_the_layer_norm_offset():
    """On the trained hybrid ViT the last block's LayerNorm output gives an all-zero Grad-CAM
    (its bias shifts every position below zero); the default, the residual stream into that
    block, gives a real map."""
    from emolens import models
    from emolens.explain.data.synthetic import demo_faces

    model = models.load("vit_hybrid_emo3_pbn")
    faces = demo_faces().images  # 12 faces; 5 of them black at block3_ln1 when written
    normed = grad_cam(model, faces, layer="block3_ln1").reshape(len(faces), -1)
    assert (normed.max(axis=1) == 0.0).sum() >= 4
    maps = grad_cam(model, faces).reshape(len(faces), -1)  # default resolved after a rebuild
    assert (maps.std(axis=1) > 0.1).all()


def test_default_layer_is_found_after_another_layer_was_explained(images):
    """Explaining a layer rebuilds the graph (new nodes on every layer); the default must
    still be read from the model's own graph."""
    keras.utils.set_random_seed(4)
    model = build_vit((SIZE, SIZE, 1), 3, patch_size=PATCH, dim=8, depth=2, heads=2, mlp_dim=16)
    grad_cam(model, images, layer="block1_ln1")
    np.testing.assert_array_equal(
        grad_cam(model, images), grad_cam(model, images, layer="block0_out")
    )
