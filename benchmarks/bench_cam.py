"""Throughput of the emolens CAM family vs its floors and tf-keras-vis, measured in one run.

    python benchmarks/bench_cam.py                       # mini_xception, 48x48 gray, bs 1,32,256
    python benchmarks/bench_cam.py --batch-sizes 1,32,256 --model vgg
    python benchmarks/bench_cam.py --size 224            # 224x224 colour
    python benchmarks/bench_cam.py --memory              # peak RSS of grad_cam, 10k images

Baselines: "fwd+bwd" (forward + backward to the CAM layer, compiled: the floor of any
gradient CAM), "fwd" (compiled forward), tf-keras-vis 0.8.7 on a logits model, and for
Score-CAM its own floor (one compiled forward per live channel on pre-made masked images).
Floors are dispatched like the CAMs (concrete functions with fixed signatures, outputs
fetched to numpy); all callables of a table are timed in interleaved rounds (median).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import threading
import time
import warnings
from functools import partial

import keras
import numpy as np
import psutil
import tensorflow as tf
from tf_keras_vis.gradcam import Gradcam
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
from tf_keras_vis.layercam import Layercam
from tf_keras_vis.scorecam import Scorecam
from tf_keras_vis.utils.scores import CategoricalScore

from emolens import explain
from emolens.explain._layers import feature_model, logits_model, resolve_layer
from emolens.explain.cam._gradient import _acts_and_grads, image_specs
from emolens.explain.cam.score_cam import live_pairs, unit_masks
from emolens.models.architectures.mini_xception import build_mini_xception
from emolens.models.architectures.vgg import build_vgg

BUILDERS = {"mini_xception": build_mini_xception, "vgg": build_vgg}
GRADIENT_CAMS = ["grad_cam", "grad_cam_pp", "hires_cam", "xgrad_cam", "layer_cam", "eigen_cam"]
TKV = {"grad_cam": Gradcam, "grad_cam_pp": GradcamPlusPlus, "layer_cam": Layercam}
TARGETS = {"grad_cam": 0.9, "score_cam": 0.9}  # minimum speed as a fraction of the floor


def timed(fns: dict, repeats: int) -> dict:
    """Median seconds of each fn() after one warm-up call each, measured in interleaved rounds.

    Interleaving gives every callable the same share of a noisy, shared machine, so the
    ratios between them hold even when the absolute times drift.
    """
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def floors(model, layer, images, targets, batch_size):
    """Callables for the compiled forward and forward+backward floors.

    Dispatched like the CAMs themselves: one concrete function per floor, closing over the
    cached sub-model, with a fixed input signature; inputs converted once per batch and
    outputs fetched to numpy. The fwd+bwd floor returns the layer's activations and the
    target logit's gradients, the least any gradient CAM computes.
    """
    features, head = feature_model(model, layer), logits_model(model)
    image_spec, target_spec = image_specs(images.shape[1:])
    forward = tf.function(lambda x: head(x, training=False)).get_concrete_function(image_spec)
    backward = tf.function(lambda x, t: _acts_and_grads(features, x, t)).get_concrete_function(
        image_spec, target_spec
    )
    parts = [slice(i, i + batch_size) for i in range(0, len(images), batch_size)]

    def run_forward():
        for part in parts:
            forward(tf.constant(images[part])).numpy()

    def run_backward():
        for part in parts:
            acts, grads = backward(tf.constant(images[part]), tf.constant(targets[part]))
            grads.numpy()

    return run_forward, run_backward


def score_floor(model, layer, images, batch_size):
    """Callable running one compiled forward per live channel on pre-made masked images."""
    acts, _ = feature_model(model, layer)(images)
    acts = acts.numpy()
    pairs = live_pairs(acts, None)
    maps = tf.gather_nd(tf.transpose(acts, (0, 3, 1, 2)), pairs)
    masked = tf.gather(images, pairs[:, 0]) * unit_masks(maps, images.shape[1:3])[..., None]
    head = logits_model(model)
    forward = tf.function(lambda x: head(x, training=False)).get_concrete_function(
        image_specs(images.shape[1:])[0]
    )
    chunks = [tf.identity(masked[i : i + batch_size]) for i in range(0, len(pairs), batch_size)]

    def run():
        for chunk in chunks:
            forward(chunk).numpy()

    return run, len(pairs)


def row(name, seconds, count, base, tkv=None, target=None):
    ips = count / seconds
    versus = f"{base / seconds:6.2f}x" if base else "      -"
    other = f"{tkv / seconds:7.2f}x" if tkv else "       -"
    line = f"{name:<30}{1000 * seconds:10.1f}{ips:11.1f}   {versus}      {other}"
    if target is not None:
        met = "met" if base / seconds >= target else "MISSED"
        line += f"   target >= {target:.2f}x vs floor: {met}"
    return line


def bench(model, layer, batch_size, args):
    rng = np.random.default_rng(0)
    images = rng.random((batch_size, *model.input_shape[1:]), dtype=np.float32)
    targets = np.zeros(batch_size, np.int32)
    logits = logits_model(model)
    fwd, fwd_bwd = floors(model, layer, images, targets, batch_size)
    score = CategoricalScore(targets.tolist())
    fns = {"forward": fwd, "forward+backward": fwd_bwd}
    for name in GRADIENT_CAMS:
        fns[name] = partial(explain.METHODS[name], model, images, 0, layer, batch_size=batch_size)
        if name in TKV:
            tool = TKV[name](logits, clone=False)
            fns["tkv " + name] = lambda tool=tool: tool(
                score, images, penultimate_layer=layer, seek_penultimate_conv_layer=False
            )
    times = timed(fns, args.repeats)
    t_bwd = times["forward+backward"]
    lines = [
        row("forward", times["forward"], batch_size, t_bwd),
        row("forward+backward", t_bwd, batch_size, t_bwd),
    ]
    for name in GRADIENT_CAMS:
        theirs = times.get("tkv " + name)
        if theirs is not None:
            lines.append(row(f"  tf-keras-vis {TKV[name].__name__}", theirs, batch_size, t_bwd))
        lines.append(row(name, times[name], batch_size, t_bwd, theirs, TARGETS.get(name)))
    # Score-CAM and Ablation-CAM: one forward per channel, on a few images only.
    few = images[: args.score_images]
    floor, passes = score_floor(model, layer, few, batch_size)
    tool = Scorecam(logits, clone=False)
    score_times = timed(
        {
            "floor": floor,
            "score_cam": lambda: explain.score_cam(model, few, 0, layer, batch_size=batch_size),
        },
        args.score_repeats,
    )
    other_times = timed(
        {
            "tkv": lambda: tool(
                CategoricalScore([0] * len(few)),
                few,
                penultimate_layer=layer,
                seek_penultimate_conv_layer=False,
                batch_size=batch_size,
            ),
            "ablation_cam": lambda: explain.ablation_cam(
                model, few, 0, layer, batch_size=batch_size
            ),
        },
        1,
    )
    t_floor, t_score = score_times["floor"], score_times["score_cam"]
    lines += [
        f"-- {len(few)} image(s), {passes} masked forwards; 'vs fwd+bwd' = vs Score-CAM floor --",
        row("score_cam floor", t_floor, len(few), t_floor),
        row("  tf-keras-vis Scorecam", other_times["tkv"], len(few), t_floor),
        row("score_cam", t_score, len(few), t_floor, other_times["tkv"], TARGETS["score_cam"]),
        row("ablation_cam", other_times["ablation_cam"], len(few), t_floor),
    ]
    return lines


def memory(batch_size: int, count: int) -> list[str]:
    """Peak RSS growth of grad_cam over `count` 48x48 images vs the size of its output maps.

    RSS is sampled every millisecond by a thread during the call (psutil); the images are
    made and the step traced (one warm-up batch) before the baseline is read.
    """
    keras.utils.set_random_seed(0)
    model = build_mini_xception((48, 48, 1), num_classes=3)
    images = np.random.default_rng(0).random((count, 48, 48, 1), dtype=np.float32)
    explain.grad_cam(model, images[:batch_size], None, batch_size=batch_size)  # trace once
    process = psutil.Process()
    mib = 2.0**20
    lines = [f"grad_cam over {count} images 48x48x1, batch {batch_size}, mini_xception"]
    for attempt in (1, 2):
        gc.collect()
        before = process.memory_info().rss
        peak, done = [before], threading.Event()

        def sample(peak=peak, done=done):
            while not done.wait(0.001):
                peak[0] = max(peak[0], process.memory_info().rss)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        maps = explain.grad_cam(model, images, None, batch_size=batch_size)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        peak[0] = max(peak[0], process.memory_info().rss)
        growth, output = (peak[0] - before) / mib, maps.nbytes / mib
        lines.append(
            f"run {attempt}: {seconds:5.1f} s ({count / seconds:6.0f} images/s) | output maps "
            f"{output:6.1f} MiB | peak RSS growth {growth:6.1f} MiB = {growth / output:4.2f}x "
            f"the output | RSS after - before {(process.memory_info().rss - before) / mib:6.1f} MiB"
        )
        del maps
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(BUILDERS), default="mini_xception")
    parser.add_argument("--size", type=int, default=48, help="48: gray 48x48; else colour")
    parser.add_argument("--batch-sizes", default="1,32,256", help="comma separated")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--score-images", type=int, default=2)
    parser.add_argument("--score-repeats", type=int, default=3)
    parser.add_argument(
        "--memory",
        action="store_true",
        help="only: peak RSS growth of grad_cam over --memory-images 48x48 images, batch 256",
    )
    parser.add_argument("--memory-images", type=int, default=10_000)
    parser.add_argument("--layer", default=None, help="default: the last spatial layer")
    args = parser.parse_args()
    if args.memory:
        print("\n".join(memory(256, args.memory_images)))
        return
    keras.utils.set_random_seed(0)
    keras.config.disable_interactive_logging()  # tf-keras-vis Scorecam's predict() progress bars
    warnings.filterwarnings("ignore", message="The structure of `inputs`")  # from tf-keras-vis
    shape = (48, 48, 1) if args.size == 48 else (args.size, args.size, 3)
    model = BUILDERS[args.model](shape, num_classes=3)
    layer = resolve_layer(model, args.layer)
    gpus = tf.config.list_physical_devices("GPU")
    details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
    device = details.get("device_name", "GPU") if gpus else "none (CPU)"
    size = "x".join(map(str, shape))
    print(f"tf {tf.__version__} | keras {keras.__version__} | GPU: {device} | {size}", end="")
    print(f", model={args.model}, layer={layer}, repeats={args.repeats} (median)")
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        print(f"\nbatch {batch_size}")
        header = f"{'method':<30}{'ms/batch':>10}{'images/s':>11}"
        print(header + "   vs fwd+bwd   vs tf-keras-vis")
        for line in bench(model, layer, batch_size, args):
            print(line, flush=True)


if __name__ == "__main__":
    main()
