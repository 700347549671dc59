"""`explain.store.index` on many synthetic faces: serial engine vs Ray Data with 1 and 2 workers.

    python benchmarks/bench_scale.py                  # 100,000 synthetic 48x48 faces
    python benchmarks/bench_scale.py --n 10000 --workers 1,2,4
    python benchmarks/bench_scale.py --workers 1,2,2x1   # 2x1: 2 actors of 1 TensorFlow thread
    python benchmarks/bench_scale.py --work runs/bench_scale   # resumable: rerun after a stop

Every run indexes the same faces (generated once, 48x48 gray, the default model's classes)
with the default model: prediction, probabilities, loss, margin, embedding and Grad-CAM
(uint8) of each face, written as shards of 1,024 faces, then class means and manifest.
Baseline: the serial engine (one process, all CPUs for TensorFlow), timed in the same run.
Ray: a local Ray with as many CPUs as workers, one model-holding actor per worker (1 CPU);
TensorFlow in each actor on its default threads (every core: byte-identical to serial), or on
T threads with WxT (`--threads-per-worker T`; float rounding then differs from serial).
- total s: the whole `index` call (Ray: plus `ray.init`, timed apart as "ray.init s").
- startup s: from the call to the first finished shard, minus one shard at the steady rate
  (model hashing and plan, actor start: TensorFlow import, model load, tracing).
- steady img/s: faces after the first finished shard / time after it.
- overhead ms/img: (total with ray.init - serial total) / N: what Ray costs per face here.
Every Ray store is checked byte-identical to the serial one (shard files). The machine may
be shared with other jobs: each row prints the load average at its end.
With `--work DIR` the run checkpoints: each finished row goes to DIR/results.json and the
serial store stays in DIR, so a rerun after a stop redoes only the row it was in (from
scratch, so its time is clean) and prints the whole table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from emolens.explain.data import load_dataset
from emolens.explain.store import index
from emolens.explain.store.writer import class_set_of
from emolens.models import zoo


def run_index(model, dataset, out: Path, shard_size: int, **engine) -> dict:
    """Time one `index` call; progress timestamps give startup and steady rate."""
    marks: list[tuple[float, int]] = []
    start = time.perf_counter()
    index(
        model,
        dataset,
        ["grad_cam"],
        out=out,
        source=f"synthetic:{len(dataset)}",
        shard_size=shard_size,
        progress=lambda done, total: marks.append((time.perf_counter(), done)),
        **engine,
    )
    total = time.perf_counter() - start
    first = next(((t, done) for t, done in marks if done >= min(shard_size, len(dataset))), None)
    end_t, end_done = marks[-1]
    steady = (end_done - first[1]) / (end_t - first[0]) if end_t > first[0] else float("nan")
    startup = (first[0] - start) - first[1] / steady if steady == steady else first[0] - start
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"total": total, "startup": startup, "steady": steady, "bytes": size}


def same_shards(store: Path, reference: Path) -> bool:
    """True when every shard and class-mean file is byte-identical."""
    names = [p.relative_to(reference) for p in reference.rglob("*.*") if p.suffix != ".json"]
    return all((store / n).read_bytes() == (reference / n).read_bytes() for n in names)


def run_rows(model, dataset, args, work: Path) -> list[tuple]:
    """Serial, then Ray per worker count; rows finished by an earlier run come from
    work/results.json (keyed by N and shard size, so another --n starts over)."""
    saved = work / "results.json"
    key = f"n={args.n} shard={args.shard_size}"
    done = json.loads(saved.read_text()) if saved.exists() else {}
    done = done if done.get("key") == key else {"key": key}

    def finish(label: str, row: tuple) -> tuple:
        done[label] = row
        tmp = saved.with_suffix(".tmp")
        tmp.write_text(json.dumps(done, indent=1))
        os.replace(tmp, saved)
        return row

    reference = work / "serial"
    if "serial" not in done or not reference.exists():
        shutil.rmtree(reference, ignore_errors=True)
        timed = run_index(model, dataset, reference, args.shard_size)
        finish(
            "serial", ("serial (baseline)", "-", 0.0, timed | {"load": os.getloadavg()[0]}, True)
        )
    rows = [tuple(done["serial"])]
    for item in args.workers.split(","):
        workers, _, threads = item.partition("x")
        workers, threads = int(workers), int(threads) if threads else None
        label = f"ray{item}"
        if label not in done:
            import ray

            out = work / label
            shutil.rmtree(out, ignore_errors=True)
            started = time.perf_counter()
            ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1")
            init = time.perf_counter() - started
            try:
                timed = run_index(
                    model,
                    dataset,
                    out,
                    args.shard_size,
                    engine="ray",
                    workers=workers,
                    threads_per_worker=threads,
                )
            finally:
                ray.shutdown()
            same = same_shards(out, reference)
            if not same:
                print(
                    f"ray {item}: largest differences from serial",
                    largest_differences(out, reference),
                )
            shutil.rmtree(out)
            row = ("ray", item, init, timed | {"load": os.getloadavg()[0]}, same)
            finish(label, row)
        rows.append(tuple(done[label]))
    return rows


def largest_differences(store: Path, reference: Path) -> dict:
    """Largest |difference| from the reference store per array kind (embeddings, grad_cam...)."""
    import numpy as np

    worst: dict[str, float] = {}
    for path in reference.rglob("*.npy"):
        kind = f"{path.parent.name}/{path.name.removesuffix('.npy').split('.')[-1]}"
        a = np.load(path).astype(np.float64)
        b = np.load(store / path.relative_to(reference)).astype(np.float64)
        worst[kind] = max(worst.get(kind, 0.0), float(np.max(np.abs(a - b), initial=0.0)))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic faces (default 100000)")
    parser.add_argument(
        "--workers", default="1,2", help="Ray rows: worker counts, WxT for T threads per worker"
    )
    parser.add_argument("--shard-size", type=int, default=1024)
    parser.add_argument(
        "--work", help="folder that keeps finished rows and the serial store (resumable)"
    )
    args = parser.parse_args()

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    import tensorflow as tf

    name = zoo.default_model()
    model = zoo.load(name)
    size, _, channels = (int(d) for d in model.inputs[0].shape[1:])
    made = time.perf_counter()
    dataset = load_dataset(
        "synthetic", "publictest", class_set_of(model.class_names), limit=args.n,
        size=size, channels=channels,
    )  # fmt: skip
    made = time.perf_counter() - made
    load = os.getloadavg()[0]
    print(
        f"tf {tf.__version__} | ray {ray.__version__} | {os.cpu_count()} CPUs, load avg "
        f"{load:.1f} at start (shared machine) | model {name} | N={args.n} synthetic "
        f"{size}x{size}x{channels} faces (generated in {made:.0f} s) | shards of {args.shard_size}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(args.work) if args.work else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        rows = run_rows(model, dataset, args, work)
    print(
        f"{'engine':18} {'workers':>7} {'ray.init s':>10} {'total s':>8} {'img/s':>7} "
        f"{'startup s':>9} {'steady img/s':>12} {'overhead ms/img':>15} {'same store':>10}"
        f" {'load avg':>9}"
    )
    serial = rows[0][3]
    for engine, workers, init, timed, same in rows:
        rate = args.n / (timed["total"] + init)
        overhead = 1000 * (timed["total"] + init - serial["total"]) / args.n
        print(
            f"{engine:18} {workers:>7} {init:10.1f} {timed['total']:8.1f} {rate:7.0f} "
            f"{timed['startup']:9.1f} {timed['steady']:12.0f} {overhead:15.3f} {str(same):>10}"
            f" {timed.get('load', float('nan')):9.1f}"
        )
    print(
        f"store: {serial['bytes'] / 2**20:.1f} MiB, {serial['bytes'] / args.n:.0f} bytes per face"
        f" | load avg {os.getloadavg()[0]:.1f} at end"
    )


if __name__ == "__main__":
    main()
