"""One module per `emolens` subcommand; `emolens/cli.py` lists them in `COMMANDS`.

A subcommand `emolens NAME` lives in `emolens/commands/NAME.py` and exposes two functions:

    def add_parser(subparsers) -> None:
        '''Add the `NAME` subparser and its flags.'''
        parser = subparsers.add_parser("NAME", help="one line for `emolens --help`")
        parser.add_argument("--model", default=None, help="...")

    def run(args: argparse.Namespace) -> int:
        '''Run `emolens NAME`; return the exit code.'''
        from emolens.models.zoo import load  # the library is imported here, never at the top
        ...
        return 0

Rules, so that `emolens --help` answers at once and stays quiet:

- The module's top level imports only the standard library and TF-free modules named by their
  full path (`from emolens.models.train_config import TrainConfig`); TensorFlow, Keras and the
  library (`emolens.explain`, `emolens.models.zoo`, ...) are imported inside `run`.
- The subparser's name is the module's name: `cli.main` imports `emolens.commands.<args.command>`
  and calls its `run`. A nested subcommand (`emolens data download`) dispatches inside `run`.
- `run` raises `ValueError`/`FileNotFoundError`/`TypeError`/`RuntimeError` with a message that
  says how to fix the problem; the CLI prints it as one line `emolens NAME: error: ...` and exits
  2 (the traceback only with `--verbose`). It never prints TensorFlow logs: the CLI silences them.
- `tests/test_cli_startup.py` checks that `emolens NAME --help` imports no TensorFlow.

Then add "NAME" to `COMMANDS` in `emolens/cli.py` (the order there is the order in `--help`).
"""
