"""Throughput of feature-map extraction and ViT attention maps vs a plain forward pass.

    python benchmarks/bench_inside.py --n 64 --repeats 5

Zoo models at 48x48 with random weights; batch 32; median of repeats after a warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from emolens.explain import attention_map, attention_relevance, attention_rollout, feature_maps
from emolens.models.architectures.mini_xception import build_mini_xception
from emolens.models.architectures.vgg import build_vgg
from emolens.models.architectures.vit import build_vit


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up: traces the tf.function, builds cached sub-models
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def forward_fn(model, images, batch_size):
    step = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)

    def run():
        for i in range(0, len(images), batch_size):
            step(tf.constant(images[i : i + batch_size])).numpy()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).random((args.n, 48, 48, 1), dtype=np.float32)
    bs = args.batch_size
    models = {
        "vgg": build_vgg((48, 48, 1), 3),
        "mini_xception": build_mini_xception((48, 48, 1), 3),
        "vit": build_vit((48, 48, 1), 3),
    }
    cases = []
    for name in ("vgg", "mini_xception"):
        model = models[name]
        cases.append((name, "forward (baseline)", forward_fn(model, images, bs)))
        cases.append(
            (
                name,
                "feature_maps (all blocks)",
                lambda m=model: feature_maps(m, images, batch_size=bs),
            )
        )
    vit = models["vit"]
    cases.append(("vit", "forward (baseline)", forward_fn(vit, images, bs)))
    cases.append(("vit", "feature_maps (attn)", lambda: feature_maps(vit, images, batch_size=bs)))
    for method in (attention_map, attention_rollout, attention_relevance):
        cases.append(("vit", method.__name__, lambda f=method: f(vit, images, batch_size=bs)))
    gpus = tf.config.list_physical_devices("GPU")
    device = (
        tf.config.experimental.get_device_details(gpus[0]).get("device_name") if gpus else "CPU"
    )
    print(
        f"tf {tf.__version__} | keras {keras.__version__} | {device} | "
        f"N={args.n}, 48x48, batch {bs}, median of {args.repeats}"
    )
    print(f"{'model':<14}{'method':<28}{'ms/batch':>10}{'images/s':>10}{'vs forward':>12}")
    baseline = {}
    for model_name, label, fn in cases:
        seconds = median_seconds(fn, args.repeats)
        per_batch = 1000 * seconds / -(-args.n // bs)
        rate = args.n / seconds
        baseline.setdefault(model_name, rate)
        ratio = rate / baseline[model_name]
        print(f"{model_name:<14}{label:<28}{per_batch:>10.1f}{rate:>10.0f}{ratio:>11.2f}x")


if __name__ == "__main__":
    main()
