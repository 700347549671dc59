"""`emolens models`: the architectures and the bundled models, read from their cards."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    """Add `models` (no flags)."""
    subparsers.add_parser("models", help="list architectures and bundled models (from their cards)")


def run(args: argparse.Namespace) -> int:
    """Print the architecture names and one table row per bundled model."""
    from emolens.models import zoo
    from emolens.models.cards import model_table

    print("architectures:", ", ".join(zoo.architectures()))
    cards = [card for name in zoo.bundled() if (card := zoo.load_card(name))]
    print(model_table(cards, default=zoo.default_model()))
    return 0
