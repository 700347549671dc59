"""`emolens benchmark-explanations`: every method on the ground-truth and shortcut models."""

from __future__ import annotations

import argparse

from emolens.commands._options import folder_out, positive_int


def add_parser(subparsers) -> None:
    """Add `benchmark-explanations` and its flags."""
    p = subparsers.add_parser(
        "benchmark-explanations",
        help="score every explanation method on faces with a known answer (table, CSV, markdown)",
    )
    p.add_argument(
        "--out",
        default="benchmark-explanations",
        type=folder_out,
        help="folder for the CSV/markdown",
    )
    p.add_argument("--n", type=positive_int, default=30, help="faces per measurement")
    p.add_argument("--seed", type=int, default=12, help="seed of the test faces")
    p.add_argument("--clean-model", default="mouth_emo3", help="model whose mouth decides")
    p.add_argument("--shortcut-model", default="shortcut_emo3", help="model trained with the mark")
    p.add_argument("--methods", default=None, help="comma-separated names (default: all)")
    p.add_argument("--steps", type=positive_int, default=16, help="deletion/insertion steps")


def _write(out, rows: list[dict], summary: dict) -> tuple:
    """Write benchmark.csv (full precision) and benchmark.md (as printed), each atomically."""
    import csv
    import io
    from pathlib import Path

    from emolens.explain._atomic import atomic_write_text
    from emolens.explain.metrics.benchmark import markdown_table

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(folder / "benchmark.csv", buffer.getvalue())
    text = _report(rows, summary, markdown_table)
    atomic_write_text(folder / "benchmark.md", text)
    return folder / "benchmark.csv", folder / "benchmark.md", text


def _report(rows: list[dict], summary: dict, markdown_table) -> str:
    """The printed report: accuracies, chance masses, then the method x metric table."""
    accuracies = [
        {"model on faces": k.replace("_", " "), "accuracy": v}
        for k, v in summary.items()
        if "_on_" in k
    ]
    return (
        f"{summary['n']} test faces; the mouth decides, the corner mark is the shortcut. "
        f"Chance mass (area): mouth region {summary['part_area']:.3f}, "
        f"mark {summary['mark_area']:.3f}.\n\n"
        + markdown_table(accuracies)
        + "\n"
        + markdown_table(rows)
    )


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print its tables and write them to `--out`."""
    from emolens import explain, models
    from emolens.explain.metrics.groundtruth_benchmark import ground_truth_benchmark

    methods = explain.METHODS
    if args.methods:
        names = [m.strip() for m in args.methods.split(",") if m.strip()]
        unknown = [m for m in names if m not in methods]
        if not names:
            raise ValueError(
                f"--methods {args.methods!r} names no method; give comma-separated names of: "
                f"{', '.join(methods)}."
            )
        if unknown:
            raise ValueError(
                f"Unknown method(s) {', '.join(unknown)}; available: {', '.join(methods)}."
            )
        methods = {name: methods[name] for name in names}
    rows, summary = ground_truth_benchmark(
        models.load(args.clean_model), models.load(args.shortcut_model), args.n,
        seed=args.seed, methods=methods, steps=args.steps,
    )  # fmt: skip
    csv_path, md_path, text = _write(args.out, rows, summary)
    print(text, end="")
    print(f"wrote {csv_path} and {md_path}")
    return 0
