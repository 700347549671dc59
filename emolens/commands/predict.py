"""`emolens predict`: class probabilities of the faces in photos, with Keras or onnxruntime."""

from __future__ import annotations

import argparse
import json
import sys

from emolens.commands._options import add_model_flags, check_onnx_options

EXIT_NOTHING_PREDICTED = 1


def add_parser(subparsers) -> None:
    """Add `predict` and its flags."""
    p = subparsers.add_parser(
        "predict",
        help="class probabilities of the faces in photos (Keras or ONNX backend)",
        description="Detect and crop the largest face of each photo in PATHS (files, folders, "
        "globs) as `emolens explain` does, and print its class probabilities as a table or "
        "JSON. --backend onnx runs the model on onnxruntime: the --onnx file, or --model "
        "exported on the fly.",
    )
    p.add_argument("paths", nargs="+", metavar="PATHS", help="image files, folders or globs")
    p.add_argument("--backend", choices=["keras", "onnx"], default="keras", help="runtime")
    add_model_flags(p)
    p.add_argument("--onnx", default=None, help="an `emolens export` file (--backend onnx)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--no-detect", action="store_true", help="the files are pre-cropped faces")
    p.add_argument("--all-faces", action="store_true", help="every face of a photo")


def run(args: argparse.Namespace) -> int:
    """Predict every face; 0 when at least one face was predicted."""
    if args.onnx and args.backend != "onnx":
        raise ValueError("--onnx FILE needs --backend onnx.")
    if args.onnx and args.model:
        raise ValueError("Pass --model or --onnx, not both (the ONNX file is the model).")
    check_onnx_options(args)
    predict, classes, name, shape = _backend(args)
    faces, errors = _faces(args, shape)
    probs = predict(_stack([face["image"] for face in faces], shape)) if faces else []
    rows = [
        {
            "file": face["file"],
            "face": face["index"],
            "box": face["box"],
            "probs": {c: float(p) for c, p in zip(classes, row, strict=True)},
            "predicted": classes[int(row.argmax())],
        }
        for face, row in zip(faces, probs, strict=True)
    ]
    if args.json:
        report = {"model": name, "backend": args.backend, "classes": list(classes)}
        print(json.dumps({**report, "faces": rows, "errors": errors}, indent=2))
    else:
        print(_table(rows, classes, errors))
    if not rows:
        print("emolens predict: error: no face was predicted", file=sys.stderr)
        return EXIT_NOTHING_PREDICTED
    return 0


def _backend(args):
    """(predict fn images -> probs, class names, model name, (H, W, C)) for the backend."""
    import numpy as np

    if args.backend == "onnx" and args.onnx:
        from emolens.demo.runtime import OnnxClassifier

        onnx = OnnxClassifier(args.onnx)
        return onnx.predict, onnx.classes, onnx.name, onnx.input_shape
    from emolens.models import zoo

    model = zoo.load(
        args.model,
        classes=args.classes,
        input_range=args.input_range,
        safe_mode=not args.unsafe_load,
    )
    name = str(args.model or zoo.default_model())
    classes = tuple(getattr(model, "class_names", None) or ())
    classes = classes or tuple(f"class {i}" for i in range(model.outputs[0].shape[-1]))
    shape = tuple(int(v) for v in model.inputs[0].shape[1:])
    if args.backend == "keras":
        return lambda images: np.asarray(model.predict(images, verbose=0)), classes, name, shape
    import tempfile
    from pathlib import Path

    from emolens.demo.runtime import OnnxClassifier
    from emolens.models.export import export_onnx

    with tempfile.TemporaryDirectory(prefix="emolens-predict-") as folder:
        path = Path(folder) / "model.onnx"
        export_onnx(model, path, name=name)
        onnx = OnnxClassifier(path)  # the session holds the graph; the file may go
    return onnx.predict, classes, name, shape


def _faces(args, shape) -> tuple[list[dict], list[dict]]:
    """Face crops of every photo (explain.report's reader and cropper) and per-file errors."""
    from emolens.explain.report import collect_paths, crop_faces, read_photo

    files, missing = collect_paths(args.paths)
    errors = [{"file": error.file, "reason": error.reason} for error in missing]
    faces = []
    for file in files:
        try:
            found = crop_faces(
                read_photo(file),
                shape[0],
                shape[2],
                detect=not args.no_detect,
                all_faces=args.all_faces,
            )
        except (ValueError, OSError) as error:  # one unreadable photo does not stop the rest
            errors.append({"file": str(file), "reason": str(error)})
            continue
        for index, (image, box, _) in enumerate(found):
            faces.append({"file": str(file), "index": index, "box": list(box), "image": image})
    return faces, errors


def _stack(images: list, shape: tuple[int, ...]):
    import numpy as np

    return np.stack(images) if images else np.zeros((0, *shape), np.float32)


def _table(rows: list[dict], classes: tuple[str, ...], errors: list[dict]) -> str:
    """Aligned text table: file, face, predicted class, one probability column per class."""
    header = ["file", "face", "predicted", *classes]
    lines = [
        [
            row["file"],
            str(row["face"]),
            row["predicted"],
            *(f"{p:.4f}" for p in row["probs"].values()),
        ]
        for row in rows
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *lines]
    ]
    text += [f"not predicted: {error['file']}: {error['reason']}" for error in errors]
    return "\n".join(text)
