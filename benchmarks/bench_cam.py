"""Throughput of the emolens CAM family vs its floors and tf-keras-vis, measured in one run.

    python benchmarks/bench_cam.py                       # mini_xception, 48x48 gray, bs 1,32
    python benchmarks/bench_cam.py --batch-sizes 1,32,256 --model vgg
    python benchmarks/bench_cam.py --size 224            # 224x224 colour

Baselines: "fwd+bwd" (forward + backward to the CAM layer, compiled: the floor of any
gradient CAM), "fwd" (compiled forward), tf-keras-vis 0.8.7 on a logits model, and for
Score-CAM its own floor (one compiled forward per live channel on pre-made masked images).
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from tf_keras_vis.gradcam import Gradcam
from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
from tf_keras_vis.layercam import Layercam
from tf_keras_vis.scorecam import Scorecam
from tf_keras_vis.utils.scores import CategoricalScore

import explain
from explain._layers import feature_model, logits_model, resolve_layer
from explain.cam._gradient import _acts_and_grads
from explain.cam.score_cam import live_pairs, unit_masks
from models.architectures.mini_xception import build_mini_xception
from models.architectures.vgg import build_vgg

BUILDERS = {"mini_xception": build_mini_xception, "vgg": build_vgg}
GRADIENT_CAMS = ["grad_cam", "grad_cam_pp", "hires_cam", "xgrad_cam", "layer_cam", "eigen_cam"]
TKV = {"grad_cam": Gradcam, "grad_cam_pp": GradcamPlusPlus, "layer_cam": Layercam}


def timed(fn, repeats: int) -> float:
    """Median seconds of fn() after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def floors(model, layer, images, targets, batch_size):
    """Callables for the compiled forward and forward+backward floors."""
    features, head = feature_model(model, layer), logits_model(model)
    forward = tf.function(lambda x: head(x, training=False), reduce_retracing=True)
    backward = tf.function(_acts_and_grads, reduce_retracing=True)
    parts = [slice(i, i + batch_size) for i in range(0, len(images), batch_size)]

    def run_forward():
        for part in parts:
            forward(tf.constant(images[part])).numpy()

    def run_backward():
        for part in parts:
            acts, grads = backward(features, tf.constant(images[part]), tf.constant(targets[part]))
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
    forward = tf.function(lambda x: head(x, training=False), reduce_retracing=True)

    chunks = [masked[i : i + batch_size] for i in range(0, len(pairs), batch_size)]

    def run():
        for chunk in chunks:
            forward(chunk).numpy()

    return run, len(pairs)


def row(name, seconds, count, base, tkv=None):
    ips = count / seconds
    versus = f"{base / seconds:6.2f}x" if base else "      -"
    other = f"{tkv / seconds:7.2f}x" if tkv else "       -"
    return f"{name:<30}{1000 * seconds:10.1f}{ips:11.1f}   {versus}   {other}"


def bench(model, layer, batch_size, args):
    rng = np.random.default_rng(0)
    images = rng.random((batch_size, *model.input_shape[1:]), dtype=np.float32)
    targets = np.zeros(batch_size, np.int32)
    logits = logits_model(model)
    fwd, fwd_bwd = floors(model, layer, images, targets, batch_size)
    t_fwd, t_bwd = timed(fwd, args.repeats), timed(fwd_bwd, args.repeats)
    lines = [
        row("forward", t_fwd, batch_size, t_bwd),
        row("forward+backward", t_bwd, batch_size, t_bwd),
    ]
    score = CategoricalScore(targets.tolist())
    for name in GRADIENT_CAMS:
        ours = timed(
            lambda n=name: explain.METHODS[n](model, images, 0, layer, batch_size=batch_size),
            args.repeats,
        )
        theirs = None
        if name in TKV:
            tool = TKV[name](logits, clone=False)

            def call(tool=tool):
                return tool(
                    score, images, penultimate_layer=layer, seek_penultimate_conv_layer=False
                )

            theirs = timed(call, args.repeats)
            lines.append(row(f"  tf-keras-vis {TKV[name].__name__}", theirs, batch_size, t_bwd))
        lines.append(row(name, ours, batch_size, t_bwd, theirs))
    # Score-CAM and Ablation-CAM: one forward per channel, on a few images only.
    few = images[: args.score_images]
    floor, passes = score_floor(model, layer, few, batch_size)
    t_floor = timed(floor, 1)
    t_score = timed(lambda: explain.score_cam(model, few, 0, layer, batch_size=batch_size), 1)
    tool = Scorecam(logits, clone=False)
    t_tkv = timed(
        lambda: tool(
            CategoricalScore([0] * len(few)),
            few,
            penultimate_layer=layer,
            seek_penultimate_conv_layer=False,
            batch_size=batch_size,
        ),
        1,
    )
    t_ablation = timed(lambda: explain.ablation_cam(model, few, 0, layer, batch_size=batch_size), 1)
    lines += [
        f"-- {len(few)} image(s), {passes} masked forwards; 'vs floor' = vs Score-CAM floor --",
        row("score_cam floor", t_floor, len(few), t_floor),
        row("  tf-keras-vis Scorecam", t_tkv, len(few), t_floor),
        row("score_cam", t_score, len(few), t_floor, t_tkv),
        row("ablation_cam", t_ablation, len(few), t_floor),
    ]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(BUILDERS), default="mini_xception")
    parser.add_argument("--size", type=int, default=48, help="48: gray 48x48; else colour")
    parser.add_argument("--batch-sizes", default="1,32", help="comma separated, e.g. 1,32,256")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--score-images", type=int, default=2)
    parser.add_argument("--layer", default=None, help="default: the last spatial layer")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
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
