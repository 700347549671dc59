"""`emolens soup`: average the weights of runs of one architecture into one model, with its card."""

from __future__ import annotations

import argparse

from emolens.commands._options import folder_out


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive); got {text}")
    return value


def add_parser(subparsers) -> None:
    """Add `soup` and its flags."""
    p = subparsers.add_parser(
        "soup", help="average the weights of runs of one architecture (a 'model soup')"
    )
    p.add_argument(
        "--models",
        required=True,
        help="2 or more bundled names or .keras files with cards, separated by commas "
        "(continuations of one --init average best); one is enough with --precise-bn",
    )
    p.add_argument("--out", required=True, type=folder_out, help="folder for NAME.keras + card")
    p.add_argument("--name", required=True, help="the averaged model's name")
    p.add_argument(
        "--data",
        default=None,
        help="a folder holding fer2013/ (or 'synthetic'): measure validation and test "
        "accuracy for the card (default: no metrics)",
    )
    p.add_argument(
        "--test-split", default="publictest", help="split for the test metrics (%(default)s)"
    )
    p.add_argument(
        "--val-fraction",
        type=_fraction,
        default=0.1,
        help="the ingredients' validation fraction (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="the ingredients' split seed (default: 0)")
    p.add_argument(
        "--greedy",
        action="store_true",
        help="add the models best first and keep each only if validation accuracy does not "
        "fall (needs --data)",
    )
    p.add_argument(
        "--precise-bn",
        action="store_true",
        help="recompute the BatchNorm statistics on the training images after averaging "
        "(PreciseBN; needs --data)",
    )
    p.add_argument(
        "--bn-batch-size",
        type=int,
        default=128,
        help="batch that --precise-bn averages statistics over; use the training batch "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--tta",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="average with horizontally flipped faces when measuring",
    )


def run(args: argparse.Namespace) -> int:
    """Average, write the model and card, print the card's numbers."""
    from emolens.models.soup import soup_files

    paths = [p.strip() for p in args.models.split(",") if p.strip()]
    card = soup_files(
        paths,
        args.out,
        args.name,
        data=args.data,
        test_split=args.test_split,
        val_fraction=args.val_fraction,
        seed=args.seed,
        tta=args.tta,
        greedy=args.greedy,
        precise_bn=args.precise_bn,
        bn_batch_size=args.bn_batch_size,
        progress=lambda line: print(line, flush=True),
    )
    print(f"{card['name']}: {card['training']}")
    for part in ("validation", "test"):
        if card.get(part):
            print(
                f"  {part}: accuracy {card[part]['accuracy']:.4f}, "
                f"macro-F1 {card[part]['macro_f1']:.4f}"
            )
    print(f"model {args.out}/{args.name}.keras, card {args.out}/{args.name}.md")
    return 0
