"""The Dask executor on loopback clusters: same numbers as in-process, a killed worker loses nothing, a worker
running other code is refused by name, a scheduler file and the `dask scheduler` / `dask worker` commands work.

Every test starts real processes on 127.0.0.1 and is bounded by a timeout (pytest-timeout).
"""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

distributed = pytest.importorskip("distributed")

from reglab import fit_many  # noqa: E402
from reglab.config import TrainConfig  # noqa: E402
from reglab.experiments.chunks import plan_chunks, train_chunk  # noqa: E402
from reglab.experiments.executors import (  # noqa: E402
    ClusterUnreachableError,
    DaskExecutor,
    LocalExecutor,
    WorkerMismatchError,
    connect,
)

from ..grids import chunk_data  # noqa: E402
from .dask_processes import dask_cluster  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return chunk_data()


def grid(n_iterations=300, seeds=range(4)):
    """Plain, L2, dropout (fresh and course masks) and both, over seeds: every kind of batch."""
    configs = []
    for l2 in (0.0, 0.7):
        for keep, masks in ((1.0, "fresh"), (0.86, "fresh"), (0.86, "course")):
            configs += [TrainConfig(n_iterations=n_iterations, init="fresh", mask_mode=masks, seed=seed, l2=l2,
                                    keep_prob=keep) for seed in seeds]
    return configs


def assert_same_rows(got: dict, want: dict, tolerance=1e-12):
    assert sorted(got) == sorted(want)
    for index in want:
        assert [row["config"] for row in got[index]] == [row["config"] for row in want[index]]
        for a, b in zip(got[index], want[index]):
            assert a["metrics"].keys() == b["metrics"].keys()
            for name in a["metrics"]:
                assert abs(a["metrics"][name] - b["metrics"][name]) <= tolerance, (index, name, a, b)


@pytest.fixture(scope="module")
def cluster():
    with connect("local:2", timeout=60) as executor:
        yield executor


@pytest.mark.timeout(180)
def test_two_local_workers_give_the_numbers_of_one_process(cluster, data):
    assert isinstance(cluster, DaskExecutor) and len(cluster.workers) == 2 and cluster.slots == 2
    assert cluster.engine_threads == max(1, len(os.sched_getaffinity(0)) // 2)  # two one-thread workers share the CPUs
    assert cluster.dashboard and cluster.dashboard.startswith("http://127.0.0.1:")
    # The check loaded the compiled engine on each worker: no chunk pays for it.
    assert cluster.client.run(lambda: "reglab.engine._fused" in sys.modules) == {a: True for a in cluster.workers}
    configs = grid()
    chunks = plan_chunks(configs, n_examples=200, n_features=2, slots=cluster.slots, chunk_size=3)
    got = dict(cluster.map(train_chunk, data, chunks, threads=cluster.engine_threads))
    want = dict(LocalExecutor().map(train_chunk, data, chunks))
    assert_same_rows(got, want)
    # Batches of other sizes train each model the same way: one fit_many of the whole grid agrees too.
    models = fit_many(data["X_train"], data["y_train"], configs)
    rows = {config: row for index in got for config, row in zip(chunks[index], got[index])}
    for config, model in zip(configs, models):
        assert rows[config]["metrics"]["final_cost"] == float(model.history.cost[-1])
        assert rows[config]["metrics"]["test_accuracy"] == model.accuracy(data["X_test"], data["y_test"])


@pytest.mark.timeout(120)
def test_the_data_reach_each_worker_once_not_with_every_chunk(cluster, data):
    client = cluster.client
    before = sum(client.run(lambda dask_worker: len(dask_worker.data)).values())
    chunks = [[TrainConfig(n_iterations=20, seed=seed)] for seed in range(8)]
    seen, indices = [], []
    for index, rows in cluster.map(train_chunk, data, chunks):
        # While the map runs, each worker holds one copy of the data (scattered once), whatever the chunks;
        # data sent with every chunk would be part of each task, not a piece of data the worker holds.
        seen.append(client.run(lambda dask_worker: sum(isinstance(v, dict) and "X_train" in v
                                                       for v in dask_worker.data.values())))
        indices.append(index)
    assert sorted(indices) == list(range(8))
    assert all(sorted(count.values()) == [1, 1] for count in seen[:-1]), seen
    deadline = time.monotonic() + 20  # after the map, the data and the results are released
    while sum(client.run(lambda dask_worker: len(dask_worker.data)).values()) != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sum(client.run(lambda dask_worker: len(dask_worker.data)).values()) == before


def chunk_tasks(client) -> list[str]:
    return client.run_on_scheduler(
        lambda dask_scheduler: [str(key) for key in dask_scheduler.tasks if "reglab-chunk" in str(key)])


def wait_until(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def blocked(shared, chunk, *, event):
    """A chunk that waits until the test releases it (Dask cancels a task, but cannot stop a running thread)."""
    if chunk != "quick":
        distributed.Event(event).wait(timeout=60)
    return chunk


@pytest.mark.timeout(120)
def test_an_error_in_a_chunk_reaches_the_caller_and_the_other_chunks_are_cancelled(cluster, data):
    failing = [TrainConfig(n_iterations=300, learning_rate=1e4)]  # error_or_block's chunk that fails
    with pytest.raises(ValueError, match="this chunk failed"):
        for _ in cluster.map(error_or_block, data, [failing], event="unused"):
            pass
    # The same with chunks that never finish on their own: all cancelled when the error is raised.
    release = distributed.Event(f"release-{time.monotonic_ns()}", client=cluster.client)
    try:
        waiting = [[TrainConfig(n_iterations=10, seed=seed)] for seed in range(20)]
        with pytest.raises(ValueError, match="this chunk failed"):
            for _ in cluster.map(error_or_block, data, [failing] + waiting, event=release.name):
                pass
        assert wait_until(lambda: chunk_tasks(cluster.client) == []), chunk_tasks(cluster.client)
    finally:
        release.set()  # the workers' threads still waiting in a cancelled chunk go back to work
    # A caller that stops early (Ctrl-C in a sweep, a break) cancels the rest too.
    release = distributed.Event(f"release-{time.monotonic_ns()}", client=cluster.client)
    try:
        chunks = cluster.map(blocked, data, ["quick"] + ["wait"] * 20, event=release.name)
        assert next(chunks) == (0, "quick")
        chunks.close()
        assert wait_until(lambda: chunk_tasks(cluster.client) == []), chunk_tasks(cluster.client)
    finally:
        release.set()


def error_or_block(shared, chunk, *, event):
    """An error for a chunk whose model has a huge learning rate; the others wait until the test releases them.

    (A diverging model is not an error: train_chunk returns it as a diverged row.)"""
    if chunk[0].learning_rate > 1:
        raise ValueError("this chunk failed")
    return blocked(shared, chunk, event=event)


@pytest.mark.timeout(240)
def test_a_killed_worker_loses_no_chunk_and_repeats_none(data):
    configs = grid(n_iterations=4000, seeds=range(6))  # 36 models in 12 chunks of ~0.3 s on one core
    chunks = plan_chunks(configs, n_examples=200, n_features=2, slots=2, chunk_size=3)
    want = dict(LocalExecutor().map(train_chunk, data, chunks))
    with connect("local:2", timeout=60) as executor:
        client = executor.client
        results = []
        killed = None
        for index, rows in executor.map(train_chunk, data, chunks, threads=executor.engine_threads):
            results.append((index, rows))
            if killed is None:
                running = {address: keys for address, keys in client.processing().items() if keys}
                address, keys = next(iter(running.items()))
                in_flight = {int(str(key).rsplit("-", 1)[1]) for key in keys}
                os.kill(executor.workers[address]["pid"], signal.SIGKILL)
                killed = (address, in_flight)
        assert killed is not None
        assert killed[0] not in client.scheduler_info()["workers"], "the killed worker is gone"
    indices = [index for index, _ in results]
    assert sorted(indices) == list(range(len(chunks))), "every chunk exactly once"
    assert killed[1] and killed[1] <= set(indices), "the chunks given to the killed worker arrived anyway"
    assert_same_rows(dict(results), want)


def patch_version(dask_worker, version):
    import reglab

    reglab.__version__ = version


@pytest.mark.timeout(180)
def test_a_worker_running_another_reglab_is_refused_by_name(data):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as local, distributed.Client(local) as client:
        client.wait_for_workers(2, timeout=60)
        odd = sorted(client.scheduler_info()["workers"])[1]
        client.run(patch_version, version="9.9.9", workers=[odd])  # before the worker's first check
        from reglab import __version__

        with pytest.raises(WorkerMismatchError, match=rf"worker {odd} .*runs other code than this process: "
                           rf"reglab 9\.9\.9 \(here: {__version__}\); install the same reglab"):
            connect(local.scheduler_address, timeout=30)
        # Unchecked at connection (as a worker joining later would be), its chunks are refused by the worker itself.
        with connect(local.scheduler_address, timeout=30, check=False) as executor:
            chunks = [[TrainConfig(n_iterations=20, seed=seed)] for seed in range(6)]
            with pytest.raises(WorkerMismatchError,
                               match=rf"worker {odd} runs other code than the client: reglab 9\.9\.9"):
                for _ in executor.map(train_chunk, data, chunks):
                    pass


def break_the_check(dask_worker):
    from reglab.experiments import executors

    def missing():
        raise ModuleNotFoundError("No module named 'numba'")

    executors._worker_environment = missing  # as on a worker where numba is not installed


@pytest.mark.timeout(180)
def test_a_worker_that_cannot_run_the_check_is_refused_by_name():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as local, distributed.Client(local) as client:
        client.wait_for_workers(2, timeout=60)
        odd = sorted(client.scheduler_info()["workers"])[0]
        client.run(break_the_check, workers=[odd])
        with pytest.raises(WorkerMismatchError, match=rf"worker {odd} .*cannot run reglab's check "
                           r"\(ModuleNotFoundError: No module named 'numba'\); install the same reglab"):
            connect(local.scheduler_address, timeout=30)


@pytest.mark.timeout(120)
def test_a_scheduler_without_workers_is_one_clear_error():
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as empty:
        with pytest.raises(ClusterUnreachableError, match=rf"the Dask scheduler at {empty.scheduler_address} has no "
                           rf"workers after 2 s; start some with `dask worker {empty.scheduler_address}`"):
            connect(empty.scheduler_address, timeout=2)


@pytest.mark.timeout(240)
def test_the_readme_commands_dask_scheduler_and_dask_worker_with_a_scheduler_file(tmp_path, data):
    with dask_cluster(tmp_path) as scheduler_file:
        with connect(scheduler_file=scheduler_file, timeout=60) as executor:
            assert executor.client.scheduler.address in scheduler_file.read_text()
            chunks = plan_chunks(grid(seeds=range(2)), n_examples=200, n_features=2, slots=executor.slots, chunk_size=2)
            got = dict(executor.map(train_chunk, data, chunks, threads=executor.engine_threads))
    assert_same_rows(got, dict(LocalExecutor().map(train_chunk, data, chunks)))
