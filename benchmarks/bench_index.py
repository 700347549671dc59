"""Time and memory of `explain.store.index` vs a plain compiled `model.predict`, in one run.

    python benchmarks/bench_index.py                  # FER2013 PublicTest, default model
    python benchmarks/bench_index.py --repeats 3 --data /path/holding/fer2013

Index = the whole library call on a loaded model and dataset: prediction, probabilities,
loss, margin, penultimate embedding and Grad-CAM of every face (one compiled forward +
backward pass per batch), hashing of model and data, atomic shard writes (fsync), class
means and manifest. Baseline = `model.predict` over the same images at the same batch size
(Keras' compiled predict function); also the compiled forward floor (one concrete
function per batch, dispatched as the store's step is, no tf.data). Also timed: the same
outputs from separate calls (predict, an embedding sub-model, explain.grad_cam), what the
one pass saves. All are warmed up first, then timed in interleaved rounds (median).
Memory: peak RSS growth during one index call (VmHWM of /proc/self/status, reset through
/proc/self/clear_refs; else RSS sampled every millisecond) and the tracemalloc peak (numpy
and Python allocations).
The dataset falls back to 3,589 synthetic faces when FER2013 is absent (said in the header).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import keras
import tensorflow as tf

from emolens import explain, models
from emolens.explain.data import Dataset, load_dataset
from emolens.explain.store import index, open_store
from emolens.explain.store._forward import store_model
from emolens.models import zoo

PUBLICTEST = 3589
TARGET_RATIO, TARGET_SECONDS, TARGET_MIB = 2.0, 30.0, 500.0


def faces(data: str | None) -> tuple[Dataset, str]:
    """FER2013 PublicTest with all seven classes' faces, else 3,589 synthetic faces."""
    try:
        dataset = load_dataset(data or "fer2013", "publictest", "fer7")
        return dataset, f"FER2013 PublicTest, {len(dataset)} faces"
    except (FileNotFoundError, ValueError) as error:
        dataset = load_dataset("synthetic", "publictest", "emo3", limit=PUBLICTEST)
        return dataset, f"FER2013 ABSENT ({error}); {len(dataset)} synthetic faces instead"


def status_mib(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_growth(call) -> tuple[float, float, str]:
    """(peak RSS growth MiB, tracemalloc peak MiB, how RSS was measured) during call()."""
    before = status_mib("VmRSS")
    exact = reset_peak()
    sampled, done = [before], threading.Event()

    def sample():
        while not done.is_set():
            sampled.append(status_mib("VmRSS"))
            time.sleep(0.001)

    thread = threading.Thread(target=sample, daemon=True)
    tracemalloc.start()
    thread.start()
    try:
        call()
    finally:
        done.set()
        thread.join()
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    if exact:
        return status_mib("VmHWM") - before, traced / 2**20, "VmHWM"
    return max(sampled) - before, traced / 2**20, "sampled RSS"


def separate_calls(model, batch_size):
    """run(images): the same outputs without the one pass: predict, embedding model, grad_cam."""
    embedder = keras.Model(model.inputs[0], store_model(model, None, False).outputs[0])

    def run(images):
        probs = model.predict(images, batch_size=batch_size, verbose=0)
        embedder.predict(images, batch_size=batch_size, verbose=0)
        explain.grad_cam(model, images, probs.argmax(axis=1), batch_size=batch_size)

    return run


def forward_floor(model, images, batch_size):
    """run(): the model's forward pass as one concrete function per batch (no tf.data)."""
    spec = tf.TensorSpec((None, *images.shape[1:]), tf.float32)
    step = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    parts = [slice(i, i + batch_size) for i in range(0, len(images), batch_size)]

    def run():
        for part in parts:
            step(tf.constant(images[part])).numpy()

    return run


def disk_mib(folder: Path, pattern: str = "*") -> float:
    return sum(p.stat().st_size for p in folder.rglob(pattern) if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder holding fer2013/ (default: found)")
    parser.add_argument("--model", default=None, help="bundled name or .keras (default model)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-separate", action="store_true", help="skip timing the separate calls (slowest)"
    )
    args = parser.parse_args()

    model = models.load(args.model)
    dataset, described = faces(args.data)
    images, batch = dataset.images, args.batch_size
    work = Path(tempfile.mkdtemp(prefix="bench_index_"))
    runs = [0]
    separate = separate_calls(model, batch)

    def run_index():
        runs[0] += 1
        out = work / f"store{runs[0]}"
        index(model, dataset, ["grad_cam"], out=out, batch_size=batch, source=described)
        return out

    forward = forward_floor(model, images, batch)
    fns = {
        "model.predict (baseline)": lambda: model.predict(images, batch_size=batch, verbose=0),
        "compiled forward (floor)": forward,
        "index (pred+emb+grad_cam+writes)": run_index,
        "separate calls (no one pass)": lambda: separate(images),
    }
    if args.no_separate:
        del fns["separate calls (no one pass)"]
    small = Dataset(images[:batch], dataset.labels[:batch], dataset.classes)
    model.predict(images[: batch + 5], batch_size=batch, verbose=0)  # warm-up: trace each shape
    index(model, small, ["grad_cam"], out=work / "warm", batch_size=batch)
    if not args.no_separate:
        separate(images[: batch + 5])
    times = {name: [] for name in fns}
    for round_ in range(args.repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
        done = ", ".join(f"{name.split(' ')[0]} {t[-1]:.2f} s" for name, t in times.items())
        print(f"round {round_ + 1}: {done}", flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    rss, traced, how = peak_growth(run_index)
    store = open_store(work / f"store{runs[0]}")

    name = args.model or zoo.default_model()
    print(
        f"tf {tf.__version__} | keras {keras.__version__} | CPU: {os.cpu_count()} cores, shared "
        f"with other jobs | model={name} | {described} "
        f"{'x'.join(map(str, images.shape[1:]))} | batch {batch} | repeats={args.repeats} (median)"
    )
    print(f"{'step':<36}{'seconds':>9}{'images/s':>10}{'vs predict':>12}{'vs floor':>10}")
    base, floor = median["model.predict (baseline)"], median["compiled forward (floor)"]
    for step, seconds in median.items():
        line = f"{step:<36}{seconds:9.2f}{len(images) / seconds:10.0f}"
        line += f"{seconds / base:11.2f}x{seconds / floor:9.2f}x"
        if step.startswith("index"):
            met = seconds / base < TARGET_RATIO and seconds < TARGET_SECONDS
            line += f"   target < {TARGET_RATIO:.0f}x and < {TARGET_SECONDS:.0f} s: "
            line += "met" if met else "MISSED"
        print(line)
    met = "met" if rss < TARGET_MIB else "MISSED"
    print(
        f"memory during one index call: peak RSS growth {rss:.0f} MiB ({how}; target < "
        f"{TARGET_MIB:.0f} MB: {met}), tracemalloc peak {traced:.0f} MiB"
    )
    folder, dim = store.path, store.manifest["embedding"]["dim"]
    print(
        f"store on disk: {disk_mib(folder):.1f} MiB for {len(store)} faces (rows "
        f"{disk_mib(folder, '*.parquet'):.1f}, embeddings float32 x{dim} "
        f"{disk_mib(folder, '*.embeddings.npy'):.1f}, grad_cam uint8 "
        f"{disk_mib(folder / 'shards', '*.grad_cam.npy'):.1f}, class means "
        f"{disk_mib(folder / 'means'):.2f}); accuracy on the model's classes "
        f"{store.rows.loc[store.rows['label'] >= 0, 'correct'].mean():.4f}"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
