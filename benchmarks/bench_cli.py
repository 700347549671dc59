"""Start-up time of the `emolens` CLI vs the old behaviour (the library imported before parsing).

    python benchmarks/bench_cli.py --repeats 5

Each row runs a fresh `python -m emolens ARGS` process; the baseline runs the same arguments
after `import emolens.models.train` (what the CLI did before its subcommands moved to
emolens/commands/: TensorFlow loaded before the arguments were parsed). One untimed warm-up run
of each fills the file cache; the table reports the median wall time of the repeats and the
median CPU time (user+sys), which a busy machine inflates less than the wall time.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

ROWS = (("--help",), ("train", "--help"), ("evaluate", "--help"), ("--version",))
BASELINE = (
    "import sys; import emolens.models.train; from emolens.cli import main; "
    "sys.argv[0] = 'emolens'; sys.exit(main(sys.argv[1:]))"
)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_seconds(command: list[str], repeats: int) -> tuple[float, float]:
    """Median wall and CPU (user+sys) seconds of `command` in a fresh process, after a warm-up."""
    wall, cpu = [], []
    for i in range(repeats + 1):
        start, start_cpu = time.perf_counter(), _cpu_seconds()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            wall.append(time.perf_counter() - start)
            cpu.append(_cpu_seconds() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-repeats", type=int, default=3, help="each takes seconds")
    args = parser.parse_args()
    if min(args.repeats, args.baseline_repeats) < 1:
        parser.error("--repeats and --baseline-repeats must be at least 1")
    version = importlib.metadata.version
    print(
        f"python {platform.python_version()} | tf {version('tensorflow')} | "
        f"keras {version('keras')} | {os.cpu_count()} CPUs | median of {args.repeats} runs "
        f"({args.baseline_repeats} for the baseline), fresh process each | "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'':<26}{'wall s':>18}{'CPU s (user+sys)':>30}")
    print(f"{'command':<26}" + f"{'now':>8}{'before':>10}{'speed-up':>10}" * 2)
    for argv in ROWS:
        now = median_seconds([sys.executable, "-m", "emolens", *argv], args.repeats)
        before = median_seconds([sys.executable, "-c", BASELINE, *argv], args.baseline_repeats)
        pairs = zip(now, before, strict=True)
        cells = "".join(f"{n:>8.2f}{b:>10.2f}{b / n:>9.1f}x" for n, b in pairs)
        print(f"{'emolens ' + ' '.join(argv):<26}{cells}")
    print("before = `import emolens.models.train` (TensorFlow) first, then the same arguments")


if __name__ == "__main__":
    main()
