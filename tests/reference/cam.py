"""Slow, obvious CAM references: one image at a time, numpy, written from the papers' equations.

Valid for chain models (each layer feeds the next) that end Dense "logits" -> Softmax "probs",
like tests/toy_models.tiny_cnn and linear_probe_model; the gradient, Eigen- and Score-CAM
references also read a ViT's token layer (T, K) on its square patch grid (see `_grid`).
Upsampling uses the same bilinear half-pixel resize as explain._maps.resize_maps, so maps are
compared on the same grid.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def _resize(maps: np.ndarray, size) -> np.ndarray:
    """(h, w) -> (H, W) bilinear, half-pixel centres."""
    if maps.shape == tuple(size):
        return maps
    return tf.image.resize(maps[None, ..., None], size, method="bilinear").numpy()[0, ..., 0]


def _unit(cam: np.ndarray, size) -> np.ndarray:
    cam = _resize(np.maximum(cam, 0.0), size)
    return cam / cam.max() if cam.max() > 0 else cam


_SUBMODELS: dict = {}


def _sub(model, *names):
    """Cached plain sub-model image -> outputs of `names` (the reference builds nothing else)."""
    key = (id(model), names)
    if key not in _SUBMODELS:
        outputs = [model.get_layer(name).output for name in names]
        _SUBMODELS[key] = keras.Model(model.inputs[0], outputs if len(names) > 1 else outputs[0])
    return _SUBMODELS[key]


def _grid(acts: np.ndarray) -> np.ndarray:
    """(h, w, K) as is; ViT tokens (T, K) as their square patch grid, leading tokens dropped."""
    if acts.ndim == 3:
        return acts
    side = int(np.sqrt(acts.shape[0]))
    return acts[acts.shape[0] - side * side :].reshape(side, side, -1)


def _acts_and_grads(model, image, target, layer):
    """Acts (h, w, K), grads (h, w, K) of logit `target` (None: top) for one image (H, W, C)."""
    sub = _sub(model, layer, "logits")
    with tf.GradientTape() as tape:
        acts, logits = sub(image[None])
        target = int(np.argmax(logits[0])) if target is None else target
        score = logits[0, target]
    return _grid(acts[0].numpy()), _grid(tape.gradient(score, acts)[0].numpy()), target


def _head_logits(model, layer, acts):
    """Logits (classes,) of the layers after `layer` applied to acts (h, w, K)."""
    names = [lay.name for lay in model.layers]
    x = acts[None]
    for lay in model.layers[names.index(layer) + 1 :]:
        if lay.name == "probs":
            break
        x = lay(x)
    return np.asarray(x)[0]


def grad_cam(model, image, target, layer):
    acts, grads, _ = _acts_and_grads(model, image, target, layer)
    weights = grads.mean(axis=(0, 1))  # alpha_k = 1/Z sum_ij dy/dA_ij^k
    return _unit(acts @ weights, image.shape[:2])


def hires_cam(model, image, target, layer):
    acts, grads, _ = _acts_and_grads(model, image, target, layer)
    return _unit((grads * acts).sum(-1), image.shape[:2])


def xgrad_cam(model, image, target, layer):
    acts, grads, _ = _acts_and_grads(model, image, target, layer)
    weights = np.zeros(acts.shape[-1], np.float32)
    for k in range(acts.shape[-1]):
        total = acts[..., k].sum()
        if abs(total) > 1e-7:
            weights[k] = (grads[..., k] * acts[..., k]).sum() / total
    return _unit(acts @ weights, image.shape[:2])


def layer_cam(model, image, target, layer):
    acts, grads, _ = _acts_and_grads(model, image, target, layer)
    return _unit((np.maximum(grads, 0) * acts).sum(-1), image.shape[:2])


def grad_cam_pp(model, image, target, layer):
    """Eq. 19 of Chattopadhay et al. with S = exp(y); alphas normalised as the authors' code."""
    acts, grads, target = _acts_and_grads(model, image, target, layer)
    logits = np.asarray(_sub(model, "logits")(image[None]))
    score = np.exp(np.float64(logits[0, target]))
    weights = np.zeros(acts.shape[-1])
    for k in range(acts.shape[-1]):
        g = grads[..., k].astype(np.float64)
        d1, d2, d3 = score * g, score * g**2, score * g**3
        denom = 2 * d2 + acts[..., k].sum() * d3
        alpha = d2 / np.where(denom != 0, denom, 1.0)
        if alpha.sum() != 0:
            alpha = alpha / alpha.sum()
        weights[k] = (alpha * np.maximum(d1, 0)).sum()
    return _unit(acts @ weights, image.shape[:2])


def eigen_cam(model, image, target, layer):
    acts = _grid(np.asarray(_sub(model, layer)(image[None]))[0])
    flat = acts.reshape(-1, acts.shape[-1]).astype(np.float64)
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    projection = flat @ vt[0]
    projection = projection if projection.sum() >= 0 else -projection
    return _unit(projection.reshape(acts.shape[:2]), image.shape[:2])


def score_cam(model, image, target, layer, top_k=None):
    """alpha_k = softmax(f(X * s(Up(A_k))))[c], s = min-max to [0, 1] (a constant map -> 0).

    top_k: only the top_k channels of largest spatial std get a weight (Faster Score-CAM).
    """
    acts = _grid(np.asarray(_sub(model, layer)(image[None]))[0])
    probs = np.asarray(model(image[None]))[0]
    target = int(np.argmax(probs)) if target is None else target
    weights = np.zeros(acts.shape[-1])
    spread = acts.std(axis=(0, 1))
    kept = range(acts.shape[-1]) if top_k is None else np.argsort(-spread, kind="stable")[:top_k]
    for k in kept:
        mask = _resize(acts[..., k], image.shape[:2])
        span = mask.max() - mask.min()
        mask = (mask - mask.min()) / span if span > 0 else np.zeros_like(mask)
        weights[k] = np.asarray(model((image * mask[..., None])[None]))[0, target]
    return _unit(acts @ weights, image.shape[:2])


def _ablated_logits(model, image, layer, channel):
    """Logits (classes,) of one image with channel `channel` of `layer`'s output set to zero.

    The layer's `call` is wrapped for one eager forward pass, so any graph (a ViT's residual
    stream too) runs as the model itself; ViT tokens lose the channel at every token.
    """
    target_layer, original = model.get_layer(layer), model.get_layer(layer).call

    def call(*args, **kwargs):
        acts = original(*args, **kwargs)
        return acts * (1.0 - tf.one_hot(channel, acts.shape[-1]))

    object.__setattr__(target_layer, "call", call)
    try:
        return np.asarray(_sub(model, "logits")(image[None]))[0]
    finally:
        object.__delattr__(target_layer, "call")


def ablation_cam(model, image, target, layer):
    """w_k = (y_c - y_c^k) / y_c, y_c^k: logit with channel k of the layer set to zero."""
    acts = np.asarray(_sub(model, layer)(image[None]))[0]
    if acts.ndim == 3:  # a chain CNN: run the head on the ablated activations
        logits = _head_logits(model, layer, acts)
        ablated_logits = []
        for k in range(acts.shape[-1]):
            ablated = acts.copy()
            ablated[..., k] = 0.0
            ablated_logits.append(_head_logits(model, layer, ablated))
    else:  # ViT tokens (T, K): re-run the whole model with the channel zeroed in the layer
        logits = np.asarray(_sub(model, "logits")(image[None]))[0]
        ablated_logits = [_ablated_logits(model, image, layer, k) for k in range(acts.shape[-1])]
    target = int(np.argmax(logits)) if target is None else target
    weights = np.array([(logits[target] - a[target]) / logits[target] for a in ablated_logits])
    return _unit(_grid(acts) @ weights, image.shape[:2])


METHODS = {
    "grad_cam": grad_cam,
    "grad_cam_pp": grad_cam_pp,
    "hires_cam": hires_cam,
    "xgrad_cam": xgrad_cam,
    "layer_cam": layer_cam,
    "eigen_cam": eigen_cam,
    "score_cam": score_cam,
    "ablation_cam": ablation_cam,
}


def explain(name: str, model, images, targets, layer) -> np.ndarray:
    """Reference maps (N, H, W): method `name` applied image by image."""
    targets = [None] * len(images) if targets is None else list(targets)
    return np.stack(
        [METHODS[name](model, image, t, layer) for image, t in zip(images, targets, strict=True)]
    )
