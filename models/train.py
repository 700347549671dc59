"""Training loop of the zoo (the `emolens train` command calls `train`).

Backend-agnostic Keras 3 (TensorFlow here, JAX or TensorFlow on a GPU machine): checkpoints each
epoch (atomically), resumes after interruption, stops early, and writes a model card.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import keras
import numpy as np

from emolens.explain.data import ferplus_distribution, load_dataset
from emolens.models import zoo
from emolens.models.augment import allow_jit, augmentation, mix_batch
from emolens.models.cards import atomic_file, atomic_write_text, write_card
from emolens.models.evaluate import evaluate, predict_probs
from emolens.models.sam import check_sam, use_sam
from emolens.models.train_config import TrainConfig


class TrainBatches(keras.utils.PyDataset):
    """Shuffled full batches (static shapes) with optional CutMix/MixUp and sample weights."""

    def __init__(self, images, onehot, weights, cfg: TrainConfig, start_epoch: int = 0):
        super().__init__()
        self.images, self.onehot, self.weights, self.cfg = images, onehot, weights, cfg
        self.epoch = start_epoch
        self._shuffle()

    def _shuffle(self):
        self.order = np.random.default_rng([self.cfg.seed, self.epoch]).permutation(
            len(self.images)
        )

    def __len__(self):
        return max(1, len(self.images) // self.cfg.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.cfg.batch_size : (index + 1) * self.cfg.batch_size]
        images, labels, weights = self.images[rows], self.onehot[rows], self.weights[rows]
        rng = np.random.default_rng([self.cfg.seed, self.epoch, index])
        if self.cfg.mix != "none" and rng.random() < self.cfg.mix_prob:
            images, labels = mix_batch(
                images, labels, mode=self.cfg.mix, seed=int(rng.integers(2**31))
            )
        return images, labels, weights

    def on_epoch_end(self):
        self.epoch += 1
        self._shuffle()


_clock = time.perf_counter  # --time-limit's clock (a test replaces it)


class _Checkpoint(keras.callbacks.Callback):
    """Per-epoch atomic checkpoint + state; best weights by val accuracy; early stopping."""

    def __init__(
        self,
        out: Path,
        base: keras.Model,
        state: dict,
        patience: int,
        time_limit: float | None = None,
        swa_from: int | None = None,
    ):
        super().__init__()
        self.out, self.base, self.state, self.patience = out, base, state, patience
        self.swa_from = swa_from
        self.time_limit, self.started = time_limit, _clock()
        self.epoch_started, self.slowest = self.started, 0.0

    def _no_time_for_another_epoch(self) -> bool:
        """True when one more epoch as long as the slowest so far would end past the limit."""
        now = _clock()
        self.slowest = max(self.slowest, now - self.epoch_started)
        self.epoch_started = now
        return self.time_limit is not None and now - self.started + self.slowest > self.time_limit

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        state = self.state
        state["history"].append({"epoch": epoch + 1, **logs})
        if logs.get("val_accuracy", -1.0) > state["best_val_accuracy"]:
            state["best_val_accuracy"], state["best_epoch"], state["wait"] = (
                logs["val_accuracy"],
                epoch + 1,
                0,
            )
            _atomic_save(self.base.save_weights, self.out / "best.weights.h5")
        else:
            state["wait"] += 1
        if self.swa_from is not None and epoch + 1 >= self.swa_from:
            # one file per epoch, not a running mean: redoing an epoch after a kill rewrites
            # its own file instead of counting it twice
            _atomic_save(self.base.save_weights, self.out / swa_file(epoch + 1))
        state["epoch"] = epoch + 1
        state["elapsed_s"] += time.perf_counter() - state.pop("_started", time.perf_counter())
        state["_started"] = time.perf_counter()
        # state.json is the commit point: a kill before it leaves the last epoch's checkpoint
        # in place (the pending one is dropped on resume); a kill after it, the pending one
        # that `_promote_checkpoint` puts in place.
        pending = self.out / f"checkpoint.epoch{epoch + 1}.keras"
        _atomic_save(self.model.save, pending)
        state["seed_states"] = seed_states(self.model)  # .keras files do not keep them
        _write_state(self.out, state)
        os.replace(pending, self.out / "checkpoint.keras")
        if state["wait"] >= self.patience:
            state["stopped_early"] = True
            self.model.stop_training = True
        elif self._no_time_for_another_epoch():
            self.model.stop_training = True  # not finished: rerunning continues the schedule


def _seed_generators(model: keras.Model) -> dict[str, keras.random.SeedGenerator]:
    """Every SeedGenerator of the model's layers (Dropout, random augmentation), by layer name."""
    found: dict[str, keras.random.SeedGenerator] = {}
    for layer in model._flatten_layers(include_self=False):
        for attribute, value in vars(layer).items():
            if isinstance(value, keras.random.SeedGenerator):
                key = f"{layer.name}.{attribute}"
                while key in found:
                    key += "+"
                found[key] = value
    return found


def seed_states(model: keras.Model) -> dict[str, list[int]]:
    """The state (seed, counter) of every SeedGenerator in `model`, as JSON-ready ints.

    A `.keras` file keeps weights and optimizer variables but not these states, and a
    loaded model starts each counter at 0: a resumed run would draw the first epoch's dropout
    masks again. `train` keeps them in state.json and restores them on resume.
    """
    return {
        key: [int(v) for v in keras.ops.convert_to_numpy(generator.state)]
        for key, generator in _seed_generators(model).items()
    }


def restore_seed_states(model: keras.Model, states: dict[str, list[int]]) -> None:
    """Set the SeedGenerator states `seed_states` saved (those it names; others are kept).

    Raises:
        ValueError: `states` names a generator `model` lacks (another architecture).
    """
    generators = _seed_generators(model)
    unknown = sorted(set(states) - set(generators))
    if unknown:
        raise ValueError(
            f"state.json holds random-generator states of layers the checkpoint lacks: "
            f"{', '.join(unknown)}. The folder mixes runs; delete it to retrain."
        )
    for key, value in states.items():
        state = generators[key].state
        state.assign(np.asarray(value, dtype=keras.backend.standardize_dtype(state.dtype)))


def swa_file(epoch: int) -> str:
    """File name of the base model's weights after `epoch` (1-based), kept for --swa-from."""
    return f"swa.epoch{epoch}.weights.h5"


def _atomic_save(save, path: Path) -> None:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        save(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _promote_checkpoint(out: Path, state: dict | None) -> None:
    """Finish a checkpoint cut between state.json and its rename (see `_Checkpoint`).

    Pending checkpoints of an epoch state.json never recorded, and temp files of a kill
    (`_atomic_save`'s .tmp-*, `atomic_file`'s .NAME.XXXX.tmp), go.
    """
    for path in out.glob("checkpoint.epoch*.keras"):
        if state is not None and path.name == f"checkpoint.epoch{state['epoch']}.keras":
            os.replace(path, out / "checkpoint.keras")
        else:
            path.unlink()
    for path in [*out.glob(".tmp-*"), *out.glob(".*.tmp")]:
        path.unlink(missing_ok=True)


def _write_state(out: Path, state: dict) -> None:
    public = {k: v for k, v in state.items() if not k.startswith("_")}
    atomic_write_text(out / "state.json", json.dumps(public, indent=1))


def data_text(data: str | None, clean: bool) -> str:
    """A card's "data": where the images came from, and whether FER2013 was cleaned."""
    cleaned = clean and data != "synthetic"
    return f"{data or 'fer2013'}" + (
        " (cleaned: near-black and unknown-row images dropped)" if cleaned else ""
    )


def split_text(val_fraction: float, seed: int) -> str:
    """The start of a card's "split": which part of Training was held out for validation."""
    return f"Training minus a {val_fraction:.0%} stratified validation split (seed {seed})"


def _split(dataset, cfg: TrainConfig):
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(dataset))
    train_rows, val_rows = train_test_split(
        rows, test_size=cfg.val_fraction, random_state=cfg.val_seed, stratify=dataset.labels
    )
    return np.sort(train_rows), np.sort(val_rows)


def _targets(full, train_rows, cfg: TrainConfig) -> np.ndarray:
    """(N, K) training targets: one-hot labels, blended with FERPlus votes by `cfg.ferplus`.

    Raises:
        ValueError: `ferplus` is outside [0, 1], or the data has no `ferplus_votes`.
    """
    labels = full.labels[train_rows]
    onehot = np.eye(len(full.classes), dtype=np.float32)[labels]
    if not cfg.ferplus:
        return onehot
    if not 0.0 < cfg.ferplus <= 1.0:
        raise ValueError(f"--ferplus must be in [0, 1]; got {cfg.ferplus}.")
    if "ferplus_votes" not in full.extras:
        raise ValueError(
            "--ferplus needs FERPlus votes, which only the FER2013 npz files carry "
            f"(data {cfg.data!r} has none). Use --data with fer2013/*.npz or --ferplus 0."
        )
    votes, valid = ferplus_distribution(full.extras["ferplus_votes"][train_rows], full.classes)
    blended = (1.0 - cfg.ferplus) * onehot + cfg.ferplus * votes
    return np.where(valid[:, None], blended, onehot).astype(np.float32)


def teacher_probs(teachers: str, images: np.ndarray, classes, safe_mode: bool = True) -> np.ndarray:
    """(N, K) mean flip-TTA probabilities of the comma-separated `teachers` over `classes`.

    Each teacher is a bundled name or a .keras file whose card names its classes; a teacher
    over more classes (fer7 for emo3) is read on `classes` only and renormalised.
    `safe_mode=False` (--unsafe-load) loads files holding a Lambda layer.

    Raises:
        ValueError: a teacher has no class names, or lacks one of `classes`.
    """
    total = np.zeros((len(images), len(classes)), dtype=np.float64)
    names = [name.strip() for name in teachers.split(",") if name.strip()]
    if not names:
        raise ValueError(
            f"--teacher {teachers!r} names no model. Give MODEL[,MODEL...]: bundled names or "
            ".keras files."
        )
    for name in names:
        model = zoo.load(name, safe_mode=safe_mode)
        known = list(getattr(model, "class_names", ()) or ())
        missing = [c for c in classes if c not in known]
        if missing:
            held = ", ".join(known) or "unknown: no card"
            raise ValueError(
                f"Teacher {name!r} does not predict {missing} (its classes: {held}). Use "
                "teachers trained on the student's classes."
            )
        probs = predict_probs(model, images, tta_flip=True)[:, [known.index(c) for c in classes]]
        total += probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12)
    return (total / len(names)).astype(np.float32)


def _cached_teacher_probs(out: Path, cfg: TrainConfig, images: np.ndarray, classes) -> np.ndarray:
    """`teacher_probs` of the training images, kept in `out`/teacher_probs.npz for resuming.

    A cache made for other teachers (names, or the contents of their model files and cards),
    classes or images is recomputed; the file is written whole or not at all.
    """
    path = out / "teacher_probs.npz"
    contents = []
    for name in (name.strip() for name in cfg.teacher.split(",") if name.strip()):
        files = [zoo.model_path(name), zoo.card_path(zoo.model_path(name))]
        digest = hashlib.sha256(b"".join(f.read_bytes() for f in files if f.is_file()))
        contents.append(digest.hexdigest())
    key = json.dumps([cfg.teacher, contents, list(classes), len(images), float(images[::97].sum())])
    if path.is_file():
        with np.load(path) as cached:
            if str(cached["key"]) == key:
                return cached["probs"]
    probs = teacher_probs(cfg.teacher, images, classes, safe_mode=not cfg.unsafe_load)
    with atomic_file(path, "wb") as file:
        np.savez(file, key=np.array(key), probs=probs)
    return probs


def _distilled(
    targets: np.ndarray, images: np.ndarray, classes, cfg: TrainConfig, out: Path
) -> np.ndarray:
    """`targets` blended with the teachers' probabilities by `cfg.distill` (offline distillation).

    Raises:
        ValueError: `distill` is outside (0, 1], or set without `teacher` (or the reverse).
    """
    if not cfg.distill and not cfg.teacher:
        return targets
    if not cfg.teacher or not 0.0 < cfg.distill <= 1.0:
        raise ValueError(
            f"Distillation needs both --teacher MODEL[,MODEL...] and --distill W in (0, 1]; got "
            f"--teacher {cfg.teacher!r} --distill {cfg.distill}."
        )
    soft = _cached_teacher_probs(out, cfg, images, classes)
    return ((1.0 - cfg.distill) * targets + cfg.distill * soft).astype(np.float32)


def _build(cfg: TrainConfig, input_shape, num_classes: int, classes) -> keras.Model:
    if not cfg.init:
        model = zoo.build(cfg.arch, num_classes, input_shape, **cfg.arch_kwargs)
    else:
        source = zoo.load(cfg.init, safe_mode=not cfg.unsafe_load)
        if source.outputs[0].shape[-1] == num_classes and not cfg.freeze:
            model = source  # fine-tuning a model already trained on these classes: keep its head
        else:
            features = source.get_layer("logits").input
            logits = keras.layers.Dense(num_classes, name="logits")(features)
            probs = keras.layers.Softmax(name="probs")(logits)
            model = keras.Model(source.inputs, probs, name=source.name)
        trainable_from = None
        if cfg.unfreeze_from:
            names = [layer.name for layer in model.layers]
            if cfg.unfreeze_from not in names:
                raise ValueError(
                    f"--unfreeze-from {cfg.unfreeze_from!r} is not a layer of {cfg.init!r}. "
                    f"Layers: {', '.join(names)}."
                )
            trainable_from = names.index(cfg.unfreeze_from)
        for i, layer in enumerate(model.layers):
            if layer.name in ("logits", "probs"):
                continue
            if cfg.freeze:
                layer.trainable = False
            elif trainable_from is not None:
                layer.trainable = i >= trainable_from
    model.class_names = tuple(classes)
    return model


def _rotation(cfg: TrainConfig) -> float:
    """`cfg.rotation`, checked: a fraction of a full turn in [0, 0.5].

    Raises:
        ValueError: `rotation` is outside [0, 0.5] (0.5 already allows any angle).
    """
    if not 0.0 <= cfg.rotation <= 0.5:
        raise ValueError(
            f"--rotation is a fraction of a full turn in [0, 0.5]; got {cfg.rotation}. "
            "For 15 degrees give --rotation 0.042 (15 / 360)."
        )
    return cfg.rotation


WARMUP_START = 0.05  # the warm-up starts at this fraction of --lr


def _schedule(cfg: TrainConfig, steps_per_epoch: int):
    """Warm-up, then cosine decay to 1% of `cfg.lr` at step `cfg.epochs * steps_per_epoch`."""
    warmup = cfg.warmup_epochs * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.lr * WARMUP_START,
        decay_steps=max(1, cfg.epochs * steps_per_epoch - warmup),
        warmup_target=cfg.lr,
        warmup_steps=warmup,
        alpha=0.01,
    )


def _lr_text(cfg: TrainConfig) -> str:
    """The card's words for `_schedule`.

    "AdamW lr 0.001 cosine", or, where the warm-up spans the whole run (--warmup-epochs >=
    --epochs), the linear ramp that is all it trains with.
    """
    if cfg.warmup_epochs < cfg.epochs:
        return f"AdamW lr {cfg.lr} cosine"
    start = cfg.lr * WARMUP_START
    reached = start + (cfg.lr - start) * cfg.epochs / cfg.warmup_epochs
    return (
        f"AdamW lr warming up linearly from {start:.3g} to {reached:.3g} over the whole run "
        "(no cosine phase)"
    )


def compile_for_training(wrapper: keras.Model, cfg: TrainConfig, steps_per_epoch: int) -> None:
    """Compile `wrapper` as `train` does, so a benchmark times the same step.

    AdamW (weight decay `cfg.weight_decay`, gradients clipped to norm 5) on the warm-up +
    cosine schedule of `cfg.lr` over `cfg.epochs * steps_per_epoch` steps; categorical
    cross-entropy with `cfg.label_smoothing` on one-hot (N, classes) labels; "accuracy".
    """
    schedule = _schedule(cfg, steps_per_epoch)
    wrapper.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay, clipnorm=5.0),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )


def _device() -> str:
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return f"jax {jax.devices()[0].device_kind}"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return f"tensorflow {'GPU' if gpus else 'CPU'} ({platform.processor() or 'cpu'})"
    return backend


def train(cfg: TrainConfig, verbose: int | str = "auto") -> dict:
    """Train `cfg.arch` on `cfg.data`, resuming from `cfg.out` if a run is there; returns the card.

    Writes to `cfg.out`: checkpoint.keras + state.json (each epoch), best.weights.h5,
    `<name>.keras` and its card `<name>.json` / `<name>.md`.
    """
    _rotation(cfg)  # before any file is written
    check_sam(cfg.sam)
    _check_swa_from(cfg)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(cfg.seed)
    full = load_dataset(
        cfg.data, "train", cfg.classes, clean=cfg.clean, limit=cfg.limit, seed=cfg.val_seed
    )
    train_rows, val_rows = _split(full, cfg)
    classes = full.classes
    images, labels = full.images[train_rows], full.labels[train_rows]
    onehot = _distilled(_targets(full, train_rows, cfg), images, classes, cfg, out)
    counts = np.bincount(labels, minlength=len(classes)).astype(np.float32)
    class_weight = len(labels) / (len(classes) * np.maximum(counts, 1))
    weights = (class_weight[labels] if cfg.class_weights else np.ones(len(labels))).astype(
        np.float32
    )
    val_x, val_y = full.images[val_rows], full.labels[val_rows]
    steps = max(1, len(images) // cfg.batch_size)

    state_path = out / "state.json"
    state = json.loads(state_path.read_text()) if state_path.is_file() else None
    _promote_checkpoint(out, state)
    last_epoch = cfg.last_epoch  # the schedule spans cfg.epochs
    finished = state is not None and (
        state["epoch"] >= last_epoch or state.get("stopped_early")
    )  # a run trained up to its last epoch, or stopped early; a larger --epochs continues it
    if finished and not (out / "best.weights.h5").is_file():
        raise FileNotFoundError(
            f"The run in {str(out)!r} finished but its best.weights.h5 is missing, so it can be "
            "neither finished nor resumed. Restore the file, or delete the folder to retrain."
        )
    if state and not finished and not (out / "checkpoint.keras").is_file():
        raise FileNotFoundError(
            f"The run in {str(out)!r} stopped after epoch {state['epoch']} but its "
            "checkpoint.keras is missing, so it cannot resume (and is not silently restarted). "
            "Restore the file; or keep its best epoch so far by rerunning this command with "
            f"--stop-epoch {state['epoch']} (writes {cfg.model_name}.keras from best.weights.h5) "
            f"and continue from that in a new folder with "
            f"--init {str(out / (cfg.model_name + '.keras'))!r} --out NEW; or delete the folder "
            "to retrain."
        )
    if finished:
        base = _build(cfg, full.images.shape[1:], len(classes), classes)  # weights come next
    elif state:
        wrapper = keras.saving.load_model(
            out / "checkpoint.keras",
            safe_mode=not cfg.unsafe_load,  # an --init Lambda stays
        )
        restore_seed_states(wrapper, state.get("seed_states", {}))  # older runs have none
        base = wrapper.get_layer(state["base_name"])
        # The same schedule when resuming; one spanning the new length when --epochs grew
        # (the saved one would keep a finished run at its 1% floor).
        wrapper.optimizer.learning_rate = _schedule(cfg, steps)
        allow_jit(wrapper)
        if cfg.sam:
            use_sam(wrapper, cfg.sam)  # a saved model keeps Keras's own step
        if keras.backend.backend() == "jax":
            wrapper.jit_compile = True
    else:
        base = _build(cfg, full.images.shape[1:], len(classes), classes)
        inputs = keras.Input(full.images.shape[1:], name="train_image")
        augmented = augmentation(rotation=_rotation(cfg))(inputs) if cfg.augment else inputs
        wrapper = keras.Model(inputs, base(augmented), name="train_wrapper")
        compile_for_training(wrapper, cfg, steps)
        if cfg.sam:
            use_sam(wrapper, cfg.sam)
        finished = False
        state = {
            "config": asdict(cfg),
            "base_name": base.name,
            "epoch": 0,
            "history": [],
            "best_val_accuracy": -1.0,
            "best_epoch": 0,
            "wait": 0,
            "elapsed_s": 0.0,
        }
    state["_started"] = time.perf_counter()
    if not finished:
        batches = TrainBatches(images, onehot, weights, cfg, start_epoch=state["epoch"])
        val_onehot = np.eye(len(classes), dtype=np.float32)[val_y]
        wrapper.fit(
            batches,
            epochs=last_epoch,
            initial_epoch=state["epoch"],
            validation_data=(val_x, val_onehot),
            shuffle=False,  # TrainBatches shuffles per epoch from the seed; Keras would reorder the
            # batches with Python's global `random`, whose state a resumed process does not have
            verbose=verbose,
            callbacks=[_Checkpoint(out, base, state, cfg.patience, cfg.time_limit, cfg.swa_from)],
        )
    return _finish(cfg, out, base, state, full, train_rows, val_rows)


def _cut_note(cfg: TrainConfig, state: dict) -> str:
    """' of a N-epoch schedule, cut by ...' when the run stopped before its last epoch."""
    if state["epoch"] >= cfg.epochs or state.get("stopped_early"):
        return ""
    if state["epoch"] >= cfg.last_epoch:
        return f" of a {cfg.epochs}-epoch schedule, cut by --stop-epoch"
    if cfg.time_limit:
        return f" of a {cfg.epochs}-epoch schedule, cut by --time-limit {cfg.time_limit:g}s"
    return f" of a {cfg.epochs}-epoch schedule, stopped"


def _check_swa_from(cfg: TrainConfig) -> None:
    """Refuse an --swa-from past the run's last epoch before anything is trained."""
    if cfg.swa_from is not None and cfg.swa_from > cfg.last_epoch:
        raise ValueError(
            f"--swa-from {cfg.swa_from} is past this run's last epoch ({cfg.last_epoch}), so no "
            "epoch would be averaged. Give an epoch from 1 to "
            f"{cfg.last_epoch}, or a larger --epochs / --stop-epoch."
        )


def swa_average(base: keras.Model, out: Path, first: int, last: int) -> keras.Model:
    """The mean of the weights `_Checkpoint` kept for epochs `first`..`last` (SWA).

    Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima": the mean of the weights
    along one run's trajectory at a high learning rate sits nearer the centre of a flat
    region than any one of them. Its BatchNorm statistics are a mean too, belonging to none
    of the epochs: recompute them (`precise_bn`), as `torch.optim.swa_utils.update_bn` does.

    Raises:
        ValueError: `first` > `last` (no epoch from `first` on was trained).
        FileNotFoundError: an epoch's weights are missing (the run had no --swa-from, or a
            later one); the message names the epochs there are.
    """
    if first > last:
        raise ValueError(
            f"--swa-from {first}, but the run stopped after epoch {last} (early stopping or "
            f"--stop-epoch), so no epoch was averaged. Rerun with --swa-from {last} or less to "
            "average what was kept, or continue the run with a larger --stop-epoch."
        )
    paths = [out / swa_file(epoch) for epoch in range(first, last + 1)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        kept = [epoch for epoch in range(1, last + 1) if (out / swa_file(epoch)).is_file()]
        fix = (
            f"Epochs kept there: {kept}; give --swa-from {kept[0]} or later."
            if kept
            else "The run kept no epoch (they are kept only when it trains with --swa-from): "
            "train a new run, in a new --out, with --swa-from."
        )
        raise FileNotFoundError(
            f"--swa-from {first} needs the weights of epochs {first} to {last} in {str(out)!r}; "
            f"missing: {', '.join(missing)}. {fix}"
        )
    from emolens.models.soup import average_weights

    models = []
    for path in paths:
        model = keras.models.clone_model(base) if models else base
        model.load_weights(path)
        models.append(model)
    return average_weights(models) if len(models) > 1 else base


def _finish(cfg: TrainConfig, out: Path, base, state: dict, full, train_rows, val_rows) -> dict:
    if cfg.swa_from is not None:
        base = swa_average(base, out, cfg.swa_from, state["epoch"])
    else:
        base.load_weights(out / "best.weights.h5")
    classes = full.classes
    recompute_bn = cfg.precise_bn or cfg.swa_from is not None  # an average's statistics are stale
    if recompute_bn:
        from emolens.models.precise_bn import precise_bn

        base = precise_bn(base, full.images[train_rows], batch_size=cfg.batch_size, seed=cfg.seed)
    validation = evaluate(base, full.images[val_rows], full.labels[val_rows], classes, cfg.tta)
    test, test_note = None, ""
    if cfg.test_split:
        try:
            test_set = load_dataset(
                cfg.data, cfg.test_split, cfg.classes, limit=cfg.limit, seed=cfg.val_seed
            )
            test = evaluate(base, test_set.images, test_set.labels, classes, cfg.tta)
        except FileNotFoundError as error:
            test_note = f"Test split not available where this was trained ({error}). "
    model_path = out / f"{cfg.model_name}.keras"
    _atomic_save(base.save, model_path)
    card = {
        "name": cfg.model_name,
        "arch": cfg.arch if not cfg.init else f"{cfg.arch} (from {cfg.init})",
        "class_set": cfg.classes,
        "classes": list(classes),
        "input_shape": list(full.images.shape[1:]),
        "data": data_text(cfg.data, cfg.clean),
        "split": f"{split_text(cfg.val_fraction, cfg.val_seed)}: "
        f"{len(full) - len(val_rows)} train / {len(val_rows)} val"
        + (f"; subset of {cfg.limit}" if cfg.limit else ""),
        "test_split": cfg.test_split,
        "training": f"{state['epoch']} epochs"
        + (f" (best {state['best_epoch']})" if cfg.swa_from is None else "")  # SWA keeps no best
        + _cut_note(cfg, state)
        + ", batch "
        f"{cfg.batch_size}, {_lr_text(cfg)}"
        + (f", SAM steps (rho {cfg.sam})" if cfg.sam else "")
        + ", label smoothing "
        f"{cfg.label_smoothing}, mix {cfg.mix}"
        + (f" on {cfg.mix_prob:.0%} of batches" if cfg.mix != "none" else "")
        + f", augment {cfg.augment}"
        + (f" (rotation up to {cfg.rotation * 360:.0f} degrees)" if cfg.augment else "")
        + f", class weights {cfg.class_weights}, TTA flip {cfg.tta}"
        + (
            f", then the weights of epochs {cfg.swa_from}-{state['epoch']} averaged (SWA)"
            if cfg.swa_from is not None
            else ""
        )
        + (
            ", then BatchNorm statistics recomputed on the training images (PreciseBN)"
            if recompute_bn
            else ""
        )
        + (f", targets blended with FERPlus votes (weight {cfg.ferplus})" if cfg.ferplus else "")
        + (
            f", targets blended with {cfg.teacher}'s flip-TTA probabilities (weight {cfg.distill})"
            if cfg.teacher
            else ""
        ),
        "validation": validation,
        "test": test,
        "params": int(base.count_params()),
        "size_bytes": model_path.stat().st_size,
        "training_time_s": float(state["elapsed_s"]),
        "device": _device(),
        "backend": keras.backend.backend(),
        "command": cfg.command(),
        "date": date.today().isoformat(),
        "history": state["history"],
        "notes": test_note,
    }
    write_card(out / cfg.model_name, card)
    state["done"] = state["epoch"] >= cfg.last_epoch or bool(state.get("stopped_early"))
    _write_state(out, state)
    return card
