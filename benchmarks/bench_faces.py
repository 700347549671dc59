"""Speed of the face sources: synthetic cartoon faces and the photo pipeline, each vs a baseline.

    python benchmarks/bench_faces.py --n 1000 --repeats 3

Synthetic faces: `faces(n)` in one call vs the baseline `faces(1)` called n times (the same
drawing, plus the per-call setup each time). Photos: `detect_faces` and `prepare_faces` on
Grace Hopper's portrait (600x512, matplotlib's sample) and on a 4x enlargement (2400x2048)
vs the baseline: the same Haar cascade run at full resolution, without the resampling (the
smallest face searched becomes 48 px) that `detect_faces` applies first. Median of --repeats
after one warm-up call.
(Timings live here, not in unit tests: a wall-clock limit in a test is flaky on a busy
machine and checks nothing about correctness.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from matplotlib import cbook

from emolens.explain.data.synthetic import faces
from emolens.explain.faces import _cascade, decode_image, detect_faces, prepare_faces


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: loads the cascade, fills caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _full_resolution_haar(photo: np.ndarray) -> None:
    """The baseline detector: the same cascade and minimum size, no shrinking first."""
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    side = max(24, round(min(gray.shape) / 12))
    _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="synthetic faces per call")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    hopper = decode_image(Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    big = cv2.resize(hopper, (2048, 2400), interpolation=cv2.INTER_LINEAR)
    one_at_a_time = lambda: [faces(1, seed=i) for i in range(args.n)]  # noqa: E731
    rows = [
        ("synthetic faces", f"faces(1) x {args.n}", one_at_a_time),
        ("synthetic faces", f"faces({args.n})", lambda: faces(args.n, seed=0)),
        ("photo 600x512", "Haar, full resolution", lambda: _full_resolution_haar(hopper)),
        ("photo 600x512", "detect_faces", lambda: detect_faces(hopper)),
        ("photo 600x512", "prepare_faces (48x48)", lambda: prepare_faces(hopper)),
        ("photo 2400x2048", "Haar, full resolution", lambda: _full_resolution_haar(big)),
        ("photo 2400x2048", "detect_faces", lambda: detect_faces(big)),
        ("photo 2400x2048", "prepare_faces (48x48)", lambda: prepare_faces(big)),
    ]  # fmt: skip
    print(
        f"numpy {np.__version__} | opencv {cv2.__version__} | {os.cpu_count()} CPUs | "
        f"median of {args.repeats} | baseline: first row of each task"
    )
    print(f"{'task':<17}{'method':<26}{'ms':>10}{'vs baseline':>13}")
    baselines: dict[str, float] = {}
    for task, method, fn in rows:
        ms = _median_ms(fn, args.repeats)
        baseline = baselines.setdefault(task, ms)
        print(f"{task:<17}{method:<26}{ms:>10.1f}{baseline / ms:>12.2f}x")


if __name__ == "__main__":
    main()
