"""A user's files: nothing that was an input is written over, outputs are checked before any work, full disks.

The rule for an existing output file that is not an input (README, "Command line"): it is replaced
whole, once the new one is complete (as rsync does); a write-protected one is refused. Run folders
must be new or empty (a sweep replaces its own earlier folder). The cases about processes (two runs at
once, a read-only folder, a store locked by another process) are tests/slow/test_shared_files.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import reglab
import reglab.experiments.compare
import reglab.experiments.chunks
import reglab.experiments.sweep
import reglab.training
from reglab import cli

from .cli_runner import QUICK, SWEEP, assert_user_error, run

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
    monkeypatch.setattr(reglab.experiments.chunks, "fit_many", trained)
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
    old.mkdir()  # an earlier sweep's run folder (what is_sweep_folder looks at)...
    (old / "results.json").write_text(json.dumps({"kind": "sweep"}))
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

    monkeypatch.setattr(reglab.experiments.chunks, "fit_many", failing)
    db = tmp_path / "new.db"
    assert cli.main([*SWEEP, "--data", "moons", "--db", str(db), "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.strip() == "reglab: error: training failed"
    assert list(tmp_path.iterdir()) == []  # no store, no -wal or -shm, no run folder
