"""Property (hypothesis): two commands that share paths never change a file the running command reads.

Each example draws two ``reglab`` commands whose file arguments come from one small pool of paths
(data files, a model, a results store, folders, a link, the course file named by
``$REGLAB_COURSE_DATA``) and runs them one after the other in one scratch folder, so the second
meets what the first left (its run folder, its CSV, a model to predict with). Whatever a command's
outcome (status 0, or 2 with one line), every file it read as an input is byte for byte as it was,
and the rows a store held stay as they were.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reglab import cli

SCALE = int(os.environ.get("REGLAB_HYPOTHESIS_SCALE", "1"))
PAIRS = settings(max_examples=60 * SCALE, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FILES = ("a.csv", "b.csv", "c.mat", "m.npz", "s.db", "link.csv", "r/model.npz", "p.csv", "f.png")
FOLDERS = ("r", "out", "sweep")
PATHS = FILES + FOLDERS
QUICK = ["--iterations", "20"]


@st.composite
def _commands(draw):
    """One command line whose file arguments come from ``PATHS``; returns (argv, its inputs).

    An output is drawn from the command's own inputs about a third of the time, so that the cases that matter
    (an output that is an input, by name, through a link or as the course file) come up in every run of the test,
    and the other commands get through often enough for the second to meet what the first made.
    """
    # Mostly data that exists; p.csv and r/model.npz exist only when the first command made them.
    data = draw(st.sampled_from(("a.csv", "b.csv", "c.mat", "link.csv", None) * 2 + ("p.csv", "r/model.npz")))
    kind = draw(st.sampled_from(("train", "predict", "sweep", "draw")))
    model = draw(st.sampled_from(("m.npz", "m.npz", "r/model.npz", "a.csv")))
    own = [name for name in (data or "c.mat", model if kind == "predict" else None, "a.csv") if name]

    def output(*likely):
        """A path from the pool; the command's own inputs and ``likely`` ones (what it writes) more often."""
        return draw(st.sampled_from(own * 3 + list(PATHS) + list(likely) * 3))

    if kind == "train":
        return ["train", *([] if data is None else ["--data", data]), *QUICK, "--out", output(*FOLDERS)], [data]
    if kind == "predict":
        out = draw(st.none() | st.just(output("p.csv")))
        return ["predict", model, data or "a.csv", *([] if out is None else ["--out", out])], [model, data or "a.csv"]
    if kind == "sweep":
        csv = draw(st.none() | st.just(output("p.csv")))
        argv = ["sweep", *([] if data is None else ["--data", data]), "--l2", "0,0.5", "--keep-prob", "1", *QUICK,
                "--seeds", "1", "--db", draw(st.sampled_from(("s.db", "s.db", "new.db", *own))), "--out", output(*FOLDERS),
                *([] if csv is None else ["--csv", csv])]
        return argv, [data]
    return ["datasets", "--draw", data or "a.csv", "--out", output("f.png")], [data or "a.csv"]


@contextlib.contextmanager
def _working_in(folder: Path):
    """``contextlib.chdir`` (Python 3.11+), for 3.10."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _make_pool(folder: Path) -> None:
    rng = np.random.default_rng(0)
    for name in ("a.csv", "b.csv"):
        X = rng.normal(size=(40, 2))
        y = (X[:, 0] > 0).astype(int)
        y[:2] = (0, 1)
        np.savetxt(folder / name, np.column_stack([X, y]), delimiter=",", header="x1,x2,label", comments="")
    X, Xval = rng.normal(size=(30, 2)), rng.normal(size=(20, 2))
    y, yval = (X[:, :1] > 0).astype(np.uint8), (Xval[:, :1] > 0).astype(np.uint8)
    y[:2, 0], yval[:2, 0] = (0, 1), (0, 1)
    scipy.io.savemat(folder / "c.mat", {"X": X, "y": y, "Xval": Xval, "yval": yval})
    (folder / "link.csv").symlink_to(folder / "a.csv")


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    """The pool's files, made once: two data sets, a course file, a link, a model and a store."""
    folder = tmp_path_factory.mktemp("pool")
    _make_pool(folder)
    with _working_in(folder), contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["train", "--data", "a.csv", *QUICK, "--out", "made"]) == 0
        assert cli.main(["sweep", "--data", "b.csv", "--l2", "0", "--keep-prob", "1", *QUICK, "--seeds", "1",
                         "--db", "s.db", "--out", "made-sweep"]) == 0
    (folder / "made" / "model.npz").rename(folder / "m.npz")
    return folder


def _copy_pool(source: Path, folder: Path) -> None:
    for name in ("a.csv", "b.csv", "c.mat", "m.npz", "s.db"):
        (folder / name).write_bytes((source / name).read_bytes())
    (folder / "link.csv").symlink_to(folder / "a.csv")


def _state(path: Path):
    """What must not change of an input: a file's bytes (through links), or a store's rows."""
    if not path.is_file():
        return None
    if path.read_bytes()[:16] == b"SQLite format 3\x00":
        with contextlib.closing(sqlite3.connect(path)) as raw:
            return sorted(raw.execute("SELECT key, metrics FROM results").fetchall())
    return path.read_bytes()


_SWEEP = ["--l2", "0,0.5", "--keep-prob", "1", *QUICK, "--seeds", "1"]


@PAIRS
@given(first=_commands(), second=_commands())
@example(  # found on the code before issue 12: the predictions replaced the data (and its labels)
    first=(["predict", "m.npz", "a.csv", "--out", "a.csv"], ["m.npz", "a.csv"]),
    second=(["predict", "m.npz", "b.csv", "--out", "m.npz"], ["m.npz", "b.csv"]),
)
@example(  # the cases: a sweep's CSV over its data, and over the course file it found by itself
    first=(["sweep", "--data", "link.csv", *_SWEEP, "--db", "s.db", "--out", "out", "--csv", "a.csv"], ["link.csv"]),
    second=(["sweep", *_SWEEP, "--db", "s.db", "--out", "sweep", "--csv", "c.mat"], [None]),
)
def test_two_commands_sharing_paths_never_change_what_the_running_one_reads(pool, first, second):
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        _copy_pool(pool, folder)
        environ = os.environ.get("REGLAB_COURSE_DATA")
        os.environ["REGLAB_COURSE_DATA"] = str(folder / "c.mat")  # a command without --data reads it
        try:
            with _working_in(folder):
                for argv, inputs in (first, second):
                    inputs = [folder / ("c.mat" if name is None else name) for name in inputs]
                    store = folder / argv[argv.index("--db") + 1] if argv[0] == "sweep" else None
                    if store is not None:
                        inputs.append(store)  # read and written: the rows it held must stay
                    before = [_state(path) for path in inputs]
                    errors = io.StringIO()
                    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
                        status = cli.main(list(argv))
                    said = errors.getvalue().splitlines()
                    assert status in (0, 2), (argv, status, said)
                    if status == 2:
                        assert len(said) == 1 and said[0].startswith("reglab: error: "), (argv, said)
                    after = [_state(path) for path in inputs]
                    for path, old, new in zip(inputs, before, after):
                        if path == store and isinstance(old, list):
                            assert isinstance(new, list) and set(old) <= set(new), (argv, f"rows of {path.name} changed")
                        elif path != store or old is not None:  # (a new store may be made where nothing was)
                            assert new == old, (argv, f"{path.name} changed")
        finally:
            if environ is None:
                os.environ.pop("REGLAB_COURSE_DATA", None)
            else:
                os.environ["REGLAB_COURSE_DATA"] = environ
