"""Training throughput of the zoo on this CPU: images/s per architecture and setup.

Each setup runs in its own process (the Keras backend and the mixed-precision policy are
process-wide), pinned to the first `--threads` cores, with the exact training model of
`emolens train` (augmentation layers + zoo architecture, AdamW, label smoothing), on random
48x48 faces so no data is needed. The baseline is the setup `emolens train` uses by default
(TensorFlow, float32, batch 128, plain steps), measured in the same run.

    python benchmarks/bench_train.py                        # default grid (30 setups: hours)
    python benchmarks/bench_train.py --archs vgg --threads 1 2 --backends tensorflow jax \
        --precisions float32 mixed_bfloat16 --batch-sizes 64 128 256
    python benchmarks/bench_train.py --archs alexnet mobilenetv2 efficientnetb0 \
        --arch-kwargs '{"alexnet": {"width": 0.5}, "mobilenetv2": {"alpha": 0.5}}' \
        --backends tensorflow --precisions float32 --batch-sizes 128   # the lineup as trained
    python benchmarks/bench_train.py --archs vgg --threads 2 --backends tensorflow \
        --precisions float32 --batch-sizes 128 --sam 0.05       # what a SAM step costs

Prints a markdown table: arch, backend, precision, batch, threads, images/s, x baseline; then,
per arch, what `emolens train`'s own data pipeline costs per batch (its `TrainBatches` with CutMix,
run synchronously on the training thread) as a share of one training step at the baseline:
the most that overlapping data loading with the step could gain.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

BASELINE = {"backend": "tensorflow", "precision": "float32", "batch": 128, "sam": 0.0}


def _one(spec: dict) -> dict:
    """Child process: build, compile, warm up, time `spec['steps']` training steps."""
    os.sched_setaffinity(0, set(range(spec["threads"])))
    os.environ["KERAS_BACKEND"] = spec["backend"]
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras
    import numpy as np

    if spec["backend"] == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(spec["threads"])
        tf.config.threading.set_inter_op_parallelism_threads(spec["threads"])
    keras.mixed_precision.set_global_policy(spec["precision"])
    from emolens.models import zoo
    from emolens.models.augment import allow_jit, augmentation
    from emolens.models.sam import use_sam
    from emolens.models.train import compile_for_training
    from emolens.models.train_config import TrainConfig

    cfg = TrainConfig(arch=spec["arch"], classes="emo3", batch_size=spec["batch"], epochs=10)
    keras.utils.set_random_seed(0)
    base = zoo.build(spec["arch"], 3, (48, 48, 1), **spec.get("arch_kwargs", {}))
    inputs = keras.Input((48, 48, 1), name="train_image")
    wrapper = keras.Model(inputs, base(augmentation()(inputs)), name="train_wrapper")
    compile_for_training(wrapper, cfg, 100)
    allow_jit(wrapper)
    if spec["backend"] == "jax":
        wrapper.jit_compile = True
    if spec.get("sam"):
        use_sam(wrapper, spec["sam"])
    batch = spec["batch"]
    rng = np.random.default_rng(0)
    x = rng.random((batch * 4, 48, 48, 1), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, batch * 4)]
    x, y = x[: batch * 2], y[: batch * 2]
    wrapper.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # compile + warm-up (2 steps)
    steps, start = 0, time.perf_counter()
    while steps < spec["steps"] or time.perf_counter() - start < spec["min_seconds"]:
        wrapper.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        steps += 2
    seconds = time.perf_counter() - start
    return {
        **spec,
        "images_per_s": steps * batch / seconds,
        "params": base.count_params(),
        "data_ms": _data_ms(cfg) if spec.get("data") else None,
    }


def _data_ms(cfg) -> float:
    """Milliseconds per batch of emolens train's pipeline (its CutMix rate), mean of 50."""
    import numpy as np

    from emolens.models.train import TrainBatches

    n = cfg.batch_size * 50
    rng = np.random.default_rng(1)
    images = rng.random((n, 48, 48, 1), dtype=np.float32)
    onehot = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    batches = TrainBatches(images, onehot, np.ones(n, np.float32), cfg)
    times = []
    for index in range(len(batches)):
        start = time.perf_counter()
        batches[index]
        times.append(time.perf_counter() - start)
    return 1000 * float(np.mean(times))


def _run(spec: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--one", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        return {**spec, "error": (proc.stderr.strip().splitlines() or ["?"])[-1][:120]}
    return json.loads(lines[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archs", nargs="+", default=["vgg", "alexnet", "mobilenetv2"])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[64, 128, 256])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument(
        "--arch-kwargs",
        default="{}",
        help='JSON {arch: {builder keyword: value}}, e.g. {"alexnet": {"width": 0.5}}',
    )
    parser.add_argument(
        "--sam",
        nargs="*",
        type=float,
        default=[],
        metavar="RHO",
        help="also time SAM steps of these radii (emolens train --sam; default: none)",
    )
    parser.add_argument("--steps", type=int, default=8, help="at least this many steps")
    parser.add_argument("--min-seconds", type=float, default=30.0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(json.loads(args.one))), flush=True)
        return
    threads = [t for t in args.threads if t <= os.cpu_count()]
    arch_kwargs = json.loads(args.arch_kwargs)
    specs = []
    for arch in args.archs:
        for t in threads:
            grid = [dict(BASELINE)]  # the baseline first, then one factor changed at a time
            grid += [{**BASELINE, "backend": b} for b in args.backends if b != "tensorflow"]
            grid += [{**BASELINE, "precision": p} for p in args.precisions if p != "float32"]
            grid += [{**BASELINE, "batch": b} for b in args.batch_sizes if b != 128]
            grid += [{**BASELINE, "sam": rho} for rho in args.sam if rho]
            for setup in grid:
                specs.append(
                    {
                        **setup,
                        "arch": arch,
                        "arch_kwargs": arch_kwargs.get(arch, {}),
                        "data": setup == BASELINE and t == threads[0],
                        "threads": t,
                        "steps": args.steps,
                        "min_seconds": args.min_seconds,
                    }
                )
    print(f"# training throughput, {os.cpu_count()} cores ({_cpu()}), random 48x48 faces")
    print("| arch | backend | precision | batch | step | threads | images/s | x baseline |")
    print("|---|---|---|---|---|---|---|---|")
    base_rate: dict[tuple, float] = {}
    data_rows = []
    for spec in specs:
        row = _run(spec)
        if row.get("data_ms") is not None:
            step_ms = 1000 * spec["batch"] / row["images_per_s"]
            data_rows.append((spec, row["data_ms"], step_ms))
        key = (spec["arch"], spec["threads"])
        if "error" in row:
            rate, ratio = f"error: {row['error']}", "-"
        else:
            is_base = all(spec[k] == v for k, v in BASELINE.items())
            if is_base:
                base_rate[key] = row["images_per_s"]
            rate = f"{row['images_per_s']:.0f}"
            ratio = f"{row['images_per_s'] / base_rate[key]:.2f}" if key in base_rate else "-"
        arch = spec["arch"] + (f" {spec['arch_kwargs']}" if spec["arch_kwargs"] else "")
        print(
            f"| {arch} | {spec['backend']} | {spec['precision']} | {spec['batch']} "
            f"| {'SAM ' + str(spec['sam']) if spec['sam'] else 'plain'} "
            f"| {spec['threads']} | {rate} | {ratio} |",
            flush=True,
        )
    print("\n| arch | data pipeline ms/batch | training step ms | data share of a step |")
    print("|---|---|---|---|")
    for spec, data_ms, step_ms in data_rows:
        print(f"| {spec['arch']} | {data_ms:.1f} | {step_ms:.0f} | {data_ms / step_ms:.2%} |")


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"


if __name__ == "__main__":
    main()
