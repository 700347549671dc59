"""Flags shared by several commands (argparse only: no library import here)."""

from __future__ import annotations

import argparse


def add_model_flags(p: argparse.ArgumentParser) -> None:
    """--model, --classes and --input-range: the classifier a command loads with zoo.load."""
    p.add_argument(
        "--model",
        default=None,
        help="bundled name, or a .keras / legacy .h5 classifier file (default: the default "
        "model); its input size and channels are read from the model",
    )
    p.add_argument(
        "--classes",
        default=None,
        help="class names in output order: fer7, emo3 or a,b,c (default: the model's card)",
    )
    p.add_argument(
        "--input-range",
        default="0,1",
        help="pixel range the model was trained on: 0,1 (default), -1,1 or 0,255; write "
        "--input-range=-1,1 (a value starting with '-' needs the '=')",
    )
