"""`emolens data`: dataset commands (`emolens data download fer2013`)."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    """Add `data` with its nested `download` subcommand."""
    p = subparsers.add_parser("data", help="dataset commands")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    dl = data_sub.add_parser("download", help="download a dataset (needs internet)")
    dl.add_argument("dataset", choices=["fer2013"], help="the dataset to fetch")
    dl.add_argument(
        "--dest", default=None, help="folder (default: $EMOLENS_DATA, else ~/.cache/emolens)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the nested subcommand named by `args.data_command`."""
    if args.data_command == "download":
        return _download(args)
    raise ValueError(f"Unknown data command {args.data_command!r}; try `emolens data --help`.")


def _download(args: argparse.Namespace) -> int:
    from emolens.explain.data.download import download_fer2013

    path = download_fer2013(args.dest)
    print(f"FER2013 ready under {path}")
    return 0
