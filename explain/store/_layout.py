"""Where each file of a store lives, and which image ids each shard covers.

    STORE/
      plan.json                   what is being indexed (written first; a rerun must match it)
      shards/00000.parquet        rows of images [0, shard_size), written last in its shard
      shards/00000.<array>.npy    one array per shard: "embeddings", or a method's maps
      means/<method>.npy          class-mean maps (2, C, H, W), written after every shard
      manifest.json               the plan + the shard list, written last: the store is complete

Shard k covers ids [k * shard_size, min((k + 1) * shard_size, num_images)), fixed by the
plan, so any process holding the plan can write any shard (in parallel, in any order).
"""

from __future__ import annotations

from pathlib import Path

FORMAT = "emolens-store/1"
PLAN = "plan.json"
MANIFEST = "manifest.json"
MEANS = "means"
SHARDS = "shards"
LOCK = ".lock"
EMBEDDINGS = "embeddings"


def shard_ranges(num_images: int, shard_size: int) -> list[range]:
    """Id range of every shard: [k * shard_size, ...) up to `num_images`."""
    return [range(k, min(k + shard_size, num_images)) for k in range(0, num_images, shard_size)]


def rows_path(store: Path, shard: int) -> Path:
    """The shard's Parquet rows: its last file, so its presence marks the shard complete."""
    return store / SHARDS / f"{shard:05d}.parquet"


def array_path(store: Path, shard: int, name: str) -> Path:
    """The shard's .npy array `name` ("embeddings" or a method name)."""
    return store / SHARDS / f"{shard:05d}.{name}.npy"


def array_names(methods: list[str] | tuple[str, ...]) -> list[str]:
    """Arrays every shard holds: the embeddings, then one map array per method."""
    return [EMBEDDINGS, *methods]


def means_path(store: Path, method: str) -> Path:
    """float32 (2, C, H, W) class-mean maps of `method`: [0] by true label, [1] by prediction."""
    return store / MEANS / f"{method}.npy"


def is_complete(store: Path, shard: int, methods: list[str] | tuple[str, ...]) -> bool:
    """True when shard `shard` has its rows and every array (each file appears whole or not)."""
    return rows_path(store, shard).is_file() and all(
        array_path(store, shard, name).is_file() for name in array_names(methods)
    )
