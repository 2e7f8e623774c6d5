"""Data conditions as grid axes: lists of points and noise, several data sets; one split and one choice each."""

from __future__ import annotations

import csv
import json

from .cli_runner import assert_png, run


def test_points_and_noise_lists_sweep_each_condition_on_its_own(tmp_path):
    out, table = tmp_path / "run", tmp_path / "t.csv"
    completed = run("sweep", "--data", "moons", "--n-samples", "120,240", "--noise", "0.1,0.3", "--l2", "0,0.5",
                    "--keep-prob", "1", "--iterations", "60", "--seeds", "2", "--folds", "3", "--db", tmp_path / "s.db",
                    "--csv", table, "--out", out)
    assert completed.stdout.count("Data: built-in 'moons'") == 4
    assert "× 4 data conditions = 48 models" in completed.stdout
    for label in ("n_samples=120, noise=0.1", "n_samples=120, noise=0.3", "n_samples=240, noise=0.1",
                  "n_samples=240, noise=0.3"):
        assert f"== {label} ==" in completed.stdout
    results = json.loads((out / "results.json").read_text())
    conditions = results["conditions"]
    assert [c["label"] for c in conditions] == ["n_samples=120, noise=0.1", "n_samples=120, noise=0.3",
                                                "n_samples=240, noise=0.1", "n_samples=240, noise=0.3"]
    fingerprints = [f for c in conditions for f in c["dataset"]["fingerprints"]]
    assert len(fingerprints) == len(set(fingerprints)) == 4 * 3  # each condition split on its own
    assert [c["dataset"]["n_train"] for c in conditions] == [60, 60, 120, 120]
    assert all("chosen" in c and c["chosen"]["test_after_refit"]["n"] == 2 for c in conditions)
    assert_png(out / "conditions.png")
    for k in range(1, 5):
        assert_png(out / f"{k}-heatmap.png")
    report = (out / "report.md").read_text()
    assert report.splitlines()[2].startswith("**Chosen per data condition: n_samples=120, noise=0.1: l2=")
    assert "![conditions](conditions.png)" in report and report.count("\n## n_samples=") == 4
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["condition"] for r in rows} == {c["label"] for c in conditions}
    assert sum(r["phase"] == "choice" for r in rows) == 48
    # Run again: every condition's models come from the store.
    again = run("sweep", "--data", "moons", "--n-samples", "120,240", "--noise", "0.1,0.3", "--l2", "0,0.5",
                "--keep-prob", "1", "--iterations", "60", "--seeds", "2", "--folds", "3", "--db", tmp_path / "s.db",
                "--out", tmp_path / "again")
    assert "0 models trained in this run" in (tmp_path / "again" / "report.md").read_text()
    assert again.returncode == 0


def test_several_data_sets_are_conditions_too_and_bad_lists_are_refused(tmp_path):
    completed = run("sweep", "--data", "moons", "--data", "circle", "--l2", "0", "--keep-prob", "1", "--iterations",
                    "40", "--seeds", "1", "--folds", "2", "--db", tmp_path / "s.db", "--out", tmp_path / "run")
    assert "== moons ==" in completed.stdout and "== circle ==" in completed.stdout
    refused = run("sweep", "--data", "moons", "--n-samples", "100,x", "--db", tmp_path / "s2.db", "--out",
                  tmp_path / "never", check_ok=False)
    assert refused.returncode == 2 and "Invalid value for --n-samples" in refused.stderr
    refused = run("sweep", "--data", "moons", "--noise", "0.1,0.1", "--db", tmp_path / "s2.db", "--out",
                  tmp_path / "never", check_ok=False)
    assert refused.returncode == 2 and "each grid value must be given once" in refused.stderr
    assert not (tmp_path / "never").exists()
