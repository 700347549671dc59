"""`emolens export-space`: a folder ready to push to a Hugging Face Space (Gradio, no TF)."""

from __future__ import annotations

import argparse

from emolens.commands._options import add_model_flags, folder_out


def add_parser(subparsers) -> None:
    """Add `export-space` and its flags."""
    p = subparsers.add_parser(
        "export-space",
        help="write a Hugging Face Space folder (app.py, ONNX with Grad-CAM, card, README)",
        description="Write DIR with app.py (the Gradio demo), emolens_demo/ (its onnxruntime "
        "runtime), model.onnx (Grad-CAM inside), requirements.txt (no TensorFlow), "
        "MODEL_CARD.md and README.md with the Space front-matter. Push DIR to a Space, or run "
        "it locally: pip install -r DIR/requirements.txt && python DIR/app.py.",
    )
    p.add_argument(
        "dir", metavar="DIR", type=folder_out, help="output folder (created; other files are kept)"
    )
    add_model_flags(p)
    p.add_argument("--layer", default=None, help="Grad-CAM layer (default: last conv)")
    p.add_argument("--license", default="mit", help="licence id in the README (default: mit)")


def run(args: argparse.Namespace) -> int:
    """Export the model with Grad-CAM and write the Space files."""
    from pathlib import Path

    from emolens.models import zoo
    from emolens.models.export.space import card_markdown, export_space

    model = zoo.load(
        args.model,
        classes=args.classes,
        input_range=args.input_range,
        safe_mode=not args.unsafe_load,
    )
    name = Path(str(args.model)).stem if args.model else zoo.default_model()
    written = export_space(
        model,
        args.dir,
        name=name,
        card_md=card_markdown(args.model or zoo.default_model()),
        layer=args.layer,
        license=args.license,
    )
    print(f"wrote a Hugging Face Space for {name} in {args.dir}:")
    for path in written:
        print(f"  {path.relative_to(args.dir)}")
    print(f"try it: pip install -r {args.dir}/requirements.txt && python {args.dir}/app.py")
    return 0
