"""`emolens index`: a dataset's predictions, embeddings and maps, into a results store."""

from __future__ import annotations

import argparse

from emolens.commands._options import (
    add_input_range_flag,
    add_unsafe_load_flag,
    folder_out,
    positive_int,
)


def add_parser(subparsers) -> None:
    """Add `index` and its flags."""
    p = subparsers.add_parser(
        "index",
        help="precompute a dataset's predictions, embeddings and heatmaps into a store",
        description="Index every image of a dataset into a sharded results store (Parquet "
        "rows + .npy maps and embeddings + manifest.json) that `open_store` and the dashboard "
        "read. A killed run continues where it stopped when rerun with the same arguments.",
    )
    p.add_argument("--model", default=None, help="bundled name or .keras path (default model)")
    add_input_range_flag(p)
    add_unsafe_load_flag(p)
    p.add_argument(
        "--data",
        default="fer2013",
        help="'fer2013' ($EMOLENS_DATA, ../shared/data or ~/.cache/emolens), a folder "
        "holding fer2013/, a fer2013.csv, an image folder, Parquet shards (.parquet or a "
        "folder of them), "
        "WebDataset-style tar shards (.tar or a folder of them: <key>.png + <key>.cls), or "
        "'synthetic[:N]' (built-in faces; default: fer2013)",
    )
    p.add_argument(
        "--split",
        default="publictest",
        help="split to index (default publictest); 'none' for an image folder of class folders",
    )
    p.add_argument(
        "--classes",
        default=None,
        help="class set of the data's labels, fer7 or emo3 (default: the model's); faces of "
        "classes the model lacks are kept with label -1",
    )
    p.add_argument(
        "--method",
        default="grad_cam",
        help="comma-separated methods of explain.METHODS whose maps to store, or 'none' "
        "(default grad_cam)",
    )
    p.add_argument("--layer", default=None, help="layer for the CAM methods (default: last conv)")
    p.add_argument(
        "--out", required=True, type=folder_out, help="store folder (a rerun continues it)"
    )
    p.add_argument("--batch-size", type=positive_int, default=64, help="images per forward pass")
    p.add_argument("--shard-size", type=positive_int, default=1024, help="images per shard")
    p.add_argument(
        "--map-dtype",
        default="uint8",
        choices=["uint8", "float16"],
        help="how maps are stored: uint8 (error <= 1/510, half the size) or float16",
    )
    p.add_argument(
        "--engine",
        default="serial",
        choices=["serial", "ray"],
        help="serial: this process; ray: Ray Data actors write shards in parallel "
        "(pip install 'emolens[scale]'); both write the same store",
    )
    p.add_argument(
        "--address",
        default=None,
        help="--engine ray: Ray cluster to join ('auto', 'ray://HOST:10001'); default: a local "
        "Ray on this machine (127.0.0.1, no dashboard); --out must be shared by every node",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="--engine ray: model-holding actors, 1 CPU each (default: this machine's CPUs; with "
        "--address, the cluster's CPUs, capped by its GPUs / --gpus-per-worker)",
    )
    p.add_argument(
        "--gpus-per-worker",
        type=float,
        default=0.0,
        help="--engine ray: GPUs per actor, e.g. 1, or 0.5 for two actors per GPU (default 0)",
    )
    p.add_argument(
        "--threads-per-worker",
        type=int,
        default=None,
        help="--engine ray: TensorFlow threads per actor (default: TensorFlow's, every core of "
        "the node, which writes the serial engine's bytes; 1 on many-core nodes saves them from "
        "running actors x cores threads, but changes the float rounding: a uint8 map may differ "
        "from a serial run's by one level, an embedding by ~1e-7)",
    )


def _methods(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    return [] if names == ["none"] else names


def _summary(store) -> str:
    """One line: images, accuracy on the labels the model knows, methods, size on disk."""
    rows = store.rows
    known = rows[rows["label"] >= 0]
    accuracy = f"{known['correct'].mean():.4f}" if len(known) else "n/a"
    size = sum(p.stat().st_size for p in store.path.rglob("*") if p.is_file())
    return (
        f"store {store.path}: {len(store)} images ({len(known)} with a label of the model's "
        f"classes, accuracy {accuracy}), maps {', '.join(store.methods) or 'none'}, "
        f"{size / 2**20:.1f} MiB"
    )


def _check_engine(args: argparse.Namespace) -> str | None:
    """The reason the engine flags cannot work, or None."""
    if args.engine == "serial":
        if (
            args.address
            or args.workers is not None
            or args.gpus_per_worker
            or args.threads_per_worker is not None
        ):
            return (
                "--address, --workers, --gpus-per-worker and --threads-per-worker need "
                "--engine ray."
            )
        return None
    if args.workers is not None and args.workers < 1:
        return f"--workers must be >= 1; got {args.workers}."
    if args.threads_per_worker is not None and args.threads_per_worker < 1:
        return f"--threads-per-worker must be >= 1; got {args.threads_per_worker}."
    if args.gpus_per_worker < 0:
        return f"--gpus-per-worker must be >= 0; got {args.gpus_per_worker}."
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        return "--engine ray needs Ray Data: pip install 'emolens[scale]'."
    return None


def run(args: argparse.Namespace) -> int:
    """Load the model, index the data with a progress bar on stderr, print a summary."""
    problem = _check_engine(args)
    if problem:
        raise ValueError(problem)  # one line as every error: "emolens index: error: ..."
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from emolens.explain.store import index
    from emolens.models import zoo

    name = args.model or zoo.default_model()
    model = zoo.load(name, input_range=args.input_range, safe_mode=not args.unsafe_load)
    columns = ("indexing", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    bar = Progress(*columns, console=Console(stderr=True))
    task = bar.add_task("index", total=None)

    def progress(done: int, total: int) -> None:
        bar.start()  # shown from the first batch on (a refused rerun draws no bar)
        bar.update(task, completed=done, total=total)

    try:
        store = index(
            model,
            args.data,
            _methods(args.method),
            args.layer,
            out=args.out,
            split=None if args.split.lower() == "none" else args.split,
            classes=args.classes,
            batch_size=args.batch_size,
            shard_size=args.shard_size,
            map_dtype=args.map_dtype,
            progress=progress,
            model_name=str(name),
            model_file=zoo._resolve(name),
            engine=args.engine,
            address=args.address,
            workers=args.workers,
            num_gpus=args.gpus_per_worker,
            threads_per_worker=args.threads_per_worker,
        )
    finally:
        bar.stop()
    print(_summary(store))
    return 0
