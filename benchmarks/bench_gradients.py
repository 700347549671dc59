"""Throughput of saliency, SmoothGrad and Integrated Gradients vs their forward+backward floor.

    python benchmarks/bench_gradients.py --n 32 --size 48 --samples 25 --steps 32

Floor: the same number of compiled forward+backward passes (input gradient of the target
logit) on full batches, timed back to back just before each method.
Naive: one image at a time, eager GradientTape, one pass per noise sample / path step
(measured on --naive-images images, scaled to N).
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf

from emolens.explain._layers import logits_model
from emolens.explain.gradients.integrated_gradients import integrated_gradients
from emolens.explain.gradients.saliency import saliency
from emolens.explain.gradients.smoothgrad import smoothgrad
from emolens.models.architectures.mini_xception import build_mini_xception


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: traces the tf.functions
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


@tf.function(reduce_retracing=True)
def _forward_backward(head, images, targets):
    with tf.GradientTape() as tape:
        tape.watch(images)
        score = tf.gather(head(images, training=False), targets, batch_dims=1)
    return tape.gradient(score, images)


def batches(total: int, batch_size: int, wrap: int) -> list[np.ndarray]:
    """Index arrays of `total` items in chunks of `batch_size`, wrapping around `wrap` images."""
    return [np.arange(i, min(i + batch_size, total)) % wrap for i in range(0, total, batch_size)]


def _naive_passes(head, images, targets, passes: int) -> None:
    """Eager, one image at a time, `passes` forward+backward each (no batching, no graph)."""
    for image, target in zip(images, targets, strict=True):
        for _ in range(passes):
            x = tf.constant(image[None])
            with tf.GradientTape() as tape:
                tape.watch(x)
                score = head(x, training=False)[0, int(target)]
            tape.gradient(score, x).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--samples", type=int, default=25)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-images", type=int, default=2)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = build_mini_xception((args.size, args.size, 1), 3)
    head = logits_model(model)
    images = np.random.default_rng(0).random((args.n, args.size, args.size, 1), np.float32)
    targets = np.arange(args.n, dtype=np.int32) % 3
    batch = (tf.constant(images[: args.batch_size]), tf.constant(targets[: args.batch_size]))
    pass_ms = _median_ms(lambda: _forward_backward(head, *batch).numpy(), args.repeats * 4)

    rows = [
        ("saliency", 1, lambda: saliency(model, images, targets, batch_size=args.batch_size)),
        (
            f"smoothgrad n={args.samples}",
            args.samples,
            lambda: smoothgrad(
                model, images, targets, batch_size=args.batch_size, n_samples=args.samples
            ),
        ),
        (
            f"integrated_gradients steps={args.steps}",
            args.steps,
            lambda: integrated_gradients(
                model, images, targets, batch_size=args.batch_size, steps=args.steps
            ),
        ),
    ]
    gpus = tf.config.list_physical_devices("GPU")
    device = (
        tf.config.experimental.get_device_details(gpus[0]).get("device_name") if gpus else "none"
    )
    print(
        f"tf {tf.__version__} | keras {keras.__version__} | GPU: {device} | N={args.n}, "
        f"{args.size}x{args.size}, batch {args.batch_size}, model=mini_xception (random weights)"
    )
    print(f"floor: forward+backward {pass_ms:.2f} ms/batch of {args.batch_size}")
    header = f"{'method':<34}{'passes':>7}{'ms/call':>10}{'images/s':>10}"
    print(header + f"{'floor ms':>10}{'vs floor':>10}{'naive ms':>11}{'vs naive':>10}")
    few = args.naive_images
    for name, passes, fn in rows:
        ms = _median_ms(fn, args.repeats)
        chunks = [
            (tf.constant(images[rows]), tf.constant(targets[rows]))
            for rows in batches(args.n * passes, args.batch_size, wrap=args.n)
        ]
        floor = _median_ms(
            lambda c=chunks: [_forward_backward(head, *chunk).numpy() for chunk in c],
            args.repeats,
        )  # the same passes, timed back to back just before the method
        naive = _median_ms(lambda p=passes: _naive_passes(head, images[:few], targets[:few], p), 1)
        naive *= args.n / few
        print(
            f"{name:<34}{passes:>7}{ms:>10.1f}{1000 * args.n / ms:>10.0f}{floor:>10.1f}"
            f"{ms / floor:>9.2f}x{naive:>11.0f}{naive / ms:>9.1f}x"
        )


if __name__ == "__main__":
    main()
