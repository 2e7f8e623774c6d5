"""The course's table to the last digit, through every way of training its three models (30000 iterations each).

The notebook's own loop (``reglab.course.model``), the compiled engine (``reglab.fit_many``), the
scikit-learn estimator and ``reglab compare`` all reach 200/211 and 183/200 (plain), 198/211 and
186/200 (L2, lambd 0.7), 196/211 and 190/200 (dropout, keep_prob 0.86, the course's masks).
"""

from __future__ import annotations

import json

import pytest
import scipy.io
from scipy.io import loadmat

import reglab
from reglab import course

from ..cli_runner import run


def test_model_reproduces_the_notebooks_accuracies(course_data_path, capsys):
    data = scipy.io.loadmat(course_data_path)
    train_X, train_Y, test_X, test_Y = data["X"].T, data["y"].T, data["Xval"].T, data["yval"].T
    expected = {
        (): ("0.9478672985781991", "0.915"),
        (("lambd", 0.7),): ("0.9383886255924171", "0.93"),
        (("keep_prob", 0.86),): ("0.9289099526066351", "0.95"),
    }
    for settings, accuracies in expected.items():
        parameters = course.model(train_X, train_Y, **dict(settings))
        course.predict(train_X, train_Y, parameters)
        course.predict(test_X, test_Y, parameters)
        lines = capsys.readouterr().out.splitlines()
        assert [line.split(":")[0] for line in lines[:3]] == [f"Cost after iteration {i}" for i in (0, 10000, 20000)]
        assert len(lines) == 5
        assert lines[-2:] == [f"Accuracy: {a}" for a in accuracies]


def test_course_table_exact_with_the_compiled_engine(course_data_path):
    data = loadmat(course_data_path)
    X, y = data["X"], data["y"].ravel()
    X_test, y_test = data["Xval"], data["yval"].ravel()
    models = reglab.fit_many(X, y, list(reglab.COURSE_CONFIGS.values()), engine="compiled")
    expected = [
        (0.9478672985781991, 0.915),
        (0.9383886255924171, 0.93),
        (0.9289099526066351, 0.95),
    ]
    for model, (train_accuracy, test_accuracy) in zip(models, expected):
        assert model.accuracy(X, y) == train_accuracy
        assert model.accuracy(X_test, y_test) == test_accuracy


@pytest.mark.parametrize(
    ("settings", "train_accuracy", "test_accuracy"),
    [
        ({}, 0.9478672985781991, 0.915),
        ({"l2": 0.7}, 0.9383886255924171, 0.93),
        ({"keep_prob": 0.86}, 0.9289099526066351, 0.95),
    ],
)
def test_course_settings_reproduce_the_notebook(course_data_path, settings, train_accuracy, test_accuracy):
    from reglab.datasets import load_course
    from reglab.sklearn import RegularizedMLPClassifier

    data = load_course(course_data_path)
    clf = RegularizedMLPClassifier(init="course", mask_mode="course", random_state=3, **settings)
    clf.fit(data.X_train, data.y_train)
    assert clf.score(data.X_train, data.y_train) == train_accuracy
    assert clf.score(data.X_test, data.y_test) == test_accuracy


def test_compare_on_the_course_data_is_the_notebooks_table(tmp_path, course_data_path):
    out = tmp_path / "course-run"
    completed = run("compare", "--data", course_data_path, "--out", out)
    table = completed.stdout
    assert "0.9478672985781991 (200/211)" in table and "0.915 (183/200)" in table
    assert "0.9383886255924171 (198/211)" in table and "0.93 (186/200)" in table
    assert "0.9289099526066351 (196/211)" in table and "0.95 (190/200)" in table
    metrics = [m["metrics"] for m in json.loads((out / "results.json").read_text())["models"]]
    assert [(m["train_accuracy"], m["test_accuracy"]) for m in metrics] == [
        (0.9478672985781991, 0.915),
        (0.9383886255924171, 0.93),
        (0.9289099526066351, 0.95),
    ]


def test_compare_without_data_uses_the_course_layout_then_the_environment_then_field(tmp_path, course_data_path):
    completed = run("compare", "--iterations", "300", "--out", tmp_path / "a", cwd=tmp_path)
    assert "built-in 'field'" in completed.stdout
    completed = run(
        "compare", "--iterations", "300", "--out", tmp_path / "b", cwd=tmp_path, env_extra={"REGLAB_COURSE_DATA": str(course_data_path)}
    )
    assert str(course_data_path) in completed.stdout.splitlines()[0]
    layout = tmp_path / "course"
    (layout / "datasets").mkdir(parents=True)
    (layout / "datasets" / "data.mat").symlink_to(course_data_path)
    completed = run("compare", "--iterations", "300", "--out", tmp_path / "c", cwd=layout)
    assert "datasets/data.mat" in completed.stdout.splitlines()[0]


def test_field_plain_model_overfits_and_l2_narrows_the_gap():
    """The course's plain and L2 models on the default field (seed 0).

    Measured: plain 0.955 train / 0.855 test (gap 10 points), L2 0.900 / 0.890 (gap 1 point).
    Over seeds 0-7 the plain gap was 1 to 10 points (mean 6) and L2 narrowed it on every seed;
    a 10000-iteration run shows only a 2-point gap on seed 0, hence the full run.
    """
    from reglab.datasets import make_dataset

    data = make_dataset("field")
    configs = reglab.COURSE_CONFIGS
    plain, l2 = reglab.fit_many(
        data.X_train, data.y_train, [configs["no regularization"], configs["L2 (lambd=0.7)"]]
    )

    def gap(model):
        return model.accuracy(data.X_train, data.y_train) - model.accuracy(data.X_test, data.y_test)

    assert gap(plain) >= 0.05
    assert gap(l2) <= gap(plain) - 0.04
    assert l2.accuracy(data.X_test, data.y_test) > plain.accuracy(data.X_test, data.y_test)
