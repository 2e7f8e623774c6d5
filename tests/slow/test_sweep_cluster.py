"""reglab sweep on a Dask cluster: the same rows as in one process, nothing lost to a killed worker, clear refusals.

Every test starts real processes on 127.0.0.1 and is bounded by a timeout.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

distributed = pytest.importorskip("distributed")

import reglab  # noqa: E402
from reglab.datasets import make_dataset  # noqa: E402
from reglab.experiments.executors import connect  # noqa: E402
from reglab.experiments.store import ResultStore  # noqa: E402
from reglab.experiments.sweep import SweepSpec, run_sweep  # noqa: E402

from ..cli_runner import process_env, reaped, run  # noqa: E402
from .dask_processes import dask_cluster  # noqa: E402

ARGS = ["sweep", "--data", "moons", "--l2", "0,0.5", "--keep-prob", "1,0.8", "--iterations", "200", "--seeds", "2",
        "--folds", "3"]
SETTINGS = ["l2", "keep_prob_1", "keep_prob_2", "seed", "phase", "split_seed", "fold"]
METRICS = ["train_accuracy", "dev_accuracy", "test_accuracy_not_used_for_choice", "final_cost"]


def _table(path) -> dict:
    with open(path, newline="") as handle:
        return {tuple(r[k] for k in SETTINGS): r for r in csv.DictReader(handle)}


@pytest.mark.timeout(300)
def test_a_sweep_on_a_local_cluster_writes_the_rows_of_one_process(tmp_path):
    here = run(*ARGS, "--db", tmp_path / "here.db", "--csv", tmp_path / "here.csv", "--out", tmp_path / "here")
    there = run(*ARGS, "--scheduler", "local:2", "--chunk-size", "3", "--db", tmp_path / "there.db",
                "--csv", tmp_path / "there.csv", "--out", tmp_path / "there")
    assert "Dask cluster: 2 worker threads; dashboard " in there.stdout
    a, b = _table(tmp_path / "here.csv"), _table(tmp_path / "there.csv")
    assert sorted(a) == sorted(b) and len(a) == 4 * 2 * 3 + sum(1 for k in a if k[4] != "choice")
    for key in a:
        for name in METRICS:
            if a[key][name] == "":
                assert b[key][name] == ""
            else:
                assert abs(float(a[key][name]) - float(b[key][name])) <= 1e-12, (key, name)
    assert here.stdout.splitlines()[2] == there.stdout.splitlines()[3]  # the same choice, said the same way


@pytest.mark.timeout(300)
def test_a_worker_killed_during_a_sweep_loses_no_row_and_stores_none_twice(tmp_path):
    dataset = make_dataset("moons", seed=0)
    spec = SweepSpec(reglab.TrainConfig(n_iterations=1500, init="fresh", mask_mode="fresh"),
                     {"l2": (0.0, 0.3, 1.0), "keep_prob": (1.0, 0.8)}, seeds=range(3), folds=3)
    with ResultStore(tmp_path / "here.db") as store:
        want = run_sweep(dataset, spec, store)
    killed = []
    with connect("local:2", timeout=60) as executor, ResultStore(tmp_path / "there.db") as store:
        def progress(done, total):  # after the first chunk is stored, one worker process dies
            if not killed:
                pid = next(iter(executor.workers.values()))["pid"]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        got = run_sweep(dataset, spec, store, executor=executor, chunk_size=2, progress=progress)
        keys = [r["key"] for r in store.rows()]
    assert killed and len(keys) == len(set(keys)) == len(want.rows) + sum(len(r) for r in want.refit_rows.values())
    assert [(r["key"], r["metrics"]) for r in got.rows] == [(r["key"], r["metrics"]) for r in want.rows]
    assert got.chosen.settings == want.chosen.settings


def test_an_unreachable_scheduler_is_one_line_before_anything_is_trained(tmp_path):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    completed = run(*ARGS, "--scheduler", f"tcp://127.0.0.1:{port}", "--db", tmp_path / "s.db", "--out",
                    tmp_path / "run", check_ok=False)
    lines = completed.stderr.strip().splitlines()
    assert completed.returncode == 2 and len(lines) == 1, completed.stderr
    assert lines[0].startswith("reglab: error: ") and f"127.0.0.1:{port}" in lines[0]
    assert not (tmp_path / "s.db").exists() and not (tmp_path / "run").exists()
    missing = run(*ARGS, "--scheduler-file", tmp_path / "nowhere.json", "--db", tmp_path / "s.db", "--out",
                  tmp_path / "run", check_ok=False)
    assert missing.returncode == 2 and "nowhere.json" in missing.stderr


def _stored(db) -> int:
    """Rows in a store, read as another process sees them (0 before it exists)."""
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
            return connection.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.Error:  # created but without its table yet, or busy
        return 0


@pytest.mark.timeout(600)
def test_a_client_interrupted_by_ctrl_c_sigterm_or_sigkill_resumes_where_it_stopped(tmp_path):
    # The cluster outlives its clients, as a lab cluster does; each client is stopped once it has stored
    # more rows than the one before, then a last one finishes the sweep.
    db = tmp_path / "sweep.db"
    args = ["sweep", "--data", "moons", "--l2", "0,0.1,0.3,1", "--keep-prob", "1,0.8", "--iterations", "15000",
            "--seeds", "3", "--folds", "3", "--chunk-size", "2", "--db", db]  # 72 models in 36 chunks
    with dask_cluster(tmp_path) as scheduler_file:
        before = 0
        for stop, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -signal.SIGKILL)):
            with reaped(subprocess.Popen(
                [sys.executable, "-m", "reglab", *map(str, args), "--scheduler-file", str(scheduler_file),
                 "--out", str(tmp_path / f"stopped-{stop.name}")],
                env=process_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)) as process:
                deadline = time.monotonic() + 240
                while _stored(db) <= before and process.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert process.poll() is None, f"the sweep ended before {stop.name}: {process.stderr.read()}"
                process.send_signal(stop)
                _, stderr = process.communicate(timeout=120)
            assert process.returncode == status, (stop.name, stderr)
            if stop != signal.SIGKILL:
                assert len(stderr.strip().splitlines()) == 1 and "nothing half-written" in stderr, stderr
            assert not (tmp_path / f"stopped-{stop.name}").exists()
            stored = _stored(db)
            assert before < stored < 72, (stop.name, before, stored)
            before = stored
        completed = run(*args, "--scheduler-file", scheduler_file, "--out", tmp_path / "resumed")
    assert "= 72 models" in completed.stdout
    with contextlib.closing(sqlite3.connect(db)) as connection:
        keys = [row[0] for row in connection.execute("SELECT key FROM results")]
    refits = json.loads((tmp_path / "resumed" / "results.json").read_text())
    refits = 3 if refits["chosen"]["settings"] == refits["baseline"]["settings"] else 6  # 3 seeds each
    assert len(keys) == len(set(keys)) == 72 + refits
    trained = int(re.search(r"(\d+) models? trained in this run", (tmp_path / "resumed" / "report.md").read_text())[1])
    assert 0 < trained <= 72 - before + refits
