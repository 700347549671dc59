"""`emolens dashboard`: the Streamlit app, bound to 127.0.0.1 unless --host says otherwise."""

from __future__ import annotations

import argparse
import os
import sys
from importlib.util import find_spec
from pathlib import Path

from emolens.commands._options import add_unsafe_load_flag
from emolens.dashboard.settings import MAX_UPLOAD_MB


def add_parser(subparsers) -> None:
    """Add `dashboard` and its flags."""
    p = subparsers.add_parser(
        "dashboard",
        help="open the Streamlit dashboard (http://127.0.0.1:8501)",
        description="Start the emolens dashboard: explain a photo, webcam frame or sample face "
        "with the bundled models (or yours), browse layers and ViT attention, and a dataset's "
        "mistakes and embeddings. Serves on 127.0.0.1 only unless --host is given.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.add_argument("--model", default=None, help="your .keras or .h5 model, beside the bundled")
    p.add_argument(
        "--classes", default=None, help="its classes: fer7, emo3 or names 'a,b,c' in output order"
    )
    p.add_argument(
        "--input-range",
        default="0,1",
        help="its pixel range: 0,1 (default), 0,255 or --input-range=-1,1",
    )
    add_unsafe_load_flag(p)
    p.add_argument(
        "--data",
        default=None,
        help="folder holding fer2013/ for the dataset pages (default $EMOLENS_DATA or "
        "../shared/data; without it the pages use synthetic faces)",
    )
    p.add_argument("--store", default=None, help="a results store written by `emolens index`")


def app_path() -> Path:
    """The installed `dashboard/app.py` (found without importing Streamlit or TensorFlow)."""
    spec = find_spec("emolens.dashboard")
    return Path(spec.origin).parent / "app.py"


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """`python -m streamlit run app.py` with the address, port and headless settings."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.address",
        args.host,
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--server.maxUploadSize",
        str(MAX_UPLOAD_MB),
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]


def dashboard_env(args: argparse.Namespace, base: dict[str, str] | None = None) -> dict:
    """The environment the app reads its options from (see `emolens.dashboard.settings`).

    Raises:
        FileNotFoundError: --model, --data or --store does not exist.
        ValueError: --classes or --input-range without --model, or a bad port.
    """
    env = dict(os.environ if base is None else base)
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be 1..65535; got {args.port}.")
    if args.model is None and (args.classes or args.input_range != "0,1" or args.unsafe_load):
        raise ValueError(
            "--classes, --input-range and --unsafe-load describe --model; pass --model PATH too."
        )
    options = {
        "EMOLENS_DASHBOARD_MODEL": _existing(args.model, "--model", file=True),
        "EMOLENS_DASHBOARD_CLASSES": args.classes,
        "EMOLENS_DASHBOARD_INPUT_RANGE": args.input_range if args.model else None,
        "EMOLENS_DASHBOARD_UNSAFE_LOAD": "1" if args.unsafe_load else None,
        "EMOLENS_DATA": _existing(args.data, "--data", file=False),
        "EMOLENS_DASHBOARD_STORE": _existing(args.store, "--store", file=False),
    }
    env.update({key: value for key, value in options.items() if value})
    return env


def _existing(path: str | None, flag: str, file: bool) -> str | None:
    """`path` made absolute, after checking it exists (None stays None)."""
    if path is None:
        return None
    resolved = Path(path).expanduser().resolve()
    if not (resolved.is_file() if file else resolved.is_dir()):
        kind = "file" if file else "folder"
        raise FileNotFoundError(f"{flag} {path!r}: no such {kind}.")
    return str(resolved)


def run(args: argparse.Namespace) -> int:
    """Replace this process by the Streamlit server (Ctrl-C stops it)."""
    command, env = streamlit_command(args), dashboard_env(args)
    print(f"emolens dashboard: http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    if os.name == "posix":
        os.execve(sys.executable, command, env)
    import subprocess

    return subprocess.call(command, env=env)
