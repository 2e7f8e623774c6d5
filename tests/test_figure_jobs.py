"""Figures drawn in a worker process: the same bytes, errors that reach the caller, nothing left behind."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import reglab
import reglab.experiments.compare
from reglab import plots
from reglab.runs import figure_jobs
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


@pytest.fixture(autouse=True)
def _no_process_left_behind():
    yield
    # A process that is ending may take a moment on a loaded machine (seen once in CI); one that
    # was left running is still there after ten seconds.
    deadline = time.monotonic() + 10.0
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


def leftovers(folder: Path) -> list[str]:
    """Files and folders a failed run may have left: temporary names and half-written files."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".partial"))


@pytest.mark.parametrize("processes", [1, 2])
def test_worker_figures_are_the_same_bytes_as_drawn_in_process(result, tmp_path, processes):
    with figure_jobs.FigureWorker(processes) as worker:
        assert worker.running
        write_compare_run(result, tmp_path / "worker", figures=worker)
    write_compare_run(result, tmp_path / "here")
    for name in FIGURES:
        worker_png = (tmp_path / "worker" / name).read_bytes()
        assert worker_png[:8] == b"\x89PNG\r\n\x1a\n", name
        assert worker_png == (tmp_path / "here" / name).read_bytes(), name
    # and the same bytes as the plots functions called directly with the models themselves
    data = result.dataset
    r = result["plain"]
    title = f"plain: train {r.train_accuracy:.3f}, test {r.test_accuracy:.3f}"
    direct = plots.decision_boundary(r.model.predict_proba, data.X_train, data.y_train, title=title,
                                     X_test=data.X_test, y_test=data.y_test)
    plots.save_figure(direct, tmp_path / "direct-boundary.png")
    panels = plots.models_side_by_side(result.models, data.X_train, data.y_train, X_test=data.X_test, y_test=data.y_test)
    plots.save_figure(panels, tmp_path / "direct-boundaries.png")
    assert (tmp_path / "direct-boundary.png").read_bytes() == (tmp_path / "worker" / "boundary-plain.png").read_bytes()
    assert (tmp_path / "direct-boundaries.png").read_bytes() == (tmp_path / "worker" / "boundaries.png").read_bytes()


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads open files through /proc (Linux)")
def test_the_fork_server_keeps_the_callers_stderr_but_not_its_stdout(result, tmp_path):
    # A pipe reading the program's stdout must not wait for the server, which ends after the program.
    import multiprocessing.forkserver

    with figure_jobs.FigureWorker() as worker:
        worker.draw(tmp_path / "costs.png", plots.cost_curves, {"plain": result["plain"].model.history})
        worker.wait()
        server = multiprocessing.forkserver._forkserver._forkserver_pid  # no public way to ask for it
        assert server is not None
        assert os.readlink(f"/proc/{server}/fd/1") == os.devnull
        assert os.readlink(f"/proc/{server}/fd/2") != os.devnull  # inherited from the program (under pytest, a capture file)
        (child,) = multiprocessing.active_children()
        assert os.readlink(f"/proc/{child.pid}/fd/1") == os.devnull


def _blas_threads(info) -> list[int]:
    return [lib["num_threads"] for lib in info if lib["user_api"] == "blas"]


def _figure_noting_blas_threads(record: Path):
    """A figure job that writes the BLAS thread counts of the process drawing it to ``record``."""
    from matplotlib.figure import Figure
    from threadpoolctl import threadpool_info

    record.write_text(json.dumps(_blas_threads(threadpool_info())))
    return Figure(figsize=(1.0, 1.0))


@pytest.mark.parametrize("processes", [1, 2])
def test_workers_draw_with_one_blas_thread_and_leave_the_callers_alone(tmp_path, processes):
    from threadpoolctl import threadpool_info

    before = _blas_threads(threadpool_info())
    with figure_jobs.FigureWorker(processes) as worker:
        assert worker.running
        for k in range(2 * processes):
            worker.draw(tmp_path / f"{k}.png", _figure_noting_blas_threads, tmp_path / f"{k}.json")
    for k in range(2 * processes):
        threads = json.loads((tmp_path / f"{k}.json").read_text())
        assert threads and set(threads) == {1}, k
    assert _blas_threads(threadpool_info()) == before


def _without_creation_time(run: Path) -> dict:
    results = json.loads((run / "results.json").read_text())
    results.pop("created")
    return results


def test_a_run_written_while_the_models_train_is_the_one_written_after(result, tmp_path):
    configs = {r.name: r.config for r in result.results}
    with figure_jobs.FigureWorker(2) as worker, CompareRun(tmp_path / "during", result.dataset, figures=worker) as run:
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


def test_the_single_run_beside_the_seeds_is_called_the_notebooks_only_with_the_notebooks_settings():
    from reglab import COURSE_CONFIGS
    from reglab.runs.compare import _single_run_label

    course = list(COURSE_CONFIGS.values())
    assert _single_run_label(course[::-1]) == "the notebook's settings, one run (course init and masks)"
    shorter = [c.replace(n_iterations=2000) for c in course]
    assert _single_run_label(shorter) == "single run as configured (course init and masks)"
    assert _single_run_label([c.replace(mask_mode="fresh") for c in course]) == "single run as configured"


def test_several_threads_may_queue_figures_at_once(result, tmp_path):
    import threading

    history = {"plain": result["plain"].model.history}
    with figure_jobs.FigureWorker(2) as worker:
        threads = [threading.Thread(target=lambda k=k: [worker.draw(tmp_path / f"{k}-{j}.png", plots.cost_curves, history)
                                                          for j in range(2)]) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        worker.wait()
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"{k}-{j}.png" for k in range(4) for j in range(2))


def test_an_error_in_a_worker_job_reaches_the_caller_and_no_run_folder_is_made(result, tmp_path):
    # A "$" in a model name starts mathtext, which matplotlib refuses to parse when it draws the title.
    bad = reglab.experiments.compare.CompareResult(
        result.dataset,
        tuple(reglab.experiments.compare.measure(f"{r.name} $\\frac$", r.model, result.dataset) for r in result.results),
        result.engine,
    )
    with figure_jobs.FigureWorker() as worker:
        with pytest.raises(ValueError, match=r"Expected \\frac\{num\}\{den\}"):
            write_compare_run(bad, tmp_path / "run", figures=worker)
        assert not worker.running  # stopped at once: nothing writes into the removed folder
        assert multiprocessing.active_children() == []
        # a later figure is drawn in this process
        worker.draw(tmp_path / "after.png", plots.cost_curves, {"plain": result["plain"].model.history})
        worker.wait()
    assert (tmp_path / "after.png").is_file()
    assert not (tmp_path / "run").exists()
    assert leftovers(tmp_path) == []


def test_a_failing_job_reports_its_own_message(result, tmp_path):
    with figure_jobs.FigureWorker() as worker:
        worker.draw(tmp_path / "costs.png", plots.cost_curves, {"plain": result["plain"].model.history})
        worker.draw(tmp_path / "none.png", plots.cost_curves, {})
        with pytest.raises(ValueError, match="histories must be a non-empty mapping"):
            worker.wait()
    assert (tmp_path / "costs.png").is_file()  # queued before the failure: finished
    assert not (tmp_path / "none.png").exists()


def test_same_error_without_a_worker(result, tmp_path):
    bad = reglab.experiments.compare.CompareResult(
        result.dataset, (reglab.experiments.compare.measure("cost $\\frac$", result["plain"].model, result.dataset),),
        result.engine,
    )
    with pytest.raises(ValueError, match=r"Expected \\frac\{num\}\{den\}"):
        write_compare_run(bad, tmp_path / "run")
    assert not (tmp_path / "run").exists() and leftovers(tmp_path) == []


def test_a_worker_that_cannot_start_falls_back_to_drawing_here(result, tmp_path, monkeypatch, caplog):
    def no_spawn(method=None):
        raise ValueError(f"cannot find context for {method!r}")

    monkeypatch.setattr(figure_jobs.multiprocessing, "get_context", no_spawn)
    with figure_jobs.FigureWorker() as worker:
        assert not worker.running
        write_compare_run(result, tmp_path / "run", figures=worker)
    assert {p.name for p in (tmp_path / "run").glob("*.png")} == set(FIGURES)
    assert "figure worker did not start" in caplog.text


def test_workers_that_fail_to_start_fall_back_to_drawing_here(result, tmp_path, monkeypatch, caplog):
    def refused(pool, processes):
        raise OSError("no process for you")

    monkeypatch.setattr(figure_jobs, "_start", refused)
    with figure_jobs.FigureWorker(2) as worker:
        write_compare_run(result, tmp_path / "run", figures=worker)
        assert not worker.running
    assert {p.name for p in (tmp_path / "run").glob("*.png")} == set(FIGURES)
    assert "no process for you" in caplog.text


def test_workers_that_die_before_their_first_job_fall_back_to_drawing_here(result, tmp_path, caplog):
    with figure_jobs.FigureWorker(2) as worker:
        deadline = time.monotonic() + 60
        while len(multiprocessing.active_children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        for child in multiprocessing.active_children():
            child.kill()
            child.join()
        write_compare_run(result, tmp_path / "run", figures=worker)
        assert not worker.running
    assert {p.name for p in (tmp_path / "run").glob("*.png")} == set(FIGURES)
    assert "figure worker stopped" in caplog.text


def test_the_worker_ignores_ctrl_c_which_its_parent_handles(result, tmp_path):
    with figure_jobs.FigureWorker() as worker:
        worker.draw(tmp_path / "first.png", plots.cost_curves, {"plain": result["plain"].model.history})
        worker.wait()  # the process is up and warmed
        (child,) = multiprocessing.active_children()
        os.kill(child.pid, signal.SIGINT)
        time.sleep(0.2)
        assert child.is_alive()
        worker.draw(tmp_path / "second.png", plots.cost_curves, {"plain": result["plain"].model.history})
        worker.wait()
        assert worker.running
    assert (tmp_path / "second.png").is_file()


def test_a_job_never_recreates_a_removed_folder(tmp_path, result):
    gone = tmp_path / "removed"
    with pytest.raises(FileNotFoundError, match="its folder .* no longer exists"):
        figure_jobs.draw(gone / "costs.png", plots.cost_curves, {"plain": result["plain"].model.history})
    assert not gone.exists()


def test_worker_processes_must_be_a_positive_count():
    with pytest.raises(ValueError, match="processes must be"):
        figure_jobs.FigureWorker(processes=0)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="lists processes through /proc (Linux)")
@pytest.mark.parametrize("moment", [".run.*", ".run.*/model-*.npz"], ids=["training", "figures"])
@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_during_training_or_figures_leaves_no_folder_and_no_process(tmp_path, moment, stop):
    # The run folder is staged before the models train; a model's file appears when it is trained
    # and its figure queued. Ctrl-C in a terminal reaches every process of the group; SIGTERM (kill,
    # timeout, a cancelled CI job) only the program.
    out = tmp_path / "run"
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("REGLAB_COURSE_DATA", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "reglab", "compare", "--data", "field", "--iterations", "300", "--out", str(out)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(moment)) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert process.poll() is None, "compare finished before it could be interrupted"
        if stop == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.terminate()
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    status, said = (130, "interrupted") if stop == "ctrl-c" else (143, "terminated")
    assert process.returncode == status, stderr
    assert stderr.strip() == f"reglab: {said}; nothing half-written was left behind"
    assert list(tmp_path.iterdir()) == []  # no run folder, no staging folder
    # The fork server ends when its parent has: give it a moment on a loaded machine.
    deadline = time.monotonic() + 10.0
    while _session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session_processes(process.pid) == []


def _session_processes(session: int) -> list[str]:
    """Live processes of a session (the group a terminal's Ctrl-C reaches), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(entry.name)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="lists processes through /proc (Linux)")
def test_the_figure_processes_end_when_the_program_is_killed(tmp_path):
    # SIGKILL leaves the program no chance to stop its workers; they used to wait for jobs forever
    # (and kept the fork server alive, and with it any pipe on the program's stderr).
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("REGLAB_COURSE_DATA", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "reglab", "compare", "--data", "field", "--iterations", "300", "--out", str(tmp_path / "run")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".run.*/model-*.npz")) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert process.poll() is None, "compare finished before it could be killed"
        assert len(_session_processes(process.pid)) > 1  # the program, the fork server and its workers
    finally:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 30.0  # generous: a loaded machine
    while _session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _session_processes(process.pid)
    for pid in left:  # do not leave them to the next test
        os.kill(int(pid), signal.SIGKILL)
    assert left == []
