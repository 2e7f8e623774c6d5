"""Small grids and the data their chunks train on, shared by the chunk, executor and cluster tests."""

from __future__ import annotations

from reglab.config import TrainConfig
from reglab.datasets import make_dataset


def chunk_data() -> dict:
    """The built-in `field` data as a chunk takes it: X_train, y_train, X_test, y_test."""
    dataset = make_dataset("field", seed=0)
    return {"X_train": dataset.X_train, "y_train": dataset.y_train, "X_test": dataset.X_test, "y_test": dataset.y_test}


def small_grid(n_iterations=200, seeds=range(3)) -> list[TrainConfig]:
    """Plain, L2, dropout and both (fresh masks), over seeds."""
    return [TrainConfig(n_iterations=n_iterations, init="fresh", mask_mode="fresh", seed=seed, l2=l2, keep_prob=keep)
            for l2 in (0.0, 0.3) for keep in (1.0, 0.8) for seed in seeds]
