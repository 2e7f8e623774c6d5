"""The settings of one training run, validated once at construction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine.masks import MASK_MODES
from .validation import check_choice, check_int, check_keep_prob, check_layer_sizes, check_real

__all__ = ["TrainConfig", "INIT_MODES", "COURSE_CONFIGS"]

INIT_MODES = ("course", "fresh")
MAX_ITERATIONS = 10**9  # iterations of one model: about 2 hours of the compiled engine for the course's model


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines how one network is trained.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Units per hidden layer (ReLU); the output is one sigmoid unit. The course's is (20, 3).
    learning_rate : float
        Gradient-descent step, > 0.
    n_iterations : int
        Full-batch iterations, from 1 to 10**9.
    l2 : float
        L2 strength at the course's scale, ``l2/(2m) * sum ||W||^2`` (the course's ``lambd``), >= 0.
    l1 : float
        L1 strength, ``l1/m * sum |W|``, >= 0.
    keep_prob : float or tuple of float
        Dropout keep probability in (0, 1], one for all hidden layers or one per hidden layer.
        Stored as a tuple with one value per hidden layer.
    init : {"course", "fresh"}
        "course": the notebook's initialisation (legacy ``RandomState(seed)``; seed 3 is the
        notebook's). "fresh": drawn from a ``Generator`` seeded by ``seed``.
    mask_mode : {"course", "fresh"}
        "course": the notebook's fixed dropout masks. "fresh": new masks every iteration from a
        ``Generator`` seeded by ``seed``.
    seed : int
        Seed of the initialisation and of fresh masks, >= 0.
    weight_decay : float
        Decoupled weight decay in [0, 1): every iteration, ``W <- (1 - weight_decay) W - lr dW``
        (not part of the cost; see ``reglab.constraints``).
    max_norm : float or None
        Max-norm constraint: after every step, each unit's incoming weight vector is rescaled to
        norm <= max_norm (> 0). None: no constraint.
    early_stopping : bool
        Hold out ``validation_fraction`` of the training points (stratified, fixed seed 0) and stop
        when their cross-entropy has not improved by more than ``min_delta`` for ``patience``
        consecutive record points; the weights of the best record point are restored.
    validation_fraction : float
        In (0, 1).
    patience : int
        Record points (every ``record_every`` iterations) without improvement, >= 1.
    min_delta : float
        Smallest decrease of the dev cost that counts as an improvement, >= 0.
    """

    hidden_layer_sizes: tuple[int, ...] = (20, 3)
    learning_rate: float = 0.3
    n_iterations: int = 30000
    l2: float = 0.0
    l1: float = 0.0
    keep_prob: Any = 1.0
    init: str = "course"
    mask_mode: str = "course"
    seed: int = 3
    weight_decay: float = 0.0
    max_norm: float | None = None
    early_stopping: bool = False
    validation_fraction: float = 0.1
    patience: int = 10
    min_delta: float = 0.0

    def __post_init__(self):
        hidden = check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)
        values = dict(
            hidden_layer_sizes=hidden,
            learning_rate=check_real("learning_rate", self.learning_rate, low=0, low_inclusive=False),
            n_iterations=check_int("n_iterations", self.n_iterations, low=1, high=MAX_ITERATIONS),
            l2=check_real("l2", self.l2, low=0),
            l1=check_real("l1", self.l1, low=0),
            keep_prob=check_keep_prob(self.keep_prob, len(hidden)),
            init=check_choice("init", self.init, INIT_MODES),
            mask_mode=check_choice("mask_mode", self.mask_mode, MASK_MODES),
            seed=check_int("seed", self.seed, low=0, high=2**32 - 1),
            weight_decay=check_real("weight_decay", self.weight_decay, low=0, high=1, high_inclusive=False),
            max_norm=None if self.max_norm is None else check_real(
                "max_norm", self.max_norm, low=0, low_inclusive=False),
            early_stopping=_check_bool("early_stopping", self.early_stopping),
            validation_fraction=check_real("validation_fraction", self.validation_fraction, low=0, high=1,
                                           low_inclusive=False, high_inclusive=False),
            patience=check_int("patience", self.patience, low=1),
            min_delta=check_real("min_delta", self.min_delta, low=0),
        )
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def uses_dropout(self) -> bool:
        return any(p < 1 for p in self.keep_prob)

    def layer_sizes(self, n_features: int) -> tuple[int, ...]:
        """``(n_features, *hidden_layer_sizes, 1)``, the course's ``layers_dims``."""
        return (n_features, *self.hidden_layer_sizes, 1)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training settings {sorted(unknown)}; allowed: {sorted(known)}")
        data = dict(data)
        for key in ("hidden_layer_sizes", "keep_prob"):
            if isinstance(data.get(key), list):
                data[key] = tuple(data[key])
        return cls(**data)


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


#: The notebook's three models, by name.
COURSE_CONFIGS = {
    "no regularization": TrainConfig(),
    "L2 (lambd=0.7)": TrainConfig(l2=0.7),
    "dropout (keep_prob=0.86)": TrainConfig(keep_prob=0.86),
}
