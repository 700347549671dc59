"""`TrainConfig`: everything that determines a training run (pure Python, no TensorFlow).

The `emolens train` command builds its flags from these fields, so this module must stay light:
it is imported while the CLI parses arguments, before any TensorFlow import.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field


@dataclass
class TrainConfig:
    """Everything that determines a training run; `command()` rebuilds the CLI call."""

    arch: str = "vgg"
    classes: str = "emo3"
    data: str | None = None
    out: str = "runs/model"
    name: str | None = None
    epochs: int = 60
    stop_epoch: int | None = None
    time_limit: float | None = None
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    sam: float = 0.0  # SAM radius rho; 0 = plain steps
    ferplus: float = 0.0
    teacher: str | None = None
    distill: float = 0.0
    mix: str = "cutmix"
    mix_prob: float = 0.5
    augment: bool = True
    rotation: float = 0.1  # largest random rotation, fraction of a full turn (0.1 = 36 deg)
    class_weights: bool = True
    val_fraction: float = 0.1
    patience: int = 20
    seed: int = 0
    split_seed: int | None = None  # seed of the validation split (and --limit subset); None: seed
    clean: bool = True
    limit: int | None = None
    init: str | None = None
    freeze: bool = False
    unfreeze_from: str | None = None
    tta: bool = True
    precise_bn: bool = False  # recompute BatchNorm statistics on the training images at the end
    swa_from: int | None = None  # average the weights of every epoch from this one on (SWA)
    test_split: str | None = "publictest"
    arch_kwargs: dict = field(default_factory=dict)
    unsafe_load: bool = False  # load --init / --teacher files with safe_mode=False

    @property
    def last_epoch(self) -> int:
        """The epoch this run stops after: --stop-epoch, else --epochs (the schedule's span)."""
        return min(self.epochs, self.stop_epoch or self.epochs)

    @property
    def val_seed(self) -> int:
        """Seed of the validation split and of a --limit subset: --split-seed, else --seed."""
        return self.seed if self.split_seed is None else self.split_seed

    @property
    def model_name(self) -> str:
        """File stem of the trained model: `--name`, else `<arch>_<classes>`."""
        return self.name or f"{self.arch}_{self.classes}"

    def command(self) -> str:
        """The `emolens train` command line that reproduces this run."""
        defaults = TrainConfig()
        parts = ["emolens", "train"]
        for key, value in asdict(self).items():
            if value == getattr(defaults, key) and key not in ("arch", "classes", "epochs"):
                continue
            flag = "--" + key.replace("_", "-")
            if isinstance(value, bool):
                parts.append(flag if value else "--no-" + key.replace("_", "-"))
            elif isinstance(value, dict):
                parts += [flag, json.dumps(value, separators=(",", ":"))]
            elif value is None:  # only reached by --test-split (its default is not None)
                parts += [flag, "none"]
            else:
                parts += [flag, str(value)]
        return shlex.join(parts)
