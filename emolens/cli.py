"""`emolens` command line: the top-level parser, the list of subcommands, errors, exit codes.

Each subcommand is a module `emolens/commands/<name>.py` with `add_parser(subparsers)` and
`run(args) -> int` (see `emolens.commands`). Parsing imports no TensorFlow, so `--help` answers
at once; the library is imported inside `run`.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from importlib import import_module

from emolens.commands.train import train_config

__all__ = ["COMMANDS", "EXIT_FAILURE", "EXIT_USAGE", "build_parser", "main", "train_config"]

# Subcommand modules under emolens/commands/, in the order `emolens --help` lists them.
COMMANDS = (
    "train", "evaluate", "data", "models", "soup", "index", "explain", "dashboard",
    "export", "predict", "demo", "export-space", "benchmark-explanations",
)  # fmt: skip

EXIT_FAILURE = 1  # an unexpected error (a bug): rerun with --verbose for the traceback
EXIT_USAGE = 2  # the user can fix it: bad flags, a missing file, an unknown model
EXIT_INTERRUPTED = 130  # Ctrl-C
_USER_ERRORS = (
    ValueError,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
    TypeError,
    RuntimeError,
)


class _Version(argparse.Action):
    """`--version`: reads the installed distribution's metadata only when asked."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("emolens")
        except PackageNotFoundError:
            found = "unknown (not installed)"
        print(f"emolens {found}")
        parser.exit()


def _add_verbose(parser: argparse.ArgumentParser, default) -> None:
    """`--verbose` on `parser` and every nested subparser, so it may follow the subcommand."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=default,
        help="show TensorFlow's logs and the full traceback of an error",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in dict.fromkeys(action.choices.values()):
                _add_verbose(subparser, argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    """The `emolens` argument parser with every subcommand (imports no TensorFlow)."""
    parser = argparse.ArgumentParser(
        prog="emolens", description="Explain facial-emotion classifiers."
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        import_module(f"emolens.commands.{name.replace('-', '_')}").add_parser(sub)
    _add_verbose(parser, False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a user error becomes one line on stderr and exit code 2.

    Without `--verbose`, TensorFlow's start-up logs are filtered out and errors print no
    traceback; with it, both are shown.
    """
    args = build_parser().parse_args(argv)
    if not args.verbose:
        from emolens._quiet import silence_tensorflow

        silence_tensorflow()
    command = import_module(f"emolens.commands.{args.command.replace('-', '_')}")
    try:
        return command.run(args)
    except _USER_ERRORS as error:
        return _fail(args, str(error), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", EXIT_INTERRUPTED)
    except Exception as error:  # a bug: say what happened, keep the traceback for --verbose
        hint = "" if args.verbose else " (rerun with --verbose for the traceback)"
        return _fail(args, f"{type(error).__name__}: {error}{hint}", EXIT_FAILURE)


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    """Print `emolens <cmd>: error: <message>` (after the traceback with --verbose)."""
    if args.verbose:
        traceback.print_exc()
    print(f"emolens {args.command}: error: {message}", file=sys.stderr)
    return code
