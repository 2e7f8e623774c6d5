"""The ``reglab`` command as a user drives it: in-process through its entry function, and through real processes
where the case is about processes (start-up, signals, exit statuses)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .cli_runner import assert_png, assert_user_error, run

QUICK = ["--iterations", "300"]


def test_help_lists_the_commands():
    completed = run("--help")
    for command in ("compare", "train", "predict", "datasets", "gradcheck"):
        assert command in completed.stdout


def test_the_progress_bar_appears_only_after_its_delay_and_follows_the_work(monkeypatch):
    import tqdm

    from reglab import cli

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
    monkeypatch.setattr(cli.time, "monotonic", lambda: clock[0])
    bar = cli._ProgressBar("training")
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
    quiet = cli._ProgressBar("models")
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
    from reglab import cli, training as train

    monkeypatch.setattr(train, "available_memory", lambda: 2 * 2**20)  # 1 MiB allowed
    out = tmp_path / "runs" / "study"
    assert cli.main(["compare", "--data", "field", "--hidden", "500,500", *QUICK, "--out", str(out)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("reglab: error: training 3 models (hidden_layer_sizes up to 500,500) on 200 examples")
    assert "more than the 1 MiB allowed" in line
    assert list(tmp_path.iterdir()) == []  # not even runs/


def test_diverging_training_names_the_learning_rate(tmp_path):
    completed = run("train", "--data", "field", "--lr", "1e6", *QUICK, "--out", tmp_path / "never", check_ok=False)
    assert_user_error(completed, "learning_rate=1e+06")
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


@pytest.mark.parametrize("seconds, said", [(0.01, []), (42.0, ["Compiling the training engine", "Compiled the training "
                                                                "engine in 42 s."])])
def test_compiling_the_engine_is_said_and_kept_out_of_training_time(monkeypatch, capsys, seconds, said):
    from reglab import cli
    from reglab.engine import compiled

    def prepare():
        if seconds > 1:
            notices.wait(5)  # the notice is due after notice_after seconds: the stand-in "compiles" until then
        return seconds

    import threading

    notices = threading.Event()
    original_echo = cli.click.echo

    def echo(message=None, **kwargs):
        if message and "Compiling" in str(message):
            notices.set()
        original_echo(message, **kwargs)

    monkeypatch.setattr(compiled, "prepare", prepare)
    monkeypatch.setattr(cli.click, "echo", echo)
    cli._prepare("compiled", notice_after=0.05)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(said) and all(line.startswith(text) for line, text in zip(lines, said)), lines
    cli._prepare("reference", notice_after=0.0)
    assert capsys.readouterr().err == ""
