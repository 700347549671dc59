"""Layer lookup and cached (layer output, logits) sub-models."""

from __future__ import annotations

import difflib
import warnings
import weakref

import keras
from keras import ops

_FEATURE_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _LinearHead(keras.layers.Layer):
    """Re-applies a Dense layer's kernel and bias without its activation (shared weights)."""

    def __init__(self, dense: keras.layers.Dense, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense

    def call(self, inputs):
        logits = ops.matmul(inputs, self.dense.kernel)
        return logits + self.dense.bias if self.dense.use_bias else logits


def _is_softmax(layer: keras.layers.Layer) -> bool:
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return activation is not None and getattr(activation, "__name__", "") == "softmax"


def _producer(tensor) -> tuple[keras.layers.Layer, object]:
    """The layer that produced symbolic `tensor` and the input of that very call.

    `layer.input` would give the input of the layer's *first* call, which in a rebuilt
    graph (nested models) belongs to the original graph and silently cuts gradients.
    """
    history = tensor._keras_history
    node = history.operation._inbound_nodes[history.node_index]
    inputs = node.input_tensors
    return history.operation, inputs[0] if len(inputs) == 1 else inputs


def logits_output(model: keras.Model):
    """The symbolic logits of `model`: the input of a final softmax, or the output itself.

    A final Dense with `activation="softmax"` is re-applied without it (shared weights).
    """
    last, last_input = _producer(model.outputs[0])
    if isinstance(last, keras.layers.Softmax) or (
        isinstance(last, keras.layers.Activation) and _is_softmax(last)
    ):
        return last_input
    if isinstance(last, keras.layers.Dense) and _is_softmax(last):
        return _LinearHead(last, name="emolens_logits")(last_input)
    if _is_softmax(last):
        warnings.warn(
            f"Model {model.name!r} ends in a softmax that emolens cannot bypass; gradients are "
            "taken on probabilities, which saturate. End the model in Dense + Softmax layer.",
            stacklevel=3,
        )
    return model.outputs[0]


def _output_shape(layer: keras.layers.Layer) -> tuple | None:
    """`layer`'s output shape, or None when it has no single output (a shared layer)."""
    try:
        return tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return None


def _has_spatial_output(layer: keras.layers.Layer) -> bool:
    shape = _output_shape(layer)
    return shape is not None and len(shape) == 4


def _walk(model: keras.Model, prefix: str = ""):
    """Yield (qualified name, layer, owning model) for every layer, nested models included."""
    for layer in model.layers:
        name = prefix + layer.name
        yield name, layer, model
        if isinstance(layer, keras.Model):
            yield from _walk(layer, name + "/")


def spatial_layers(model: keras.Model) -> list[str]:
    """Names of layers with (N, h, w, K) output, nested ones as 'outer/inner', input first."""
    return [
        name
        for name, layer, _ in _walk(model)
        if _has_spatial_output(layer)
        and not isinstance(layer, (keras.layers.InputLayer, keras.Model))
        and not _reads_attention(layer)
    ]


def _reads_attention(layer: keras.layers.Layer) -> bool:
    """True for attention probabilities (N, heads, T, T): 'attn*' layers or MHA score readers."""
    if layer.name.startswith("attn"):
        return True
    try:
        producer = layer.input._keras_history.operation
    except (AttributeError, ValueError):
        return False
    return isinstance(producer, keras.layers.MultiHeadAttention)


def _patch_grid(model: keras.Model) -> tuple[int, int] | None:
    """(h, w) of the last spatial layer (a ViT's patch grid), or None without one."""
    spatial = spatial_layers(model)
    if not spatial:
        return None
    _, h, w, _ = find_layer(model, spatial[-1])[1].output.shape
    return (h, w) if h and w else None


MAX_EXTRA_TOKENS = 8
"""Leading tokens (class, distillation, register) a token layer may carry before its grid."""


def _on_grid(layer: keras.layers.Layer, grid) -> tuple[int, int, int] | None:
    """(extra, h, w) when `layer` outputs tokens (N, extra + h*w, D) on `grid`, else None."""
    shape = _output_shape(layer)
    if (
        shape is None
        or len(shape) != 3
        or grid is None
        or shape[1] is None
        or _reads_attention(layer)
    ):
        return None
    extra = shape[1] - grid[0] * grid[1]
    return (extra, *grid) if 0 <= extra <= MAX_EXTRA_TOKENS else None


def token_grid(model: keras.Model, name: str) -> tuple[int, int, int] | None:
    """(extra, h, w) when layer `name` outputs ViT tokens (N, extra + h*w, D), else None.

    The grid (h, w) is the model's last spatial layer (the patch embedding); the `extra`
    leading tokens (a class token, at most MAX_EXTRA_TOKENS) are not part of the grid.
    """
    return _on_grid(find_layer(model, name)[1], _patch_grid(model))


def token_layers(model: keras.Model) -> list[str]:
    """Names of layers whose (N, T, D) output is a ViT's tokens on its patch grid, in order."""
    if not any(isinstance(layer, keras.layers.MultiHeadAttention) for _, layer, _ in _walk(model)):
        return []
    grid = _patch_grid(model)
    return [
        name
        for name, layer, _ in _walk(model)
        if not isinstance(layer, (keras.layers.InputLayer, keras.Model))
        and _on_grid(layer, grid) is not None
    ]


def _last_attention_input(model: keras.Model) -> str | None:
    """The token layer feeding the model's last attention block (its pre-norm input), if any.

    In a class-token ViT only the class token reaches the classifier after the last block, so
    patch tokens have gradients only up to the last attention. Its LayerNorm is skipped: the
    norm's bias adds the same sum(w_k * beta_k) to every position, which on trained ViTs here
    pushes the whole Grad-CAM map below zero (all-black after the ReLU); the residual stream
    entering the block has no such offset.
    """
    attention = [
        layer for layer in model.layers if isinstance(layer, keras.layers.MultiHeadAttention)
    ]
    if not attention:
        return None
    # Node 0 is the model's own call; explaining adds nodes from rebuilt graphs after it.
    layer, normed = _producer(attention[-1]._inbound_nodes[0].input_tensors[0])  # query
    if isinstance(layer, keras.layers.LayerNormalization):
        layer, _ = _producer(normed)
    return layer.name if token_grid(model, layer.name) is not None else None


def find_layer(model: keras.Model, layer: str) -> tuple[str, keras.layers.Layer]:
    """Look up `layer` by plain or qualified ('outer/inner') name, nested models included.

    Raises:
        ValueError: no such layer; the message gives the closest names (any kind of layer:
            callers look up conv, token and attention layers alike), then the spatial ones.
    """
    names = []
    for name, found, _ in _walk(model):
        if name == layer or found.name == layer:
            return name, found
        names.append(name)
    close = difflib.get_close_matches(str(layer), names, n=5, cutoff=0.5)
    if close:
        hint = f"Closest names: {', '.join(close)}."
    elif len(names) <= 30:
        hint = f"Its layers: {', '.join(names)}."
    else:
        hint = f"Its last layers: {', '.join(names[-12:])} (all: model.summary())."
    spatial = spatial_layers(model)
    if spatial:
        hint += f" Layers with spatial output (for the CAM methods): {', '.join(spatial)}."
    raise ValueError(f"Layer {layer!r} is not in model {model.name!r}. {hint}")


_RESOLVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def resolve_layer(model: keras.Model, layer: str | None, tokens: bool = False) -> str:
    """Qualified name of `layer`, or of the last layer with spatial output when None.

    With `tokens=True` (the CAM family) a ViT's token layers count too (see `token_grid`),
    and None picks the token layer feeding the last attention block (the residual stream,
    before that block's LayerNorm) when the model has one.

    Cached per (model, layer), keyed weakly by model: walking every layer costs ~0.1 ms per
    call. The cache is keyed by the identity of the model's top-level layers too, so adding or
    popping layers (Sequential) resolves again. Errors are never cached.

    Raises:
        ValueError: `layer` is unknown or not spatial, or the model has no spatial layer.
    """
    layers = tuple(map(id, model.layers))
    token, names = _RESOLVED.get(model, (None, {}))
    if token != layers:  # first call, or layers were added or popped: start afresh
        names = {}
        _RESOLVED[model] = (layers, names)
    if (layer, tokens) not in names:
        names[layer, tokens] = _resolve_layer(model, layer, tokens)
    return names[layer, tokens]


def _resolve_layer(model: keras.Model, layer: str | None, tokens: bool) -> str:
    candidates = spatial_layers(model)
    if tokens:
        if layer is None and (last := _last_attention_input(model)) is not None:
            return last
        candidates += token_layers(model)
    if layer is None:
        if not candidates:
            raise ValueError(
                f"Model {model.name!r} has no layer with (N, h, w, K) output to explain. "
                "CAM methods need a convolutional layer; try 'saliency' or 'occlusion'."
            )
        return candidates[-1]
    name, _ = find_layer(model, layer)
    if name not in candidates:
        kind = "spatial (N, h, w, K) or ViT token" if tokens else "spatial (N, h, w, K)"
        raise ValueError(
            f"Layer {layer!r} of model {model.name!r} has no {kind} output. "
            f"Layers with such output: {', '.join(candidates)}."
        )
    return name


def _run_replacing(model: keras.Model, target: keras.layers.Layer, call) -> list:
    """Outputs (a list) of `model`'s graph re-run on its inputs with `target`'s call replaced."""

    def operation_fn(operation):
        return call if operation is target else operation

    outputs = model._run_through_graph(model.inputs, operation_fn=operation_fn)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _grid_outputs(model: keras.Model, name: str):
    """Symbolic (acts (N, h, w, K), outputs) with token layer `name` seen on its patch grid.

    The layer's patch tokens are reshaped to the grid and back inside the rebuilt graph, so
    the logits depend on the grid tensor and gradients flow to it; extra (class) tokens pass
    through unchanged.
    """
    extra, h, w = token_grid(model, name)
    target = model.get_layer(name)
    captured = {}

    def call(*args, **kwargs):
        tokens = target(*args, **kwargs)  # (N, extra + h*w, K)
        channels = tokens.shape[-1]
        grid = ops.reshape(tokens[:, extra:, :], (-1, h, w, channels))
        captured["acts"] = grid
        patches = ops.reshape(grid, (-1, h * w, channels))
        return ops.concatenate([tokens[:, :extra, :], patches], axis=1) if extra else patches

    outputs = _run_replacing(model, target, call)
    return captured["acts"], outputs


def _nested_outputs(model: keras.Model, path: list[str]):
    """Rebuild `model` so a layer inside nested models is an output: (acts, model outputs)."""
    inner = model.get_layer(path[0])
    if len(path) == 1:
        return inner.output, model.outputs
    captured = {}
    inner_acts, inner_outs = _nested_outputs(inner, path[1:])
    inner_feat = keras.Model(inner.inputs, [inner_acts, *inner_outs])

    def call(*args, **kwargs):
        kwargs.pop("training", None)
        acts, *outs = inner_feat(*args, **kwargs)
        captured["acts"] = acts
        return outs[0] if len(outs) == 1 else outs

    outputs = _run_replacing(model, inner, call)
    return captured["acts"], outputs


def feature_model(model: keras.Model, layer: str | None = None) -> keras.Model:
    """Cached sub-model mapping images to [layer output (N,h,w,K), logits (N,num_classes)].

    Built once per (model, layer). `layer=None` picks the last spatial layer, or on a ViT
    the residual stream into its last attention block. A ViT token layer's output
    (N, extra + h*w, K) comes back as its patch tokens on the (h, w) grid, the extra (class)
    tokens dropped.
    """
    name = resolve_layer(model, layer, tokens=True)
    cache = _FEATURE_MODELS.setdefault(model, {})
    if name not in cache:
        path = name.split("/")
        if len(find_layer(model, name)[1].output.shape) == 3:  # ViT tokens (see token_grid)
            if len(path) > 1:
                raise ValueError(
                    f"Token layer {name!r} is inside a nested model; explain the inner ViT "
                    f"({path[-2]!r}) itself, or pick a spatial layer."
                )
            acts, outputs = _grid_outputs(model, name)
            rebuilt = keras.Model(model.inputs, outputs)
            cache[name] = keras.Model(_inputs(model), [acts, logits_output(rebuilt)])
        elif len(path) == 1:
            acts = model.get_layer(name).output
            cache[name] = keras.Model(_inputs(model), [acts, logits_output(model)])
        else:
            acts, outputs = _nested_outputs(model, path)
            rebuilt = keras.Model(model.inputs, outputs)
            cache[name] = keras.Model(_inputs(model), [acts, logits_output(rebuilt)])
    return cache[name]


_LOGITS_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def logits_model(model: keras.Model) -> keras.Model:
    """Cached sub-model mapping images (N, H, W, C) to logits (N, num_classes).

    Built once per model; shares the model's weights.
    """
    if model not in _LOGITS_MODELS:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        _LOGITS_MODELS[model] = keras.Model(inputs, logits_output(model))
    return _LOGITS_MODELS[model]


def is_attention_layer(layer: keras.layers.Layer) -> bool:
    """True for a MultiHeadAttention layer or a layer named 'attn_probs...' (attention probs)."""
    return isinstance(layer, keras.layers.MultiHeadAttention) or layer.name.startswith("attn_probs")


def _capturing_trace(model: keras.Model, inputs, wanted: set[str], captured: dict, prefix=""):
    """Re-run `model`'s graph on `inputs`, storing outputs of `wanted` qualified names."""

    def operation_fn(operation):
        qualified = prefix + operation.name
        is_outer = isinstance(operation, keras.Model) and any(
            name.startswith(qualified + "/") for name in wanted
        )
        if qualified not in wanted and not is_outer:
            return operation

        def call(*args, **kwargs):
            if is_outer:
                kwargs.pop("training", None)
                inner_inputs = args[0] if len(args) == 1 else list(args)
                outputs = _capturing_trace(
                    operation, inner_inputs, wanted, captured, qualified + "/"
                )
            else:
                outputs = operation(*args, **kwargs)
            if qualified in wanted:
                captured[qualified] = outputs
            return outputs

        return call

    return model._run_through_graph(inputs, operation_fn=operation_fn)


def _single_output(layer: keras.layers.Layer, outputs, name: str):
    """One tensor per layer: a MultiHeadAttention's scores (N, heads, T, S), else its output."""
    if not isinstance(outputs, (list, tuple)):
        return outputs
    if isinstance(layer, keras.layers.MultiHeadAttention) and len(outputs) == 2:
        return outputs[1]
    raise ValueError(
        f"Layer {name!r} has {len(outputs)} outputs; pick a layer with a single output "
        "(or a MultiHeadAttention layer called with return_attention_scores=True)."
    )


_OUTPUTS_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def outputs_model(model: keras.Model, names: tuple[str, ...]) -> keras.Model:
    """Cached sub-model mapping images to [output of each layer in `names`..., logits].

    `names` are qualified names (see `find_layer`); nested models are rebuilt once so every
    output comes from one graph (gradients flow from the logits to each output). Built once per
    (model, names).

    Raises:
        ValueError: a name is not in `model`, or a layer has several outputs.
    """
    names = tuple(names)
    cache = _OUTPUTS_MODELS.setdefault(model, {})
    if names not in cache:
        found = [find_layer(model, name) for name in names]  # (qualified name, layer)
        captured: dict = {}
        outputs = _capturing_trace(model, model.inputs, {q for q, _ in found}, captured)
        acts = [_single_output(layer, captured[q], q) for q, layer in found]
        rebuilt = keras.Model(model.inputs, outputs)
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        cache[names] = keras.Model(inputs, [*acts, logits_output(rebuilt)])
    return cache[names]


def _inputs(model: keras.Model):
    """`model.inputs`, unwrapped when there is one input (avoids Keras' structure warning)."""
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def _scaled_outputs(model: keras.Model, path: list[str], keep):
    """Outputs of `model` re-run with the layer at `path` multiplied by keep (N, K) per channel."""
    target = model.get_layer(path[0])
    if len(path) == 1:

        def call(*args, **kwargs):
            acts = target(*args, **kwargs)  # (N, h, w, K), or ViT tokens (N, T, K)
            ones = (1,) * (len(acts.shape) - 2)
            return acts * ops.reshape(keep, (-1, *ones, acts.shape[-1]))

    else:
        inner_keep = keras.Input(shape=keep.shape[1:], name="emolens_keep")
        inner = keras.Model(
            [*target.inputs, inner_keep], _scaled_outputs(target, path[1:], inner_keep)
        )

        def call(*args, **kwargs):
            kwargs.pop("training", None)
            return inner([*args, keep], **kwargs)

    return _run_replacing(model, target, call)


def channel_scaled_model(model: keras.Model, layer: str | None = None) -> keras.Model:
    """Cached model [images, keep (N, K)] -> logits, with `layer`'s output scaled per channel.

    keep = ones gives the model's logits; a zero at k ablates channel k. Nested layers
    ('outer/inner') are reached by re-running the outer graphs.
    """
    name = resolve_layer(model, layer, tokens=True)
    cache = _FEATURE_MODELS.setdefault(model, {})
    key = "__scaled__/" + name
    if key not in cache:
        channels = find_layer(model, name)[1].output.shape[-1]
        keep = keras.Input(shape=(channels,), name="emolens_keep")
        rebuilt = keras.Model([*model.inputs, keep], _scaled_outputs(model, name.split("/"), keep))
        cache[key] = keras.Model(rebuilt.inputs, logits_output(rebuilt))
    return cache[key]
