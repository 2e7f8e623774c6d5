"""The ``reglab`` command as a user drives it: in-process through its entry function, and through real processes
where the case is about processes (start-up, signals, exit statuses)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from .cli_runner import QUICK, assert_png, assert_user_error, run

def test_help_lists_the_commands():
    completed = run("--help")
    for command in ("compare", "train", "predict", "datasets", "gradcheck"):
        assert command in completed.stdout


def test_the_progress_bar_appears_only_after_its_delay_and_follows_the_work(monkeypatch):
    import tqdm

    from reglab.cli import options

    made = []

    class Bar:  # records what reglab asks of tqdm's bar
        def __init__(self, total, **kwargs):
            self.total, self.n, self.closed = total, 0, False
            made.append(self)

        def update(self, step):
            self.n += step

        def close(self):
            self.closed = True

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    clock = [100.0]
    monkeypatch.setattr(options.time, "monotonic", lambda: clock[0])
    bar = options.ProgressBar("training")
    bar(10, 90)
    clock[0] += 0.9
    bar(50, 90)
    assert made == []  # a run shorter than the delay never shows (nor loads) a bar
    clock[0] += 0.2
    bar(60, 90)
    bar(75, 100)
    bar.close()
    (shown,) = made
    assert (shown.total, shown.n, shown.closed) == (100, 75, True)
    quiet = options.ProgressBar("models")
    quiet.close()  # nothing was shown: nothing to close
    assert len(made) == 1


def test_compare_writes_a_complete_run_folder(tmp_path):
    out = tmp_path / "run"
    completed = run("compare", "--data", "field", *QUICK, "--out", out, cwd=tmp_path)
    assert "Data: built-in 'field'" in completed.stdout
    for name in ("no regularization", "L2 (lambd=0.7)", "dropout (keep_prob=0.86)"):
        assert name in completed.stdout
    files = {p.name for p in out.iterdir()}
    expected = {
        "boundaries.png",
        "costs.png",
        "results.json",
        "report.md",
        "boundary-no-regularization.png",
        "boundary-l2-lambd-0.7.png",
        "boundary-dropout-keep_prob-0.86.png".replace("_", "-"),
        "model-no-regularization.npz",
        "model-l2-lambd-0.7.npz",
        "model-dropout-keep-prob-0.86.npz",
    }
    assert expected <= files, files
    assert not [f for f in files if f.startswith(".") or f.endswith(".partial")]
    for png in out.glob("*.png"):
        assert_png(png)
    results = json.loads((out / "results.json").read_text())
    assert [m["name"] for m in results["models"]] == ["no regularization", "L2 (lambd=0.7)", "dropout (keep_prob=0.86)"]
    for record in results["models"]:
        assert 0.0 <= record["metrics"]["test_accuracy"] <= 1.0
        assert len(record["history"]["cost"]) == len(record["history"]["iterations"]) > 1
        assert record["config"]["n_iterations"] == 300
    assert results["environment"]["numpy"] == np.__version__
    report = (out / "report.md").read_text()
    assert "boundaries.png" in report and "costs.png" in report and "| model |" in report
    threads = results["threads"]
    assert isinstance(threads, int) and 1 <= threads <= 3
    note = f"trained at the same time on {threads} threads"
    assert (note in completed.stdout) == (note in report) == (threads > 1)


def test_train_then_predict_round_trips(tmp_path):
    import reglab
    from reglab.datasets import make_dataset

    out = tmp_path / "train-run"
    run("train", "--data", "moons", "--data-seed", "4", *QUICK, "--l2", "0.3", "--l1", "0.01", "--keep-prob", "0.9,0.8",
        "--masks", "fresh", "--out", out)
    for name in ("model.npz", "boundary.png", "costs.png", "results.json", "report.md"):
        assert (out / name).is_file(), name
    model = reglab.load_model(out / "model.npz")
    assert model.config.keep_prob == (0.9, 0.8) and model.config.l1 == 0.01 and model.config.mask_mode == "fresh"
    data = make_dataset("moons", seed=4)
    points = tmp_path / "points.csv"
    np.savetxt(points, np.column_stack([data.X_test, data.y_test]), delimiter=",", header="x1,x2,label", comments="")
    predictions = tmp_path / "predictions.csv"
    completed = run("predict", out / "model.npz", points, "--out", predictions)
    expected_accuracy = float(np.mean(model.predict(data.X_test) == data.y_test))
    assert f"Accuracy: {expected_accuracy:.4f}" in completed.stdout
    table = np.loadtxt(predictions, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, -1], model.predict(data.X_test))
    np.testing.assert_allclose(table[:, -2], model.predict_proba(data.X_test), rtol=1e-15)


def test_datasets_lists_and_draws(tmp_path):
    completed = run("datasets")
    for name in ("field", "circle", "xor", "gauss", "spiral", "moons"):
        assert name in completed.stdout
    run("datasets", "--draw", "spiral", "--out", tmp_path / "spiral.png")
    assert_png(tmp_path / "spiral.png")


def test_gradcheck_passes_and_names_every_combination():
    completed = run("gradcheck")
    for name in ("plain", "L2", "L1", "dropout"):
        assert name in completed.stdout
    assert "FAIL" not in completed.stdout


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--keep-prob", "0"], ["keep_prob", "(0, 1]", "0"]),
        (["--keep-prob", "1.5"], ["keep_prob", "1.5"]),
        (["--keep-prob", "0.9,0.8,0.7"], ["keep_prob", "2"]),
        (["--keep-prob", "abc"], ["--keep-prob", "abc"]),
        (["--l2", "-1"], ["l2", ">= 0", "-1"]),
        (["--lr", "0"], ["learning_rate", "> 0"]),
        (["--iterations", "0"], ["--iterations", "n_iterations", "in [1, 1000000000]"]),
        (["--hidden", "20,0"], ["hidden_layer_sizes", ">= 1"]),
        (["--hidden", "a,b"], ["--hidden"]),
        (["--data", "no-such-file.mat"], ["no-such-file.mat"]),
        (["--data", "nosuchset"], ["nosuchset"]),
        (["--masks", "sometimes"], ["sometimes"]),
    ],
)
def test_bad_options_give_one_line_and_status_2(tmp_path, args, fragments):
    out = tmp_path / "never"
    completed = run("compare", *QUICK, *args, "--out", out, cwd=tmp_path, check_ok=False)
    assert_user_error(completed, *fragments)
    assert not out.exists()
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*"))


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "data.mat"),
        (b"\x00\x01garbage" * 50, "data.mat"),
    ],
)
def test_corrupt_data_files_are_refused(tmp_path, content, fragment):
    bad = tmp_path / "data.mat"
    bad.write_bytes(content)
    completed = run("compare", "--data", bad, *QUICK, "--out", tmp_path / "never", check_ok=False)
    assert_user_error(completed, fragment)


def test_truncated_course_file_is_refused(tmp_path, course_data_path):
    bad = tmp_path / "half.mat"
    bad.write_bytes(course_data_path.read_bytes()[: course_data_path.stat().st_size // 2])
    completed = run("compare", "--data", bad, *QUICK, "--out", tmp_path / "never", check_ok=False)
    assert_user_error(completed, "half.mat")


def test_an_existing_output_folder_is_not_overwritten(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    completed = run("compare", "--data", "field", *QUICK, "--out", out, check_ok=False)
    assert_user_error(completed, "busy", "not empty")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("args", [["--lr", "0"], ["--keep-prob", "2"], ["--data", "nosuchset"], ["--seeds", "0"], ["--out", "BUSY"]])
def test_compare_checks_its_input_before_it_loads_the_engine_or_trains(tmp_path, monkeypatch, capsys, args):
    # So that bad input is reported at once, before anything is compiled, trained or written.
    from reglab import cli
    from reglab.engine import compiled
    from reglab.experiments import compare as experiments

    def started(*args, **kwargs):
        raise AssertionError("started although the input is bad")

    monkeypatch.setattr(compiled, "prepare", started)
    monkeypatch.setattr(experiments, "compare", started)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    args = [str(busy) if arg == "BUSY" else arg for arg in args]
    args += [] if "--data" in args else ["--data", "field"]
    args += [] if "--out" in args else ["--out", str(tmp_path / "never")]
    assert cli.main(["compare", *QUICK, *args]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("reglab: error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]


@pytest.mark.parametrize(
    "args, option, detail",
    [
        (["compare", "--iterations", "0"], "--iterations", "n_iterations must be an integer in [1, 1000000000]; got 0"),
        (["compare", "--hidden", "20,-3"], "--hidden", "hidden_layer_sizes[1] must be an integer >= 1; got -3"),
        (["compare", "--data-seed", "-1"], "--data-seed", "seed must be an integer >= 0; got -1"),
        (["compare", "--seeds", "99999999999999999999999"], "'--seeds'", "is not in the range 1<=x<=1000."),
        (["train", "--lr", "-0.1"], "--lr", "learning_rate must be a real number > 0; got -0.1"),
        (["sweep", "--batch-size", "0"], "--batch-size", "batch_size must be an integer >= 1; got 0"),
    ],
)
def test_bad_values_are_named_by_their_option(tmp_path, capsys, args, option, detail):
    from reglab import cli

    command, *rest = args
    extra = ["--db", str(tmp_path / "sweep.db")] if command == "sweep" else []
    assert cli.main([command, "--data", "field", *rest, *extra, "--out", str(tmp_path / "a" / "run")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"reglab: error: Invalid value for {option}") and line.endswith(detail), line
    assert list(tmp_path.iterdir()) == []


def test_models_too_big_for_memory_are_refused_with_the_estimate_and_nothing_is_left(tmp_path, monkeypatch, capsys):
    import reglab.memory
    from reglab import cli

    monkeypatch.setattr(reglab.memory, "available_memory", lambda: 2 * 2**20)  # 1 MiB allowed
    out = tmp_path / "runs" / "study"
    assert cli.main(["compare", "--data", "field", "--hidden", "500,500", *QUICK, "--out", str(out)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("reglab: error: training 3 models (hidden_layer_sizes up to 500,500) on 200 examples")
    assert "more than the 1 MiB allowed" in line
    assert list(tmp_path.iterdir()) == []  # not even runs/


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["compare", "--l2", "1e6"], ["the cost of model 'L2 (lambd=1e+06)' became nan by iteration",
                                      "the likely cause is --l2 1e+06: with --lr 0.3 on m = 200 training points each "
                                      "step multiplies the weights by 1 - lr·l2/m = -1499",
                                      "try --l2 below 1333 (2·m/lr) or a smaller --lr"]),
        (["compare", "--l2", "1e6", "--seeds", "2"], ["model 'L2 (lambd=1e+06)'", "likely cause is --l2 1e+06"]),
        (["train", "--l1", "1e6"], ["the cost of the model rose from", "the likely cause is --l1 1e+06",
                                    "each step moves every weight by lr·l1/m = 1500", "try --l1 below 666.7 (m/lr)"]),
        (["train", "--lr", "1e6"], ["the cost of the model rose from", "the likely cause is --lr 1e+06: steps that "
                                    "large overshoot; try a smaller --lr, e.g. 100000"]),
        (["train", "--data", "HUGE"], ["the likely cause is the data's scale: its features reach |x| = ",
                                       "try --standardize (or rescale the data to about [-1, 1]), or a smaller --lr"]),
    ],
)
def test_diverging_training_names_the_model_and_the_setting_most_likely_at_fault(tmp_path, args, fragments):
    command, *rest = args
    if "HUGE" in rest:
        huge = tmp_path / "huge.csv"
        rng = np.random.default_rng(0)
        X = rng.normal(size=(60, 2)) * 1e160  # the forward pass overflows
        np.savetxt(huge, np.column_stack([X, X[:, 0] > 0]), delimiter=",", header="x1,x2,label", comments="")
        rest = [str(huge) if a == "HUGE" else a for a in rest]
    data = [] if "--data" in rest else ["--data", "field"]
    completed = run(command, *data, *rest, *QUICK, "--out", tmp_path / "never", check_ok=False)
    assert_user_error(completed, "reglab: error: training diverged: ", *fragments)
    assert "learning_rate" not in completed.stderr  # the options, as typed
    assert not (tmp_path / "never").exists()


def test_predict_refuses_bad_model_files(tmp_path):
    points = tmp_path / "points.csv"
    points.write_text("x1,x2,label\n0.1,0.2,1\n0.3,-0.1,0\n")
    fake = tmp_path / "model.npz"
    fake.write_bytes(b"not a zip file at all")
    assert_user_error(run("predict", fake, points, check_ok=False), "model.npz")
    assert_user_error(run("predict", tmp_path / "absent.npz", points, check_ok=False), "absent.npz")
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, meta=np.array([{"a": 1}], dtype=object))
    assert_user_error(run("predict", pickled, points, check_ok=False), "object arrays")


def test_standardize_is_applied_saved_and_reported(tmp_path):
    import reglab

    out = tmp_path / "run"
    run("train", "--data", "xor", *QUICK, "--standardize", "--out", out)
    assert "Inputs standardised" in (out / "report.md").read_text()
    model = reglab.load_model(out / "model.npz")
    assert model.standardized and model.input_scale.shape == (2,)


@pytest.mark.parametrize("slow, misses, said", [
    (False, (0, 0), []),  # loaded from the cache at once: nothing said
    (False, (2, 2), []),  # compiled earlier in this process (a test session, a server): not again now
    (True, (0, 0), ["Loading the training engine"]),  # loaded slowly (a busy machine): said, not called compiling
    (True, (0, 2), ["Loading the training engine", "Compiled the training engine in 42 s (cached for later runs)."]),
])
def test_loading_or_compiling_the_engine_is_said_and_kept_out_of_training_time(monkeypatch, capsys, slow, misses,
                                                                                said):
    import threading

    from reglab.cli import options
    from reglab.engine import compiled

    notices = threading.Event()
    original_echo = options.click.echo

    def echo(message=None, **kwargs):
        if message and "Loading the training engine" in str(message):
            notices.set()
        original_echo(message, **kwargs)

    def prepare():
        if slow:
            assert notices.wait(5)  # the notice is due after notice_after seconds: the stand-in works until then
        return 42.0

    monkeypatch.setattr(compiled, "prepare", prepare)
    counts = iter(misses)  # numba's cache misses in this process, before and after prepare
    monkeypatch.setattr(compiled, "cache_misses", lambda: next(counts))
    monkeypatch.setattr(options.click, "echo", echo)
    options.prepare_engine("compiled", notice_after=0.05 if slow else 60)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(said) and all(line.startswith(text) for line, text in zip(lines, said)), lines
    options.prepare_engine("reference", notice_after=0.0)
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- data files, big and odd


def _points_file(path: Path, n: int, labels=None) -> Path:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] > 0).astype(int) if labels is None else labels(X)
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="x1,x2,label", comments="")
    return path


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("trained")
    run("train", "--data", _points_file(folder / "train.csv", 120), *QUICK, "--out", folder / "run")
    return folder / "run" / "model.npz"


def test_predict_works_through_a_point_file_a_chunk_at_a_time(tmp_path, trained_model, monkeypatch, capsys):
    import functools

    import reglab
    from reglab import cli
    from reglab.datasets import loaders

    points = _points_file(tmp_path / "points.csv", 170)
    whole = tmp_path / "whole.csv"
    assert cli.main(["predict", str(trained_model), str(points), "--out", str(whole)]) == 0
    said = capsys.readouterr().out
    seen = []
    real = reglab.Model.predict_proba
    monkeypatch.setattr(reglab.Model, "predict_proba", lambda self, X: seen.append(len(X)) or real(self, X))
    monkeypatch.setattr(loaders, "iter_points", functools.partial(loaders.iter_points, chunk_rows=50))
    chunked = tmp_path / "chunked.csv"
    assert cli.main(["predict", str(trained_model), str(points), "--out", str(chunked)]) == 0
    assert seen == [50, 50, 50, 20]  # never more than a chunk in memory
    # The same table (BLAS may round a product's last bit differently for another number of rows).
    whole_table, chunked_table = (np.loadtxt(path, delimiter=",", skiprows=1) for path in (whole, chunked))
    assert chunked.read_text().splitlines()[0] == whole.read_text().splitlines()[0] == "x1,x2,probability,prediction"
    np.testing.assert_array_equal(chunked_table[:, [0, 1, 3]], whole_table[:, [0, 1, 3]])
    np.testing.assert_allclose(chunked_table[:, 2], whole_table[:, 2], rtol=1e-12)
    assert capsys.readouterr().out.replace("chunked", "whole") == said  # the same accuracy, counted over the chunks
    assert "Accuracy: " in said and "(" in said.split("Accuracy: ")[1]


def test_predict_warns_when_the_labels_are_not_the_models_classes(tmp_path, trained_model):
    points = _points_file(tmp_path / "signs.csv", 40, labels=lambda X: np.where(X[:, 0] > 0, 1, -1))
    completed = run("predict", trained_model, points, "--out", tmp_path / "p.csv")
    assert "Accuracy" not in completed.stdout and "Predicted 40 points" in completed.stdout
    assert completed.stderr == (f"reglab: warning: the labels of {str(points)!r} include -1.0, which are not the "
                                "model's classes (0, 1): no accuracy is given\n")
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 41


def _declaring(path: Path, shape: tuple, fortran: bool = False, **others) -> Path:
    """A small .npz whose entry X declares ``shape`` (its header says so; its data is a few bytes)."""
    import zipfile

    header = {"descr": "<f8", "fortran_order": fortran, "shape": shape}
    text = repr(header).encode("latin1")
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    np.savez(path, **others)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("X.npy", b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + b"\0" * 64)
    return path


def test_files_that_declare_arrays_too_big_for_memory_are_refused_before_anything_is_read(tmp_path, trained_model):
    import zipfile

    huge = _declaring(tmp_path / "huge.npz", (10**12, 2))
    assert huge.stat().st_size < 2000
    completed = run("train", "--data", huge, *QUICK, "--out", tmp_path / "run", check_ok=False)
    assert_user_error(completed, f"data file {str(huge)!r} declares arrays of 15 TiB", "its entry 'X' has shape "
                      "(1000000000000, 2) (float64), 15 TiB; nothing was read", "(half the memory available)")
    # predict reads a chunk at a time, so memory is no limit: the file is found to hold less than it declares.
    completed = run("predict", trained_model, huge, check_ok=False)
    assert_user_error(completed, f"data file {str(huge)!r}: entry 'X' is truncated: it declares 1000000000000 rows")
    model = tmp_path / "model.npz"
    with zipfile.ZipFile(trained_model) as source, zipfile.ZipFile(model, "w") as target:
        for item in source.infolist():
            if item.filename != "W1.npy":
                target.writestr(item, source.read(item))
        text = repr({"descr": "<f8", "fortran_order": False, "shape": (20, 10**11)}).encode("latin1")
        text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
        target.writestr("W1.npy", b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text)
    completed = run("predict", model, _points_file(tmp_path / "p.csv", 10), check_ok=False)
    assert_user_error(completed, f"model file {str(model)!r} declares arrays of", "its entry 'W1' has shape "
                      "(20, 100000000000)")


def test_predict_refuses_points_it_would_read_whole_or_cannot_use_before_reading_them(tmp_path, trained_model):
    by_columns = _declaring(tmp_path / "columns.npz", (10**12, 2), fortran=True)
    completed = run("predict", trained_model, by_columns, check_ok=False)
    assert_user_error(completed, f"data file {str(by_columns)!r}: entry 'X' has shape (1000000000000, 2) (float64): "
                      "read whole (stored column by column), it needs 15 TiB", "nothing was read")
    wide = _declaring(tmp_path / "wide.npz", (10, 10**12))
    completed = run("predict", trained_model, wide, check_ok=False)
    assert_user_error(completed, f"X in {wide} must have 2 features (columns); got 1000000000000")


def test_a_mat_file_that_declares_arrays_too_big_for_memory_is_refused(tmp_path):
    import io
    import struct

    import scipy.io

    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    scipy.io.savemat(buffer, {"X": rng.normal(size=(40, 2)), "y": np.ones((40, 1)), "Xval": rng.normal(size=(41, 2)),
                              "yval": np.ones((41, 1))}, do_compression=False)
    data = buffer.getvalue()
    at = data.find(struct.pack("<ii", 40, 2))  # X's dimensions, in its array header
    path = tmp_path / "huge.mat"
    path.write_bytes(data[:at] + struct.pack("<ii", 2**31 - 1, 2**20) + data[at + 8:])
    completed = run("train", "--data", path, *QUICK, "--out", tmp_path / "run", check_ok=False)
    assert_user_error(completed, f"data file {str(path)!r} declares variables of 16 PiB as float64", "its variable 'X' "
                      "has shape (2147483647, 1048576); nothing was read")


def test_labels_that_are_not_whole_numbers_are_refused_alike_by_the_library_the_command_and_the_estimator(tmp_path):
    import reglab
    from reglab.sklearn import RegularizedMLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.where(X[:, 0] > 0, 0.5, 0.0)
    said = ("must hold class labels, whole numbers or text; got numbers that are not whole (0.5), as a regression "
            "target has: write the two classes as 0 and 1, or as text")
    with pytest.raises(ValueError, match=r"^y " + re.escape(said) + "$"):
        reglab.fit(X, y, reglab.TrainConfig(n_iterations=10))
    with pytest.raises(ValueError, match=r"^Unknown label type: continuous\. y " + re.escape(said) + "$"):
        RegularizedMLPClassifier(max_iter=10).fit(X, y)
    points = tmp_path / "half.csv"
    np.savetxt(points, np.column_stack([X, y]), delimiter=",", header="x1,x2,label", comments="")
    completed = run("train", "--data", points, *QUICK, "--out", tmp_path / "run", check_ok=False)
    assert_user_error(completed, f"reglab: error: the labels in {points} {said}")
    reglab.fit(X, np.where(X[:, 0] > 0, 1.0, -1.0), reglab.TrainConfig(n_iterations=10))  # whole numbers are classes
