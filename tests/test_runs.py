"""Run folders of compare: complete when written while the models train, nothing left after a failure or Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import reglab
import reglab.experiments.compare
from reglab import plots
from reglab.config import TrainConfig
from reglab.datasets import resolve_data
from reglab.experiments.compare import compare
from reglab.runs.compare import CompareRun, write_compare_run

FIGURES = ("costs.png", "boundaries.png", "boundary-plain.png", "boundary-l2-lambd-0.7.png", "boundary-dropout.png")


@pytest.fixture(scope="module")
def result():
    dataset = resolve_data("field", n_samples=160)
    configs = {
        "plain": TrainConfig(n_iterations=300),
        "L2 (lambd=0.7)": TrainConfig(n_iterations=300, l2=0.7),
        "dropout": TrainConfig(n_iterations=300, keep_prob=0.86),
    }
    return compare(dataset, configs)


def leftovers(folder: Path) -> list[str]:
    """Files and folders a failed run may have left: temporary names and half-written files."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".partial"))


def test_a_runs_figures_are_the_plots_functions_own(result, tmp_path):
    write_compare_run(result, tmp_path / "run")
    data = result.dataset
    r = result["plain"]
    title = f"plain: train {r.train_accuracy:.3f}, test {r.test_accuracy:.3f}"
    direct = plots.decision_boundary(r.model.predict_proba, data.X_train, data.y_train, title=title,
                                     X_test=data.X_test, y_test=data.y_test)
    plots.save_figure(direct, tmp_path / "direct-boundary.png")
    panels = plots.models_side_by_side(result.models, data.X_train, data.y_train, X_test=data.X_test, y_test=data.y_test)
    plots.save_figure(panels, tmp_path / "direct-boundaries.png")
    assert (tmp_path / "direct-boundary.png").read_bytes() == (tmp_path / "run" / "boundary-plain.png").read_bytes()
    assert (tmp_path / "direct-boundaries.png").read_bytes() == (tmp_path / "run" / "boundaries.png").read_bytes()


def _without_creation_time(run: Path) -> dict:
    results = json.loads((run / "results.json").read_text())
    results.pop("created")
    return results


def test_a_run_written_while_the_models_train_is_the_one_written_after(result, tmp_path):
    configs = {r.name: r.config for r in result.results}
    with CompareRun(tmp_path / "during", result.dataset) as run:
        assert run.out == tmp_path / "during" and not run.out.exists()
        added = []
        during = compare(result.dataset, configs, on_result=lambda r: (added.append(r.name), run.add(r)))
        assert sorted(added) == sorted(configs)
        assert len(list(tmp_path.glob(".during.*/model-*.npz"))) == 3  # written as each model finished
        run.finish(during)
    write_compare_run(during, tmp_path / "after")
    names = {p.name for p in (tmp_path / "after").iterdir()}
    assert {p.name for p in (tmp_path / "during").iterdir()} == names and set(FIGURES) <= names
    for name in FIGURES:
        assert (tmp_path / "during" / name).read_bytes() == (tmp_path / "after" / name).read_bytes(), name
    assert _without_creation_time(tmp_path / "during") == _without_creation_time(tmp_path / "after")
    assert leftovers(tmp_path) == []


def test_a_compare_run_refuses_a_folder_in_use_before_anything_trains(result, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        with CompareRun(tmp_path / "busy", result.dataset):
            pytest.fail("the with block must not start")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"] and leftovers(tmp_path) == []


def test_a_compare_run_left_unfinished_or_failing_leaves_no_folder(result, tmp_path):
    with pytest.raises(RuntimeError, match="finish was not called"):
        with CompareRun(tmp_path / "unfinished", result.dataset) as run:
            run.add(result["plain"])
    with pytest.raises(KeyError, match="no model named"):
        with CompareRun(tmp_path / "failing", result.dataset) as run:
            run.add(result["plain"])
            run.add(result["no such model"])
    # a model handed over late (a training thread still running after the failure) is refused
    with pytest.raises(RuntimeError, match="inside its with block"):
        run.add(result["L2 (lambd=0.7)"])
    assert list(tmp_path.iterdir()) == []


def test_a_compare_run_takes_results_of_its_own_data_set_inside_its_block(result, tmp_path):
    other = resolve_data("field", n_samples=160)  # equal values, another data set object
    run = CompareRun(tmp_path / "run", other)
    with pytest.raises(RuntimeError, match="inside its with block"):
        run.add(result["plain"])
    with pytest.raises(ValueError, match="trained on the data set the CompareRun was made with"):
        with run:
            run.finish(result)
    with CompareRun(tmp_path / "run", result.dataset) as run:
        run.finish(result)
    with pytest.raises(RuntimeError, match="before finish"):
        run.add(result["plain"])
    assert {p.name for p in (tmp_path / "run").iterdir()} >= set(FIGURES)


def test_an_error_while_drawing_reaches_the_caller_and_no_run_folder_is_made(result, tmp_path):
    # A "$" in a model name starts mathtext, which matplotlib refuses to parse when it draws the title.
    bad = reglab.experiments.compare.CompareResult(
        result.dataset, (reglab.experiments.compare.measure("cost $\\frac$", result["plain"].model, result.dataset),),
        result.engine,
    )
    with pytest.raises(ValueError, match=r"Expected \\frac\{num\}\{den\}"):
        write_compare_run(bad, tmp_path / "run")
    assert not (tmp_path / "run").exists() and leftovers(tmp_path) == []


def test_the_single_run_beside_the_seeds_is_called_the_notebooks_only_with_the_notebooks_settings():
    from reglab import COURSE_CONFIGS
    from reglab.runs.compare import _single_run_label

    course = list(COURSE_CONFIGS.values())
    assert _single_run_label(course[::-1]) == "the notebook's settings, one run (course init and masks)"
    shorter = [c.replace(n_iterations=2000) for c in course]
    assert _single_run_label(shorter) == "single run as configured (course init and masks)"
    assert _single_run_label([c.replace(mask_mode="fresh") for c in course]) == "single run as configured"
