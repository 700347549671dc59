"""ONNX conversions tf2onnx 1.17 lacks or gets wrong, for the gradient ops of Grad-CAM graphs.

tf2onnx has no conversion for ReluGrad, TanhGrad, SigmoidGrad, RsqrtGrad (dy times a function
of the op's output) and ShapeN (several Shape ops): they are added below.

TensorFlow writes the gradient of a mean over axes of a tensor whose batch size is unknown as
`reshape(grad, dynamic_stitch([range(rank), axes], [shape, ones]))`. tf2onnx 1.17 converts
DynamicStitch to a ScatterElements whose output is as long as all the data together (here
rank + len(axes) instead of rank), so the Reshape fails in onnxruntime. This handler builds
the right result: output[i] = data[last j with indices[j] == i], for i < max(indices) + 1.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto
from tf2onnx import utils
from tf2onnx.graph_builder import GraphBuilder


def _const(ctx, name: str, value: int) -> str:
    """Name of a new int64 scalar constant."""
    return ctx.make_const(utils.make_name(name), np.array(value, dtype=np.int64)).output[0]


def convert_dynamic_stitch(ctx, node, name, args):
    """tf2onnx handler (old-style custom_op_handlers API) for DynamicStitch with 1-D indices."""
    count = len(node.input) // 2
    index_inputs, data_inputs = node.input[:count], node.input[count:]
    indices = ctx.make_node("Concat", index_inputs, attr={"axis": 0})
    indices = ctx.make_node("Cast", [indices.output[0]], attr={"to": TensorProto.INT64})  # (L,)
    data = ctx.make_node("Concat", data_inputs, attr={"axis": 0})  # (L, ...)
    top = ctx.make_node("ReduceMax", [indices.output[0]], attr={"keepdims": 0})  # ()
    size = ctx.make_node("Add", [top.output[0], _const(ctx, "one", 1)])  # ()
    positions = ctx.make_node(  # (M,) = 0 .. max(indices)
        "Range", [_const(ctx, "zero", 0), size.output[0], _const(ctx, "step", 1)]
    )
    builder = GraphBuilder(ctx)
    rows = builder.make_unsqueeze({"data": positions.output[0], "axes": [1]})  # (M, 1)
    cols = builder.make_unsqueeze({"data": indices.output[0], "axes": [0]})  # (1, L)
    hits = ctx.make_node("Equal", [rows, cols])  # (M, L)
    hits = ctx.make_node("Cast", [hits.output[0]], attr={"to": TensorProto.INT32})
    last = ctx.make_node(  # (M,) the last j writing position i (later data wins, as in TF)
        "ArgMax", [hits.output[0]], attr={"axis": 1, "keepdims": 0, "select_last_index": 1}
    )
    outputs, dtypes = node.output, [ctx.get_dtype(node.output[0])]
    ctx.remove_node(node.name)
    ctx.make_node(
        "Gather",
        [data.output[0], last.output[0]],
        attr={"axis": 0},
        name=name,
        outputs=outputs,
        dtypes=dtypes,
    )


HANDLERS = {op: (convert_dynamic_stitch, []) for op in ("DynamicStitch", "ParallelDynamicStitch")}
"""custom_op_handlers for tf2onnx.convert.from_function."""


def _replace(ctx, node, op_type: str, inputs: list[str], output: str, **attr) -> None:
    """One ONNX node writing `output` (a TF node's output), with the TF node's dtype."""
    ctx.make_node(op_type, inputs, attr=attr, outputs=[output], dtypes=[ctx.get_dtype(output)])


def _elementwise_grad(formula: str):
    """Handler for TF's y-based activation gradients: out = dy * f(y)."""

    def convert(ctx, node, name, args):
        first, second = node.input[0], node.input[1]
        output = node.output[0]
        dtype = ctx.get_dtype(output)
        one = ctx.make_const(utils.make_name("one"), np.array(1, _NP[dtype])).output[0]
        ctx.remove_node(node.name)
        if formula == "relu":  # ReluGrad(gradients, features): dy * (x > 0)
            zero = ctx.make_const(utils.make_name("zero"), np.array(0, _NP[dtype])).output[0]
            positive = ctx.make_node("Greater", [second, zero])
            mask = ctx.make_node("Cast", [positive.output[0]], attr={"to": dtype})
            _replace(ctx, node, "Mul", [first, mask.output[0]], output)
            return
        y, dy = first, second
        square = ctx.make_node("Mul", [y, y]).output[0]
        if formula == "tanh":  # TanhGrad(y, dy) = dy * (1 - y^2)
            factor = ctx.make_node("Sub", [one, square]).output[0]
        elif formula == "sigmoid":  # SigmoidGrad(y, dy) = dy * y * (1 - y)
            factor = ctx.make_node("Mul", [y, ctx.make_node("Sub", [one, y]).output[0]]).output[0]
        else:  # RsqrtGrad(y, dy) = dy * -0.5 * y^3
            half = ctx.make_const(utils.make_name("half"), np.array(-0.5, _NP[dtype])).output[0]
            cube = ctx.make_node("Mul", [square, y]).output[0]
            factor = ctx.make_node("Mul", [cube, half]).output[0]
        _replace(ctx, node, "Mul", [dy, factor], output)

    return convert


def convert_shape_n(ctx, node, name, args):
    """ShapeN(x_1..x_n) -> n Shape ops, cast to the TF out_type."""
    inputs, outputs = list(node.input), list(node.output)
    dtype = ctx.get_dtype(outputs[0])
    ctx.remove_node(node.name)
    for tensor, output in zip(inputs, outputs, strict=True):
        shape = ctx.make_node("Shape", [tensor])
        _replace(ctx, node, "Cast", [shape.output[0]], output, to=dtype)


_NP = {
    TensorProto.FLOAT: np.float32,
    TensorProto.DOUBLE: np.float64,
    TensorProto.FLOAT16: np.float16,
}

HANDLERS.update(
    {
        "ReluGrad": (_elementwise_grad("relu"), []),
        "TanhGrad": (_elementwise_grad("tanh"), []),
        "SigmoidGrad": (_elementwise_grad("sigmoid"), []),
        "RsqrtGrad": (_elementwise_grad("rsqrt"), []),
        "ShapeN": (convert_shape_n, []),
    }
)
