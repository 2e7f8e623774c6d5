"""Saved models and run-folder files: round trips, and refusal of anything that is not ours."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import numpy as np
import pytest

import reglab
from reglab.files import atomic_path, folder_mark, staged_directory
from reglab.model import MODEL_FORMAT_VERSION


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=60) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def model(data):
    X, y = data
    config = reglab.TrainConfig(n_iterations=200, l2=0.2, keep_prob=(0.9, 0.7), mask_mode="fresh", seed=5, init="fresh")
    return reglab.fit(X, y, config)


def test_round_trip_is_exact(tmp_path, model, data):
    X, _ = data
    path = model.save(tmp_path / "m.npz")
    loaded = reglab.load_model(path)
    assert loaded.config == model.config
    for a, b in zip(loaded.params.weights + loaded.params.biases, model.params.weights + model.params.biases):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.history.cost, model.history.cost)
    with np.load(path, allow_pickle=False) as npz:  # the documented promise
        assert {"W1", "b1", "W3", "b3", "meta", "classes"} <= set(npz.files)
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*"))


def test_string_labels_survive_a_round_trip(tmp_path, data):
    X, y = data
    labels = np.where(y == 1, "blue", "red")
    model = reglab.fit(X, labels, reglab.TrainConfig(n_iterations=50))
    loaded = reglab.load_model(model.save(tmp_path / "s.npz"))
    assert set(loaded.predict(X)) <= {"blue", "red"}
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def _rewrite(path, target, **changes):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    np.savez(target, **arrays)
    return target


def _meta(path, **changes):
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
    meta.update(changes)
    return np.array(json.dumps(meta))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p, t: t.write_bytes(b"plain text, not a model"), "not a complete .npz"),
        (lambda p, t: t.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "not a complete .npz|not a readable"),
        (lambda p, t: _rewrite(p, t, W2=np.zeros((4, 20))), r"W2 has shape \(4, 20\)"),
        (lambda p, t: _rewrite(p, t, b1=None), "missing array 'b1'"),
        (lambda p, t: _rewrite(p, t, meta=None), "no 'meta'"),
        (lambda p, t: _rewrite(p, t, meta=_meta(p, format_version=MODEL_FORMAT_VERSION + 1)), "format version 2"),
        (lambda p, t: _rewrite(p, t, meta=_meta(p, layer_sizes=[2, 5, 3, 1])), "disagree"),
        (lambda p, t: _rewrite(p, t, W1=np.full((20, 2), np.nan)), "finite"),
        (lambda p, t: _rewrite(p, t, meta=np.array("{not json")), "not JSON"),
        (lambda p, t: np.savez(t, meta=np.array([{"x": 1}], dtype=object)), "object arrays"),
    ],
)
def test_bad_model_files_are_refused(tmp_path, model, make, message):
    good = model.save(tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    make(good, bad)
    with pytest.raises(ValueError, match=message):
        reglab.load_model(bad)


def test_missing_model_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        reglab.load_model(tmp_path / "absent.npz")


def test_predict_checks_the_number_of_features(model):
    with pytest.raises(ValueError, match="2 features"):
        model.predict(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="finite"):
        model.predict(np.array([[0.0, np.nan]]))


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_staged_directory_appears_only_when_complete(tmp_path):
    target = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        with staged_directory(target) as stage:
            (stage / "results.json").write_text("{}")
            assert not target.exists()
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with staged_directory(target) as stage:
        (stage / "report.md").write_text("done")
    assert (target / "report.md").read_text() == "done"
    with pytest.raises(FileExistsError, match="not empty"):
        with staged_directory(target):
            pass


def test_a_failed_write_removes_the_folders_it_created_and_only_those(tmp_path):
    (tmp_path / "kept").mkdir()
    with pytest.raises(RuntimeError):
        with staged_directory(tmp_path / "kept" / "runs" / "day" / "run"):
            raise RuntimeError("interrupted")
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "kept" / "tables" / "out.csv"):
            raise RuntimeError("interrupted")
    assert [p.name for p in tmp_path.rglob("*")] == ["kept"]
    with staged_directory(tmp_path / "kept" / "runs" / "run") as stage:
        (stage / "report.md").write_text("done")
    assert (tmp_path / "kept" / "runs" / "run" / "report.md").is_file()


def test_a_folder_taken_while_the_run_worked_is_kept_and_the_run_gets_the_next_name(tmp_path):
    target = tmp_path / "run"
    (tmp_path / "run-2").mkdir()
    (tmp_path / "run-2" / "theirs.txt").write_text("another run's")
    folder = staged_directory(target)
    with folder as stage:
        (stage / "report.md").write_text("ours")
        target.mkdir()  # another run finishes first
        (target / "report.md").write_text("theirs")
    assert folder.path == tmp_path / "run-3" and folder.requested == target
    assert (target / "report.md").read_text() == "theirs" and (tmp_path / "run-3" / "report.md").read_text() == "ours"
    assert (tmp_path / "run-2" / "theirs.txt").read_text() == "another run's"
    # A folder a run may replace (its own earlier one, by its mark) is replaced; one put there since is kept.
    mark = folder_mark(target)
    with staged_directory(target, replace=mark) as stage:
        (stage / "report.md").write_text("again")
    assert (target / "report.md").read_text() == "again"
    old_mark = folder_mark(target)
    shutil.rmtree(target)
    target.mkdir()
    (target / "report.md").write_text("someone else's")
    folder = staged_directory(target, replace=old_mark, refuse_taken=False)
    with folder as stage:
        (stage / "report.md").write_text("mine")
    assert (target / "report.md").read_text() == "someone else's" and folder.path == tmp_path / "run-4"
    assert not list(tmp_path.glob(".*partial"))


def test_ctrl_c_right_after_the_temporary_file_or_folder_is_made_leaves_nothing(tmp_path, monkeypatch):
    # The moment a Ctrl-C is likeliest to be lost: the temporary name exists, nobody has noted it yet.
    real_mkdir, real_open = os.mkdir, os.open

    def mkdir_then_interrupt(path, *args, **kwargs):
        real_mkdir(path, *args, **kwargs)
        raise KeyboardInterrupt

    def open_then_interrupt(path, flags, *args, **kwargs):
        os.close(real_open(path, flags, *args, **kwargs))
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "mkdir", mkdir_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        with staged_directory(tmp_path / "run"):
            pytest.fail("the block must not start")
    monkeypatch.setattr(os, "mkdir", real_mkdir)
    monkeypatch.setattr(os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "out.txt"):
            pytest.fail("the block must not start")
    monkeypatch.setattr(os, "open", real_open)
    assert list(tmp_path.iterdir()) == []


def test_a_saved_file_is_a_zip_of_plain_arrays(tmp_path, model):
    path = model.save(tmp_path / "m.npz")
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())


def test_standardize_equals_training_on_standardized_points(tmp_path, data):
    X, y = data
    shifted = X * np.array([50.0, 0.02]) + np.array([300.0, -7.0])  # badly scaled features
    config = reglab.TrainConfig(n_iterations=150)
    model = reglab.fit(shifted, y, config, standardize=True, engine="reference")
    by_hand = (shifted - shifted.mean(axis=0)) / shifted.std(axis=0)
    plain = reglab.fit(by_hand, y, config, engine="reference")
    for a, b in zip(model.params.weights, plain.params.weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(model.predict_proba(shifted), plain.predict_proba(by_hand), rtol=1e-13)
    loaded = reglab.load_model(model.save(tmp_path / "std.npz"))
    np.testing.assert_array_equal(loaded.predict_proba(shifted), model.predict_proba(shifted))
    assert loaded.standardized and not plain.standardized


def test_a_constant_feature_is_only_centred(data):
    X, y = data
    X = np.column_stack([X[:, 0], np.full(len(X), 4.0)])
    model = reglab.fit(X, y, reglab.TrainConfig(n_iterations=20), standardize=True)
    assert model.input_scale[1] == 1.0 and np.all(np.isfinite(model.predict_proba(X)))


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(input_scale=None), "only one of"),
        (dict(input_scale=np.array([1.0, -2.0])), "positive"),
        (dict(input_mean=np.array([1.0, 2.0, 3.0])), "input_mean must hold 2"),
    ],
)
def test_bad_standardisation_in_a_model_file(tmp_path, data, changes, message):
    X, y = data
    model = reglab.fit(X, y, reglab.TrainConfig(n_iterations=20), standardize=True)
    good = model.save(tmp_path / "good.npz")
    with pytest.raises(ValueError, match=message):
        reglab.load_model(_rewrite(good, tmp_path / "bad.npz", **changes))


def test_a_model_file_declaring_arrays_too_big_for_memory_is_refused_before_it_is_read(tmp_path, model, monkeypatch):
    import reglab.memory

    path = model.save(tmp_path / "m.npz")
    monkeypatch.setattr(reglab.memory, "available_memory", lambda: 2 * 512)  # 512 bytes allowed
    with pytest.raises(MemoryError, match=r"model file '.*m\.npz' declares arrays of .* more than the 512 bytes "
                                          r"allowed .* its entry '.*' has shape"):
        reglab.load_model(path)

