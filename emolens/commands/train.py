"""`emolens train`: train a zoo architecture and write its model card."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from emolens.commands._options import add_unsafe_load_flag, folder_out, positive_int
from emolens.models.train_config import TrainConfig

HELP = {
    "epochs": "length of the cosine learning-rate schedule, in epochs (default: %(default)s)",
    "batch_size": "images per step (default: %(default)s)",
    "warmup_epochs": "epochs of linear learning-rate warm-up (default: %(default)s)",
    "patience": "stop after this many epochs without a better validation accuracy "
    "(default: %(default)s)",
    "seed": "seed of augmentation, batch order, mixing and initialisation, and of the "
    "validation split unless --split-seed is given (default: %(default)s)",
    "split_seed": "seed of the validation split (and of a --limit subset), so that runs of "
    "different --seed share one validation set, e.g. a seed study or a soup's ingredients "
    "(default: --seed)",
    "limit": "train on this many images only (a quick run; default: all)",
    "lr": "peak AdamW learning rate (default: %(default)s)",
    "weight_decay": "AdamW weight decay (default: %(default)s)",
    "label_smoothing": "label smoothing of the targets (default: %(default)s)",
    "sam": "sharpness-aware minimization: radius rho of each step's ascent (0.05 is usual; "
    "about twice the compute per step; TensorFlow or JAX; default: %(default)s = off)",
    "mix_prob": "share of batches mixed by --mix (default: %(default)s)",
    "val_fraction": "share of Training held out for validation, stratified (default: %(default)s)",
    "ferplus": "weight of the FERPlus vote shares blended into the targets, fer2013 only "
    "(default: %(default)s)",
    "distill": "weight of the --teacher probabilities blended into the targets "
    "(default: %(default)s)",
    "augment": "flips, shifts, zoom, rotation and contrast (default: on)",
    "rotation": "largest random rotation with --augment, as a fraction of a full turn "
    "(keras RandomRotation: 0.1 = 36 degrees, 0.04 = 14; 0 = none; default: %(default)s)",
    "class_weights": "weight the loss by inverse class frequency (default: on)",
    "clean": "drop near-black frames and images of unknown csv row (default: on)",
    "tta": "average test predictions with the mirrored faces (default: on)",
    "freeze": "with --init: train the new head only (default: off)",
    "precise_bn": "after training, recompute the BatchNorm statistics as averages over the "
    "training images, batches of --batch-size, no augmentation (PreciseBN; default: off)",
}


def add_parser(subparsers) -> None:
    """Add `train`, one flag per `TrainConfig` field (defaults read from the dataclass)."""
    d = TrainConfig()
    p = subparsers.add_parser("train", help="train a zoo architecture and write its model card")
    p.add_argument("--arch", default=d.arch, help="architecture name (see models.architectures())")
    p.add_argument(
        "--classes",
        default=d.classes,
        choices=["emo3", "fer7"],
        help="class set to train on (default: %(default)s)",
    )
    p.add_argument(
        "--data",
        default=d.data,
        help="data folder holding fer2013/, a fer2013.csv, an image folder, or "
        "'synthetic' (default: $EMOLENS_DATA, ../shared/data, ~/.cache/emolens)",
    )
    p.add_argument(
        "--out",
        default=d.out,
        type=folder_out,
        help="output folder (resumes if a run is there; default: %(default)s)",
    )
    p.add_argument("--name", default=d.name, help="model name (default <arch>_<classes>)")
    for name in ("epochs", "batch_size", "warmup_epochs", "patience", "seed", "limit"):
        kind = positive_int if name in ("epochs", "batch_size", "patience", "limit") else int
        p.add_argument(
            "--" + name.replace("_", "-"), type=kind, default=getattr(d, name), help=HELP[name]
        )
    for name in (
        "lr",
        "weight_decay",
        "label_smoothing",
        "sam",
        "mix_prob",
        "val_fraction",
        "ferplus",
        "distill",
        "rotation",
    ):
        p.add_argument(
            "--" + name.replace("_", "-"), type=float, default=getattr(d, name), help=HELP[name]
        )
    p.add_argument(
        "--mix",
        default=d.mix,
        choices=["none", "cutmix", "mixup"],
        help="batch mixing (default: %(default)s)",
    )
    for name in ("augment", "class_weights", "clean", "tta", "freeze", "precise_bn"):
        p.add_argument(
            "--" + name.replace("_", "-"),
            default=getattr(d, name),
            action=argparse.BooleanOptionalAction,
            help=HELP[name],
        )
    p.add_argument(
        "--teacher",
        default=None,
        help="comma-separated models whose mean flip-TTA probabilities are blended into the "
        "targets by --distill (offline distillation)",
    )
    p.add_argument("--split-seed", type=int, default=None, help=HELP["split_seed"])
    p.add_argument("--init", default=None, help="start from this trained model's backbone")
    p.add_argument("--unfreeze-from", default=None, help="fine-tune layers from this one on")
    p.add_argument(
        "--stop-epoch",
        type=int,
        default=None,
        help="stop after this epoch; the learning-rate schedule still spans --epochs",
    )
    p.add_argument(
        "--swa-from",
        type=positive_int,
        default=None,
        metavar="EPOCH",
        help="stochastic weight averaging: keep the weights of every epoch from this one on "
        "and make the model their mean, its BatchNorm statistics recomputed as --precise-bn "
        "does (default: off; the best epoch by validation is kept)",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop when one more epoch (as long as the slowest so far) would end past this "
        "many seconds of training in this process, then write the model and card; rerunning "
        "continues the schedule (for a lent GPU's fixed lease)",
    )
    p.add_argument(
        "--test-split",
        default=d.test_split,
        help="split the card's test numbers come from (default: %(default)s)",
    )
    p.add_argument("--arch-kwargs", default=None, help="JSON, e.g. '{\"width\": 32}'")
    add_unsafe_load_flag(p)  # for --init and --teacher files


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The `TrainConfig` of parsed `emolens train` arguments (a card's command parses back).

    Raises:
        ValueError: --arch-kwargs is not a JSON object.
    """
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


def run(args: argparse.Namespace) -> int:
    """Train, then print the held-out accuracy and where the card went."""
    cfg = train_config(args)
    from emolens.models.train import train

    card = train(cfg, verbose=1 if sys.stdout.isatty() else 2)
    test = card.get("test") or card["validation"]
    print(
        f"{card['name']}: accuracy {test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}; "
        f"card {args.out}/{card['name']}.md"
    )
    return 0
