"""Ray Data engine of `index`: actors that load the model once write shards in parallel.

One Ray Data row is one shard of the plan (its images, labels and sources). `map_batches`
hands rows to a pool of `_ShardWriter` actors; each loads the model once, then computes and
writes whole shards with `_shard.write_shard`, the same function the serial loop calls, so
every shard file is the one a serial run writes (with TensorFlow's default threads; another
`threads_per_worker` changes the float rounding). A worker that dies mid-shard leaves at
most temp files and whole arrays without rows (an incomplete shard, never read); Ray restarts
the actor and retries the shard, which rewrites it whole. The driver then removes stray temp
files and writes the manifest last (in `writer.index`).

Ray is imported here only, and this module only when `engine="ray"` is chosen.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from emolens.explain.store._work import shard_inputs

SETUP = "EMOLENS_RAY_WORKER_SETUP"
"""Environment variable "module:function": called in every actor before it loads the model."""


def _model_bytes(model: keras.Model) -> tuple[bytes, list[str]]:
    """The model as .keras bytes, and the modules defining its layers (imported by workers)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        blob = path.read_bytes()
    layers = model._flatten_layers(include_self=True, recursive=True)
    modules = sorted({type(layer).__module__ for layer in layers} - {"__main__"})
    return blob, [m for m in modules if not m.startswith("keras")]


def _limit_threads(threads: int | None) -> None:
    """Run TensorFlow's ops on `threads` threads (None: its default, every core of the node).

    Must run before this process runs its first TensorFlow op; later it only warns.
    """
    if not threads:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError as error:  # TensorFlow already ran an op in this process
        warnings.warn(
            f"threads_per_worker={threads} not applied: {error}. TensorFlow ran an op in this "
            "actor before it loaded the model (an EMOLENS_RAY_WORKER_SETUP hook?).",
            stacklevel=2,
        )


class _ShardWriter:
    """Ray Data callable class: loads the model once per actor, writes one shard per row."""

    def __init__(
        self, store: str, plan: dict, model_blob: bytes, modules: list[str], threads: int | None
    ):
        setup = os.environ.get(SETUP)
        if setup:  # instrumentation (tests inject a worker crash through it)
            module, _, function = setup.partition(":")
            getattr(importlib.import_module(module), function)()
        _limit_threads(threads)
        for module in modules:  # registers the custom layers the model file names
            importlib.import_module(module)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.keras"
            path.write_bytes(model_blob)
            self.model = keras.saving.load_model(path, safe_mode=False)  # our own bytes
        self.store, self.plan = Path(store), plan

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from emolens.explain.store._shard import write_shard

        counts = []
        for i, shard in enumerate(batch["shard"]):
            images = np.asarray(batch["images"][i], dtype=np.float32)
            sources = {
                "source_index": np.asarray(batch["source_index"][i], dtype=np.int64),
                "file": np.asarray(batch["file"][i], dtype=object),
                "true_class": np.asarray(batch["true_class"][i], dtype=object),
            }
            labels = np.asarray(batch["labels"][i], dtype=np.int64)
            write_shard(self.store, self.plan, int(shard), self.model, images, labels, sources)
            counts.append(len(images))
        return {"shard": np.asarray(batch["shard"], np.int64), "count": np.asarray(counts)}


def _connect(address: str | None, workers: int) -> bool:
    """Join the cluster at `address`, or start a local Ray; True when this call started it.

    A local Ray finds this machine's GPUs itself (it is never told of GPUs it does not have).
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, include_dashboard=False, configure_logging=False)
    else:
        ray.init(
            num_cpus=workers,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            configure_logging=False,
        )
    return True


def cluster_workers(resources: dict, num_gpus: float = 0.0) -> int:
    """How many 1-CPU actors (`num_gpus` GPUs each) fit in `ray.cluster_resources()`, at least 1."""
    fit = int(resources.get("CPU", 1))
    if num_gpus:
        fit = min(fit, int(resources.get("GPU", 0) / num_gpus + 1e-9))
    return max(fit, 1)


def write_shards_ray(
    store: Path,
    plan: dict,
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    sources: dict,
    todo: list[int],
    on_shard: Callable[[int], None] | None = None,
    *,
    address: str | None = None,
    workers: int | None = None,
    num_gpus: float = 0.0,
    threads_per_worker: int | None = None,
) -> None:
    """Write shards `todo` of `plan` with a pool of Ray Data actors, in any order.

    Args:
        store: the store folder.
        plan: the store's plan.
        model: the classifier.
        images: float32 (N, H, W, C), the whole split.
        labels: int64 (N,), indices into the plan's classes.
        sources: `_work.image_sources` of the split.
        todo: shard numbers to write.
        on_shard: called as on_shard(n) in the driver after a shard of n images is written.
        address: a Ray cluster to join ("auto", "ray://host:10001", ...); None: start a
            local Ray on this machine (127.0.0.1, no dashboard, no usage stats).
        workers: actors in the pool, each taking 1 CPU (default: the CPUs of this machine, or
            with `address` the cluster's CPUs, and no more than its GPUs / `num_gpus`; more
            than the GPUs hold is a ValueError).
        num_gpus: GPUs per actor (for example 1, or 0.5 to share one GPU between two).
        threads_per_worker: TensorFlow threads per actor; None keeps TensorFlow's default
            (every core of its node), the serial engine's on the same machine: the shard files
            are then byte-identical to a serial run's. Another count changes the float
            rounding (a uint8 map may differ by one level, an embedding by ~1e-7), and saves
            many-core nodes from running (actors x cores) threads; 1 suits 1-CPU actors.
    """
    started = _connect(address, workers or os.cpu_count() or 1)
    import ray

    try:
        resources = ray.cluster_resources()
        fit = cluster_workers(resources, num_gpus)
        if workers is None:
            workers = fit
        elif num_gpus and workers > fit:
            raise ValueError(
                f"{workers} workers of {num_gpus:g} GPU each need {workers * num_gpus:g} GPUs; "
                f"the Ray cluster has {resources.get('GPU', 0):g}. Ask for {fit} workers or "
                "fewer, or a smaller --gpus-per-worker (num_gpus= in Python)."
            )
        ray.data.DataContext.get_current().enable_progress_bars = False
        items = []
        for shard in todo:
            shard_images, shard_labels, shard_sources = shard_inputs(
                plan, shard, images, labels, sources
            )
            items.append(
                {
                    "shard": shard,
                    "images": shard_images,
                    "labels": shard_labels,
                    "source_index": shard_sources["source_index"],
                    "file": [str(f) for f in shard_sources["file"]],
                    "true_class": [str(c) for c in shard_sources["true_class"]],
                }
            )
        model_blob, modules = _model_bytes(model)
        written = ray.data.from_items(items).map_batches(
            _ShardWriter,
            batch_size=1,
            batch_format="numpy",
            fn_constructor_kwargs={
                "store": str(store.resolve()),
                "plan": plan,
                "model_blob": model_blob,
                "modules": modules,
                "threads": threads_per_worker,
            },
            compute=ray.data.ActorPoolStrategy(size=min(workers, max(len(todo), 1))),
            num_cpus=1,
            num_gpus=num_gpus or None,
        )
        for row in written.iter_rows():
            if on_shard:
                on_shard(int(row["count"]))
    finally:
        if started:
            ray.shutdown()
