"""Keras classifier -> ONNX file, optionally with the Grad-CAM step inside the graph."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from emolens.explain._atomic import atomic_file
from emolens.models.export._serving import cam_function, input_shape, prediction_function

OPSET = 17
"""ONNX opset of exported graphs (tf2onnx 1.17 writes up to 18; onnxruntime 1.32 runs both)."""

CHECK_TOLERANCE = 1e-4
"""Largest |onnxruntime - Keras| difference the export's self-check accepts."""


@dataclass(frozen=True)
class ExportInfo:
    """What `export_onnx` wrote: file, opset, graph inputs/outputs, explained layer, classes."""

    path: Path
    opset: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    layer: str | None
    classes: tuple[str, ...] | None
    metadata: dict[str, str] = field(default_factory=dict)


def export_onnx(
    model: keras.Model,
    path: str | os.PathLike,
    with_cam: bool = False,
    layer: str | None = None,
    *,
    opset: int = OPSET,
    name: str | None = None,
    check: bool = True,
) -> ExportInfo:
    """Write `model` as an ONNX graph that onnxruntime alone can run (tf2onnx, one file).

    Without `with_cam` the graph maps "images" (N, H, W, C) float32 in [0, 1] to "probs"
    (N, classes), the model's own output. With it, a second input "targets" (N,) int32 (the
    class to explain, -1 for each image's top class) and a second output "cam" (N, H, W)
    float32 in [0, 1]: the Grad-CAM map of `layer`, the gradient of the target's logit taken
    inside the graph, resized and scaled exactly as `explain.grad_cam` does.

    The file carries its own description as ONNX metadata (`emolens.classes`, `emolens.layer`,
    `emolens.input_shape`, ...), so a runtime needs nothing else. It is written atomically
    and, with `check`, run once in onnxruntime on random images and compared with Keras.

    Args:
        model: Keras classifier taking (N, H, W, C) float32 in [0, 1].
        path: output `.onnx` file.
        with_cam: also compute Grad-CAM maps in the graph.
        layer: layer to explain (`explain.grad_cam`'s names); None: its default (the last
            conv layer; on a ViT the token grid entering the last attention block).
        opset: ONNX opset, at most 18.
        name: model name stored in the metadata (default: `model.name`).
        check: compare onnxruntime with Keras on 4 random images after writing.

    Returns:
        ExportInfo of the written file.

    Raises:
        ValueError: the model has no (N, H, W, C) input, `layer` is not explainable, or a
            layer converts to an op that tf2onnx or onnxruntime lacks (the layer is named).
        RuntimeError: the written graph disagrees with Keras beyond CHECK_TOLERANCE.
    """
    if with_cam:
        function, signature, layer = cam_function(model, layer)
    else:
        function, signature = prediction_function(model)
        layer = None
    proto = _convert(model, function, signature, opset)
    classes = getattr(model, "class_names", None)
    metadata = {
        "emolens.model": name or model.name,
        "emolens.classes": json.dumps(list(classes) if classes else None),
        "emolens.input_shape": json.dumps(list(input_shape(model))),
        "emolens.with_cam": json.dumps(bool(with_cam)),
        "emolens.layer": layer or "",
        "emolens.opset": str(opset),
    }
    for key, value in metadata.items():
        proto.metadata_props.add(key=key, value=value)
    data = proto.SerializeToString()
    if check:
        _check(model, data, with_cam, layer)
    path = Path(path)
    with atomic_file(path, "wb") as handle:
        handle.write(data)
    return ExportInfo(
        path=path,
        opset=opset,
        inputs=tuple(tensor.name for tensor in proto.graph.input),
        outputs=tuple(tensor.name for tensor in proto.graph.output),
        layer=layer,
        classes=tuple(classes) if classes else None,
        metadata=metadata,
    )


def _convert(model: keras.Model, function, signature, opset: int):
    """tf2onnx conversion of the traced function; unsupported ops name their Keras layer."""
    import tf2onnx
    from tensorflow.python.util import deprecation

    from emolens.models.export._gradient_ops import HANDLERS

    if not 7 <= opset <= 18:
        raise ValueError(f"opset must be between 7 and 18 (tf2onnx 1.17); got {opset}.")
    try:
        graph_def, inputs, outputs, rename = _frozen_graph(function, signature)
        with deprecation.silence():  # from_graph_def freezes through tf.compat.v1 (no news)
            proto, _ = tf2onnx.convert.from_graph_def(
                graph_def,
                input_names=inputs,
                output_names=outputs,
                opset=opset,
                custom_op_handlers=dict(HANDLERS),
                tensors_to_rename=rename,
            )
    except Exception as error:  # tf2onnx raises plain Exceptions
        raise ValueError(_unsupported(model, str(error))) from error
    ops, nodes = _tensorflow_ops(proto)
    if ops:
        message = f"tf2onnx has no ONNX conversion for TensorFlow op(s) {', '.join(ops)}"
        raise ValueError(_unsupported(model, message, " ".join(nodes)))
    return proto


def _frozen_graph(function, signature):
    """The traced `function` frozen: every variable and captured tensor a constant.

    Returns (GraphDef, input names, output names, {TensorFlow name: ONNX name}).

    tf2onnx's own `from_function` makes every captured tensor a graph input: a Keras
    Normalization layer (as in keras.applications' EfficientNet) holds its mean and variance
    as tensors, so the file asked for them at run time. Only the signature's arguments
    (they come first, captures after) are inputs here; freezing folds the captures in.
    """
    import tf2onnx

    concrete = function.get_concrete_function(*signature)
    inputs = [tensor.name for tensor in concrete.inputs[: len(signature)]]
    outputs = [tensor.name for tensor in concrete.outputs]
    rename = tf2onnx.convert.tensor_names_from_structed(concrete, inputs, outputs)
    return tf2onnx.tf_loader.from_function(concrete, inputs, outputs), inputs, outputs, rename


def _tensorflow_ops(proto) -> tuple[list[str], list[str]]:
    """(op types, node names) of nodes tf2onnx left as TensorFlow ops (not in ONNX)."""
    import onnx

    nodes = [node for node in proto.graph.node if not onnx.defs.has(node.op_type, node.domain)]
    return sorted({node.op_type for node in nodes}), [node.name + "/" for node in nodes]


def _unsupported(model: keras.Model, message: str, names: str = "") -> str:
    """One-line reason for a failed conversion, naming the Keras layers involved."""
    layers = _layers_in(model, f"{message} {names}")
    where = f" (layers: {', '.join(layers)})" if layers else ""
    first = message.strip().splitlines()[0][:400] if message.strip() else "unknown error"
    hint = (
        "the failing ops are gradients, so export without --with-cam (prediction only) and "
        "explain with Keras (emolens explain)"
        if "gradient_tape" in f"{message} {names}"
        else "replace those layers with ones built from supported ops (e.g. GELU with "
        "approximate=True, as emolens.models.layers.gelu_tanh)"
    )
    return f"Model {model.name!r} cannot be exported to ONNX{where}: {first}. Fix: {hint}."


def _layers_in(model: keras.Model, text: str) -> list[str]:
    """Names of `model`'s layers appearing as a path part ('.../<layer>_1/...') in `text`."""
    parts = set(re.findall(r"(?<=[/\s'\"])([A-Za-z0-9_.-]+?)(?:_\d+)?(?=/)", text))
    return [layer.name for layer in model.layers if layer.name in parts]


def _check(model: keras.Model, data: bytes, with_cam: bool, layer: str | None) -> None:
    """Run the graph in onnxruntime on 4 random images; compare with Keras (and grad_cam)."""
    import onnxruntime

    shape = input_shape(model)
    images = np.random.default_rng(0).random((4, *shape), dtype=np.float32)
    try:
        session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        feeds = {"images": images}
        if with_cam:
            feeds["targets"] = np.full((len(images),), -1, dtype=np.int32)
        outputs = dict(
            zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True)
        )
    except Exception as error:  # onnxruntime raises its own exception types
        raise ValueError(_unsupported(model, str(error))) from error
    expected = {"probs": np.asarray(model.predict(images, verbose=0), dtype=np.float32)}
    if with_cam:
        from emolens.explain import grad_cam

        expected["cam"] = grad_cam(model, images, layer=layer)
    for key, value in expected.items():
        gap = float(np.max(np.abs(outputs[key] - value)))
        if not gap <= CHECK_TOLERANCE:
            raise RuntimeError(
                f"The ONNX graph of {model.name!r} gives {key} up to {gap:.2g} away from Keras "
                f"(tolerance {CHECK_TOLERANCE}); nothing was written. Please report this model."
            )
