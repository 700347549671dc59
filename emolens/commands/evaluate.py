"""`emolens evaluate`: accuracy, macro-F1, per-class recall and confusion of one model."""

from __future__ import annotations

import argparse

from emolens.commands._options import (
    add_input_range_flag,
    add_unsafe_load_flag,
    file_out,
    positive_int,
)


def add_parser(subparsers) -> None:
    """Add `evaluate` and its flags."""
    p = subparsers.add_parser("evaluate", help="accuracy, macro-F1, per-class recall, confusion")
    p.add_argument("--model", default=None, help="bundled name or .keras path (default model)")
    add_input_range_flag(p)
    add_unsafe_load_flag(p)
    p.add_argument(
        "--data",
        default="synthetic",
        help="'synthetic' (built-in demo faces; the default), a folder holding fer2013/, a "
        "csv or an image folder",
    )
    p.add_argument(
        "--split", default="publictest", help="split to evaluate on (default: %(default)s)"
    )
    p.add_argument("--classes", default=None, help="class set (default: the model card's)")
    p.add_argument(
        "--limit", type=positive_int, default=None, help="seeded subset of this many images"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the --limit subset (default: 0)")
    p.add_argument(
        "--tta",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="average with horizontally flipped faces",
    )
    p.add_argument("--out", default=None, type=file_out, help="write the metrics as JSON here")
    p.add_argument(
        "--update-card",
        action="store_true",
        help="store these test metrics and the CPU latency in the model's card",
    )


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the model, the data and the metrics table."""
    from emolens.models.evaluate import evaluate_model

    result = evaluate_model(
        args.model,
        args.data,
        args.split,
        class_set=args.classes,
        limit=args.limit,
        seed=args.seed,
        tta_flip=args.tta,
        out=args.out,
        update_card=args.update_card,
        safe_mode=not args.unsafe_load,
        input_range=args.input_range,
    )
    print(f"model {result['model']} | data {args.data} | split {args.split}")
    print(result["table"])
    return 0
