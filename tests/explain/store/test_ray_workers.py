"""`--engine ray` options without a Ray instance: how many actors start when --workers is not
given (what the cluster holds), the checks of the engine flags, and the TensorFlow threads of an
actor (--threads-per-worker)."""

import subprocess
import sys

import pytest

from emolens.explain.store._ray import cluster_workers
from tests.explain.store.helpers import index_args, run_cli, tiny_model_file


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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--threads-per-worker", "2"], "need --engine ray"),
        (["--workers", "0"], "need --engine ray"),  # 0 is given, not absent
        (["--engine", "ray", "--threads-per-worker", "0"], "--threads-per-worker must be >= 1"),
        (["--engine", "ray", "--workers", "0"], "--workers must be >= 1; got 0"),
        (["--engine", "ray", "--gpus-per-worker", "-1"], "--gpus-per-worker must be >= 0"),
    ],
)
def test_engine_flags_are_checked_before_any_work(tmp_path, capsys, argv, message):
    model = tiny_model_file(tmp_path)
    assert run_cli(index_args(model, tmp_path / "store", 8, *argv)) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("emolens index: error: ")  # as every error
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("workers", 0, "workers must be >= 1; got 0"),
        ("threads_per_worker", -2, "threads_per_worker must be >= 1; got -2"),
        ("num_gpus", -0.5, "num_gpus must be >= 0; got -0.5"),
    ],
)
def test_index_checks_the_engine_options_before_any_work(tmp_path, option, value, message):
    from emolens.explain.store import index
    from emolens.models import zoo

    model = zoo.load(tiny_model_file(tmp_path))
    with pytest.raises(ValueError, match=message):
        index(model, "synthetic:8", out=tmp_path / "store", engine="ray", **{option: value})
    assert not (tmp_path / "store").exists()


# A fresh process: TensorFlow takes thread counts only before its first op.
ACTOR = """
import sys
from pathlib import Path
import tensorflow as tf
from emolens.explain.store._ray import _ShardWriter

blob = Path(sys.argv[1]).read_bytes()  # what the driver sends; no TensorFlow op has run yet
threads = None if sys.argv[2] == "default" else int(sys.argv[2])
_ShardWriter(sys.argv[3], {}, blob, [], threads)
print(tf.config.threading.get_intra_op_parallelism_threads(),
      tf.config.threading.get_inter_op_parallelism_threads())
"""


@pytest.mark.parametrize(("threads", "expected"), [("1", "1 1"), ("3", "3 3"), ("default", "0 0")])
def test_actor_runs_tensorflow_on_the_threads_asked_for(tmp_path, threads, expected):
    """--threads-per-worker reaches TensorFlow in the actor before the model's first op."""
    model = tiny_model_file(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", ACTOR, str(model), threads, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == expected
