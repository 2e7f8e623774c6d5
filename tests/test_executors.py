"""Executors without a cluster: the in-process executor, the checks of ``connect`` (an unreachable scheduler
included), what a worker must share with the client, and that a local run never imports Dask. The cluster tests are
in ``tests/slow/test_cluster.py``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from reglab.experiments.chunks import plan_chunks, train_chunk
from reglab.experiments.executors import (
    ClusterError,
    ClusterUnreachableError,
    LocalExecutor,
    WorkerMismatchError,
    connect,
    differences,
    environment,
)

from .grids import chunk_data, small_grid
from .slow.dask_processes import free_port


@pytest.fixture(scope="module")
def data():
    return chunk_data()


# ---- the in-process executor -------------------------------------------------------------------------
def test_connect_without_a_scheduler_is_the_in_process_executor():
    executor = connect(None, None)
    assert isinstance(executor, LocalExecutor)
    assert executor.slots == 1 and executor.dashboard is None and executor.engine_threads is None


def test_the_local_executor_yields_every_chunk_once_with_its_index(data):
    chunks = plan_chunks(small_grid(), n_examples=200, n_features=2, slots=1, chunk_size=5)
    results = list(LocalExecutor().map(train_chunk, data, chunks))
    assert [index for index, _ in results] == list(range(len(chunks)))
    for (index, rows), chunk in zip(results, chunks):
        assert [row["config"] for row in rows] == [c.to_dict() for c in chunk]


def test_chunk_functions_must_be_importable_by_name(data):
    with pytest.raises(TypeError, match="function must be a top-level function of an importable module"):
        LocalExecutor().map(lambda shared, chunk: chunk, data, [[1]])
    with pytest.raises(TypeError, match="function must be a top-level function"):
        LocalExecutor().map("train_chunk", data, [[1]])


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
    without_engine = {k: v for k, v in here.items() if k != "engine"}
    assert differences(here, without_engine) == [f"engine missing (here: {here['engine']})"]


# ---- connect's checks, before any cluster ------------------------------------------------------------
@pytest.mark.parametrize("scheduler, message", [
    ("local:0", r"scheduler 'local:N' needs N from 1 to 1024 worker processes; got 'local:0'"),
    ("local:two", r"scheduler must be 'local:N' .* or a scheduler's address such as 'tcp://HOST:PORT'; "
                  r"got 'local:two'"),
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
    with pytest.raises(ValueError, match=r"scheduler_file must be .*names no scheduler address "
                                         r"\(its 'address' is None\)"):
        connect(scheduler_file=tmp_path / "other.json")


def test_connect_names_a_bad_timeout():
    with pytest.raises(ValueError, match="timeout must be"):
        connect("local:1", timeout=0)


@pytest.mark.timeout(60)
def test_an_unreachable_scheduler_is_one_clear_error(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(ClusterUnreachableError, match=rf"cannot reach the Dask scheduler at {address}: nothing "
                       r"listens .* \(connection refused\); start a scheduler with `dask scheduler`"):
        connect(address, timeout=20)
    (tmp_path / "scheduler.json").write_text(json.dumps({"type": "Scheduler", "address": address}))
    with pytest.raises(ClusterUnreachableError,
                       match=rf"cannot reach the Dask scheduler at {address} \(from .*scheduler.json'\)"):
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
from reglab.experiments.chunks import plan_chunks, train_chunk
from reglab.experiments.executors import connect
data = make_dataset("field", seed=0)
shared = {"X_train": data.X_train, "y_train": data.y_train}
configs = [TrainConfig(n_iterations=10, seed=s) for s in range(3)]
executor = connect(None, None)
chunks = plan_chunks(configs, n_examples=200, n_features=2, slots=executor.slots)
assert len(list(executor.map(train_chunk, shared, chunks))) == len(chunks)
import tempfile
from reglab import cli
with tempfile.TemporaryDirectory() as folder:  # a whole local sweep through the command line
    code = cli.main(["sweep", "--data", "moons", "--l2", "0", "--keep-prob", "1", "--iterations", "20", "--seeds", "1",
                     "--folds", "2", "--db", folder + "/s.db", "--out", folder + "/run"])
    assert code == 0
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

