"""How many actors `--engine ray` starts when --workers is not given: what the cluster holds."""

import pytest

from emolens.explain.store._ray import cluster_workers


@pytest.mark.parametrize(
    ("resources", "num_gpus", "expected"),
    [
        ({"CPU": 64.0, "memory": 1e11}, 0.0, 64),  # a CPU cluster: one actor per CPU
        ({"CPU": 64.0, "GPU": 8.0}, 1.0, 8),  # one actor per GPU
        ({"CPU": 64.0, "GPU": 8.0}, 0.5, 16),  # two actors share each GPU
        ({"CPU": 64.0, "GPU": 3.0}, 0.3, 10),  # 3 / 0.3 is 9.999... in floating point
        ({"CPU": 4.0, "GPU": 8.0}, 0.25, 4),  # CPUs are the limit
        ({"CPU": 2.5}, 0.0, 2),  # fractional CPUs round down
        ({"CPU": 8.0}, 1.0, 1),  # no GPU in the cluster: at least one actor (Ray then waits)
        ({}, 0.0, 1),
    ],
)
def test_default_workers_fill_the_cluster(resources, num_gpus, expected):
    assert cluster_workers(resources, num_gpus) == expected
