"""Shared files as processes meet them: two runs at once, a read-only folder, a store locked by another process,
a sweep stopped during its first batch, a file only another user may read.

The process-level cases of issue 12 (the in-process ones are tests/test_outputs.py, test_store.py and
test_sweep.py). Real ``reglab`` processes, so in the slow tier.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from ..cli_runner import assert_user_error, process_env, read_only_command, reaped, run
from ..cli_runner import QUICK, SWEEP
from ..store_locks import hold_lock, let_go


# --------------------------------------------------------------------------- a read-only folder


@pytest.mark.parametrize("command", ["compare", "train", "sweep"])
def test_a_read_only_folder_is_named_as_the_user_gave_it_before_training(tmp_path, command):
    folder = tmp_path / "ro"
    folder.mkdir()
    args = [*SWEEP, "--db", tmp_path / "s.db"] if command == "sweep" else [command, *QUICK]
    env = process_env()
    completed = subprocess.run(read_only_command(folder, [*args, "--data", "moons", "--out", folder / "run"]),
                               capture_output=True, text=True, env=env, timeout=600)
    folder.chmod(0o755)
    assert_user_error(completed, "Invalid value for --out", f"{str(folder)!r} is not a writable folder")
    assert ".partial" not in completed.stderr and "Data:" not in completed.stdout  # refused before the data is read
    assert list(folder.iterdir()) == [] and not (tmp_path / "s.db").exists()


# --------------------------------------------------------------------------- concurrent runs

# Makes two reglab processes meet after both have checked their outputs and before either writes:
# each touches ready-<pid> in $REGLAB_TEST_BARRIER and waits for the other's. With a frozen clock
# (REGLAB_TEST_FROZEN_CLOCK) both choose the same default run folder name, as two runs in one second do.
_SITECUSTOMIZE = textwrap.dedent(
    """
    import datetime, os, time
    from pathlib import Path

    barrier = os.environ.get("REGLAB_TEST_BARRIER")

    def meet():
        folder = Path(barrier)
        (folder / f"ready-{os.getpid()}").touch()
        deadline = time.monotonic() + 120
        while len(list(folder.glob("ready-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)

    if barrier:
        import reglab.experiments.compare as experiments
        import reglab.experiments.sweep as sweeps
        import reglab.training as training

        def waiting(function):
            def wrapper(*args, **kwargs):
                meet()
                return function(*args, **kwargs)
            return wrapper

        experiments.compare = waiting(experiments.compare)
        sweeps.run_sweeps = waiting(sweeps.run_sweeps)
        training.fit = waiting(training.fit)
    flag = os.environ.get("REGLAB_TEST_TRAINING_FLAG")
    if flag:  # says when a sweep starts training its first batch
        import reglab.experiments.chunks as chunks

        def training(function):
            def wrapper(*args, **kwargs):
                Path(flag).touch()
                return function(*args, **kwargs)
            return wrapper

        chunks.fit_many = training(chunks.fit_many)
    if os.environ.get("REGLAB_TEST_FROZEN_CLOCK"):
        import reglab.runs.tables as tables

        class Frozen(datetime.datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)

        class Clock:
            datetime, timezone = Frozen, datetime.timezone

        tables._dt = Clock
    """
)


def _together(tmp_path: Path, commands: list[list], *, frozen_clock: bool = False) -> list[subprocess.CompletedProcess]:
    """Run reglab commands at once, meeting after their output checks; return each one's outcome."""
    hooks, barrier = tmp_path / "hooks", tmp_path / "barrier"
    hooks.mkdir()
    barrier.mkdir()
    (hooks / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    env = dict(os.environ, MPLBACKEND="Agg", REGLAB_TEST_BARRIER=str(barrier),
               PYTHONPATH=os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]))
    env.pop("REGLAB_COURSE_DATA", None)
    if frozen_clock:
        env["REGLAB_TEST_FROZEN_CLOCK"] = "1"
    processes = [subprocess.Popen([sys.executable, "-m", "reglab", *map(str, c)], cwd=tmp_path, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands]
    outcomes = []
    for process, command in zip(processes, commands):
        out, err = process.communicate(timeout=600)
        outcomes.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    assert len(list(barrier.iterdir())) == len(commands), "the processes did not meet"
    return outcomes


def _said(stderr: str) -> str:
    """Standard error without the engine's notice that it is being loaded slowly (compiled), which a busy machine
    may print."""
    return "".join(line for line in stderr.splitlines(keepends=True) if not line.startswith(("Compiling", "Compiled")))


def _complete(folder: Path, kind: str) -> bool:
    return json.loads((folder / "results.json").read_text())["kind"] == kind and (folder / "report.md").is_file()


def test_two_compares_into_one_out_both_keep_their_work(tmp_path):
    outcomes = _together(tmp_path, [["compare", "--data", "moons", *QUICK, "--out", "study"]] * 2)
    assert [o.returncode for o in outcomes] == [0, 0], [o.stderr for o in outcomes]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("study")) == ["study", "study-2"]
    assert _complete(tmp_path / "study", "compare") and _complete(tmp_path / "study-2", "compare")
    moved = [o for o in outcomes if _said(o.stderr)]
    assert len(moved) == 1 and _said(moved[0].stderr) == (
        "reglab: 'study' was taken by another run while this one worked; this run's folder is 'study-2'\n")
    assert "Run folder: study-2" in moved[0].stdout
    assert not list(tmp_path.glob(".*partial"))


def test_two_runs_in_the_same_second_get_two_default_folders(tmp_path):
    outcomes = _together(tmp_path, [["train", "--data", "moons", *QUICK]] * 2, frozen_clock=True)
    assert [o.returncode for o in outcomes] == [0, 0], [o.stderr for o in outcomes]
    names = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert names == ["20260102T030405Z-train", "20260102T030405Z-train-2"]
    assert all(_complete(tmp_path / "runs" / name, "train") for name in names)
    assert [_said(o.stderr) for o in outcomes] == ["", ""]  # a default name the user did not choose: no notice


def test_two_sweeps_into_one_out_keep_both_csv_files_and_folders(tmp_path):
    commands = [[*SWEEP, "--data", "moons", "--db", "s.db", "--out", "sweep", "--csv", f"table-{k}.csv"]
                for k in (1, 2)]
    outcomes = _together(tmp_path, commands)
    assert [o.returncode for o in outcomes] == [0, 0], [o.stderr for o in outcomes]
    assert _complete(tmp_path / "sweep", "sweep") and _complete(tmp_path / "sweep-2", "sweep")
    for k in (1, 2):
        lines = (tmp_path / f"table-{k}.csv").read_text().splitlines()
        assert sum(",choice," in line for line in lines) == 4  # 2 configurations × 2 seeds, and their refits
    with sqlite3.connect(tmp_path / "s.db") as raw:  # each model stored once: 4 to choose, 2 or 4 refits
        assert raw.execute("SELECT count(*) FROM results").fetchone()[0] in (6, 8)
        keys = [k for (k,) in raw.execute("SELECT key FROM results")]
        assert len(keys) == len(set(keys))


# --------------------------------------------------------------------------- a sweep stopped, a lock, a user


def test_a_sweep_terminated_during_its_first_batch_leaves_no_new_store(tmp_path):
    hooks, flag = tmp_path / "hooks", tmp_path / "training"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    env = dict(os.environ, MPLBACKEND="Agg", REGLAB_TEST_TRAINING_FLAG=str(flag),
               PYTHONPATH=os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]))
    env.pop("REGLAB_COURSE_DATA", None)
    work = tmp_path / "work"
    work.mkdir()
    with reaped(subprocess.Popen(
        [sys.executable, "-m", "reglab", "sweep", "--data", "moons", "--l2", "0", "--keep-prob", "1", "--iterations",
         "100000000", "--seeds", "1", "--engine", "reference", "--db", str(work / "new.db"), "--out",
         str(work / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=work)) as process:
        deadline = time.monotonic() + 120
        while not flag.exists() and process.poll() is None and time.monotonic() < deadline:  # the first batch trains
            time.sleep(0.01)
        assert flag.exists(), "the sweep never started training"
        process.terminate()
        out, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert sorted(p.name for p in work.iterdir()) == []


def test_cli_sweep_waits_for_a_store_another_process_holds_and_stores_everything(tmp_path):
    db = tmp_path / "s.db"
    args = ["sweep", "--data", "moons", "--l2", "0,0.5", "--keep-prob", "1", "--iterations", "60", "--seeds", "2",
            "--db", str(db), "--folds", "1"]
    run(*args, "--out", tmp_path / "first")  # makes the store, then a larger grid needs it again
    locker = hold_lock(db)
    env = process_env()
    sweep = subprocess.Popen([sys.executable, "-m", "reglab", *args[:4], "0,0.5,0.7", *args[5:], "--out",
                              str(tmp_path / "second")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    try:
        said = []
        for line in sweep.stderr:  # the sweep says it waits; only then is the lock let go
            said.append(line)
            if "is locked by another program" in line:
                let_go(locker)
                break
        rest, more = sweep.communicate(timeout=300)
        said.append(more)
    finally:
        locker.kill()
        locker.communicate()
        sweep.kill()
    said = [line for line in "".join(said).splitlines() if line.startswith("reglab:")]
    assert sweep.returncode == 0, said
    assert said[0] == (f"reglab: the store {str(db)!r} is locked by another program; waiting to store 2 trained "
                       "models (Ctrl-C gives up this batch; the batches already stored stay)")
    assert said[1].startswith(f"reglab: stored in {str(db)!r} after waiting ") and said[1].endswith(" s")
    assert "Run folder:" in rest
    with sqlite3.connect(db) as raw:  # 3 configurations x 2 seeds, and the refits (2 or 3 configurations x 2 seeds)
        choice = raw.execute("SELECT count(*) FROM results WHERE metrics LIKE '%dev_accuracy%'").fetchone()[0]
        assert choice == 6 and raw.execute("SELECT count(*) FROM results").fetchone()[0] in range(8, 13)


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".mat"])
def test_an_unreadable_data_file_says_permission_denied_whatever_its_format(tmp_path, suffix):
    folder = Path(tempfile.mkdtemp(prefix="reglab-unreadable-"))  # reachable by every user, unlike pytest's folders
    try:
        folder.chmod(0o755)
        path = folder / f"points{suffix}"
        X = np.random.default_rng(0).normal(size=(20, 2))
        y = (X[:, 0] > 0).astype(int)
        if suffix == ".csv":
            np.savetxt(path, np.column_stack([X, y]), delimiter=",")
        elif suffix == ".npz":
            np.savez(path, X=X, y=y)
        else:
            scipy.io.savemat(path, {"X": X, "y": y[:, None], "Xval": X, "yval": y[:, None]})
        folder.chmod(0o777)  # the run folder could be made there: the data file is what fails
        path.chmod(0o000)
        command = [sys.executable, "-m", "reglab", "train", "--data", str(path), *QUICK, "--out", str(folder / "run")]
        if os.geteuid() == 0:  # root reads any file: the command runs as nobody
            if shutil.which("setpriv") is None:
                pytest.skip("root cannot run a command as another user here (no setpriv)")
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        env = dict(os.environ, MPLBACKEND="Agg", HOME=str(folder), NUMBA_CACHE_DIR=str(folder))
        completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert_user_error(completed, f"reglab: error: data file {str(path)!r} cannot be read: permission denied")
