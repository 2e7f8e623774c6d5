"""Sweeps: grid expansion, the dev split, resumable training, honest choice; seed spreads."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import sqlite3

import numpy as np
import pytest

import reglab
import reglab.experiments.grid
import reglab.experiments.sweep
import reglab.training
from reglab.datasets import make_dataset
from reglab.experiments.compare import compare_seeds, course_study_configs
from reglab.experiments.store import ResultStore
from reglab.experiments.sweep import SweepSpec, expand, run_sweep, split_dev, summarize
from reglab.experiments.sweep_rows import ACCURACIES

from .cli_runner import assert_png, assert_user_error, process_env, read_only_command, run

QUICK = reglab.TrainConfig(n_iterations=150, init="fresh", mask_mode="fresh")


@pytest.fixture(scope="module")
def dataset():
    return make_dataset("field", n_samples=160, seed=2)


def test_expand_is_the_cartesian_product_with_seeds_innermost():
    spec = SweepSpec(QUICK, {"l2": (0.0, 0.7), "keep_prob": (1.0, (0.9, 0.8))}, seeds=(3, 4))
    configs = expand(spec)
    assert spec.n_models == len(configs) == 8
    assert [(c.l2, c.keep_prob, c.seed) for c in configs[:4]] == [
        (0.0, (1.0, 1.0), 3), (0.0, (1.0, 1.0), 4), (0.0, (0.9, 0.8), 3), (0.0, (0.9, 0.8), 4)
    ]
    assert all(c.n_iterations == 150 and c.mask_mode == "fresh" for c in configs)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(axes={"lambda": (0.1,)}), ValueError, "unknown grid axis 'lambda'"),
        (dict(axes={"l2": ()}), ValueError, "at least one value"),
        (dict(seeds=()), ValueError, "at least one seed"),
        (dict(seeds=(1, 1)), ValueError, "distinct"),
        (dict(dev_fraction=1.0), ValueError, "dev_fraction"),
    ],
)
def test_bad_specs(kwargs, error, message):
    with pytest.raises(error, match=message):
        SweepSpec(QUICK, **kwargs)


def test_bad_grid_values_are_refused_before_training():
    with pytest.raises(ValueError, match="keep_prob"):
        expand(SweepSpec(QUICK, {"keep_prob": (0.5, 0.0)}))


def test_dev_split_is_stratified_deterministic_and_disjoint(dataset):
    split = split_dev(dataset, 0.25, seed=1)
    again = split_dev(dataset, 0.25, seed=1)
    np.testing.assert_array_equal(split.X_dev, again.X_dev)
    assert split.fingerprint == again.fingerprint != split_dev(dataset, 0.25, seed=2).fingerprint
    assert len(split.y_fit) + len(split.y_dev) == len(dataset.y_train)
    fit_rows = {tuple(r) for r in split.X_fit}
    assert not any(tuple(r) in fit_rows for r in split.X_dev)
    share = [np.mean(split.y_dev == c) - np.mean(dataset.y_train == c) for c in (0, 1)]
    assert max(abs(s) for s in share) < 0.03
    np.testing.assert_array_equal(split.X_test, dataset.X_test)


def _refits(result) -> int:
    """Models of a sweep's refit on all the training points: the chosen and the baseline configuration, per seed."""
    return sum(len(rows) for rows in result.refit_rows.values())


def test_sweep_resumes_without_retraining(tmp_path, dataset):
    spec = SweepSpec(QUICK, {"l2": (0.0, 0.7), "keep_prob": (1.0, 0.8)}, seeds=(0, 1), folds=1)
    with ResultStore(tmp_path / "s.db") as store:
        first = run_sweep(dataset, spec, store, batch_size=3)
        second = run_sweep(dataset, spec, store, batch_size=3)
        assert len(store) == 8 + _refits(first)
    assert first.trained == 8 + _refits(first) and second.trained == 0
    assert [r["key"] for r in first.rows] == [r["key"] for r in second.rows]
    assert len(second.summaries) == 4 and all(len(s.seeds) == 2 for s in second.summaries)
    # A larger grid trains only what is new (and the refit of a new choice).
    bigger = SweepSpec(QUICK, {"l2": (0.0, 0.7, 2.0), "keep_prob": (1.0, 0.8)}, seeds=(0, 1), folds=1)
    with ResultStore(tmp_path / "s.db") as store:
        again = run_sweep(dataset, bigger, store)
        assert 4 <= again.trained <= 4 + _refits(again)


def test_folds_resume_per_fold_and_more_seeds_train_only_the_new_seeds(tmp_path, dataset):
    spec = SweepSpec(QUICK, {"l2": (0.0, 0.7)}, seeds=(0,), folds=4)
    with ResultStore(tmp_path / "s.db") as store:
        first = run_sweep(dataset, spec, store)
        assert first.trained == 2 * 4 + _refits(first)  # every configuration on every fold
        assert {first.unit(r) for r in first.rows} == {(0, k) for k in range(4)}
        # a killed sweep: one fold's rows are gone; running it again trains that fold only
        lost = [r["key"] for r in first.rows if first.unit(r) == (0, 2)]
        store._db.execute(f"DELETE FROM results WHERE key IN ({','.join('?' * len(lost))})", lost)
        assert run_sweep(dataset, spec, store).trained == len(lost) == 2
        more = run_sweep(dataset, spec.__class__(QUICK, {"l2": (0.0, 0.7)}, seeds=(0, 1), folds=4), store)
        assert more.trained - _refits(more) + _refits(first) >= 2 * 4  # the new seed on every fold
        assert more.trained <= 2 * 4 + _refits(more)


def test_sweep_rows_equal_models_trained_directly(tmp_path, dataset):
    spec = SweepSpec(QUICK, {"l2": (0.3,), "keep_prob": (0.8,)}, seeds=(5,), folds=3)
    with ResultStore(tmp_path / "s.db") as store:
        result = run_sweep(dataset, spec, store)
    config = QUICK.replace(l2=0.3, keep_prob=0.8, seed=5)
    for split, row in zip(result.splits, result.rows):  # one configuration: one row per fold
        model = reglab.fit(split.X_fit, split.y_fit, config)
        assert row["dataset"] == split.fingerprint
        assert row["metrics"]["dev_accuracy"] == model.accuracy(split.X_dev, split.y_dev)
        assert row["metrics"]["test_accuracy"] == model.accuracy(split.X_test, split.y_test)
    # the refit: the same configuration trained on all the training points, measured on the test set
    model = reglab.fit(dataset.X_train, dataset.y_train, config)
    assert result.test_accuracies(result.chosen) == {5: model.accuracy(dataset.X_test, dataset.y_test)}


def _row(l2, seed, dev, test):
    return {"config": QUICK.replace(l2=l2, seed=seed).to_dict(),
            "metrics": {"train_accuracy": 0.9, "dev_accuracy": dev, "test_accuracy": test}}


def test_the_dev_set_chooses_not_the_test_set():
    from reglab.experiments.selection import choose

    rows = [_row(0.0, 0, 0.80, 0.99), _row(0.0, 1, 0.82, 0.97), _row(0.7, 0, 0.90, 0.70), _row(0.7, 1, 0.88, 0.72)]
    summaries = summarize(rows)
    choice = choose({k: s.dev_units for k, s in enumerate(summaries)}, {k: s.settings for k, s in enumerate(summaries)})
    best = summaries[choice.best]
    assert best.settings["l2"] == 0.7 and summaries[choice.chosen] is best
    assert best.dev.mean == pytest.approx(0.89) and best.test.mean == pytest.approx(0.71)


def test_a_grid_that_does_not_fit_in_memory_is_refused(tmp_path, dataset):
    spec = SweepSpec(QUICK, {"l2": (0.0, 0.1)}, seeds=(0,))
    with ResultStore(tmp_path / "s.db") as store:
        with pytest.raises(MemoryError, match="MiB"):
            run_sweep(dataset, spec, store, memory_limit=1000)
        assert len(store) == 0


def test_seed_study_matches_direct_training(dataset):
    configs = course_study_configs(reglab.TrainConfig(n_iterations=120))
    study = compare_seeds(dataset, configs, seeds=(0, 1, 2))
    assert set(study.runs) == set(configs) and all(len(v) == 3 for v in study.runs.values())
    direct = reglab.fit(dataset.X_train, dataset.y_train,
                        configs["dropout (keep_prob=0.86)"].replace(init="fresh", mask_mode="fresh", seed=2))
    assert study.runs["dropout (keep_prob=0.86)"][2].test_accuracy == direct.accuracy(dataset.X_test, dataset.y_test)
    row = study.summary()[0]
    values = [r.test_accuracy for r in study.runs[row["model"]]]
    assert row["test"].mean == pytest.approx(np.mean(values))
    assert row["single_test"] == study.single[row["model"]].test_accuracy


def test_cli_sweep_writes_store_csv_and_report_then_resumes(tmp_path):
    db, table, out = tmp_path / "sweep.db", tmp_path / "table.csv", tmp_path / "run"
    args = ["sweep", "--data", "moons", "--l2", "0,0.5", "--l1", "0", "--keep-prob", "1,0.9/0.8", "--lr", "0.3",
            "--iterations", "200", "--seeds", "2", "--folds", "1", "--db", db, "--csv", table, "--engine", "reference"]
    completed = run(*args, "--out", out)
    assert "4 configurations × 2 seeds × 1 split = 8 models" in completed.stdout
    for name in ("report.md", "results.json", "heatmap.png", "accuracy.png", "chosen.png"):
        assert (out / name).is_file(), name
    for png in out.glob("*.png"):
        assert_png(png)
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    choice = [r for r in rows if r["phase"] == "choice"]
    refits = [r for r in rows if r["phase"] == "refit on all training points"]
    assert len(choice) == 8 and len(refits) in (2, 4) and len(rows) == len(choice) + len(refits)
    assert {"l2", "keep_prob_1", "keep_prob_2", "seed", "dev_accuracy", "test_accuracy_not_used_for_choice",
            "split_seed", "fold"} <= set(rows[0])
    assert {(r["keep_prob_1"], r["keep_prob_2"]) for r in choice} == {("1.0", "1.0"), ("0.9", "0.8")}
    assert all(r["dev_accuracy"] == "" for r in refits) and all(r["dev_accuracy"] != "" for r in choice)
    report = (out / "report.md").read_text()
    assert report.splitlines()[2].startswith(("**Chosen by the one-standard-error rule", "**No configuration is "
                                              "distinguishable from the best"))
    assert f"{8 + len(refits)} models trained in this run" in report
    results = json.loads((out / "results.json").read_text())
    assert len(results["configurations"]) == 4 and results["folds"] == 1
    again = run(*args, "--out", tmp_path / "run2")
    assert "0 models trained in this run" in (tmp_path / "run2" / "report.md").read_text()
    assert again.stdout.count("\n") > 4
    # The same command again, into the same folder: the sweep's own run folder is replaced, complete.
    (out / "stale.txt").write_text("from the first run")
    run(*args, "--out", out)
    assert "0 models trained in this run" in (out / "report.md").read_text()
    assert not (out / "stale.txt").exists() and (out / "heatmap.png").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    # Any other folder with something in it is still refused, untouched.
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    refused = run(*args, "--out", other, check_ok=False)
    assert_user_error(refused, "already exists and is not empty")
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_cli_sweep_refuses_a_foreign_database_without_touching_it(tmp_path):
    foreign = tmp_path / "theirs.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
    before = hashlib.sha256(foreign.read_bytes()).hexdigest()
    completed = run("sweep", "--data", "moons", "--iterations", "50", "--seeds", "1", "--db", foreign,
                    "--out", tmp_path / "never", check_ok=False)
    assert_user_error(completed, "theirs.db")
    assert hashlib.sha256(foreign.read_bytes()).hexdigest() == before
    assert not (tmp_path / "never").exists()


def test_cli_sweep_asks_before_a_huge_grid(tmp_path):
    completed = run("sweep", "--data", "moons", "--l2", ",".join(str(v / 10) for v in range(50)),
                    "--keep-prob", ",".join(str(1 - v / 100) for v in range(10)), "--seeds", "5",
                    "--db", tmp_path / "s.db", "--out", tmp_path / "never", check_ok=False)
    assert_user_error(completed, "2500 models", "--yes")
    assert not (tmp_path / "s.db").exists()


def test_cli_compare_seeds(tmp_path):
    out = tmp_path / "run"
    completed = run("compare", "--data", "field", "--iterations", "150", "--seeds", "3", "--out", out)
    assert "Over 3 seeds" in completed.stdout and "±" in completed.stdout
    assert_png(out / "seeds.png")
    def refuse(constant):  # NaN or Infinity: not JSON (a strict parser, e.g. a browser's, refuses the file)
        raise ValueError(f"results.json holds {constant}")

    results = json.loads((out / "results.json").read_text(), parse_constant=refuse)
    assert [len(v) for v in results["seeds"]["models"].values()] == [3, 3, 3]
    report = (out / "report.md").read_text()
    assert "Spread over 3 seeds" in report
    # Each model against the plain one, paired over the seeds they share, computed here from the per-seed rows.
    per_seed = results["seeds"]["models"]
    plain = np.array([r["test_accuracy"] for r in per_seed["no regularization"]])
    test_differences = [d for d in results["seeds"]["differences"] if d["metric"] == "test_accuracy"]
    assert [d["model"] for d in test_differences] == ["L2 (lambd=0.7)", "dropout (keep_prob=0.86)"]
    for d in test_differences:
        other = np.array([r["test_accuracy"] for r in per_seed[d["model"]]])
        assert d["minus"] == "no regularization" and d["n"] == 3
        assert d["mean"] == pytest.approx(np.mean(other - plain), abs=1e-12)
        assert d["text"] in completed.stdout and d["text"] in report
        assert d["text"].endswith("distinguishable on this test set")


def test_a_killed_sweep_resumes_with_no_row_lost_or_duplicated(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "sweep.db"
    args = ["sweep", "--data", "moons", "--l2", "0,0.2,0.5,1", "--keep-prob", "1,0.8", "--iterations", "300",
            "--seeds", "3", "--folds", "1", "--batch-size", "2", "--engine", "reference", "--db", db]
    env = process_env()
    process = subprocess.Popen([sys.executable, "-m", "reglab", *map(str, args), "--out", tmp_path / "killed"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = 0
    deadline = time.monotonic() + 300
    while stored < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
                    stored = connection.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            except sqlite3.Error:
                pass
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < stored < 24, "the sweep should have been killed part-way"
    assert not (tmp_path / "killed").exists()
    completed = run(*args, "--out", tmp_path / "resumed")
    assert "= 24 models" in completed.stdout
    refits = json.loads((tmp_path / "resumed" / "results.json").read_text())
    refits = 3 if refits["chosen"]["settings"] == refits["baseline"]["settings"] else 6  # 3 seeds each
    with sqlite3.connect(db) as connection:
        keys = [row[0] for row in connection.execute("SELECT key FROM results")]
    assert len(keys) == len(set(keys)) == 24 + refits
    report = (tmp_path / "resumed" / "report.md").read_text()
    import re

    trained = int(re.search(r"(\d+) models? trained in this run", report).group(1))
    assert 0 < trained <= 24 - stored + refits


def test_cli_sweep_reports_from_a_read_only_store_and_refuses_to_train_into_it(tmp_path):
    import subprocess

    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "ro.db"
    args = ["sweep", "--data", "moons", "--l2", "0", "--keep-prob", "1", "--iterations", "50", "--seeds", "2",
            "--folds", "1", "--engine", "reference", "--db", db]
    run(*args, "--out", tmp_path / "first")
    before = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    env = process_env()

    def run_read_only(*more):
        command = read_only_command(folder, [*args, *more], files_only=True)
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)

    # Every model is stored: the store serves the report.
    reported = run_read_only("--out", tmp_path / "again")
    assert reported.returncode == 0, reported.stderr
    assert "0 models trained in this run" in (tmp_path / "again" / "report.md").read_text()
    # Two models are missing: refused before training, with the store and its folder as they were.
    refused = run_read_only("--l2", "0,0.5", "--out", tmp_path / "never")
    assert_user_error(refused, "--db", "ro.db", "read-only", "2 of the sweep's 4 models")
    assert [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())] == before
    assert not (tmp_path / "never").exists()


def test_size_and_memory_are_known_without_building_the_grid(monkeypatch, dataset):
    def built(*args, **kwargs):
        raise AssertionError("the grid was built")

    for module in (reglab.experiments.grid, reglab.experiments.sweep):
        monkeypatch.setattr(module, "expand", built)
    spec = SweepSpec(QUICK, {"l2": (0.0, 0.1, 0.7), "keep_prob": (1.0, 0.8)}, seeds=range(10**8))
    assert (spec.n_configurations, spec.n_models) == (6, 6 * 10**8)
    with pytest.raises(MemoryError, match=r"a sweep of 600,000,000 models needs about [\d,]+ MiB"):
        reglab.experiments.sweep.check_memory(dataset, spec, batch_size=64, memory_limit=2**40)
    reglab.experiments.sweep.check_settings(spec)
    with pytest.raises(ValueError, match="keep_prob"):
        reglab.experiments.sweep.check_settings(SweepSpec(QUICK, {"keep_prob": (0.5, (0.9, 0.8, 0.7))}, seeds=range(10**8)))


def test_cli_sweep_refuses_a_sweep_too_big_for_memory_before_creating_the_store(tmp_path, monkeypatch, capsys):
    from reglab import cli

    def built(*args, **kwargs):
        raise AssertionError("the grid was built")

    for module in (reglab.experiments.grid, reglab.experiments.sweep):
        monkeypatch.setattr(module, "expand", built)
    common = ["sweep", "--data", "field", "--db", str(tmp_path / "mem.db"), "--out", str(tmp_path / "m"), "--yes"]
    for args, advice in (
        (["--hidden", "2000,2000,2000", "--l2", "0,0.1,0.2", "--seeds", "50", "--batch-size", "100000"], "--batch-size"),
        (["--seeds", "100000000"], "--seeds"),
    ):
        assert cli.main([*common, *args]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith("reglab: error: a sweep of ") and "MiB" in line and advice in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--out", "BUSY"], ["busy", "--out"]),
        (["--csv", "A_FILE/table.csv"], ["--csv", "a_file", "not a writable folder"]),
        (["--csv", "DB"], ["--csv", "--db store"]),
        (["--csv", "BUSY/table.csv", "--out", "BUSY"], ["busy", "--out"]),
        (["--csv", "OUT/table.csv"], ["--csv", "inside the --out folder"]),
        (["--db", "OUT/s.db"], ["--db", "inside the --out folder"]),
    ],
)
def test_cli_sweep_checks_its_outputs_before_training(tmp_path, monkeypatch, capsys, args, fragments):
    from reglab import cli

    def trained(*args, **kwargs):
        raise AssertionError("trained although an output is unusable")

    monkeypatch.setattr(reglab.experiments.sweep, "run_sweep", trained)
    monkeypatch.setattr(reglab.training, "fit_many", trained)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "k").write_text("mine")
    (tmp_path / "a_file").write_text("a file, not a folder")
    names = {"BUSY": busy, "A_FILE": tmp_path / "a_file", "DB": tmp_path / "s.db", "OUT": tmp_path / "out"}
    (tmp_path / "out").mkdir()
    args = [str(names[a.split("/")[0]]) + a[len(a.split("/")[0]):] if a.split("/")[0] in names else a for a in args]
    args += [] if "--out" in args else ["--out", str(tmp_path / "out")]
    args += [] if "--db" in args else ["--db", str(tmp_path / "s.db")]
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert cli.main(["sweep", "--data", "field", "--iterations", "20", "--seeds", "1", *args]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("reglab: error: ") and all(f in line for f in fragments), line
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--l2", "0.1,0.1"], ["--l2", "'0.1' again"]),
        (["--l1", "0,0.5,0.0"], ["--l1", "'0.0', the same setting as '0'"]),
        (["--lr", "0.3,0.2,0.30"], ["--lr", "'0.30', the same setting as '0.3'"]),
        (["--iterations", "20,20"], ["--iterations", "'20' again"]),
        (["--keep-prob", "1,1/1"], ["--keep-prob", "'1/1', the same setting as '1'"]),
        (["--keep-prob", "0.9/0.9,0.9"], ["--keep-prob", "'0.9', the same setting as '0.9/0.9'"]),
        (["--hidden", "20,3", "--hidden", "5,5", "--hidden", "20,3"], ["--hidden", "'20,3' again"]),
    ],
)
def test_cli_sweep_refuses_a_grid_value_given_twice(tmp_path, monkeypatch, capsys, args, fragments):
    from reglab import cli

    def trained(*args, **kwargs):
        raise AssertionError("trained although a grid value is repeated")

    monkeypatch.setattr(reglab.experiments.sweep, "run_sweep", trained)
    command = ["sweep", "--data", "field", "--iterations", "20", "--seeds", "2", *args,
               "--db", str(tmp_path / "s.db"), "--out", str(tmp_path / "out")]
    assert cli.main(command) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("reglab: error: ") and "once" in line and all(f in line for f in fragments), line
    assert list(tmp_path.iterdir()) == []


def test_a_spec_refuses_a_grid_value_given_twice():
    with pytest.raises(ValueError, match=r"grid axis 'keep_prob' must hold each value once; got \(1, 1\) after 1"):
        SweepSpec(QUICK, {"keep_prob": (1, 0.8, (1, 1))})
    with pytest.raises(ValueError, match=r"grid axis 'n_iterations' must hold each value once; got 20 after 20"):
        SweepSpec(QUICK, {"n_iterations": (20, 20)})
    assert SweepSpec(QUICK, {"keep_prob": (1, (1, 0.9))}).n_configurations == 2


def test_cli_sweep_csv_holds_this_sweeps_rows_only(tmp_path):
    db, table = tmp_path / "s.db", tmp_path / "table.csv"
    common = ["sweep", "--data", "moons", "--l2", "0,0.5", "--keep-prob", "1", "--seeds", "2", "--engine", "reference",
              "--folds", "1", "--db", db]
    run(*common, "--iterations", "20", "--out", tmp_path / "short")
    run(*common, "--l2", "0", "--iterations", "30", "--csv", table, "--out", tmp_path / "long")
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["l2"], r["n_iterations"], r["seed"], r["phase"]) for r in rows] == [
        ("0.0", "30", "0", "choice"), ("0.0", "30", "1", "choice"),
        ("0.0", "30", "0", "refit on all training points"), ("0.0", "30", "1", "refit on all training points")]
    assert "test_accuracy" not in rows[0] and float(rows[0]["test_accuracy_not_used_for_choice"]) >= 0


def test_cli_sweep_declined_at_the_prompt_ends_with_status_1(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    master, terminal = pty.openpty()  # the prompt is asked only on a terminal
    env = process_env()
    try:
        os.write(master, b"n\n")
        completed = subprocess.run(
            [sys.executable, "-m", "reglab", "sweep", "--data", "moons", "--seeds", "2001", "--l2", "0", "--keep-prob", "1",
             "--folds", "1", "--db", str(tmp_path / "s.db"), "--out", str(tmp_path / "never")],
            stdin=terminal, capture_output=True, text=True, env=env, timeout=120,
        )
    finally:
        os.close(master)
        os.close(terminal)
    assert "Train 2001 models?" in completed.stdout
    assert completed.returncode == 1, (completed.returncode, completed.stderr)
    assert completed.stderr.strip().splitlines() == ["reglab: aborted"]
    assert list(tmp_path.iterdir()) == []


def test_cli_sweep_counts_in_words_and_shows_layer_sizes_one_way(tmp_path):
    table, out = tmp_path / "table.csv", tmp_path / "run"
    completed = run("sweep", "--data", "moons", "--l2", "0.1", "--keep-prob", "1", "--hidden", "5,3", "--iterations", "30",
                    "--seeds", "1", "--folds", "1", "--engine", "reference", "--db", tmp_path / "s.db", "--csv", table,
                    "--out", out)
    assert "Grid: 1 configuration × 1 seed × 1 split = 1 model, and the chosen ones' refit;" in completed.stdout
    report = (out / "report.md").read_text()
    assert "1 configuration × 1 seed, measured on a dev set of 50 points; 2 models trained in this run" in report
    assert "## The chosen and the least regularized configuration" in report and "## Accuracy against λ (L2)" in report
    with open(table, newline="") as handle:
        choice, refit = csv.DictReader(handle)
    assert choice["hidden_layer_sizes"] == refit["hidden_layer_sizes"] == "5/3"


def test_the_accuracy_figure_names_its_setting_as_its_axis_does():
    from reglab.plots.summaries import accuracy_against

    rows = [_row(0.0, 0, 0.80, 0.99), _row(0.0, 1, 0.82, 0.97), _row(0.7, 0, 0.90, 0.70), _row(0.7, 1, 0.88, 0.72)]
    figure = accuracy_against(summarize(rows), "l2")
    assert figure.get_suptitle() == "Accuracy against λ (L2)" == "Accuracy against " + figure.axes[0].get_xlabel()


def _summary(dev, **settings):
    return summarize([{"config": QUICK.replace(**settings, seed=0).to_dict(),
                       "metrics": {"train_accuracy": 0.9, "dev_accuracy": dev, "test_accuracy": 0.5}}])[0]


def _bold_cell(figure):
    (bold,) = [t for t in figure.axes[0].texts if t.get_fontweight() == "bold"]
    return tuple(round(v) for v in bold.get_position())  # (column, row)


def test_the_heatmap_marks_the_configuration_the_report_chooses_and_says_what_it_shows():
    from reglab.plots.summaries import dev_heatmap

    # Without a choice given, the first of the best means in grid order (keep_prob 1), which sorts into the second row.
    summaries = [_summary(0.88, l2=0.0, keep_prob=1.0), _summary(0.88, l2=0.0, keep_prob=0.86),
                 _summary(0.80, l2=0.7, keep_prob=1.0), _summary(0.80, l2=0.7, keep_prob=0.86)]
    figure = dev_heatmap(summaries)
    assert _bold_cell(figure) == (0, 1)  # λ = 0, keep_prob = 1 (rows 0.86, 1)
    assert figure.axes[0].get_title().startswith("Mean dev accuracy")
    # The sweep's choice and the configurations tied with the best: framed and bold, and dotted.
    figure = dev_heatmap(summaries, chosen=summaries[1].settings, tied=[s.settings for s in summaries[:2]])
    assert _bold_cell(figure) == (0, 0)
    dots = [tuple(round(v) for v in line.get_xydata()[0]) for line in figure.axes[0].lines]
    assert sorted(dots) == [(0, 0), (0, 1)] and "dot: tied with the best" in figure.axes[0].get_title()
    # Its colours span at least 10 points: a 0.08 difference does not take the whole scale.
    low, high = figure.axes[0].images[0].get_clim()
    assert high - low == pytest.approx(0.10) and low <= 0.80 and high >= 0.88
    # With another varying setting each cell is the best over it, and the title says so.
    summaries += [_summary(0.95, l2=0.7, keep_prob=0.86, learning_rate=0.1)]
    figure = dev_heatmap(summaries)
    assert figure.axes[0].get_title().startswith("Best mean dev accuracy over learning rate")
    assert _bold_cell(figure) == (1, 0)
    # A configuration that diverged (no mean) is never the one marked, even first in the grid.
    diverged = summarize([{"config": QUICK.replace(l2=0.0, keep_prob=1.0, seed=0).to_dict(),
                           "metrics": {**dict.fromkeys(ACCURACIES), "final_cost": None, "diverged_iteration": 100,
                                       "diverged_cause": "learning_rate"}}])[0]
    assert math.isnan(diverged.dev.mean)
    assert _bold_cell(dev_heatmap([diverged, *summaries[1:4]])) == (0, 0)  # λ = 0, keep_prob = 0.86


def test_sweep_figures_stay_readable_for_many_values_one_value_and_many_panels():
    from reglab.plots.summaries import accuracy_against, dev_heatmap

    many = [_summary(0.8 + k / 1000, l2=k / 50) for k in range(50)]
    assert dev_heatmap(many).get_size_inches()[0] * 150 <= 2400  # was 8625 pixels wide
    # The grid's λ values are the labelled ticks (symlog's own ticks left 0.7 unlabelled).
    figure = accuracy_against([_summary(0.8, l2=0.0), _summary(0.8, l2=0.1), _summary(0.8, l2=0.7)])
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["0", "0.1", "0.7"]
    # One λ value: the point with its interval, at a labelled tick.
    figure = accuracy_against([_summary(0.8, l2=0.3)])
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["0.3"]
    assert len(figure.axes[0].containers) == 2  # train and dev error bars
    # Two rows of panels: the y label lies inside the figure.
    figure = accuracy_against([_summary(0.8, l2=l2, keep_prob=p, learning_rate=lr)
                               for l2 in (0.0, 0.7) for p in (1.0, 0.8) for lr in (0.1, 0.3)])
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays the figure out as saving it does
    renderer = canvas.get_renderer()
    labels = [t for t in figure.findobj(lambda a: hasattr(a, "get_text") and a.get_text().startswith("accuracy ("))]
    (label,) = labels
    box, page = label.get_window_extent(renderer), figure.bbox
    assert page.y0 <= box.y0 and box.y1 <= page.y1 and page.x0 <= box.x0


def test_cli_sweep_best_panels_name_their_seed(tmp_path, monkeypatch):
    from reglab import cli, plots

    drawn = {}
    original = plots.models_side_by_side

    def recorded(models, *args, titles=None, **kwargs):
        drawn.update(titles)
        return original(models, *args, titles=titles, **kwargs)

    monkeypatch.setattr(plots, "models_side_by_side", recorded)
    assert cli.main(["sweep", "--data", "moons", "--l2", "0,0.5", "--keep-prob", "1", "--iterations", "30", "--seeds", "2",
                     "--engine", "reference", "--db", str(tmp_path / "s.db"), "--out", str(tmp_path / "run")]) == 0
    assert 1 <= len(drawn) <= 2 and all(", seed 0, test " in title for title in drawn.values()), drawn
    assert list(drawn)[0].startswith("chosen: ")


# --------------------------------------------------------------------------- diverging configurations


def test_a_diverging_configuration_is_stored_as_diverged_and_the_grid_goes_on(tmp_path, dataset):
    spec = SweepSpec(QUICK, {"l2": (0.0, 1e6, 0.5), "keep_prob": (1.0, 0.8)}, seeds=(0, 1), folds=1)
    with ResultStore(tmp_path / "s.db") as store:
        result = run_sweep(dataset, spec, store, batch_size=5)  # diverging models share batches with others
        again = run_sweep(dataset, spec, store)
        assert len(store) == 12 + _refits(result)
    assert again.trained == 0  # a diverged configuration is stored: not trained again
    diverged = [r for r in result.rows if r["config"]["l2"] == 1e6]
    assert len(diverged) == 4 and all(r["metrics"]["diverged_cause"] == "l2" for r in diverged)
    assert all(r["metrics"]["dev_accuracy"] is None and r["metrics"]["diverged_iteration"] >= 0 for r in diverged)
    assert [s.settings["l2"] for s in result.ranked()[-2:]] == [1e6, 1e6]  # ranked last
    assert all(not s.usable and s.diverged == (0, 1) and s.cause == "l2" for s in result.diverged)
    assert result.best.settings["l2"] != 1e6
    # The other models come out as they do in batches with no diverging model.
    split = result.split
    direct = reglab.fit(split.X_fit, split.y_fit, QUICK.replace(l2=0.5, keep_prob=0.8, seed=1))
    (row,) = [r for r in result.rows if r["config"]["l2"] == 0.5 and r["config"]["keep_prob"] == [0.8, 0.8]
              and r["seed"] == 1]
    assert row["metrics"]["dev_accuracy"] == direct.accuracy(split.X_dev, split.y_dev)
    assert row["metrics"]["final_cost"] == float(direct.history.cost[-1])


def test_cli_sweep_reports_a_diverging_configuration_in_its_table_report_and_csv(tmp_path):
    table, out = tmp_path / "table.csv", tmp_path / "run"
    completed = run("sweep", "--data", "moons", "--l2", "0,1e6", "--keep-prob", "1", "--iterations", "150", "--seeds",
                    "2", "--folds", "1", "--db", tmp_path / "s.db", "--out", out, "--csv", table)
    lines = completed.stdout.splitlines()
    (ranked,) = [line for line in lines if line.startswith("-  ")]
    assert "l2=1e+06" in ranked and "diverged (2 of 2 seeds)" in ranked
    assert "Diverged: 1 configuration (stored as diverged, ranked last, never chosen" in completed.stdout
    assert ("the likely cause is --l2 1e+06: with --lr 0.3 on m = 150 training points each step multiplies the "
            "weights by 1 - lr·l2/m = -1999") in completed.stdout
    assert "try --l2 below 1000 (2·m/lr) or a smaller --lr" in completed.stdout
    assert "One configuration to choose from (the others diverged): l2=0, dev" in completed.stdout
    report = (out / "report.md").read_text()
    assert "## Diverged" in report and "the likely cause is l2=1e+06" in report
    results = json.loads((out / "results.json").read_text())
    assert results["configurations"][-1]["diverged_seeds"] == [0, 1]
    assert results["configurations"][-1]["dev"]["mean"] is None
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["diverged_cause"] for r in rows] == ["", "", "l2", "l2", "", ""]  # the last two: the refit of l2=0
    assert [r["dev_accuracy"] == "" for r in rows] == [False, False, True, True, True, True]


def test_cli_sweep_where_every_configuration_diverges_stores_them_and_says_why(tmp_path):
    db = tmp_path / "s.db"
    completed = run("sweep", "--data", "moons", "--l2", "1e6,1e5", "--keep-prob", "1", "--iterations", "150",
                    "--seeds", "2", "--folds", "1", "--db", db, "--out", tmp_path / "run", "--csv", tmp_path / "t.csv",
                    check_ok=False)
    assert_user_error(completed, "training diverged: every configuration of the sweep (each is stored as diverged); "
                      "the first, l2=1e+06 with seed 0, by iteration", "the likely cause is --l2 1e+06")
    assert not (tmp_path / "run").exists() and not (tmp_path / "t.csv").exists()
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM results WHERE metrics LIKE '%diverged_cause%'").fetchone()[0] == 4


def test_cli_sweep_names_a_damaged_row_in_one_line(tmp_path):
    db = tmp_path / "s.db"
    args = ["sweep", "--data", "moons", "--l2", "0", "--keep-prob", "1", "--iterations", "60", "--seeds", "2",
            "--db", db]
    run(*args, "--out", tmp_path / "first")
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE results SET metrics = '{}' WHERE rowid = 2")
    completed = run(*args, "--out", tmp_path / "second", check_ok=False)
    assert_user_error(completed, f"results store {str(db)!r}, row 2 (key ", "its metrics lack 'train_accuracy'",
                      "DELETE FROM results WHERE rowid = 2")
    assert not (tmp_path / "second").exists()
