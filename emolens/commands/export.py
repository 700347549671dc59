"""`emolens export`: a model as an ONNX file, optionally with Grad-CAM inside the graph."""

from __future__ import annotations

import argparse

from emolens.commands._options import add_model_flags, file_out

OPSET = 17  # emolens.models.export.OPSET, written out: no library import here


def add_parser(subparsers) -> None:
    """Add `export` and its flags."""
    p = subparsers.add_parser(
        "export",
        help="write a model as ONNX (optionally with Grad-CAM inside) for onnxruntime",
        description="Convert a Keras classifier to one ONNX file with tf2onnx. The graph takes "
        "'images' (N, H, W, C) float32 in [0, 1] and returns 'probs'; with --with-cam it also "
        "takes 'targets' (N,) int32 (-1: top class) and returns 'cam' (N, H, W), the Grad-CAM "
        "map computed inside the graph. The file is checked against Keras before it is written.",
    )
    add_model_flags(p)
    p.add_argument("--format", default="onnx", choices=["onnx"], help="output format (onnx)")
    p.add_argument("--out", required=True, type=file_out, help="output file, e.g. model.onnx")
    p.add_argument("--with-cam", action="store_true", help="put the Grad-CAM step in the graph")
    p.add_argument(
        "--layer", default=None, help="layer for --with-cam (default: last conv / ViT tokens)"
    )
    p.add_argument("--opset", type=int, default=OPSET, help="ONNX opset (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Export the model and describe the written graph."""
    from emolens.models import zoo
    from emolens.models.export import export_onnx

    if args.layer and not args.with_cam:
        raise ValueError("--layer only applies with --with-cam (the layer Grad-CAM explains).")
    model = zoo.load(
        args.model,
        classes=args.classes,
        input_range=args.input_range,
        safe_mode=not args.unsafe_load,
    )
    name = str(args.model or zoo.default_model())
    info = export_onnx(model, args.out, args.with_cam, args.layer, opset=args.opset, name=name)
    print(describe(info, model))
    return 0


def describe(info, model) -> str:
    """Lines saying what the ONNX file holds (opset, inputs, outputs, layer, classes)."""
    import tf2onnx

    height, width, channels = (int(v) for v in model.inputs[0].shape[1:])
    classes = int(model.outputs[0].shape[-1])
    inputs = [f"images (N, {height}, {width}, {channels}) float32 in [0, 1]"]
    outputs = [f"probs (N, {classes})"]
    if info.layer:
        inputs.append("targets (N,) int32, -1 = top class")
        outputs.append(f"cam (N, {height}, {width}) in [0, 1], Grad-CAM of layer {info.layer}")
    return "\n".join(
        [
            f"wrote {info.path} (ONNX opset {info.opset}, tf2onnx {tf2onnx.__version__})",
            f"  inputs:  {'; '.join(inputs)}",
            f"  outputs: {'; '.join(outputs)}",
            f"  classes: {', '.join(info.classes) if info.classes else 'none (no card)'}",
        ]
    )
