"""Flags shared by several commands (argparse only: no library import here)."""

from __future__ import annotations

import argparse
import os

UNSAFE_LOAD = "--unsafe-load"
"""The flag that loads model files with safe_mode=False (named in zoo.load's refusal)."""


def add_unsafe_load_flag(p: argparse.ArgumentParser) -> None:
    """--unsafe-load: load the --model file with safe_mode=False (Lambda layers run code)."""
    p.add_argument(
        UNSAFE_LOAD,
        action="store_true",
        help="load a .keras file that holds Python code (a Lambda layer): this RUNS code from "
        "the file, so use it only for files you trust (default: such files are refused)",
    )


def add_model_flags(p: argparse.ArgumentParser) -> None:
    """--model, --classes, --input-range and --unsafe-load: the classifier zoo.load loads."""
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
    add_input_range_flag(p)
    add_unsafe_load_flag(p)


def add_input_range_flag(p: argparse.ArgumentParser) -> None:
    """--input-range: the pixel range the --model was trained on (emolens feeds [0, 1])."""
    p.add_argument(
        "--input-range",
        default="0,1",
        help="pixel range the model was trained on: 0,1 (default), -1,1 or 0,255; write "
        "--input-range=-1,1 (a value starting with '-' needs the '=')",
    )


def positive_int(text: str) -> int:
    """Argparse type: an int >= 1 (batch sizes, epochs, limits)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def folder_out(text: str) -> str:
    """Argparse type: an output folder (created if missing); an existing file is refused."""
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is a file; pass a folder (it is created if missing)"
        )
    return text


def file_out(text: str) -> str:
    """Argparse type: an output file; an existing folder is refused before any work."""
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is a folder; pass a file name, e.g. {os.path.join(text, 'out')}"
        )
    return text


def check_onnx_options(args: argparse.Namespace) -> None:
    """With --onnx FILE: it must exist, and no flag that describes a Keras --model is given.

    Raises:
        FileNotFoundError: the --onnx file does not exist.
        ValueError: --classes, --input-range or --unsafe-load came with --onnx (ignored before).
    """
    if not args.onnx:
        return
    if not os.path.isfile(args.onnx):
        raise FileNotFoundError(f"ONNX file {args.onnx!r} not found.")
    given = [
        flag
        for flag, used in (
            ("--classes", args.classes),
            ("--input-range", args.input_range != "0,1"),
            (UNSAFE_LOAD, args.unsafe_load),
        )
        if used
    ]
    if given:
        raise ValueError(
            f"{', '.join(given)} describe a Keras --model; the --onnx file carries its own "
            "classes and input range (set them when exporting: emolens export --classes ...)."
        )
