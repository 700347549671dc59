"""`emolens` command line: parse flags, call one library function, print, exit code."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

EXIT_USAGE = 2


def train_config(args: argparse.Namespace):
    """The `TrainConfig` of parsed `emolens train` arguments (a card's command parses back).

    Raises:
        ValueError: --arch-kwargs is not a JSON object.
    """
    from emolens.models.train import TrainConfig

    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    try:
        values["arch_kwargs"] = json.loads(args.arch_kwargs) if args.arch_kwargs else {}
    except json.JSONDecodeError as error:
        raise ValueError(
            f"--arch-kwargs must be a JSON object such as '{{\"widths\": [32, 64]}}'; "
            f"got {args.arch_kwargs!r} ({error})."
        ) from None
    if not isinstance(values["arch_kwargs"], dict):
        raise ValueError(
            f"--arch-kwargs must be a JSON object such as '{{\"widths\": [32, 64]}}'; "
            f"got {args.arch_kwargs!r}."
        )
    if str(values.get("test_split")).lower() == "none":
        values["test_split"] = None
    return TrainConfig(**values)


def _train(args: argparse.Namespace) -> int:
    from emolens.models.train import train

    card = train(train_config(args), verbose=1 if sys.stdout.isatty() else 2)
    test = card.get("test") or card["validation"]
    print(
        f"{card['name']}: accuracy {test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}; "
        f"card {args.out}/{card['name']}.md"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
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
    )
    print(f"model {result['model']} | data {args.data} | split {args.split}")
    print(result["table"])
    return 0


def _download(args: argparse.Namespace) -> int:
    from emolens.explain.data.download import download_fer2013

    path = download_fer2013(args.dest)
    print(f"FER2013 ready under {path}")
    return 0


def _models(args: argparse.Namespace) -> int:
    from emolens.models import zoo
    from emolens.models.cards import model_table

    print("architectures:", ", ".join(zoo.architectures()))
    cards = [card for name in zoo.bundled() if (card := zoo.load_card(name))]
    print(model_table(cards))
    return 0


def _add_models(sub) -> None:
    p = sub.add_parser("models", help="list architectures and bundled models (from their cards)")
    p.set_defaults(run=_models)


def _add_train(sub) -> None:
    from emolens.models.train import TrainConfig

    d = TrainConfig()
    p = sub.add_parser("train", help="train a zoo architecture and write its model card")
    p.add_argument("--arch", default=d.arch, help="architecture name (see models.architectures())")
    p.add_argument("--classes", default=d.classes, choices=["emo3", "fer7"])
    p.add_argument(
        "--data",
        default=d.data,
        help="data folder holding fer2013/, a fer2013.csv, an image folder, or "
        "'synthetic' (default: $EMOLENS_DATA, ../shared/data, ~/.cache/emolens)",
    )
    p.add_argument("--out", default=d.out, help="output folder (resumes if a run is there)")
    p.add_argument("--name", default=d.name, help="model name (default <arch>_<classes>)")
    for name in ("epochs", "batch_size", "warmup_epochs", "patience", "seed", "limit"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name))
    for name in (
        "lr",
        "weight_decay",
        "label_smoothing",
        "mix_prob",
        "val_fraction",
        "ferplus",
        "distill",
    ):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(d, name))
    p.add_argument("--mix", default=d.mix, choices=["none", "cutmix", "mixup"])
    for name in ("augment", "class_weights", "clean", "tta", "freeze"):
        p.add_argument(
            "--" + name.replace("_", "-"),
            default=getattr(d, name),
            action=argparse.BooleanOptionalAction,
        )
    p.add_argument(
        "--teacher",
        default=None,
        help="comma-separated models whose mean flip-TTA probabilities are blended into the "
        "targets by --distill (offline distillation)",
    )
    p.add_argument("--init", default=None, help="start from this trained model's backbone")
    p.add_argument("--unfreeze-from", default=None, help="fine-tune layers from this one on")
    p.add_argument(
        "--stop-epoch",
        type=int,
        default=None,
        help="stop after this epoch; the learning-rate schedule still spans --epochs",
    )
    p.add_argument("--test-split", default=d.test_split)
    p.add_argument("--arch-kwargs", default=None, help="JSON, e.g. '{\"width\": 32}'")
    p.set_defaults(run=_train)


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="accuracy, macro-F1, per-class recall, confusion")
    p.add_argument("--model", default=None, help="bundled name or .keras path (default model)")
    p.add_argument(
        "--data",
        default="synthetic",
        help="'synthetic' (built-in demo faces), a folder holding fer2013/, a csv "
        "or an image folder",
    )
    p.add_argument("--split", default="publictest")
    p.add_argument("--classes", default=None, help="class set (default: the model card's)")
    p.add_argument("--limit", type=int, default=None, help="seeded subset of this many images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--tta",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="average with horizontally flipped faces",
    )
    p.add_argument("--out", default=None, help="write the metrics as JSON here")
    p.add_argument(
        "--update-card",
        action="store_true",
        help="store these test metrics and the CPU latency in the model's card",
    )
    p.set_defaults(run=_evaluate)


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="dataset commands")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    dl = data_sub.add_parser("download", help="download a dataset (needs internet)")
    dl.add_argument("dataset", choices=["fer2013"])
    dl.add_argument("--dest", default=None, help="folder (default ~/.cache/emolens)")
    dl.set_defaults(run=_download)


def build_parser() -> argparse.ArgumentParser:
    """The `emolens` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="emolens", description="Explain facial-emotion classifiers."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train(sub)
    _add_evaluate(sub)
    _add_data(sub)
    _add_models(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors become one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, TypeError, RuntimeError) as error:
        print(f"emolens {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
