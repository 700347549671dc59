"""`emolens demo`: a Gradio app on onnxruntime (photo -> face, probabilities, Grad-CAM)."""

from __future__ import annotations

import argparse

from emolens.commands._options import add_model_flags, check_onnx_options


def add_parser(subparsers) -> None:
    """Add `demo` and its flags."""
    p = subparsers.add_parser(
        "demo",
        help="serve a Gradio demo of a model on onnxruntime (needs the demo extra)",
        description="Serve a web page where a photo (upload or webcam) is cropped to its largest "
        "face, classified and explained with Grad-CAM, all by onnxruntime from an ONNX file "
        "with the Grad-CAM step inside (this process imports no TensorFlow). Without --onnx, "
        "--model is exported first, in a separate process. Install with "
        "pip install 'emolens[demo]'.",
    )
    add_model_flags(p)
    p.add_argument("--onnx", default=None, help="an `emolens export --with-cam` file to serve")
    p.add_argument("--layer", default=None, help="Grad-CAM layer when exporting --model")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Export the model if needed (in a child process), then serve until interrupted."""
    import tempfile
    from pathlib import Path

    if args.onnx and (args.model or args.layer):
        raise ValueError("Pass --onnx FILE or --model/--layer, not both.")
    check_onnx_options(args)
    try:
        from emolens.demo.ui import serve
    except ImportError as error:
        raise RuntimeError(
            f"emolens demo needs the demo extra ({error.name} is missing): "
            "pip install 'emolens[demo]'."
        ) from None
    if args.onnx:
        if not Path(args.onnx).is_file():
            raise FileNotFoundError(f"ONNX file {args.onnx!r} not found.")
        serve(args.onnx, args.host, args.port)
        return 0
    with tempfile.TemporaryDirectory(prefix="emolens-demo-") as folder:
        path = Path(folder) / "model.onnx"
        _export_in_child(args, path)
        serve(path, args.host, args.port)
    return 0


def _export_in_child(args: argparse.Namespace, path) -> None:
    """`emolens export --with-cam` in a child process, so this one never loads TensorFlow."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "emolens", "export", "--with-cam", "--out", str(path)]
    for flag, value in (
        ("--model", args.model),
        ("--classes", args.classes),
        ("--layer", args.layer),
    ):
        if value is not None:
            command += [flag, str(value)]
    command.append(f"--input-range={args.input_range}")
    if args.unsafe_load:
        command.append("--unsafe-load")
    print(f"exporting {args.model or 'the default model'} with Grad-CAM to ONNX ...", flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
        raise RuntimeError(f"exporting the model failed: {message}")
    print(done.stdout.strip(), flush=True)
