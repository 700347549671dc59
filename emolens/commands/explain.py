"""`emolens explain`: heatmaps of photos for reports (overlay PNGs, CSV/JSON, HTML, PDF)."""

from __future__ import annotations

import argparse
import sys

from emolens.commands._options import add_model_flags, folder_out, positive_int

FORMATS = "png,html,pdf,json,csv"  # explain.report.FORMATS, written out: no library import here
EXIT_NOTHING_EXPLAINED = 1


def add_parser(subparsers) -> None:
    """Add `explain` and its flags."""
    p = subparsers.add_parser(
        "explain",
        help="heatmaps of the faces in photos: overlay PNGs, results.csv/.json, HTML, PDF",
        description="Explain every face in PATHS (files, folders searched recursively, globs) "
        "and write a report folder. A file that cannot be explained (corrupt, not an image, "
        "too large, no face) is listed with its reason and never stops the batch; the exit "
        "code is 0 when at least one face was explained.",
    )
    p.add_argument("paths", nargs="+", metavar="PATHS", help="image files, folders or globs")
    add_model_flags(p)
    p.add_argument(
        "--method",
        default="grad_cam",
        help="comma-separated methods of explain.METHODS, e.g. grad_cam,score_cam,saliency",
    )
    p.add_argument("--layer", default=None, help="layer for CAM methods (default: last conv)")
    p.add_argument(
        "--target",
        default="auto",
        help="class to explain: auto (each face's predicted class), a class name or index",
    )
    p.add_argument(
        "--out",
        default="emolens_report",
        type=folder_out,
        help="output folder (default: %(default)s)",
    )
    p.add_argument(
        "--format", default=FORMATS, help="comma-separated subset of %(default)s (default: all)"
    )
    p.add_argument(
        "--no-detect", action="store_true", help="the files are pre-cropped faces: no detection"
    )
    p.add_argument(
        "--all-faces", action="store_true", help="every face of a photo, not the largest"
    )
    p.add_argument("--save-maps", action="store_true", help="also write raw maps as maps/*.npy")
    p.add_argument(
        "--batch-size", type=positive_int, default=32, help="faces per forward/backward pass"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    """Explain the photos, write the report; 0 when at least one face was explained."""
    from emolens.explain.report import check_formats, explain_files, write_report
    from emolens.models import zoo

    formats = check_formats(args.format)
    model = zoo.load(
        args.model,
        classes=args.classes,
        input_range=args.input_range,
        safe_mode=not args.unsafe_load,
    )
    result = explain_files(
        model,
        args.paths,
        args.method.split(","),
        layer=args.layer,
        target=args.target,
        detect=not args.no_detect,
        all_faces=args.all_faces,
        batch_size=args.batch_size,
        progress=not args.no_progress,
        model_name=str(args.model or zoo.default_model()),
    )
    write_report(result, args.out, formats, save_maps=args.save_maps)
    explained = result.explained
    files = len({face.file for face in explained})
    print(
        f"{len(explained)} face(s) from {files} file(s) explained with "
        f"{', '.join(result.methods)}; {len(result.errors)} file(s) not explained; "
        f"report in {args.out}"
    )
    if not explained:
        print(f"emolens explain: error: {_nothing_explained(result)}", file=sys.stderr)
        return EXIT_NOTHING_EXPLAINED
    return 0


def _nothing_explained(result) -> str:
    """One line saying why no face was explained (the first reasons)."""
    reasons = [f"{error.file}: {error.reason}" for error in result.errors]
    reasons += [
        f"{face.file} {method}: {reason}"
        for face in result.faces
        for method, reason in face.errors.items()
    ]
    shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
    return f"no face was explained ({shown or 'no input file'})"
