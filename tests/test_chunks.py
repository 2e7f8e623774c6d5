"""Chunks of a sweep: the chunk function against fit_many, and how a grid is cut into chunks."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from reglab import fit_many
from reglab.config import TrainConfig
from reglab.experiments.chunks import SECONDS_PER_CHUNK, estimate_seconds, plan_chunks, train_chunk
from reglab.training import batch_key

from .grids import chunk_data, small_grid


@pytest.fixture(scope="module")
def data():
    return chunk_data()


# ---- the chunk function ------------------------------------------------------------------------------
def test_train_chunk_reports_what_fit_many_trains(data):
    configs = small_grid()
    rows = train_chunk(data, configs)
    models = fit_many(data["X_train"], data["y_train"], configs)
    assert [row["config"] for row in rows] == [config.to_dict() for config in configs]
    for row, model in zip(rows, models):
        assert row["metrics"] == {
            "train_accuracy": model.accuracy(data["X_train"], data["y_train"]),
            "test_accuracy": model.accuracy(data["X_test"], data["y_test"]),
            "final_cost": float(model.history.cost[-1]),
        }
        assert row["seconds"] > 0
    assert json.loads(json.dumps(rows, default=list)), "rows are plain data"


def test_train_chunk_sets_the_engine_threads_of_its_thread(data):
    import numba

    before = numba.get_num_threads()
    try:
        train_chunk(data, small_grid()[:2], threads=1)
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("shared, message", [
    ({"X_train": np.zeros((4, 2))}, "shared must be a mapping with X_train and y_train"),
    ([np.zeros((4, 2)), np.zeros(4)], "shared must be a mapping with X_train and y_train"),
])
def test_train_chunk_refuses_shared_data_without_training_points(shared, message):
    with pytest.raises(ValueError, match=message):
        train_chunk(shared, small_grid()[:1])


def test_train_chunk_refuses_an_evaluation_set_without_labels(data):
    with pytest.raises(ValueError, match="shared holds X_dev without y_dev"):
        train_chunk(dict(data, X_dev=data["X_test"]), small_grid()[:1])


# ---- chunks ------------------------------------------------------------------------------------------
def test_chunks_hold_each_model_once_and_one_shape_each():
    configs = small_grid(seeds=range(10)) + [c.replace(hidden_layer_sizes=(5,), keep_prob=1.0) for c in small_grid(seeds=range(7))]
    chunks = plan_chunks(configs, n_examples=200, n_features=2, slots=2, chunk_size=6)
    assert Counter(c for chunk in chunks for c in chunk) == Counter(configs)
    assert all(len({batch_key(c) for c in chunk}) == 1 for chunk in chunks)
    sizes = {}
    for chunk in chunks:
        sizes.setdefault(batch_key(chunk[0]), []).append(len(chunk))
    assert all(max(s) <= 6 and max(s) - min(s) <= 1 for s in sizes.values()), sizes
    assert [c for chunk in chunks for c in chunk if batch_key(c) == batch_key(configs[0])] == \
        [c for c in configs if batch_key(c) == batch_key(configs[0])], "chunks keep the grid's order"


def test_a_large_grid_gives_every_slot_several_chunks_of_at_least_the_target():
    large = small_grid(n_iterations=2000, seeds=range(250))  # 1000 models, 15 s of estimated work
    seconds = estimate_seconds(large[0], 200, 2)
    total = seconds * len(large)
    chunks = plan_chunks(large, n_examples=200, n_features=2, slots=4, chunks_per_slot=8, min_seconds=0.01)
    assert 4 * 8 / 2 <= len(chunks) <= 4 * 8, len(chunks)
    assert min(len(c) for c in chunks) * seconds >= total / (4 * 8)


def test_a_small_grid_is_not_cut_below_min_seconds():
    small = small_grid(n_iterations=100, seeds=range(2))  # two shapes (with and without dropout) of 4 models
    assert sum(estimate_seconds(c, 200, 2) for c in small) < 0.2
    assert [len(c) for c in plan_chunks(small, n_examples=200, n_features=2, slots=4, min_seconds=0.2)] == [4, 4]


def test_a_chunk_holds_at_least_one_model_per_engine_thread():
    chunks = plan_chunks(small_grid(n_iterations=5000, seeds=range(5)), n_examples=200, n_features=2, slots=100,
                         threads=4, min_seconds=0)
    assert min(len(c) for c in chunks) >= 4


def test_many_workers_get_chunks_long_enough_for_the_scheduler():
    configs = small_grid(n_iterations=2000, seeds=range(250))
    seconds = estimate_seconds(configs[0], 200, 2)
    for slots in (2, 64, 1000):
        chunks = plan_chunks(configs, n_examples=200, n_features=2, slots=slots, min_seconds=0)
        assert min(len(c) for c in chunks) * seconds >= 2 * slots * SECONDS_PER_CHUNK, slots
    assert len(plan_chunks(configs, n_examples=200, n_features=2, slots=64, min_seconds=0)) < 64 * 8


def test_the_estimate_grows_with_iterations_examples_and_parameters():
    base = TrainConfig(n_iterations=1000)
    one = estimate_seconds(base, 200, 2)
    assert estimate_seconds(base.replace(n_iterations=2000), 200, 2) == pytest.approx(2 * one)
    assert estimate_seconds(base, 400, 2) == pytest.approx(2 * one)
    assert estimate_seconds(base.replace(hidden_layer_sizes=(50, 50)), 200, 2) > 20 * one


@pytest.mark.parametrize("options, message", [
    (dict(chunk_size=0), "chunk_size must be"),
    (dict(slots=0), "slots must be"),
    (dict(threads=0), "threads must be"),
    (dict(min_seconds=-1), "min_seconds must be"),
])
def test_plan_chunks_names_a_bad_option(options, message):
    with pytest.raises(ValueError, match=message):
        plan_chunks(small_grid(), **dict(dict(n_examples=200, n_features=2, slots=2), **options))
