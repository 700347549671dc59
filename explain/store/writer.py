"""`index`: predictions, embeddings and maps of a whole dataset, into a sharded store."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np

from emolens.explain._atomic import atomic_write_text
from emolens.explain._layers import _producer, resolve_layer
from emolens.explain.data import CLASS_SETS, Dataset
from emolens.explain.store import _layout
from emolens.explain.store._forward import store_model
from emolens.explain.store._lock import store_lock
from emolens.explain.store._means import class_counts, write_class_means
from emolens.explain.store._plan import (
    data_sha256,
    file_sha256,
    now,
    read_plan,
    start_plan,
    versions,
    weights_sha256,
)
from emolens.explain.store._shard import MAP_DTYPES, write_shard
from emolens.explain.store._sources import load_source
from emolens.explain.store._work import image_sources, pending_shards, shard_inputs
from emolens.explain.store.reader import Store, open_store

ENGINES = ("serial", "ray")
"""Where shards are computed: this process, or Ray Data actors (see `_ray`)."""

Progress = Callable[[int, int], None]
"""progress(done, total): images indexed so far (resumed shards included) out of all."""


def _check_methods(methods: Sequence[str]) -> list[str]:
    from emolens.explain import METHODS

    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or len(set(methods)) != len(methods):
        raise ValueError(
            f"Methods must be distinct names from explain.METHODS; got {methods}. "
            f"Known methods: {', '.join(METHODS)}."
        )
    return methods


def model_classes(model: keras.Model, data_classes: tuple[str, ...]) -> tuple[str, ...]:
    """The model's class names (`model.class_names`), else the data's when the counts agree.

    Raises:
        ValueError: the model has no class names and a different number of outputs.
    """
    names = getattr(model, "class_names", None)
    if names is not None:
        return tuple(names)
    outputs = int(model.outputs[0].shape[-1])
    if outputs != len(data_classes):
        raise ValueError(
            f"Model {model.name!r} has {outputs} outputs and no class names, and the data has "
            f"{len(data_classes)} classes ({', '.join(data_classes)}). Set model.class_names "
            "(emolens.models.load reads them from the card) or pick matching data classes."
        )
    return tuple(data_classes)


def class_set_of(classes: tuple[str, ...]) -> str:
    """Name of the class set ("fer7", "emo3") whose names are `classes`, in order.

    Raises:
        ValueError: no class set matches; the caller must name one.
    """
    for name, names in CLASS_SETS.items():
        if tuple(c.lower() for c in classes) == names:
            return name
    known = (
        f"The model's classes ({', '.join(classes)}) are no known class set"
        if classes
        else "The model has no class names (no card, no model.class_names)"
    )
    raise ValueError(
        f"{known}; pass the data's class set (classes=... in Python, --classes on the command "
        f"line: {', '.join(CLASS_SETS)})."
    )


def relabel(dataset: Dataset, classes: tuple[str, ...]) -> np.ndarray:
    """Labels (N,) as indices into the model's `classes`; -1 where the model lacks the class.

    Raises:
        ValueError: no class of the data is a class of the model.
    """
    lowered = [c.lower() for c in classes]
    mapping = np.array(
        [lowered.index(c.lower()) if c.lower() in lowered else -1 for c in dataset.classes] + [-1],
        dtype=np.int64,
    )
    if (mapping[:-1] < 0).all():
        raise ValueError(
            f"No class of the data ({', '.join(dataset.classes)}) is a class of the model "
            f"({', '.join(classes)}). Pick data with the model's classes."
        )
    return mapping[np.asarray(dataset.labels, dtype=np.int64)]


def _embedding_spec(model: keras.Model, layer: str | None, with_cam: bool) -> dict:
    embedding = store_model(model, layer, with_cam).outputs[-2]
    producer, _ = _producer(embedding)
    return {"layer": producer.name, "dim": int(np.prod(embedding.shape[1:])), "dtype": "float32"}


def make_plan(
    model: keras.Model,
    dataset: Dataset,
    classes: tuple[str, ...],
    methods: list[str],
    layer: str | None,
    options: dict,
) -> dict:
    """The plan of a store (see `_plan.start_plan`): everything that decides its contents."""
    model_file = options["model_file"]
    with_cam = "grad_cam" in methods
    model_record = {
        "name": options["model_name"] or model.name,
        "file": str(model_file) if model_file else None,
        "file_sha256": file_sha256(model_file) if model_file else None,
        "weights_sha256": weights_sha256(model),
    }
    pixel_range = _input_range(model)
    if pixel_range is not None:  # only then: plans of [0, 1] models stay as they were
        model_record["input_range"] = pixel_range
    return {
        "format": _layout.FORMAT,
        "model": model_record,
        "data": {
            "source": options["source"],
            "split": options["split"],
            "classes": list(dataset.classes),
            "num_images": len(dataset),
            "image_shape": list(dataset.images.shape[1:]),
            "sha256": data_sha256(dataset.images, dataset.labels, dataset.classes),
        },
        "classes": list(classes),
        "methods": methods,
        "layer": layer,
        "cam_layer": resolve_layer(model, layer, tokens=True) if with_cam else None,
        "embedding": _embedding_spec(model, layer, with_cam),
        "maps": {"dtype": options["map_dtype"], "shape": list(dataset.images.shape[1:3])},
        "shard_size": options["shard_size"],
        "batch_size": options["batch_size"],
        "versions": versions(),
        "created": now(),
    }


def _input_range(model) -> list[float] | None:
    """[low, high] of the pixels `model` is fed, or None when it takes [0, 1] as is.

    Read from `models.with_input_range`'s "input_range" Rescaling, which has no weights: so
    weights_sha256 alone would let one store mix shards fed two ranges.
    """
    import keras

    layer = next((x for x in model.layers if x.name == "input_range"), None)
    if not isinstance(layer, keras.layers.Rescaling):
        return None
    offset = float(layer.offset)
    return [offset, offset + float(layer.scale)]


def _remove_temp_files(store: Path) -> None:
    """Delete temp files a killed run left (only the lock holder writes, so none is live)."""
    for folder in (store, store / _layout.SHARDS, store / _layout.MEANS):
        if folder.is_dir():
            for path in folder.glob(".*.tmp"):
                path.unlink(missing_ok=True)


def _undo_failed_run(store: Path, fresh: bool) -> None:
    """Delete a failed run's temp files; all it wrote if it started the store and finished no shard.

    Then a rerun with other arguments (a fixed model, say) is not refused.
    """
    _remove_temp_files(store)
    plan = read_plan(store) if fresh else None
    if plan is None:
        return
    shards = len(_layout.shard_ranges(plan["data"]["num_images"], plan["shard_size"]))
    if any(_layout.is_complete(store, k, plan["methods"]) for k in range(shards)):
        return  # whole shards a rerun continues from
    for name in (_layout.SHARDS, _layout.MEANS):
        shutil.rmtree(store / name, ignore_errors=True)
    (store / _layout.PLAN).unlink(missing_ok=True)


def _load(dataset, split, classes, model, source) -> tuple[Dataset, str, str | None]:
    """(Dataset, source name, split) for a Dataset or a source spec."""
    if isinstance(dataset, Dataset):
        return dataset, source or "dataset", split
    model_names = getattr(model, "class_names", None)
    class_set = classes or class_set_of(tuple(model_names or ()))
    image_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    return load_source(dataset, split, class_set, image_shape), str(dataset), split


def _manifest(store: Path, plan: dict) -> dict:
    ranges = _layout.shard_ranges(plan["data"]["num_images"], plan["shard_size"])
    names = _layout.array_names(plan["methods"])
    relative = lambda path: path.relative_to(store).as_posix()  # noqa: E731
    shards = [
        {
            "index": k,
            "ids": [ids.start, ids.stop],
            "rows": relative(_layout.rows_path(store, k)),
            "arrays": {name: relative(_layout.array_path(store, k, name)) for name in names},
        }
        for k, ids in enumerate(ranges)
    ]
    means = {
        method: relative(write_class_means(store, len(ranges), method, len(plan["classes"])))
        for method in plan["methods"]
    }
    counts = class_counts(store, len(ranges), len(plan["classes"]))
    return {**plan, "shards": shards, "class_means": means, "class_counts": counts}


def index(
    model: keras.Model,
    dataset: Dataset | str,
    methods: Sequence[str] = ("grad_cam",),
    layer: str | None = None,
    *,
    out: str | os.PathLike,
    split: str | None = "publictest",
    classes: str | None = None,
    batch_size: int = 64,
    shard_size: int = 1024,
    map_dtype: str = "uint8",
    progress: Progress | None = None,
    model_name: str | None = None,
    model_file: str | os.PathLike | None = None,
    source: str | None = None,
    engine: str = "serial",
    address: str | None = None,
    workers: int | None = None,
    num_gpus: float = 0.0,
    threads_per_worker: int | None = None,
) -> Store:
    """Index every image of a dataset into the store folder `out`, or finish a killed run.

    Per image: prediction, probabilities, loss, correctness, margin, the penultimate-layer
    embedding and the maps of `methods` for the predicted class; then class-mean maps and
    the manifest. One compiled forward (and backward) pass per batch gives the prediction,
    the embedding and Grad-CAM; other methods run through `explain.METHODS`.

    Args:
        model: Keras classifier taking (N, H, W, C) float32 in [0, 1].
        dataset: a `Dataset`, or a source: "synthetic[:N]", "fer2013", a folder holding
            fer2013/, a fer2013.csv or an image folder (see `_sources.load_source`).
        methods: names in `explain.METHODS`; maps explain the predicted class.
        layer: layer for the CAM methods; None: each method's default.
        out: store folder; a rerun with the same arguments continues it.
        split: split to load when `dataset` is a source; recorded in the manifest.
        classes: class set ("fer7", "emo3") of the labels to load; default: the model's.
            Images of classes the model lacks get label -1 (no loss, never correct).
        batch_size: images per forward pass.
        shard_size: images per shard (shard k holds ids [k * shard_size, ...)).
        map_dtype: "uint8" (round(255 * map), error <= 1/510) or "float16".
        progress: called as progress(done, total) after every batch (images forwarded);
            after every shard with the Ray engine.
        model_name: name recorded in the manifest (default `model.name`).
        model_file: the model's file, hashed into the manifest.
        source: where a `Dataset` came from, for the manifest (a source spec names itself).
        engine: "serial" (this process, shard after shard) or "ray" (Ray Data actors write
            shards in parallel; needs `pip install emolens[scale]`). Both write the same
            store, and either finishes a store the other started.
        address: engine "ray": the cluster to join; None starts a local Ray on this machine.
            The store folder must then be on a filesystem every worker writes to.
        workers: engine "ray": actors (1 CPU each; default: this machine's CPUs, or with
            `address` the cluster's CPUs, and no more than its GPUs / `num_gpus`).
        num_gpus: engine "ray": GPUs per actor.
        threads_per_worker: engine "ray": TensorFlow threads per actor (default: TensorFlow's,
            which keeps the shards byte-identical to the serial engine's on the same machine).

    Returns:
        The finished store, opened (`open_store`).

    Raises:
        ValueError: unknown method or map dtype, classes that do not fit, or `out` was
            started with other arguments (the message lists what differs).
    """
    methods = _check_methods(methods)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}.")
    for option, value, least in (
        ("workers", workers, 1),
        ("threads_per_worker", threads_per_worker, 1),
        ("num_gpus", num_gpus, 0),
    ):
        if value is not None and value < least:
            raise ValueError(f"{option} must be >= {least}; got {value}.")
    if map_dtype not in MAP_DTYPES or batch_size < 1 or shard_size < 1:
        raise ValueError(
            f"map_dtype must be one of {', '.join(MAP_DTYPES)}, batch_size and shard_size >= 1; "
            f"got {map_dtype!r}, {batch_size}, {shard_size}."
        )
    store = Path(out)
    read_plan(store)  # refuse a folder that is not a store before touching it
    dataset, source, split = _load(dataset, split, classes, model, source)
    names = model_classes(model, tuple(dataset.classes))
    labels = relabel(dataset, names)
    options = {
        "model_name": model_name,
        "model_file": model_file,
        "source": source,
        "split": split,
        "map_dtype": map_dtype,
        "shard_size": shard_size,
        "batch_size": batch_size,
    }
    engine_options = {
        "address": address,
        "workers": workers,
        "num_gpus": num_gpus,
        "threads_per_worker": threads_per_worker,
    }
    with store_lock(store):
        fresh = not (store / _layout.PLAN).is_file()
        try:
            plan = start_plan(store, make_plan(model, dataset, names, methods, layer, options))
            _finish(store, plan, model, dataset, labels, progress, engine, engine_options)
        except BaseException:
            _undo_failed_run(store, fresh)
            raise
    return open_store(store)


def _finish(store, plan, model, dataset, labels, progress, engine, engine_options) -> None:
    """Write the missing shards, the class means and the manifest (nothing if it exists)."""
    if (store / _layout.MANIFEST).is_file():
        return
    _remove_temp_files(store)
    _write_shards(store, plan, model, dataset, labels, progress, engine, engine_options)
    manifest = {**_manifest(store, plan), "completed": now()}
    atomic_write_text(store / _layout.MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _write_shards(store, plan, model, dataset, labels, progress, engine, options) -> None:
    """Write every shard that is not complete yet, reporting progress per batch or shard."""
    total = plan["data"]["num_images"]
    ranges = _layout.shard_ranges(total, plan["shard_size"])
    todo = pending_shards(store, plan)
    done = [total - sum(len(ranges[k]) for k in todo)]

    def on_batch(count: int) -> None:
        done[0] += count
        progress(done[0], total)

    if progress:
        progress(done[0], total)
    sources = image_sources(dataset)
    if engine == "ray":
        from emolens.explain.store._ray import write_shards_ray

        write_shards_ray(
            store,
            plan,
            model,
            dataset.images,
            labels,
            sources,
            todo,
            progress and on_batch,
            **options,
        )
        _remove_temp_files(store)  # left by workers that died mid-write (all are done now)
        return
    for k in todo:
        images, shard_labels, shard_sources = shard_inputs(plan, k, dataset.images, labels, sources)
        write_shard(
            store, plan, k, model, images, shard_labels, shard_sources, progress and on_batch
        )
