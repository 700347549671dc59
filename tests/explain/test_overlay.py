import matplotlib
import numpy as np
import pytest

from emolens.explain.overlay import overlay


def _gray(n=2, size=6, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 1), dtype=np.float32)


def _maps(n=2, size=6, seed=1):
    return np.random.default_rng(seed).random((n, size, size), dtype=np.float32)


def test_alpha_zero_returns_the_gray_image_as_rgb_exactly():
    images = _gray()
    out = overlay(images, _maps(), alpha=0.0)
    expected = np.repeat(np.rint(images * 255).astype(np.uint8), 3, axis=-1)
    assert out.dtype == np.uint8 and out.shape == (2, 6, 6, 3)
    np.testing.assert_array_equal(out, expected)


def test_alpha_zero_keeps_colour_images_and_uint8_input():
    images = np.random.default_rng(0).integers(0, 256, (2, 5, 5, 3)).astype(np.uint8)
    np.testing.assert_array_equal(overlay(images, _maps(2, 5), alpha=0.0), images)


def test_alpha_one_returns_the_colormap_of_the_map():
    maps = _maps()
    out = overlay(_gray(), maps, cmap="viridis", alpha=1.0)
    expected = np.rint(matplotlib.colormaps["viridis"](maps)[..., :3] * 255).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)


def test_half_alpha_blends_and_small_maps_are_resized():
    images = _gray(1, 8)
    out = overlay(images, np.ones((1, 2, 2), np.float32), cmap="gray", alpha=0.5)
    expected = np.rint((0.5 * images[..., 0] + 0.5) * 255).astype(np.uint8)
    np.testing.assert_array_equal(out[..., 1], expected)


def test_per_map_normalisation_stretches_each_map():
    maps = np.stack([np.full((4, 4), 0.2), np.linspace(2, 6, 16).reshape(4, 4)]).astype(np.float32)
    out = overlay(_gray(2, 4), maps, cmap="gray", alpha=1.0, normalize="per_map")
    np.testing.assert_array_equal(out[0], 0)
    assert out[1].min() == 0 and out[1].max() == 255
    with pytest.raises(ValueError, match=r"values in \[0.2, 6\] and normalize='none'"):
        overlay(_gray(2, 4), maps)


def test_overlay_errors_say_what_arrived():
    with pytest.raises(
        ValueError, match=r"maps shaped \(N, h, w\) with N = 2 images; got \(3, 6, 6\)"
    ):
        overlay(_gray(), _maps(3))
    with pytest.raises(ValueError, match=r"images shaped \(N, H, W, 1\).*got \(6, 6, 1\)"):
        overlay(_gray()[0], _maps(1))
    with pytest.raises(ValueError, match="alpha must be in"):
        overlay(_gray(), _maps(), alpha=1.5)
    with pytest.raises(ValueError, match="Unknown normalize='max'"):
        overlay(_gray(), _maps(), normalize="max")
    with pytest.raises(ValueError, match="Unknown colormap 'nope'"):
        overlay(_gray(), _maps(), cmap="nope")
