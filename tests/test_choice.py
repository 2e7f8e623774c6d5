"""A sweep's choice on folds: the splits are honest, ties are exact, the test set is touched once."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import reglab
from reglab.datasets import make_dataset
from reglab.experiments.store import ResultStore
from reglab.experiments.sweep import SweepSpec, run_sweep

from .cli_runner import run

QUICK = reglab.TrainConfig(n_iterations=150, init="fresh", mask_mode="fresh")


def _rows_as_points(X) -> set:
    return {tuple(row) for row in np.asarray(X)}


def test_the_folds_of_a_sweep_are_stratified_disjoint_cover_the_training_points_and_leave_the_test_set(tmp_path):
    dataset = make_dataset("moons", n_samples=170, seed=3)  # 85 training points: folds of 21 or 22
    spec = SweepSpec(QUICK, {"l2": (0.0, 0.5)}, seeds=(0,), folds=4, repeats=2)
    with ResultStore(tmp_path / "s.db") as store:
        result = run_sweep(dataset, spec, store)
    assert [s.unit for s in result.splits] == [(seed, fold) for seed in (0, 1) for fold in range(4)]
    training, test = _rows_as_points(dataset.X_train), _rows_as_points(dataset.X_test)
    share = np.mean(dataset.y_train)
    for seed in (0, 1):
        folds = [s for s in result.splits if s.split_seed == seed]
        devs = [_rows_as_points(s.X_dev) for s in folds]
        assert sum(len(d) for d in devs) == len(training) and set().union(*devs) == training  # every point once
        for split, dev in zip(folds, devs):
            assert _rows_as_points(split.X_fit) == training - dev  # the rest fits
            assert abs(np.mean(split.y_dev) - share) < 0.06  # stratified
            np.testing.assert_array_equal(split.X_test, dataset.X_test)  # the test set untouched, never in a fold
            assert not (_rows_as_points(split.X_fit) | dev) & test
    assert len({s.fingerprint for s in result.splits}) == 8  # each split's models stored apart
    assert _rows_as_points(result.refit.X_fit) == training and len(result.refit.y_dev) == 0
    assert len(result.rows) == 2 * 1 * 8 and {result.unit(r) for r in result.rows} == {s.unit for s in result.splits}


def test_two_configurations_that_are_the_same_model_tie_exactly(tmp_path):
    # max_norm 1e9 never binds: the same arithmetic as no max-norm at all, so every unit gives the same accuracy.
    dataset = make_dataset("moons", n_samples=160, seed=1)
    spec = SweepSpec(QUICK, {"max_norm": (None, 1e9), "l2": (0.0, 50.0)}, seeds=(0, 1), folds=3)
    with ResultStore(tmp_path / "s.db") as store:
        result = run_sweep(dataset, spec, store)
    by = {(s.settings["max_norm"], s.settings["l2"]): s for s in result.summaries}
    assert by[(None, 0.0)].dev_units == by[(1e9, 0.0)].dev_units
    first, same = (result.summaries.index(by[key]) for key in ((None, 0.0), (1e9, 0.0)))
    if result.choice.best in (first, same):
        difference = result.choice.differences[same if result.choice.best == first else first].interval
        assert (difference.mean, difference.low, difference.high) == (0.0, 0.0, 0.0)
    assert result.is_tied(by[(None, 0.0)]) == result.is_tied(by[(1e9, 0.0)])


def test_the_test_set_is_measured_once_on_the_refit(tmp_path):
    dataset = make_dataset("moons", n_samples=160, seed=2)
    spec = SweepSpec(QUICK, {"l2": (0.0, 0.7)}, seeds=(0, 1, 2), folds=3)
    with ResultStore(tmp_path / "s.db") as store:
        result = run_sweep(dataset, spec, store)
    chosen, baseline = result.chosen, result.baseline
    assert baseline.settings["l2"] == 0.0  # the least regularized
    for summary in {id(chosen): chosen, id(baseline): baseline}.values():
        config = QUICK.replace(**{k: summary.settings[k] for k in spec.axes})
        for seed, accuracy in result.test_accuracies(summary).items():
            model = reglab.fit(dataset.X_train, dataset.y_train, config.replace(seed=seed))
            assert accuracy == model.accuracy(dataset.X_test, dataset.y_test)
    differences = result.differences()
    assert differences["test"].interval.n == 3 and differences["dev"].interval.n == 3 * 3


def _noise_file(path, n=120, seed=1):
    """Points whose labels are pure noise (balanced), as a CSV with a split column."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    y = np.tile([0, 1], n // 2)
    rng.shuffle(y)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x1", "x2", "label", "split"])
        for k, (row, label) in enumerate(zip(X, y)):
            writer.writerow([*row, label, "train" if k < n // 2 else "test"])
    return path


def test_labels_that_are_pure_noise_make_the_report_say_nothing_is_distinguishable(tmp_path):
    data = _noise_file(tmp_path / "noise.csv")
    out = tmp_path / "run"
    completed = run("sweep", "--data", data, "--l2", "0,0.3,1", "--keep-prob", "1,0.8", "--iterations", "400",
                    "--seeds", "2", "--folds", "4", "--db", tmp_path / "s.db", "--out", out)
    first = (out / "report.md").read_text().splitlines()[2]
    assert first.startswith("**No configuration is distinguishable from the best on the dev set (6 configurations, "
                            "paired over 4 folds × 2 seeds)")
    assert "No configuration is distinguishable" in completed.stdout.splitlines()[2]
    assert json.loads((out / "results.json").read_text())["nothing_distinguishable"] is True


def test_folds_are_the_default_for_small_data_and_every_row_names_its_fold(tmp_path):
    table, out = tmp_path / "t.csv", tmp_path / "run"
    completed = run("sweep", "--data", "moons", "--l2", "0,0.5", "--keep-prob", "1", "--iterations", "60", "--seeds",
                    "2", "--db", tmp_path / "s.db", "--csv", table, "--out", out)
    assert "Grid: 2 configurations × 2 seeds × 5 splits = 20 models" in completed.stdout  # 200 training points: 5 folds
    with open(table, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["phase"] == "choice"]
    assert sorted({(r["split_seed"], r["fold"]) for r in rows}) == [("0", str(k)) for k in range(5)]
    assert len(rows) == 20
    results = json.loads((out / "results.json").read_text())
    assert results["folds"] == 5 and results["chosen"]["test_after_refit"]["n"] == 2
    assert "5 folds × 2 seeds" in (out / "report.md").read_text()
    assert "--folds" in run("sweep", "--help").stdout and "5 folds for up to 1000 training points" in \
        " ".join(run("sweep", "--help").stdout.split())


@pytest.mark.parametrize("args, fragment", [(["--folds", "0"], "Invalid value for --folds"),
                                            (["--folds", "x"], "Invalid value for --folds"),
                                            (["--repeats", "0"], "Invalid value for --repeats"),
                                            (["--folds", "150"], "Invalid value for --folds: folds=150 needs at least")])
def test_bad_folds_are_refused_naming_the_option(tmp_path, args, fragment):
    completed = run("sweep", "--data", "moons", "--l2", "0", "--keep-prob", "1", "--iterations", "20", "--seeds", "1",
                    *args, "--db", tmp_path / "s.db", "--out", tmp_path / "run", check_ok=False)
    assert completed.returncode == 2 and fragment in completed.stderr, completed.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "s.db").exists()
