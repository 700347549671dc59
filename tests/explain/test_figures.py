import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from emolens.explain.figures import plot_contours, plot_grid  # noqa: E402


def _images(n=3):
    return np.random.default_rng(0).random((n, 8, 8, 1), dtype=np.float32)


def _maps(n=3, seed=1):
    return np.random.default_rng(seed).random((n, 8, 8), dtype=np.float32)


def test_plot_grid_has_one_axes_per_method_and_image(tmp_path):
    figure = plot_grid(_images(), {"a": _maps(), "b": _maps(seed=2)}, titles=["x", "y", "z"])
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 3 * 3
    assert [ax.get_ylabel() for ax in figure.axes[::3]] == ["image", "a", "b"]
    assert [ax.get_title() for ax in figure.axes[:3]] == ["x", "y", "z"]
    figure.savefig(tmp_path / "grid.png")
    assert (tmp_path / "grid.png").stat().st_size > 0
    assert len(plot_grid(_images(2), {"a": _maps(2)}, show_images=False).axes) == 2


def test_plot_grid_errors():
    with pytest.raises(ValueError, match="at least one method"):
        plot_grid(_images(), {})
    with pytest.raises(ValueError, match="got 1 titles for 3 images"):
        plot_grid(_images(), {"a": _maps()}, titles=["x"])


def test_plot_contours_draws_the_levels():
    figure = plot_contours(_images(1)[0], np.outer(np.linspace(0, 1, 4), np.ones(4)), levels=(0.5,))
    assert len(figure.axes) == 1
    assert len(figure.axes[0].collections) >= 1
    with pytest.raises(ValueError, match=r"one map \(h, w\); got \(8, 8, 1\) and \(1, 8, 8\)"):
        plot_contours(_images(1)[0], _maps(1))
