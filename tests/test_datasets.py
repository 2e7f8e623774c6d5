"""Built-in data sets, file loaders and the search for the course's data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import reglab
from reglab.datasets import (
    COURSE_ENV_VAR,
    DEFAULT_DATASET,
    GENERATORS,
    Dataset,
    find_course_file,
    load_course,
    load_file,
    load_points,
    make_dataset,
    resolve_data,
)

NAMES = ("field", "circle", "xor", "gauss", "spiral", "moons")


# --------------------------------------------------------------------------- helpers


def _synthetic_course_mat(path: Path, n_train: int = 30, n_test: int = 20, seed: int = 1) -> Path:
    """A made-up file in the course's layout (never the course's own values)."""
    rng = np.random.default_rng(seed)
    X, Xval = rng.normal(size=(n_train, 2)), rng.normal(size=(n_test, 2))
    y = (X[:, :1] > 0).astype(np.uint8)  # (n_train, 1) as in the course file
    yval = (Xval[:, :1] > 0).astype(np.uint8)
    y[0], y[1], yval[0], yval[1] = 0, 1, 0, 1  # both classes for sure
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"X": X, "y": y, "Xval": Xval, "yval": yval})
    return path


def _write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- generators


def test_generators_listing():
    assert tuple(GENERATORS) == NAMES
    assert DEFAULT_DATASET == "field"
    for name, description in GENERATORS.items():
        assert isinstance(description, str) and "\n" not in description and "default" in description


@pytest.mark.parametrize("name", NAMES)
def test_generator_sizes_types_and_balance(name):
    data = make_dataset(name)
    assert isinstance(data, Dataset) and data.name == name
    assert data.X_train.shape == (200, 2) and data.X_test.shape == (200, 2)
    assert data.y_train.shape == (200,) and data.y_test.shape == (200,)
    for array in (data.X_train, data.y_train, data.X_test, data.y_test):
        assert array.dtype == np.float64
        assert np.all(np.isfinite(array))
    labels = np.concatenate([data.y_train, data.y_test])
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert 0.4 <= labels.mean() <= 0.6
    assert 0.3 <= data.y_train.mean() <= 0.7 and 0.3 <= data.y_test.mean() <= 0.7
    assert f"built-in {name!r}" in data.source and "seed 0" in data.source


@pytest.mark.parametrize("name", NAMES)
def test_generators_are_deterministic(name):
    a, b = make_dataset(name, seed=5), make_dataset(name, seed=5)
    c = make_dataset(name, seed=6)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


def test_generators_leave_the_global_generator_alone():
    np.random.seed(123)
    expected = np.random.rand(3)
    np.random.seed(123)
    for name in NAMES:
        make_dataset(name, seed=1)
    np.testing.assert_array_equal(np.random.rand(3), expected)


@pytest.mark.parametrize("name", NAMES)
def test_generator_options_change_sizes(name):
    data = make_dataset(name, n_samples=101, test_fraction=0.3, noise=0.1)
    assert data.X_test.shape == (30, 2) and data.X_train.shape == (71, 2)
    assert "101 points" in data.source and "noise 0.1" in data.source


def test_circle_without_noise_labels_by_radius():
    data = make_dataset("circle", noise=0.0)
    X = np.concatenate([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_array_equal(y, (radius < 2.5).astype(float))
    assert y.sum() == 200  # half the points are drawn inside
    assert radius.max() <= 5 and not np.any((radius > 2.5) & (radius < 3.5))


def test_xor_without_noise_labels_by_quadrant():
    data = make_dataset("xor", noise=0.0)
    X = np.concatenate([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) == np.sign(X[:, 1])).astype(float))
    assert np.all(np.abs(X) >= 0.3) and np.all(np.abs(X) <= 5.3)


def test_gauss_centres_and_spread_grow_with_noise():
    quiet, loud = make_dataset("gauss", noise=0.0, n_samples=4000), make_dataset("gauss", noise=0.5, n_samples=4000)
    X = np.concatenate([quiet.X_train, quiet.X_test])
    y = np.concatenate([quiet.y_train, quiet.y_test])
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    np.testing.assert_allclose(X[y == 1].var(axis=0), [0.5, 0.5], rtol=0.15)  # Playground variance at noise 0
    X_loud = np.concatenate([loud.X_train, loud.X_test])
    y_loud = np.concatenate([loud.y_train, loud.y_test])
    np.testing.assert_allclose(X_loud[y_loud == 1].var(axis=0), [4, 4], rtol=0.15)


def test_spiral_without_noise_lies_on_two_arms():
    data = make_dataset("spiral", noise=0.0)
    X = np.concatenate([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    assert y.sum() == 200
    radius = np.linalg.norm(X, axis=1)
    assert radius.max() < 5
    # the two arms are point reflections of each other: the same radii on both
    np.testing.assert_allclose(np.sort(radius[y == 1]), np.sort(radius[y == 0]))


def test_moons_without_noise_lie_on_unit_half_circles():
    data = make_dataset("moons", noise=0.0)
    X = np.concatenate([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0)
    assert np.all(upper[:, 1] >= -1e-12) and np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_field_looks_like_the_course_data():
    data = make_dataset("field")
    X = np.concatenate([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    assert np.all(X.min(axis=0) >= [-0.75, -0.75]) and np.all(X.max(axis=0) <= [0.4, 0.65])
    # class 1 upper-left, class 0 lower-right
    assert X[y == 1, 0].mean() < X[y == 0, 0].mean() - 0.1
    assert X[y == 1, 1].mean() > X[y == 0, 1].mean() + 0.2
    # a straight diagonal already explains most labels, but not all: there is noise
    diagonal = (X[:, 1] - X[:, 0] > 0.0).astype(float)
    agreement = np.mean(diagonal == y)
    assert 0.75 < agreement < 0.97


def test_field_noise_controls_label_flips():
    def disagreement(noise):
        data = make_dataset("field", noise=noise, n_samples=2000)
        X = np.concatenate([data.X_train, data.X_test])
        y = np.concatenate([data.y_train, data.y_test])
        clean = make_dataset("field", noise=0.0, n_samples=2000)
        y_clean = np.concatenate([clean.y_train, clean.y_test])
        np.testing.assert_array_equal(X, np.concatenate([clean.X_train, clean.X_test]))
        return np.mean(y != y_clean)

    assert disagreement(0.0) == 0.0
    assert 0.02 < disagreement(0.15) < disagreement(0.4) < 0.5


# --------------------------------------------------------------------------- bad generator options


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"name must be one of 'field', 'circle'.*'moons'; got 'feild'"):
        make_dataset("feild")
    with pytest.raises(TypeError, match="name must be a data set name"):
        make_dataset(3)


@pytest.mark.parametrize(
    ("options", "error", "pattern"),
    [
        ({"n_samples": 3}, ValueError, r"n_samples must be an integer in \[4, 1000000\]; got 3"),
        ({"n_samples": 2.5}, TypeError, r"n_samples must be an integer.*got 2.5"),
        ({"n_samples": True}, TypeError, r"n_samples must be an integer.*got True"),
        ({"noise": -0.1}, ValueError, r"noise must be a real number in \[0, 1\]; got -0.1"),
        ({"noise": 1.5}, ValueError, r"noise must be a real number in \[0, 1\]; got 1.5"),
        ({"noise": float("nan")}, ValueError, r"noise must be a real number in \[0, 1\]; got nan"),
        ({"noise": "low"}, TypeError, r"noise must be a real number in \[0, 1\]; got 'low'"),
        ({"test_fraction": 0}, ValueError, r"test_fraction must be a real number in \(0, 1\); got 0"),
        ({"test_fraction": 1.0}, ValueError, r"test_fraction must be a real number in \(0, 1\); got 1.0"),
        ({"test_fraction": 0.01, "n_samples": 10}, ValueError, r"test_fraction=0.01 leaves 0 test and 10 training"),
        ({"seed": -1}, ValueError, r"seed must be an integer >= 0; got -1"),
    ],
)
def test_bad_generator_options(options, error, pattern):
    with pytest.raises(error, match=pattern):
        make_dataset("circle", **options)


# --------------------------------------------------------------------------- the course's file


def test_load_course_shapes(course_data_path):
    data = load_course(course_data_path)
    assert data.name == "course"
    assert data.X_train.shape == (211, 2) and data.y_train.shape == (211,)
    assert data.X_test.shape == (200, 2) and data.y_test.shape == (200,)
    assert data.y_train.dtype == np.float64 and set(np.unique(data.y_train)) == {0.0, 1.0}
    assert data.source == f"course data from {course_data_path}"
    raw = scipy.io.loadmat(course_data_path)
    np.testing.assert_array_equal(data.X_test, raw["Xval"])
    np.testing.assert_array_equal(data.y_train, raw["y"].ravel())
    same = load_file(course_data_path)
    np.testing.assert_array_equal(same.X_train, data.X_train)
    assert same.name == "course"
    described = data.to_dict()
    assert described == {
        "name": "course",
        "source": data.source,
        "n_train": 211,
        "n_test": 200,
        "n_features": 2,
        "classes": [0.0, 1.0],
    }
    json.dumps(described)


def test_course_layout_labels_other_than_01_are_encoded(tmp_path):
    path = tmp_path / "pm.mat"
    X = np.arange(8.0).reshape(4, 2)
    scipy.io.savemat(path, {"X": X, "y": np.array([[-1], [1], [1], [-1]]), "Xval": X[:2], "yval": np.array([[1], [-1]])})
    data = load_course(path)
    np.testing.assert_array_equal(data.y_train, [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(data.y_test, [1.0, 0.0])


def test_course_file_missing_variables(tmp_path):
    path = tmp_path / "partial.mat"
    scipy.io.savemat(path, {"X": np.ones((3, 2)), "y": np.array([[0], [1], [1]])})
    with pytest.raises(ValueError, match=r"partial.mat is missing the variable\(s\) Xval, yval.*found: X, y"):
        load_course(path)


def test_course_file_wrong_dimensions(tmp_path):
    path = tmp_path / "wide.mat"
    scipy.io.savemat(
        path,
        {"X": np.ones((4, 2)), "y": np.array([[0, 1], [1, 0]]), "Xval": np.ones((2, 2)), "yval": np.array([[0], [1]])},
    )
    with pytest.raises(ValueError, match=r"y_train in .*wide.mat must be 1-D \(n_samples,\); got shape \(2, 2\)"):
        load_course(path)
    scipy.io.savemat(
        path, {"X": np.ones((4, 2)), "y": np.array([[0], [1], [1], [0]]), "Xval": np.ones((2, 3)), "yval": np.array([[0], [1]])}
    )
    with pytest.raises(ValueError, match=r"X_test in .*wide.mat must have 2 features \(columns\); got 3"):
        load_course(path)


def test_random_and_truncated_mat_files(tmp_path):
    garbage = tmp_path / "noise.mat"
    garbage.write_bytes(np.random.default_rng(0).bytes(600))
    with pytest.raises(ValueError, match=r"noise.mat is not a readable MATLAB .mat file"):
        load_file(garbage)
    whole = _synthetic_course_mat(tmp_path / "whole.mat").read_bytes()
    half = tmp_path / "half.mat"
    half.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"half.mat is not a readable MATLAB .mat file"):
        load_course(half)


def test_missing_file_and_bad_path_type(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"path '.*nowhere.mat' does not exist"):
        load_course(tmp_path / "nowhere.mat")
    with pytest.raises(FileNotFoundError, match=r"data file '.*nowhere.csv' does not exist"):
        load_file(tmp_path / "nowhere.csv")
    with pytest.raises(TypeError, match="path must be a file path .*; got int"):
        load_course(42)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(ValueError, match="folder.csv' is not a file"):
        load_file(folder)


def test_unsupported_extension(tmp_path):
    path = _write_csv(tmp_path / "points.txt", "1,2,0\n")
    with pytest.raises(ValueError, match=r"unsupported extension '.txt'; supported: .mat, .csv, .npz"):
        load_file(path)
    with pytest.raises(ValueError, match=r"unsupported extension '\(none\)'"):
        load_file(tmp_path / "points")


# --------------------------------------------------------------------------- .csv


def test_csv_with_and_without_header_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = np.arange(40) % 2
    body = "".join(f"{a:.17g},{b:.17g},{c:.17g},{int(label)}\n" for (a, b, c), label in zip(X, y))
    with_header = load_file(_write_csv(tmp_path / "named.csv", "a,b,c,label\n" + body), seed=7)
    without = load_file(_write_csv(tmp_path / "bare.csv", body), seed=7)
    assert with_header.name == "named" and without.name == "bare"
    for data in (with_header, without):
        assert data.n_features == 3
        assert data.X_train.shape == (20, 3) and data.X_test.shape == (20, 3)
        rows = np.concatenate([np.column_stack([data.X_train, data.y_train]), np.column_stack([data.X_test, data.y_test])])
        original = np.column_stack([X, y])
        # every row of the file comes back once, unchanged
        np.testing.assert_array_equal(rows[np.lexsort(rows.T)], original[np.lexsort(original.T)])
        assert "split at random, test fraction 0.5, seed 7" in data.source
    np.testing.assert_array_equal(with_header.X_test, without.X_test)  # same seed, same split
    other = load_file(tmp_path / "bare.csv", seed=8)
    assert not np.array_equal(other.X_test, without.X_test)
    smaller = load_file(tmp_path / "bare.csv", test_fraction=0.25)
    assert smaller.X_test.shape == (10, 3)


def test_csv_split_column_and_text_labels(tmp_path):
    text = "x1,x2,Split,kind\n0.1,0.2,train,cat\n0.3,0.4,TEST,dog\n\n0.5,0.6,train,dog\n0.7,0.8,test,cat\n"
    data = load_file(_write_csv(tmp_path / "pets.csv", text))
    np.testing.assert_array_equal(data.X_train, [[0.1, 0.2], [0.5, 0.6]])
    np.testing.assert_array_equal(data.X_test, [[0.3, 0.4], [0.7, 0.8]])
    assert data.y_train.tolist() == ["cat", "dog"] and data.y_test.tolist() == ["dog", "cat"]
    assert "split by column 'Split'" in data.source
    assert data.to_dict()["classes"] == ["cat", "dog"]
    json.dumps(data.to_dict())
    # the library trains on a file's own labels
    model = reglab.fit(data.X_train, data.y_train, reglab.TrainConfig(n_iterations=5))
    assert set(model.predict(data.X_test)) <= {"cat", "dog"}


def test_csv_keeps_numeric_labels_as_given(tmp_path):
    data = load_file(_write_csv(tmp_path / "pm.csv", "1,2,-1\n3,4,1\n5,6,-1\n7,8,1\n"), seed=0)
    assert set(np.concatenate([data.y_train, data.y_test])) == {-1.0, 1.0}


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", r"empty.csv is empty"),
        ("\n\n", r"empty.csv is empty"),
        ("x1,x2,label\n", r"empty.csv has a header row but no data rows"),
        ("0.1,0.2,1\n0.3,abc,0\n0.5,0.6,1\n", r"row 2, 'column 2' holds 'abc', which is not a number"),
        ("x1,x2,y\n0.1,0.2,1\n0.3,0.4,0\n0.5,,1\n", r"row 4, 'x2' holds '', which is not a number"),
        ("0.1,0.2,1\n0.3,0.4\n", r"row 2 has 2 cells; expected 3"),
        ("0.1,0.2,1\n0.3,nan,0\n0.5,0.6,1\n0.7,0.8,0\n", r"must hold finite numbers; got 1 NaN or infinite"),
        ("0.1,0.2,1\n0.3,inf,0\n0.5,0.6,1\n0.7,0.8,0\n", r"must hold finite numbers"),
        ("0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,2\n0.7,0.8,1\n", r"the labels in .*empty.csv must hold two classes; got 3: 0.0, 1.0, 2.0"),
        ("0.1,0.2,1\n0.3,0.4,1\n0.5,0.6,1\n", r"labels in .*empty.csv must hold two classes; got only 1.0"),
        ("0.1,0.2,a\n0.3,0.4,a\n", r"labels in .*empty.csv must hold two classes \(or labels 0/1\); got the single class"),
        ("0.1,0.2,1\n0.3,0.4,\n", r"row 2 has an empty label"),
        ("1\n2\n", r"at least two columns besides any split column"),
        ("0.1,0.2,1\n", r"test_fraction=0.5 leaves 0 test and 1 training points from the 1 rows"),
        ("x,y,split\n0.1,1,train\n0.2,0,dev\n", r"row 3, 'split' must be 'train' or 'test'; got 'dev'"),
        ("x,y,subset\n0.1,1,train\n0.2,0,train\n", r"column 'subset' marks no row as 'test'"),
        ('0.1,0.2,1\n"0.3,0.4,0\n', r"row 2 has 1 cells; expected 3"),  # unclosed quote
    ],
)
def test_bad_csv(tmp_path, text, pattern):
    path = _write_csv(tmp_path / "empty.csv", text)
    with pytest.raises(ValueError, match=pattern):
        load_file(path)


def test_csv_of_random_bytes(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(np.random.default_rng(1).bytes(400))
    with pytest.raises(ValueError, match=r"binary.csv is not a UTF-8 text CSV file"):
        load_file(path)
    path.write_bytes(b"0.1,0.2,1\n0.3,\x000.4,0\n")
    with pytest.raises(ValueError, match=r"binary.csv: row 2, 'column 2' holds '\\x000.4', which is not a number"):
        load_file(path)
    path.write_text("0.1,0.2,1\n0.3,0.4," + "1" * 200_000 + "\n")  # beyond the csv module's field limit
    with pytest.raises(ValueError, match=r"binary.csv is not a readable CSV file \(line 2\)"):
        load_file(path)


# --------------------------------------------------------------------------- .npz


def test_npz_round_trip_with_split(tmp_path):
    rng = np.random.default_rng(4)
    parts = dict(
        X_train=rng.normal(size=(12, 2)), y_train=np.arange(12) % 2, X_test=rng.normal(size=(6, 2)), y_test=np.arange(6) % 2
    )
    np.savez(tmp_path / "parts.npz", **parts)
    data = load_file(tmp_path / "parts.npz")
    assert data.name == "parts" and "its own train/test split" in data.source
    for key, value in parts.items():
        np.testing.assert_array_equal(getattr(data, key), value)


def test_npz_round_trip_x_y_split_by_seed(tmp_path):
    X = np.arange(40.0).reshape(20, 2)
    y = np.array(["a", "b"] * 10)
    np.savez_compressed(tmp_path / "xy.npz", X=X, y=y)
    data = load_file(tmp_path / "xy.npz", test_fraction=0.25, seed=2)
    assert data.X_train.shape == (15, 2) and data.X_test.shape == (5, 2)
    rows = np.concatenate([data.X_train, data.X_test])
    np.testing.assert_array_equal(np.sort(rows[:, 0]), X[:, 0])
    # each row keeps its own label
    for X_part, y_part in ((data.X_train, data.y_train), (data.X_test, data.y_test)):
        np.testing.assert_array_equal(y_part, y[(X_part[:, 0] // 2).astype(int)])
    again = load_file(tmp_path / "xy.npz", test_fraction=0.25, seed=2)
    np.testing.assert_array_equal(again.X_test, data.X_test)


def test_npz_with_object_arrays_is_refused(tmp_path):
    np.savez(tmp_path / "objects.npz", X=np.array([[1, 2], [3, None]], dtype=object), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"array 'X' holds Python objects \(dtype object\).*allow_pickle=False"):
        load_file(tmp_path / "objects.npz")


@pytest.mark.parametrize(
    ("arrays", "pattern"),
    [
        ({"X": np.ones((4, 2))}, r"must hold the arrays X_train, y_train, X_test, y_test, or X and y; found: X"),
        ({"X_train": np.ones((4, 2)), "y_train": np.array([0, 1, 0, 1])}, r"found: X_train, y_train"),
        ({}, r"found: none"),
        ({"X": np.array([np.nan, 1, 2, 3]).reshape(2, 2), "y": np.array([0, 1])}, r"X in .*bad.npz must hold finite numbers"),
        ({"X": np.ones(4), "y": np.array([0, 1, 0, 1])}, r"X in .*bad.npz must be 2-D \(n_samples, n_features\); got 1-D"),
        ({"X": np.ones((4, 2)), "y": np.array([0, 1, 0])}, r"same number of samples, y 1-D; got X \(4, 2\) and y \(3,\)"),
        ({"X": np.ones((0, 2)), "y": np.array([])}, r"X in .*bad.npz must not be empty; got shape \(0, 2\)"),
        ({"X": np.array([["a", "b"], ["c", "d"]]), "y": np.array([0, 1])}, r"X in .*bad.npz must hold numbers; got dtype <U1"),
        (
            {"X_train": np.ones((2, 2)), "y_train": np.array([0, 1]), "X_test": np.full((2, 2), np.inf), "y_test": np.array([0, 1])},
            r"X_test in .*bad.npz must hold finite numbers",
        ),
        (
            {"X_train": np.ones((3, 2)), "y_train": np.array([0, 1]), "X_test": np.ones((2, 2)), "y_test": np.array([0, 1])},
            r"X_train and y_train in .*bad.npz must have the same number of samples; got 3 and 2",
        ),
        (
            {"X_train": np.ones((2, 2)), "y_train": np.array([0, 1]), "X_test": np.ones((2, 2)), "y_test": np.array([5, 7])},
            r"must hold two classes; got 4: 0, 1, 5, 7",
        ),
        (
            {"X_train": np.ones((2, 2)), "y_train": np.array([0, 1]), "X_test": np.ones((0, 2)), "y_test": np.array([])},
            r"X_test in .*bad.npz must not be empty",
        ),
    ],
)
def test_bad_npz(tmp_path, arrays, pattern):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=pattern):
        load_file(tmp_path / "bad.npz")


def test_random_truncated_and_npy_npz_files(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(np.random.default_rng(2).bytes(500))
    with pytest.raises(ValueError, match=r"garbage.npz is not an .npz archive: it does not start like a zip file"):
        load_file(garbage)
    np.savez(tmp_path / "whole.npz", X=np.ones((50, 2)), y=np.arange(50) % 2)
    whole = (tmp_path / "whole.npz").read_bytes()
    half = tmp_path / "half.npz"
    half.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"half.npz (is not a readable .npz archive|: array 'X' cannot be read)"):
        load_file(half)
    single = tmp_path / "single.npz"
    with open(single, "wb") as handle:
        np.save(handle, np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"single.npz is not an .npz archive"):
        load_file(single)


def test_load_file_bad_options(tmp_path):
    path = _write_csv(tmp_path / "ok.csv", "1,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match=r"test_fraction must be a real number in \(0, 1\); got 1.5"):
        load_file(path, test_fraction=1.5)
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0; got -3"):
        load_file(path, seed=-3)


# --------------------------------------------------------------------------- where the data comes from


def test_find_course_file_order(tmp_path):
    local = _synthetic_course_mat(tmp_path / "project" / "datasets" / "data.mat")
    elsewhere = _synthetic_course_mat(tmp_path / "elsewhere.mat", seed=2)
    env = {COURSE_ENV_VAR: str(elsewhere)}
    assert find_course_file(tmp_path / "project", env) == local  # the folder layout wins
    assert find_course_file(tmp_path, env) == elsewhere
    with pytest.raises(FileNotFoundError, match=rf"looked for .*datasets/data.mat and in \${COURSE_ENV_VAR} \(not set\)"):
        find_course_file(tmp_path, {})
    with pytest.raises(FileNotFoundError, match=rf"\${COURSE_ENV_VAR} is set to '.*missing.mat', which is not an existing file"):
        find_course_file(tmp_path, {COURSE_ENV_VAR: str(tmp_path / "missing.mat")})


def test_resolve_data_search_order(tmp_path):
    project = tmp_path / "project"
    local = _synthetic_course_mat(project / "datasets" / "data.mat", n_train=30)
    elsewhere = _synthetic_course_mat(tmp_path / "elsewhere.mat", n_train=25, seed=2)
    env = {COURSE_ENV_VAR: str(elsewhere)}

    found_here = resolve_data(cwd=project, environ=env)
    assert found_here.name == "course" and found_here.X_train.shape == (30, 2)
    assert found_here.source == f"course data from {local}"

    found_by_env = resolve_data(cwd=tmp_path, environ=env)
    assert found_by_env.X_train.shape == (25, 2)
    assert str(elsewhere) in found_by_env.source and f"${COURSE_ENV_VAR}" in found_by_env.source

    with pytest.raises(FileNotFoundError, match=COURSE_ENV_VAR):
        resolve_data(cwd=tmp_path, environ={COURSE_ENV_VAR: str(tmp_path / "gone.mat")})

    fallback = resolve_data(cwd=tmp_path, environ={}, seed=3)
    assert fallback.name == DEFAULT_DATASET
    np.testing.assert_array_equal(fallback.X_train, make_dataset(DEFAULT_DATASET, seed=3).X_train)
    assert "built-in 'field'" in fallback.source and "not set" in fallback.source


def test_resolve_data_names_and_paths(tmp_path):
    circle = resolve_data("circle", cwd=tmp_path, environ={}, n_samples=40, noise=None, seed=1)
    np.testing.assert_array_equal(circle.X_test, make_dataset("circle", n_samples=40, seed=1).X_test)
    path = _write_csv(tmp_path / "pts.csv", "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10)))
    from_file = resolve_data(str(path), test_fraction=0.2, seed=4)
    np.testing.assert_array_equal(from_file.X_test, load_file(path, test_fraction=0.2, seed=4).X_test)
    assert from_file.X_test.shape == (2, 2)
    from_pathlike = resolve_data(path, n_samples=None)
    assert from_pathlike.name == "pts"


def test_resolve_data_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"data must be a built-in data set name \(field, circle.*got 'feild', which is neither"):
        resolve_data("feild", cwd=tmp_path, environ={})
    with pytest.raises(FileNotFoundError, match="missing.npz' does not exist"):
        resolve_data(str(tmp_path / "missing.npz"))
    with pytest.raises(TypeError, match="data must be a built-in data set name .* or a file path; got list"):
        resolve_data([1, 2])
    with pytest.raises(TypeError, match="unknown option\\(s\\) epochs; allowed: n_samples, noise, test_fraction, seed"):
        resolve_data("circle", epochs=3)
    path = _write_csv(tmp_path / "pts.csv", "1,2,0\n3,4,1\n")
    with pytest.raises(ValueError, match="n_samples applies to built-in data sets only; got n_samples=50 with a data file"):
        resolve_data(path, n_samples=50)
    _synthetic_course_mat(tmp_path / "datasets" / "data.mat")
    with pytest.raises(ValueError, match="noise applies to built-in data sets only; got noise=0.2 with the course data"):
        resolve_data(cwd=tmp_path, environ={}, noise=0.2)


# --------------------------------------------------------------------------- points to predict


def test_load_points_with_and_without_labels(tmp_path, course_data_path):
    labelled = _write_csv(tmp_path / "labelled.csv", "x1,x2,label\n0.1,0.2,1\n0.3,-0.1,0\n")
    X, y = load_points(labelled, n_features=2)
    np.testing.assert_array_equal(X, [[0.1, 0.2], [0.3, -0.1]])
    np.testing.assert_array_equal(y, [1.0, 0.0])
    bare = _write_csv(tmp_path / "bare.csv", "0.1,0.2\n0.3,-0.1\n0.5,0.5\n")
    X, y = load_points(bare, n_features=2)
    assert X.shape == (3, 2) and y is None
    np.savez(tmp_path / "points.npz", X=np.ones((4, 2)))
    X, y = load_points(tmp_path / "points.npz")
    assert X.shape == (4, 2) and y is None
    X, y = load_points(course_data_path, n_features=2)
    assert X.shape == (200, 2) and y.shape == (200,)


def test_load_points_bad_input(tmp_path):
    three = _write_csv(tmp_path / "three.csv", "1,2,3,4\n5,6,7,8\n")
    with pytest.raises(ValueError, match=r"three.csv must have 2 feature columns, optionally followed by a label column; got 4"):
        load_points(three, n_features=2)
    np.savez(tmp_path / "nox.npz", A=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"nox.npz must hold an array X \(and optionally y\); found: A"):
        load_points(tmp_path / "nox.npz")
    np.savez(tmp_path / "short.npz", X=np.ones((3, 2)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"y in .*short.npz must be 1-D with one label per row of X"):
        load_points(tmp_path / "short.npz")
    np.savez(tmp_path / "wide.npz", X=np.ones((3, 5)))
    with pytest.raises(ValueError, match=r"X in .*wide.npz must have 2 features \(columns\); got 5"):
        load_points(tmp_path / "wide.npz", n_features=2)
    with pytest.raises(ValueError, match=r"n_features must be an integer >= 1; got 0"):
        load_points(three, n_features=0)
    with pytest.raises(ValueError, match=r"unsupported extension '.json'"):
        load_points(tmp_path / "points.json")
    with pytest.raises(FileNotFoundError, match=r"data file '.*absent.csv' does not exist"):
        load_points(tmp_path / "absent.csv")


# --------------------------------------------------------------------------- big files


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".mat"])
def test_points_read_in_chunks_are_the_points_read_whole(tmp_path, suffix):
    from reglab.datasets.loaders import iter_points, load_points

    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(23, 2)), rng.integers(0, 2, 23)
    y[:2] = (0, 1)
    path = tmp_path / f"points{suffix}"
    if suffix == ".csv":
        np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="x1,x2,label", comments="")
    elif suffix == ".npz":
        np.savez(path, X=X, y=y)
    else:
        scipy.io.savemat(path, {"X": X, "y": y[:, None], "Xval": X, "yval": y[:, None]})
    whole_X, whole_y = load_points(path)
    parts = list(iter_points(path, chunk_rows=5))
    assert [len(part[0]) for part in parts] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), whole_X)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), whole_y)


def test_a_data_file_declaring_arrays_too_big_for_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import reglab.memory

    path = tmp_path / "big.npz"
    np.savez(path, X=np.zeros((1000, 200)), y=np.zeros(1000))  # 1.6 MB of X
    monkeypatch.setattr(reglab.memory, "available_memory", lambda: 2 * 2**20)  # 1 MiB allowed

    def loaded(*args, **kwargs):
        raise AssertionError("read although it does not fit")

    monkeypatch.setattr(np, "load", loaded)
    with pytest.raises(MemoryError, match=rf"data file '{re.escape(str(path))}' declares arrays of 1.5 MiB, more than "
                                          r"the 1.0 MiB allowed \(half the memory available\): its entry 'X' has shape "
                                          r"\(1000, 200\) \(float64\), 1.5 MiB; nothing was read"):
        load_file(path)

