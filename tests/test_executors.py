"""Executors without a cluster: the in-process executor, chunk planning, the chunk function, the checks of
``connect``, and that a local run never imports Dask. The cluster tests are in ``tests/slow/test_cluster.py``."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from reglab import fit_many
from reglab.config import TrainConfig
from reglab.datasets import make_dataset
from reglab.experiments.executors import (
    ClusterError,
    ClusterUnreachableError,
    LocalExecutor,
    WorkerMismatchError,
    connect,
    differences,
    environment,
    estimate_seconds,
    plan_chunks,
    train_chunk,
)
from reglab.training import batch_key


@pytest.fixture(scope="module")
def data():
    dataset = make_dataset("field", seed=0)
    return {"X_train": dataset.X_train, "y_train": dataset.y_train, "X_test": dataset.X_test, "y_test": dataset.y_test}


def grid(n_iterations=200, seeds=range(3)):
    return [TrainConfig(n_iterations=n_iterations, init="fresh", mask_mode="fresh", seed=seed, l2=l2, keep_prob=keep)
            for l2 in (0.0, 0.3) for keep in (1.0, 0.8) for seed in seeds]


# ---- the chunk function ------------------------------------------------------------------------------
def test_train_chunk_reports_what_fit_many_trains(data):
    configs = grid()
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
        train_chunk(data, grid()[:2], threads=1)
        assert numba.get_num_threads() == 1
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("shared, message", [
    ({"X_train": np.zeros((4, 2))}, "shared must be a mapping with X_train and y_train"),
    ([np.zeros((4, 2)), np.zeros(4)], "shared must be a mapping with X_train and y_train"),
])
def test_train_chunk_refuses_shared_data_without_training_points(shared, message):
    with pytest.raises(ValueError, match=message):
        train_chunk(shared, grid()[:1])


def test_train_chunk_refuses_an_evaluation_set_without_labels(data):
    with pytest.raises(ValueError, match="shared holds X_dev without y_dev"):
        train_chunk(dict(data, X_dev=data["X_test"]), grid()[:1])


# ---- the in-process executor -------------------------------------------------------------------------
def test_connect_without_a_scheduler_is_the_in_process_executor():
    executor = connect(None, None)
    assert isinstance(executor, LocalExecutor)
    assert executor.slots == 1 and executor.dashboard is None and executor.engine_threads is None


def test_the_local_executor_yields_every_chunk_once_with_its_index(data):
    chunks = plan_chunks(grid(), n_examples=200, n_features=2, slots=1, chunk_size=5)
    results = list(LocalExecutor().map(train_chunk, data, chunks))
    assert [index for index, _ in results] == list(range(len(chunks)))
    for (index, rows), chunk in zip(results, chunks):
        assert [row["config"] for row in rows] == [c.to_dict() for c in chunk]


def test_chunk_functions_must_be_importable_by_name(data):
    with pytest.raises(TypeError, match="function must be a top-level function of an importable module"):
        LocalExecutor().map(lambda shared, chunk: chunk, data, [[1]])
    with pytest.raises(TypeError, match="function must be a top-level function"):
        LocalExecutor().map("train_chunk", data, [[1]])


# ---- chunks ------------------------------------------------------------------------------------------
def test_chunks_hold_each_model_once_and_one_shape_each():
    configs = grid(seeds=range(10)) + [c.replace(hidden_layer_sizes=(5,), keep_prob=1.0) for c in grid(seeds=range(7))]
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
    large = grid(n_iterations=2000, seeds=range(250))  # 1000 models, 15 s of estimated work
    seconds = estimate_seconds(large[0], 200, 2)
    total = seconds * len(large)
    chunks = plan_chunks(large, n_examples=200, n_features=2, slots=4, chunks_per_slot=8, min_seconds=0.01)
    assert 4 * 8 / 2 <= len(chunks) <= 4 * 8, len(chunks)
    assert min(len(c) for c in chunks) * seconds >= total / (4 * 8)


def test_a_small_grid_is_not_cut_below_min_seconds():
    small = grid(n_iterations=100, seeds=range(2))  # two shapes (with and without dropout) of 4 models
    assert sum(estimate_seconds(c, 200, 2) for c in small) < 0.2
    assert [len(c) for c in plan_chunks(small, n_examples=200, n_features=2, slots=4, min_seconds=0.2)] == [4, 4]


def test_a_chunk_holds_at_least_one_model_per_engine_thread():
    chunks = plan_chunks(grid(n_iterations=5000, seeds=range(5)), n_examples=200, n_features=2, slots=100,
                         threads=4, min_seconds=0)
    assert min(len(c) for c in chunks) >= 4


def test_many_workers_get_chunks_long_enough_for_the_scheduler():
    from reglab.experiments.executors import SECONDS_PER_CHUNK

    configs = grid(n_iterations=2000, seeds=range(250))
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
        plan_chunks(grid(), **dict(dict(n_examples=200, n_features=2, slots=2), **options))


# ---- what a worker must share with the client --------------------------------------------------------
def test_the_environment_names_versions_and_a_digest_of_the_training_code():
    found = environment()
    assert set(found) == {"reglab", "engine", "numpy", "numba", "python"}
    assert found["numpy"] == np.__version__ and len(found["engine"]) == 16
    assert found == environment()


def test_differences_name_each_entry_that_differs():
    here = environment()
    assert differences(here, dict(here)) == []
    there = dict(here, reglab="9.9.9", numba="0.1")
    assert differences(here, there) == [f"reglab 9.9.9 (here: {here['reglab']})", f"numba 0.1 (here: {here['numba']})"]
    assert differences(here, {k: v for k, v in here.items() if k != "engine"}) == [f"engine missing (here: {here['engine']})"]


# ---- connect's checks, before any cluster ------------------------------------------------------------
@pytest.mark.parametrize("scheduler, message", [
    ("local:0", r"scheduler 'local:N' needs N from 1 to 1024 worker processes; got 'local:0'"),
    ("local:two", r"scheduler must be 'local:N' .* or a scheduler's address such as 'tcp://HOST:PORT'; got 'local:two'"),
    ("cluster", r"scheduler must be .*; got 'cluster'"),
    ("tcp://", r"scheduler must be .*; got 'tcp://'"),
])
def test_connect_names_a_bad_scheduler(scheduler, message):
    with pytest.raises(ValueError, match=message):
        connect(scheduler)


def test_connect_refuses_a_scheduler_that_is_not_a_string():
    with pytest.raises(TypeError, match="scheduler must be a string such as 'local:2'"):
        connect(8786)


def test_connect_takes_one_scheduler(tmp_path):
    with pytest.raises(ValueError, match="scheduler and scheduler_file cannot be given together"):
        connect("local:2", tmp_path / "scheduler.json")


def test_connect_names_a_missing_or_unreadable_scheduler_file(tmp_path):
    with pytest.raises(ValueError, match=r"scheduler_file must be the file a running scheduler wrote .*does not exist"):
        connect(scheduler_file=tmp_path / "scheduler.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"scheduler_file must be .*cannot be read as one \(JSONDecodeError"):
        connect(scheduler_file=tmp_path / "broken.json")
    (tmp_path / "other.json").write_text('{"type": "Scheduler"}')
    with pytest.raises(ValueError, match=r"scheduler_file must be .*names no scheduler address \(its 'address' is None\)"):
        connect(scheduler_file=tmp_path / "other.json")


def test_connect_names_a_bad_timeout():
    with pytest.raises(ValueError, match="timeout must be"):
        connect("local:1", timeout=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(60)
def test_an_unreachable_scheduler_is_one_clear_error(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ClusterUnreachableError, match=rf"cannot reach the Dask scheduler at {address}: nothing "
                       r"listens .* \(connection refused\); start a scheduler with `dask scheduler`"):
        connect(address, timeout=20)
    (tmp_path / "scheduler.json").write_text(json.dumps({"type": "Scheduler", "address": address}))
    with pytest.raises(ClusterUnreachableError, match=rf"cannot reach the Dask scheduler at {address} \(from .*scheduler.json'\)"):
        connect(scheduler_file=tmp_path / "scheduler.json", timeout=20)


def test_cluster_errors_are_value_errors_for_the_command_line():
    # The CLI turns ValueError into one line and status 2; an unreachable cluster is a ConnectionError too.
    assert issubclass(ClusterUnreachableError, ClusterError) and issubclass(ClusterUnreachableError, ConnectionError)
    assert issubclass(WorkerMismatchError, ClusterError) and issubclass(ClusterError, ValueError)


# ---- Dask stays out of local runs --------------------------------------------------------------------
LOCAL_RUN = """
import sys
import reglab
from reglab.datasets import make_dataset
from reglab.config import TrainConfig
from reglab.experiments.executors import connect, plan_chunks, train_chunk
data = make_dataset("field", seed=0)
shared = {"X_train": data.X_train, "y_train": data.y_train}
configs = [TrainConfig(n_iterations=10, seed=s) for s in range(3)]
executor = connect(None, None)
chunks = plan_chunks(configs, n_examples=200, n_features=2, slots=executor.slots)
assert len(list(executor.map(train_chunk, shared, chunks))) == len(chunks)
from reglab._launch import main
sys.argv = ["reglab", "--help"]
try:
    main()
except SystemExit:
    pass
loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("dask", "distributed", "bokeh"))
print("LOADED", loaded, file=sys.stderr)
"""


def test_a_local_run_and_the_help_never_import_dask():
    # A fresh process: this one may have imported Dask for another test.
    done = subprocess.run([sys.executable, "-c", LOCAL_RUN], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout
    assert "LOADED []" in done.stderr, done.stderr[-2000:]

