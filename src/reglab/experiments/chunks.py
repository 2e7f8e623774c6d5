"""Chunks of a sweep: how a grid is cut (``plan_chunks``) and what a chunk does (``train_chunk``).

A chunk is a list of same-shaped models (one ``training.batch_key``), trained as one batch by
``fit_many`` wherever an executor (``executors``) runs it. ``plan_chunks`` sizes chunks from an
estimate of each model's time (``estimate_seconds``): long enough to amortize scheduling, short enough
that every worker gets several. ``train_chunk`` returns plain data (settings and metrics), which is all
that travels back from a worker.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..config import TrainConfig
from ..training import batch_key, fit_many
from ..validation import check_choice, check_int, check_real, describe

__all__ = ["SECONDS_PER_UNIT", "SECONDS_PER_CHUNK", "estimate_seconds", "plan_chunks", "train_chunk", "train_split_chunk"]

#: Seconds the compiled engine takes per (iteration x example x parameter) of one model on one core:
#: 0.27-0.47 ns measured for [2,5,1] to [2,50,50,1] on 200 examples (numba 0.68, 2 shared cores). Only
#: used to size chunks, where an error of 2x is harmless.
SECONDS_PER_UNIT = 3e-10

#: Seconds the scheduler spends on one chunk, end to end (3.5 ms measured on local:2 by
#: ``benchmarks/bench_cluster.py``, rounded down: a dedicated scheduler core is faster). Chunks last at least
#: 2 x slots x this, so that the scheduler is at most half loaded however many workers there are.
SECONDS_PER_CHUNK = 3e-3


def estimate_seconds(config: TrainConfig, n_examples: int, n_features: int) -> float:
    """Rough seconds one model of ``config`` takes to train on one core (``SECONDS_PER_UNIT``)."""
    sizes = config.layer_sizes(n_features)
    parameters = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return SECONDS_PER_UNIT * config.n_iterations * n_examples * parameters


def plan_chunks(
    configs: Sequence[TrainConfig],
    *,
    n_examples: int,
    n_features: int,
    slots: int,
    threads: int = 1,
    chunk_size: int | None = None,
    chunks_per_slot: int = 8,
    min_seconds: float = 0.2,
) -> list[list[TrainConfig]]:
    """Cut ``configs`` into chunks of same-shaped models (``training.batch_key``), in their order.

    Parameters
    ----------
    configs : sequence of TrainConfig
    n_examples, n_features : int
        The training data's shape (the cost of a model grows with both).
    slots : int
        Chunks that run at once (``Executor.slots``: the workers' threads).
    threads : int
        numba threads per chunk (``Executor.engine_threads``): a chunk holds at least that many models.
    chunk_size : int, optional
        The most models a chunk holds, chosen by the caller. By default a chunk lasts at least 1 / (``slots``
        x ``chunks_per_slot``) of the whole (every slot gets up to that many chunks, and a slow or lost one
        costs little), ``min_seconds``, and 2 x ``slots`` x ``SECONDS_PER_CHUNK`` (scheduling a chunk costs a
        few ms: many workers need longer chunks to keep the scheduler from being the bottleneck), as
        estimated by ``estimate_seconds``, and holds at least ``threads`` models.

    Returns
    -------
    list of lists of TrainConfig
        Each model once, in the order of ``configs`` within a shape; the chunks of one shape differ in
        size by at most one (a shape with fewer models than the floor is one chunk).
    """
    slots = check_int("slots", slots, low=1)
    threads = check_int("threads", threads, low=1)
    chunks_per_slot = check_int("chunks_per_slot", chunks_per_slot, low=1)
    min_seconds = check_real("min_seconds", min_seconds, low=0)
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, low=1)
    groups: dict[tuple, list[TrainConfig]] = {}
    for config in configs:
        groups.setdefault(batch_key(config), []).append(config)
    if chunk_size is None:
        seconds = {key: estimate_seconds(group[0], n_examples, n_features) for key, group in groups.items()}
        total = sum(seconds[key] * len(group) for key, group in groups.items())
        target = max(min_seconds, 2 * slots * SECONDS_PER_CHUNK, total / (slots * chunks_per_slot))
    chunks = []
    for key, group in groups.items():
        if chunk_size is not None:
            count = math.ceil(len(group) / chunk_size)
        else:  # the target is a floor: a few long chunks rather than a short one
            size = max(threads, math.ceil(target / max(seconds[key], 1e-12)))
            count = max(1, len(group) // size)
        bounds = [round(k * len(group) / count) for k in range(count + 1)]  # sizes differ by at most one
        chunks += [group[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return chunks


def train_chunk(
    shared: Mapping[str, Any],
    configs: Sequence[TrainConfig],
    *,
    engine: str = "compiled",
    standardize: bool = False,
    threads: int | None = None,
) -> list[dict]:
    """Train ``configs`` on ``shared["X_train"]``, ``shared["y_train"]`` and evaluate them; plain data back.

    Parameters
    ----------
    shared : mapping
        ``X_train`` (n, n_features) and ``y_train`` (n,), the data fitted on; every other pair
        ``X_<name>``, ``y_<name>`` (e.g. ``X_dev``, ``y_dev``) is evaluated as ``<name>_accuracy``.
    configs : sequence of TrainConfig
    engine, standardize
        As for ``reglab.fit_many``.
    threads : int, optional
        numba threads for this chunk (``Executor.engine_threads``); None leaves numba's setting.

    Returns
    -------
    list of dict
        Per config, in order: ``config`` (``TrainConfig.to_dict()``), ``metrics`` (``train_accuracy``, the
        other sets' accuracies and ``final_cost``, the last recorded cost) and ``seconds`` (the chunk's
        training time per model). A model whose training diverged has no accuracies: its metrics say when
        and the setting most likely at fault (``sweep_rows.diverged_metrics``); the others are trained again
        without it and come out as they would have beside it (each model has its own initial weights and
        masks), and its seconds are None.
    """
    from ..engine.loop import TrainingDivergedError
    from .sweep_rows import diverged_metrics

    if not isinstance(shared, Mapping) or "X_train" not in shared or "y_train" not in shared:
        raise ValueError(f"shared must be a mapping with X_train and y_train; got {describe(shared)}")
    names = [name[2:] for name in shared if name.startswith("X_") and name != "X_train"]
    for name in names:
        if f"y_{name}" not in shared:
            raise ValueError(f"shared holds X_{name} without y_{name}; every X_<name> needs its y_<name>")
    check_choice("engine", engine, ("reference", "compiled"))
    if threads is not None and engine == "compiled":
        import numba

        numba.set_num_threads(min(check_int("threads", threads, low=1), numba.config.NUMBA_NUM_THREADS))
    configs = list(configs)
    rows: dict[int, dict] = {}
    remaining = list(range(len(configs)))
    while remaining:
        start = time.perf_counter()
        try:
            models = fit_many(shared["X_train"], shared["y_train"], [configs[k] for k in remaining], engine=engine,
                              standardize=standardize)
        except TrainingDivergedError as error:
            if not error.divergences:
                raise
            for divergence in error.divergences:
                k = remaining[divergence.index]
                rows[k] = {"config": configs[k].to_dict(), "metrics": diverged_metrics(divergence), "seconds": None}
            remaining = [k for k in remaining if k not in rows]
            continue
        seconds = (time.perf_counter() - start) / len(models)
        for k, model in zip(remaining, models):
            metrics = {"train_accuracy": model.accuracy(shared["X_train"], shared["y_train"])}
            metrics.update({f"{name}_accuracy": model.accuracy(shared[f"X_{name}"], shared[f"y_{name}"])
                            for name in names})
            metrics["final_cost"] = float(model.history.cost[-1])
            rows[k] = {"config": configs[k].to_dict(), "metrics": metrics, "seconds": seconds}
        break
    return [rows[k] for k in range(len(configs))]


def train_split_chunk(shared: Mapping[Any, Mapping[str, Any]], chunk: tuple, **options) -> list[dict]:
    """``train_chunk`` of a sweep's chunk ``(split, configs)`` on ``shared[split]`` (every split's data is shared
    once, and each chunk names its own)."""
    split, configs = chunk
    return train_chunk(shared[split], configs, **options)
