"""A user's files and concurrent runs: nothing that was an input is written over, no finished work is thrown away.

The rule for an existing output file that is not an input (README, "Command line"): it is replaced
whole, once the new one is complete (as rsync does); a write-protected one is refused. Run folders
must be new or empty (a sweep replaces its own earlier folder); one taken by another run while this
one worked gets the next free name.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import reglab
import reglab.experiments.compare
import reglab.experiments.sweep
import reglab.training
from reglab import cli

from .test_cli import QUICK, assert_user_error, run

SWEEP = ["sweep", "--l2", "0,0.5", "--keep-prob", "1", "--iterations", "60", "--seeds", "2"]


def _points(path: Path, n: int = 60, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] > 0).astype(int)
    y[:2] = (0, 1)
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="x1,x2,label", comments="")
    return path


def _course_mat(path: Path) -> Path:
    rng = np.random.default_rng(1)
    X, Xval = rng.normal(size=(40, 2)), rng.normal(size=(20, 2))
    y, yval = (X[:, :1] > 0).astype(np.uint8), (Xval[:, :1] > 0).astype(np.uint8)
    y[:2, 0], yval[:2, 0] = (0, 1), (0, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"X": X, "y": y, "Xval": Xval, "yval": yval})
    return path


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    data = _points(folder / "train.csv", 80)
    run("train", "--data", data, *QUICK, "--out", folder / "run")
    return folder / "run" / "model.npz"


@pytest.fixture
def no_training(monkeypatch):
    def trained(*args, **kwargs):
        raise AssertionError("trained although an output is unusable")

    monkeypatch.setattr(reglab.training, "fit_many", trained)
    monkeypatch.setattr(reglab.experiments.sweep, "fit_many", trained)
    monkeypatch.setattr(reglab.experiments.compare, "compare", trained)


# --------------------------------------------------------------------------- inputs are never outputs


@pytest.mark.parametrize("target", ["model", "data", "link to the model", "hard link to the data"])
def test_predict_never_writes_over_its_model_or_its_data(tmp_path, model_file, target):
    model = tmp_path / "model.npz"
    shutil.copy(model_file, model)
    data = _points(tmp_path / "points.csv")
    out = {"model": model, "data": data}.get(target)
    if target == "link to the model":
        out = tmp_path / "link.npz"
        out.symlink_to(model)
    elif target == "hard link to the data":
        out = tmp_path / "other-name.csv"
        os.link(data, out)
    before = _snapshot(tmp_path)
    completed = run("predict", model, data, "--out", out, check_ok=False)
    assert_user_error(completed, "Invalid value for --out", repr(str(out)), "never writes over an input")
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "args, option, what",
    [
        (["--data", "DATA", "--csv", "DATA"], "--csv", "the data file (--data)"),
        (["--data", "DATA", "--db", "DATA"], "--db", "the data file (--data)"),
        (["--data", "OLD/points.csv", "--out", "OLD"], "--out", "holds the data file (--data)"),
        (["--csv", "COURSE"], "--csv", "the data file ($REGLAB_COURSE_DATA)"),
        (["--csv", "datasets/data.mat"], "--csv", "the data file (datasets/data.mat)"),
        (["--data", "DATA", "--csv", "LINK"], "--csv", "the data file (--data)"),
    ],
)
def test_sweep_never_writes_over_its_data(tmp_path, monkeypatch, capsys, no_training, args, option, what):
    data = _points(tmp_path / "points.csv")
    course = _course_mat(tmp_path / "elsewhere" / "course.mat")
    old = tmp_path / "old"
    run(*SWEEP, "--data", "moons", "--db", tmp_path / "old.db", "--out", old)  # an earlier sweep's folder...
    _points(old / "points.csv")  # ...where the user keeps a data file
    (tmp_path / "link.csv").symlink_to(data)
    if "datasets/data.mat" in args:
        _course_mat(tmp_path / "datasets" / "data.mat")
    names = {"DATA": str(data), "OLD": str(old), "COURSE": str(course), "LINK": str(tmp_path / "link.csv")}
    args = [names.get(a.split("/")[0], a.split("/")[0]) + a[len(a.split("/")[0]):] if a.split("/")[0] in names else a
            for a in args]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGLAB_COURSE_DATA", str(course))
    more = [] if "--db" in args else ["--db", str(tmp_path / "s.db")]
    more += [] if "--out" in args else ["--out", str(tmp_path / "run")]
    before = _snapshot(tmp_path)
    assert cli.main([*SWEEP, *args, *more]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"reglab: error: Invalid value for {option}:") and what in line, line
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["compare", "train"])
def test_a_run_folder_is_never_the_data_file(tmp_path, capsys, no_training, command):
    data = _points(tmp_path / "points.csv")
    before = _snapshot(tmp_path)
    assert cli.main([command, "--data", str(data), *QUICK, "--out", str(data)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "Invalid value for '--out'" in line and "is a file" in line, line  # click's own check, first
    assert _snapshot(tmp_path) == before


def test_drawing_a_data_file_never_writes_over_it(tmp_path):
    data = _points(tmp_path / "points.csv")
    before = data.read_bytes()
    completed = run("datasets", "--draw", data, "--out", data, check_ok=False)
    assert_user_error(completed, "Invalid value for --out", "the data file (--draw)")
    assert data.read_bytes() == before


# --------------------------------------------------------------------------- the rule for existing outputs


def test_an_existing_output_file_is_replaced_whole_and_a_write_protected_one_is_refused(tmp_path, model_file):
    data = _points(tmp_path / "points.csv")
    out = tmp_path / "predictions.csv"
    out.write_text("an earlier table\n")
    run("predict", model_file, data, "--out", out)
    assert out.read_text().startswith("x1,x2,probability,prediction\n") and len(out.read_text().splitlines()) == 61
    assert sorted(p.name for p in tmp_path.iterdir()) == ["points.csv", "predictions.csv"]  # no temporary file left
    out.write_text("kept\n")
    out.chmod(0o444)
    completed = run("predict", model_file, data, "--out", out, check_ok=False)
    assert_user_error(completed, "Invalid value for --out", "write-protected")
    assert out.read_text() == "kept\n"


# --------------------------------------------------------------------------- outputs are checked before any work


@pytest.mark.parametrize("case", ["not empty", "parent is a file"])
@pytest.mark.parametrize("command", ["train", "sweep"])
def test_outputs_are_checked_before_training(tmp_path, capsys, no_training, command, case):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("mine")
    (tmp_path / "a_file").write_text("not a folder")
    out = busy if case == "not empty" else tmp_path / "a_file" / "run"
    args = [*SWEEP[1:], "--db", str(tmp_path / "s.db")] if command == "sweep" else list(QUICK)
    before = _snapshot(tmp_path)
    assert cli.main([command, "--data", "moons", *args, "--out", str(out)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "--out" in line, line
    assert ("not empty" in line) if case == "not empty" else ("a_file' is not a writable folder (it is a file)" in line)
    assert _snapshot(tmp_path) == before


def _read_only(folder: Path, args: list) -> list:
    """A command line running reglab ``args`` while ``folder`` cannot be written (root: a read-only bind mount)."""
    command = [sys.executable, "-m", "reglab", *map(str, args)]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return command
    mount = f"mount --bind -o ro '{folder}' '{folder}'"
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "sh", "-c", mount], capture_output=True).returncode:
        pytest.skip("root cannot make a read-only folder here (no unshare -m with mount)")
    return ["unshare", "-m", "sh", "-c", f'{mount} && exec "$@"', "sh", *command]


@pytest.mark.parametrize("command", ["compare", "train", "sweep"])
def test_a_read_only_folder_is_named_as_the_user_gave_it_before_training(tmp_path, command):
    folder = tmp_path / "ro"
    folder.mkdir()
    args = [*SWEEP, "--db", tmp_path / "s.db"] if command == "sweep" else [command, *QUICK]
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("REGLAB_COURSE_DATA", None)
    completed = subprocess.run(_read_only(folder, [*args, "--data", "moons", "--out", folder / "run"]),
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
        sweeps.run_sweep = waiting(sweeps.run_sweep)
        training.fit = waiting(training.fit)
    flag = os.environ.get("REGLAB_TEST_TRAINING_FLAG")
    if flag:  # says when a sweep starts training its first batch
        import reglab.experiments.sweep as sweeps

        def training(function):
            def wrapper(*args, **kwargs):
                Path(flag).touch()
                return function(*args, **kwargs)
            return wrapper

        sweeps.fit_many = training(sweeps.fit_many)
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
        assert len((tmp_path / f"table-{k}.csv").read_text().splitlines()) == 5  # header + 2 configurations × 2 seeds
    with sqlite3.connect(tmp_path / "s.db") as raw:
        assert raw.execute("SELECT count(*) FROM results").fetchone()[0] == 4  # each model stored once


# --------------------------------------------------------------------------- full disks


@pytest.fixture
def small_disk(tmp_path):
    """Mounts a real small file system (a tmpfs of the given size) for the test; root only."""
    mounted = []

    def mount(size: str) -> Path:
        folder = tmp_path / "small"
        folder.mkdir()
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("only root can mount a small file system here (the ENOSPC stand-ins run instead)")
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("command", ["compare", "train"])
def test_a_full_disk_is_one_line_and_leaves_nothing(small_disk, command):
    disk = small_disk("96k")  # less than a run folder's figures
    completed = run(command, "--data", "moons", *QUICK, "--out", disk / "run", check_ok=False)
    assert_user_error(completed, "No space left on device", repr(str(disk / "run")),
                      "nothing half-written was left behind")
    assert list(disk.iterdir()) == []


def _fill(folder: Path, keep: int) -> None:
    """Fill the file system of ``folder`` until about ``keep`` bytes are left."""
    with open(folder / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
                if shutil.disk_usage(folder).free <= keep:
                    break
        except OSError as error:
            assert error.errno == errno.ENOSPC


@pytest.mark.parametrize("room, said", [(48 * 1024, "database or disk is full"), (0, "disk I/O error")])
def test_a_sweep_whose_store_fills_the_disk_stops_with_one_line_and_the_store_intact(tmp_path, small_disk, room, said):
    # With some room left, the first batch's write-ahead log fills the disk; with none, SQLite cannot even make
    # the shared-memory file beside the store (it says "disk I/O error", which the free space explains).
    disk = small_disk("256k")
    db = disk / "s.db"
    run(*SWEEP, "--data", "moons", "--db", db, "--out", tmp_path / "first")
    raw = sqlite3.connect(db)
    before = raw.execute("SELECT key, metrics FROM results ORDER BY key").fetchall()
    raw.close()
    _fill(disk, keep=room)
    completed = run("sweep", "--l2", ",".join(f"0.{k}" for k in range(1, 9)), "--keep-prob", "1", "--iterations", "60",
                    "--seeds", "20", "--data", "moons", "--db", db, "--out", tmp_path / "second", check_ok=False)
    assert_user_error(completed, f"No space left on device (SQLite: {said}): {str(db)!r}",
                      "nothing half-written was left behind")
    assert not (tmp_path / "second").exists()
    (disk / "filler").unlink()
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert raw.execute("SELECT key, metrics FROM results ORDER BY key").fetchall() == before
    raw.close()


def test_a_full_disk_stand_in_for_a_run_folder(tmp_path, monkeypatch, capsys):
    # Where no small file system can be mounted: the model file's write fails as on a full disk.
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", full)
    assert cli.main(["train", "--data", "moons", *QUICK, "--out", str(tmp_path / "run")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (f"reglab: error: No space left on device: {str(tmp_path / 'run')!r}; nothing half-written was left "
                    "behind: free some space (or write elsewhere) and run the command again")
    assert list(tmp_path.iterdir()) == []


def test_a_full_store_stand_in_keeps_the_store_intact(tmp_path, monkeypatch, capsys):
    # SQLite's own "database or disk is full", from a page limit set on the store's connection.
    from reglab.experiments import store as stores

    db = tmp_path / "s.db"
    run(*SWEEP, "--data", "moons", "--db", db, "--out", tmp_path / "first")
    before = sqlite3.connect(db).execute("SELECT key FROM results ORDER BY key").fetchall()
    real = stores.insert_rows

    def capped(connection, encoded):
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return real(connection, encoded)

    monkeypatch.setattr(stores, "insert_rows", capped)
    args = ["sweep", "--l2", "0.1,0.2,0.3", *SWEEP[3:], "--data", "moons", "--db", str(db), "--out", str(tmp_path / "b")]
    assert cli.main(args) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "No space left on device (SQLite: database or disk is full)" in line and repr(str(db)) in line, line
    assert sqlite3.connect(db).execute("SELECT key FROM results ORDER BY key").fetchall() == before
    assert not (tmp_path / "b").exists()


# --------------------------------------------------------------------------- a failed sweep leaves no new store


def test_a_sweep_that_fails_before_storing_anything_leaves_no_new_store(tmp_path, monkeypatch, capsys):
    def failing(*args, **kwargs):
        raise ValueError("training failed")

    monkeypatch.setattr(reglab.experiments.sweep, "fit_many", failing)
    db = tmp_path / "new.db"
    assert cli.main([*SWEEP, "--data", "moons", "--db", str(db), "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == "reglab: error: training failed"
    assert list(tmp_path.iterdir()) == []  # no store, no -wal or -shm, no run folder


def test_a_sweep_terminated_during_its_first_batch_leaves_no_new_store(tmp_path):
    hooks, flag = tmp_path / "hooks", tmp_path / "training"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    env = dict(os.environ, MPLBACKEND="Agg", REGLAB_TEST_TRAINING_FLAG=str(flag),
               PYTHONPATH=os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]))
    env.pop("REGLAB_COURSE_DATA", None)
    work = tmp_path / "work"
    work.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "reglab", "sweep", "--data", "moons", "--l2", "0", "--keep-prob", "1", "--iterations",
         "100000000", "--seeds", "1", "--engine", "reference", "--db", str(work / "new.db"), "--out",
         str(work / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=work)
    try:
        while not flag.exists() and process.poll() is None:  # until the first batch is training
            time.sleep(0.01)
        process.terminate()
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 143, err
    assert sorted(p.name for p in work.iterdir()) == []
