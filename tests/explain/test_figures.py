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


def test_figures_show_as_png_in_a_notebook_without_matplotlib_inline():
    """Jupyter shows a bare Figure as the text "<Figure size ...>" unless %matplotlib inline
    ran; emolens's figures carry their own PNG, so IPython's display formatter draws them."""
    import pandas as pd
    from IPython.core.formatters import DisplayFormatter

    from emolens.explain.compare import Comparison, plot_comparison
    from emolens.explain.feature_maps import plot_feature_maps

    acts = {"conv": np.random.default_rng(0).random((2, 6, 6, 4), dtype=np.float32)}
    figures = {
        "plot_grid": plot_grid(_images(), {"a": _maps()}),
        "plot_contours": plot_contours(_images(1)[0], _maps(1)[0]),
        "plot_feature_maps": plot_feature_maps(acts, k=2),
        "plot_comparison": plot_comparison(
            Comparison(
                _images(),
                {"m/a": _maps(), "m/b": _maps(seed=2)},
                pd.DataFrame({"a": ["m/a"], "b": ["m/b"], "spearman": [0.5], "iou": [0.2]}),
                0.1,
            )
        ),
    }
    plain = Figure()
    plain.add_subplot()
    assert "image/png" not in DisplayFormatter().format(plain)[0]  # what users saw before
    for name, figure in figures.items():
        shown, _ = DisplayFormatter().format(figure)
        assert shown["image/png"][:8] == b"\x89PNG\r\n\x1a\n", name
