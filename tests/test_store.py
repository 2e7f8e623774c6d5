"""The SQLite results store: keys, round trips, resuming, CSV, crash safety, and refusing foreign files."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import reglab
import reglab.experiments.store
import reglab.experiments.sweep
from reglab.experiments.store import (
    STORE_SCHEMA_VERSION,
    ResultStore,
    config_key,
    dataset_fingerprint,
    result_row,
)

from .store_locks import hold_lock, release


def _toy_dataset(**changes):
    """A duck-typed data set (reglab.datasets.Dataset has these attributes)."""
    arrays = dict(
        X_train=np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
        y_train=np.array([0, 1, 1]),
        X_test=np.array([[6.0, 7.0], [8.0, 9.5]]),
        y_test=np.array([1, 0]),
    )
    arrays.update(changes)
    return SimpleNamespace(**arrays)


FINGERPRINT = "f" * 64


def _row(key: str, *, batch: int = 0, seed: int = 0, **metrics) -> dict:
    return {
        "key": key,
        "config": {"l2": 0.1 * batch, "seed": seed},
        "dataset": FINGERPRINT,
        "dataset_name": "toy",
        "seed": seed,
        "metrics": {"batch": batch, **metrics},
        "seconds": 0.25,
        "created": "2026-01-01T00:00:00+00:00",
    }


def _snapshot(path: Path) -> tuple:
    """The file's bytes, its modification time and what lies beside it."""
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(p.name for p in path.parent.iterdir())


# --------------------------------------------------------------------------- keys


def test_config_key_is_sha256_of_the_documented_canonical_json():
    # Written out by hand: sorted keys, no spaces, floats by repr, tuples as lists.
    canonical = (
        '{"config":{"early_stopping":false,"hidden_layer_sizes":[20,3],"init":"course","keep_prob":[0.86,0.86],'
        '"l1":0.0,"l2":0.7,"learning_rate":0.3,"mask_mode":"course","max_norm":null,"min_delta":0.0,'
        '"n_iterations":30000,"patience":10,"seed":3,"validation_fraction":0.1,"weight_decay":0.0},"dataset":"abc"}'
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    assert config_key(reglab.TrainConfig(l2=0.7, keep_prob=0.86), "abc") == expected


def test_config_key_is_the_same_in_another_process():
    config = reglab.TrainConfig(l2=0.7, keep_prob=(0.9, 0.5), seed=11, mask_mode="fresh")
    fingerprint = dataset_fingerprint(_toy_dataset())
    script = textwrap.dedent(
        """
        import numpy as np, reglab
        from types import SimpleNamespace
        from reglab.experiments.store import config_key, dataset_fingerprint
        data = SimpleNamespace(X_train=np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]), y_train=np.array([0, 1, 1]),
                               X_test=np.array([[6.0, 7.0], [8.0, 9.5]]), y_test=np.array([1, 0]))
        config = reglab.TrainConfig(l2=0.7, keep_prob=(0.9, 0.5), seed=11, mask_mode="fresh")
        print(dataset_fingerprint(data), config_key(config, dataset_fingerprint(data)))
        """
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == [fingerprint, config_key(config, fingerprint)]


def test_every_setting_and_the_data_change_the_key():
    base = reglab.TrainConfig()
    variants = dict(
        hidden_layer_sizes=(20, 4),
        learning_rate=0.31,
        n_iterations=29999,
        l2=0.7,
        l1=0.01,
        keep_prob=0.86,
        init="fresh",
        mask_mode="fresh",
        seed=4,
        weight_decay=1e-4,
        max_norm=3.0,
        early_stopping=True,
        validation_fraction=0.2,
        patience=5,
        min_delta=1e-3,
    )
    assert set(variants) == set(base.to_dict()), "a new TrainConfig field needs a variant here"
    keys = [config_key(base, "data")] + [config_key(base.replace(**{k: v}), "data") for k, v in variants.items()]
    keys.append(config_key(base, "other data"))
    assert len(set(keys)) == len(keys)
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)


def test_key_equalities_and_differences_follow_the_settings():
    fp = "data"
    assert config_key(reglab.TrainConfig(l2=0.7), fp) != config_key(reglab.TrainConfig(l2=0.70000001), fp)
    # TrainConfig stores one keep_prob per hidden layer, so these are the same setting.
    assert config_key(reglab.TrainConfig(keep_prob=0.86), fp) == config_key(reglab.TrainConfig(keep_prob=(0.86, 0.86)), fp)
    assert config_key(reglab.TrainConfig(keep_prob=0.86), fp) != config_key(reglab.TrainConfig(keep_prob=(0.86, 0.85)), fp)
    assert config_key(reglab.TrainConfig(learning_rate=1), fp) == config_key(reglab.TrainConfig(learning_rate=1.0), fp)
    # A mapping of settings (e.g. decoded from the store) gives the key of its TrainConfig.
    config = reglab.TrainConfig(l2=0.3, keep_prob=(0.9, 0.8), seed=7)
    assert config_key(json.loads(json.dumps(config.to_dict())), fp) == config_key(config, fp)
    assert config_key({"l2": 0.3}, fp) == config_key(reglab.TrainConfig(l2=0.3), fp)


def test_dataset_fingerprint_follows_points_labels_and_split():
    base = dataset_fingerprint(_toy_dataset())
    assert len(base) == 64 and dataset_fingerprint(_toy_dataset()) == base
    # Labels as int or as float are the same data (hashed as float64).
    assert dataset_fingerprint(_toy_dataset(y_train=np.array([0.0, 1.0, 1.0]))) == base
    changed = [
        _toy_dataset(X_train=np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.000000001]])),
        _toy_dataset(y_test=np.array([0, 0])),
        # the same numbers in another shape, and a point moved from test to train
        _toy_dataset(X_test=np.array([[6.0], [7.0], [8.0], [9.5]])),
        _toy_dataset(
            X_train=np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]),
            y_train=np.array([0, 1, 1, 1]),
            X_test=np.array([[8.0, 9.5]]),
            y_test=np.array([0]),
        ),
        _toy_dataset(y_train=np.array(["a", "b", "b"])),
    ]
    # A dev set held out of the training points (as reglab.experiments.sweep.DevSplit has) is part of the data.
    changed.append(_toy_dataset(X_dev=np.array([[1.0, 1.0]]), y_dev=np.array([1])))
    changed.append(_toy_dataset(X_dev=np.array([[1.0, 1.0]]), y_dev=np.array([0])))
    prints = [dataset_fingerprint(d) for d in changed]
    with_dev = dataset_fingerprint(_toy_dataset(), dev_split={"fraction": 0.25, "seed": 0})
    other_dev = dataset_fingerprint(_toy_dataset(dev_split={"fraction": 0.25, "seed": 1}))
    assert len({base, *prints, with_dev, other_dev}) == len(prints) + 3
    # The name is not part of the data.
    assert dataset_fingerprint(_toy_dataset(name="renamed")) == base


def test_key_and_fingerprint_arguments_are_checked():
    with pytest.raises(TypeError, match="config must be a reglab.TrainConfig or a mapping"):
        config_key("l2=0.7", "data")
    with pytest.raises(ValueError, match="unknown training settings"):
        config_key({"lambd": 0.7}, "data")
    with pytest.raises(TypeError, match="dataset_fingerprint must be a non-empty string; got 5"):
        config_key(reglab.TrainConfig(), 5)
    with pytest.raises(ValueError, match="dataset_fingerprint must be a non-empty string"):
        config_key(reglab.TrainConfig(), "")
    with pytest.raises(TypeError, match="dataset must have X_train, y_train, X_test and y_test.*no 'X_test'"):
        dataset_fingerprint(SimpleNamespace(X_train=np.zeros((2, 2)), y_train=np.zeros(2)))
    with pytest.raises(TypeError, match=r"dataset.X_train must hold real numbers or text labels; got dtype complex128"):
        dataset_fingerprint(_toy_dataset(X_train=np.zeros((3, 2), dtype=complex)))
    with pytest.raises(TypeError, match="dev_split must be JSON-able"):
        dataset_fingerprint(_toy_dataset(), dev_split={"fraction": object()})


# --------------------------------------------------------------------------- storing and reading


def test_a_new_store_is_recognisable(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultStore(path) as store:
        assert len(store) == 0 and store.rows() == []
        assert store.meta["format"] == "reglab-results"
        assert store.meta["reglab_version"] == reglab.__version__
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == STORE_SCHEMA_VERSION
        assert raw.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"rglb", "big")
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_a_store_reopens_under_a_name_with_uri_characters(tmp_path):
    path = tmp_path / "my results #1?%20&mode=rw.db"  # checked through a file: URI
    with ResultStore(str(path)) as store:
        store.add_batch([_row("a")])
    with ResultStore(path, create=False) as store:
        assert [r["key"] for r in store.rows()] == ["a"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_rows_round_trip_in_insertion_order(tmp_path):
    config = reglab.TrainConfig(l2=0.7, keep_prob=(0.9, 0.5), seed=11)
    metrics = {"train_accuracy": 198 / 211, "dev_accuracy": None, "test_accuracy": np.float64(0.93), "final_cost": 0.1234567890123}
    first = result_row(config, FINGERPRINT, metrics, dataset_name="course", seconds=5.5, created="2026-05-01T12:00:00+00:00")
    second = _row("b-key", batch=3, seed=2, n_test=np.int64(200))
    with ResultStore(tmp_path / "r.db") as store:
        assert store.add_batch([second]) == 1
        assert store.add_batch([first]) == 1
        rows = store.rows()
    assert [r["key"] for r in rows] == ["b-key", config_key(config, FINGERPRINT)]
    stored = rows[1]
    assert stored["config"] == json.loads(json.dumps(config.to_dict()))
    assert reglab.TrainConfig.from_dict(stored["config"]) == config
    assert stored["metrics"] == {"train_accuracy": 198 / 211, "dev_accuracy": None, "test_accuracy": 0.93, "final_cost": 0.1234567890123}
    assert list(stored["metrics"]) == list(metrics)  # order kept
    assert (stored["seed"], stored["dataset"], stored["dataset_name"]) == (11, FINGERPRINT, "course")
    assert (stored["seconds"], stored["created"]) == (5.5, "2026-05-01T12:00:00+00:00")
    assert rows[0]["metrics"] == {"batch": 3, "n_test": 200} and isinstance(rows[0]["metrics"]["n_test"], int)


def test_adding_the_same_rows_again_inserts_nothing(tmp_path):
    path = tmp_path / "r.db"
    batch = [_row(f"k{i}", seed=i) for i in range(5)]
    with ResultStore(path) as store:
        assert store.add_batch(batch) == 5
        assert store.add_batch(batch) == 0
        # a repeated key inside one batch counts once; a stored key keeps its first values
        assert store.add_batch([_row("new", seed=9), _row("new", seed=9), _row("k0", seed=0, extra=1.0)]) == 1
    with ResultStore(path, create=False) as store:
        assert store.add_batch(batch) == 0
        rows = store.rows()
    assert [r["key"] for r in rows] == ["k0", "k1", "k2", "k3", "k4", "new"]
    assert "extra" not in rows[0]["metrics"]


def test_has_missing_and_dataset_filter(tmp_path):
    keys = [f"key-{i:04d}" for i in range(1200)]  # more than one IN (...) query
    with ResultStore(tmp_path / "r.db") as store:
        store.add_batch([_row(k) for k in keys[::3]])
        other = dict(_row("elsewhere"), dataset="e" * 64)
        store.add_batch([other])
        assert store.has("key-0003") and not store.has("key-0001")
        todo = store.missing(list(reversed(keys)) + ["key-0001"])  # a repeat is listed once
        assert todo == [k for k in reversed(keys) if int(k[4:]) % 3 != 0]
        assert store.missing([]) == []
        assert [r["key"] for r in store.rows(dataset="e" * 64)] == ["elsewhere"]
        assert len(store.rows(dataset=FINGERPRINT)) == 400 and len(store) == 401


def test_a_bad_row_stores_nothing_of_its_batch(tmp_path):
    with ResultStore(tmp_path / "r.db") as store:
        batch = [_row("a"), _row("b"), dict(_row("c"), seed=-1)]
        with pytest.raises(ValueError, match=r"rows\[2\]\['seed'\] must be an integer >= 0; got -1"):
            store.add_batch(batch)
        assert len(store) == 0


@pytest.mark.parametrize(
    "row, error, message",
    [
        ("not a row", TypeError, r"rows\[0\] must be a dict with keys"),
        ({"key": "a"}, ValueError, r"rows\[0\] lacks the fields \['config', 'dataset', 'seed', 'metrics'\]"),
        (dict(_row("a"), accuracy=0.9), ValueError, r"rows\[0\] has unknown fields \['accuracy'\]; allowed:"),
        (dict(_row("a"), key=""), ValueError, r"rows\[0\]\['key'\] must be a non-empty string; got ''"),
        (dict(_row("a"), key=7), TypeError, r"rows\[0\]\['key'\] must be a non-empty string; got 7"),
        (dict(_row("a"), dataset=None), TypeError, r"rows\[0\]\['dataset'\] must be a non-empty string"),
        (dict(_row("a"), dataset_name=3), TypeError, r"rows\[0\]\['dataset_name'\] must be a string"),
        (dict(_row("a"), seed=1.5), TypeError, r"rows\[0\]\['seed'\] must be an integer >= 0; got 1.5"),
        (dict(_row("a"), seed=4), ValueError, r"rows\[0\]\['seed'\] is 4 but its config says seed=0"),
        (dict(_row("a"), config=[1, 2]), TypeError, r"rows\[0\]\['config'\] must be a dict of settings"),
        (dict(_row("a"), config={"l2": float("nan")}), TypeError, r"rows\[0\]\['config'\] must hold JSON-able, finite"),
        (dict(_row("a"), metrics=0.9), TypeError, r"rows\[0\]\['metrics'\] must be a dict"),
        (dict(_row("a"), metrics={"cost": float("inf")}), ValueError, r"\['metrics'\]\['cost'\] must be finite .*use None"),
        (dict(_row("a"), metrics={"cost": [1, 2]}), TypeError, r"\['metrics'\]\['cost'\] must be a number, a string or None"),
        (dict(_row("a"), metrics={"": 1.0}), ValueError, r"\['metrics'\] names must be a non-empty string"),
        (dict(_row("a"), seconds=-1.0), ValueError, r"rows\[0\]\['seconds'\] must be a real number >= 0; got -1.0"),
        (dict(_row("a"), created=20260101), TypeError, r"rows\[0\]\['created'\] must be a non-empty string"),
    ],
)
def test_add_batch_rejects_bad_rows(tmp_path, row, error, message):
    with ResultStore(tmp_path / "r.db") as store:
        with pytest.raises(error, match=message):
            store.add_batch([row])
        assert len(store) == 0


def test_store_arguments_are_checked(tmp_path):
    with pytest.raises(TypeError, match="path must be a file path"):
        ResultStore(3)
    with pytest.raises(TypeError, match="create must be True or False; got 'no'"):
        ResultStore(tmp_path / "a.db", create="no")
    with pytest.raises(ValueError, match="timeout must be a real number >= 0; got -1"):
        ResultStore(tmp_path / "a.db", timeout=-1)
    with pytest.raises(FileNotFoundError, match=r"a\.db' does not exist \(create=False\)"):
        ResultStore(tmp_path / "a.db", create=False)
    with pytest.raises(FileNotFoundError, match="folder .*nowhere.* does not exist"):
        ResultStore(tmp_path / "nowhere" / "a.db")
    with pytest.raises(ValueError, match="is a directory"):
        ResultStore(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no failed call created a file
    store = ResultStore(tmp_path / "a.db")
    with pytest.raises(TypeError, match="rows must be a list of row dicts"):
        store.add_batch(_row("a"))
    with pytest.raises(TypeError, match="key must be a non-empty string; got 5"):
        store.has(5)
    with pytest.raises(TypeError, match="keys must be an iterable of key strings; got 'abc'"):
        store.missing("abc")
    with pytest.raises(TypeError, match=r"keys\[1\] must be a non-empty string; got None"):
        store.missing(["a", None])
    with pytest.raises(TypeError, match="dataset must be a non-empty string"):
        store.rows(dataset=1)
    with pytest.raises(TypeError, match="path must be a file path"):
        store.to_csv(None)
    store.close()
    store.close()
    with pytest.raises(ValueError, match="is closed"):
        store.has("a")


def test_empty_files_become_stores(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    # A SQLite database with a page but no tables is empty as well.
    blank = tmp_path / "paged.db"
    raw = sqlite3.connect(blank)
    raw.execute("PRAGMA page_size = 4096")
    raw.execute("VACUUM")
    raw.close()
    assert blank.stat().st_size > 0
    for path in (empty, blank):
        before = _snapshot(path)
        with pytest.raises(ValueError, match="is an empty file, not a store yet \\(create=False\\)"):
            ResultStore(path, create=False)
        assert _snapshot(path) == before
        with ResultStore(path) as store:
            assert store.add_batch([_row("a")]) == 1
        with ResultStore(path, create=False) as store:
            assert store.missing(["a", "b"]) == ["b"]


# --------------------------------------------------------------------------- CSV


def test_csv_has_a_column_per_setting_and_metric(tmp_path):
    configs = [
        reglab.TrainConfig(l2=0.7, seed=1),
        reglab.TrainConfig(keep_prob=(0.86, 0.5), seed=2),
        reglab.TrainConfig(hidden_layer_sizes=(5, 4, 3), keep_prob=(0.9, 0.8, 0.7), seed=3),
    ]
    metric_sets = [
        {"train_accuracy": 198 / 211, "test_accuracy": 0.93},
        {"train_accuracy": 0.1 + 0.2, "test_accuracy": 0.95, "dev_accuracy": None},
        {"train_accuracy": 1.0, "test_accuracy": 0.5, "engine": "reference"},
    ]
    with ResultStore(tmp_path / "r.db") as store:
        store.add_batch(
            [result_row(c, FINGERPRINT, m, dataset_name="course", seconds=2.0) for c, m in zip(configs, metric_sets)]
        )
        out = store.to_csv(tmp_path / "out" / "results.csv")
    assert out == tmp_path / "out" / "results.csv"
    assert [p.name for p in out.parent.iterdir()] == ["results.csv"]  # no temporary left
    with open(out, newline="") as handle:
        lines = list(csv.reader(handle))
    header, body = lines[0], lines[1:]
    assert len(body) == 3 and len(set(header)) == len(header)
    assert header[:4] == ["key", "dataset_name", "dataset", "seed"]
    assert header[-2:] == ["seconds", "created"]
    for name in ("keep_prob_1", "keep_prob_2", "keep_prob_3", "l2", "hidden_layer_sizes", "train_accuracy",
                 "test_accuracy", "dev_accuracy", "engine"):
        assert name in header
    assert "keep_prob" not in header and header.count("seed") == 1
    table = [dict(zip(header, line)) for line in body]
    assert [t["key"] for t in table] == [config_key(c, FINGERPRINT) for c in configs]
    assert [t["seed"] for t in table] == ["1", "2", "3"]
    assert [t["hidden_layer_sizes"] for t in table] == ["20/3", "20/3", "5/4/3"]
    assert [(t["keep_prob_1"], t["keep_prob_2"], t["keep_prob_3"]) for t in table] == [
        ("1.0", "1.0", ""), ("0.86", "0.5", ""), ("0.9", "0.8", "0.7")
    ]
    assert float(table[0]["train_accuracy"]) == 198 / 211  # full precision
    assert float(table[1]["train_accuracy"]) == 0.1 + 0.2
    assert table[0]["l2"] == "0.7" and table[1]["l2"] == "0.0"
    assert table[1]["dev_accuracy"] == "" and table[0]["dev_accuracy"] == "" and table[0]["engine"] == ""
    assert table[2]["engine"] == "reference" and table[2]["seconds"] == "2.0"
    assert all(t["dataset_name"] == "course" and t["dataset"] == FINGERPRINT for t in table)


def test_csv_of_an_empty_store_is_a_header_and_a_metric_named_like_a_setting_is_kept_apart(tmp_path):
    with ResultStore(tmp_path / "r.db") as store:
        with open(store.to_csv(tmp_path / "empty.csv"), newline="") as handle:
            assert list(csv.reader(handle)) == [["key", "dataset_name", "dataset", "seed", "seconds", "created"]]
        store.add_batch([dict(_row("a", batch=2), metrics={"l2": 5.0, "seed": 1})])
        with open(store.to_csv(tmp_path / "clash.csv"), newline="") as handle:
            header, line = list(csv.reader(handle))
        with open(store.to_csv(tmp_path / "other.csv", dataset="0" * 64), newline="") as handle:
            assert len(list(csv.reader(handle))) == 1  # no row of that data set
    table = dict(zip(header, line))
    assert (table["l2"], table["metric_l2"], table["seed"], table["metric_seed"]) == ("0.2", "5.0", "0", "1")


# --------------------------------------------------------------------------- refusing what is not ours


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(0).randbytes(5000))


def _text(path: Path) -> None:
    path.write_text("key,seed\nabc,1\n")


def _header_then_garbage(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + random.Random(1).randbytes(8000))


def _short(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00\x10\x00")


def _truncated_store(path: Path) -> None:
    with ResultStore(path) as store:
        store.add_batch([_row(f"k{i}", seed=i, padding="x" * 200) for i in range(300)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign(path: Path) -> None:
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    raw.execute("INSERT INTO customers (name) VALUES ('Ada')")
    raw.commit()
    raw.close()


def _foreign_with_meta(path: Path) -> None:
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE reglab_meta (name TEXT, value TEXT)")
    raw.execute("INSERT INTO reglab_meta VALUES ('format', 'something else')")
    raw.commit()
    raw.close()


def _newer_schema(path: Path) -> None:
    ResultStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {STORE_SCHEMA_VERSION + 1}")
    raw.close()


def _results_table_dropped(path: Path) -> None:
    ResultStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE results")
    raw.close()


@pytest.mark.parametrize(
    "make, message",
    [
        (_random_bytes, "is not a SQLite database"),
        (_text, "is not a SQLite database"),
        (_short, "is not a SQLite database"),
        (_header_then_garbage, "is not a readable SQLite database"),
        (_truncated_store, "is a damaged SQLite database|is not a readable SQLite database"),
        (_foreign, r"is a SQLite database of another application.*\(tables: customers\)"),
        (_foreign_with_meta, "is not a reglab results store \\(reglab_meta format is 'something else'"),
        (_newer_schema, f"has schema version {STORE_SCHEMA_VERSION + 1}.*reads schema version {STORE_SCHEMA_VERSION}"),
        (_results_table_dropped, "is a damaged reglab results store .*lacks columns"),
    ],
)
def test_files_that_are_not_our_stores_are_refused_untouched(tmp_path, make, message):
    path = tmp_path / "results.db"
    make(path)
    before = _snapshot(path)
    time.sleep(0.01)  # a write would move the modification time
    for create in (True, False):
        with pytest.raises(ValueError, match=f"results store '.*results.db' ({message}).*left unchanged"):
            ResultStore(path, create=create)
    assert _snapshot(path) == before


def test_a_foreign_database_in_use_is_refused_untouched(tmp_path):
    path = tmp_path / "app.db"
    owner = sqlite3.connect(path, isolation_level=None)
    try:
        owner.execute("PRAGMA journal_mode = WAL")
        owner.execute("CREATE TABLE events (t TEXT)")
        owner.execute("INSERT INTO events VALUES ('x')")  # stays in the -wal file, not checkpointed
        before = path.read_bytes(), path.stat().st_mtime_ns, Path(f"{path}-wal").read_bytes()
        with pytest.raises(ValueError, match=r"another application.*\(tables: events\)"):
            ResultStore(path)
        assert (path.read_bytes(), path.stat().st_mtime_ns, Path(f"{path}-wal").read_bytes()) == before
        assert owner.execute("SELECT * FROM events").fetchall() == [("x",)]
    finally:
        owner.close()


# --------------------------------------------------------------------------- processes

_WRITER = textwrap.dedent(
    """
    import sys, time
    from reglab.experiments.store import ResultStore

    path, n_batches, batch_size, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    keys = [f"b{b:03d}-{i:04d}" for b in range(n_batches) for i in range(batch_size)]
    with ResultStore(path) as store:
        todo = store.missing(keys)
        print("ready", len(todo), flush=True)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            rows = [
                {"key": k, "config": {"l2": int(k[1:4]) / 10, "seed": int(k[5:])}, "dataset": "data",
                 "seed": int(k[5:]), "metrics": {"batch": int(k[1:4]), "test_accuracy": 0.5}}
                for k in chunk
            ]
            store.add_batch(rows)
            time.sleep(pause)
    print("done", flush=True)
    """
)


def _writer(path: Path, n_batches: int, batch_size: int, pause: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), str(n_batches), str(batch_size), str(pause)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_whole_batches(keys: list[str], batch_size: int) -> int:
    """The keys are exactly the first j batches, each complete, none twice. Returns j."""
    assert len(keys) == len(set(keys)), "a key is stored twice"
    assert len(keys) % batch_size == 0, f"{len(keys)} rows is not a whole number of batches of {batch_size}"
    n = len(keys) // batch_size
    expected = {f"b{b:03d}-{i:04d}" for b in range(n) for i in range(batch_size)}
    assert set(keys) == expected
    return n


def test_a_writer_killed_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    path = tmp_path / "sweep.db"
    n_batches, batch_size = 16, 200
    chance = random.Random(2026)
    interrupted = attempts = done = 0
    while interrupted < 3 and attempts < 10:
        attempts += 1
        writer = _writer(path, n_batches, batch_size, 0.03)
        assert writer.stdout.readline().startswith("ready"), writer.stderr.read()
        time.sleep(chance.uniform(0.02, 0.15))
        writer.send_signal(signal.SIGKILL)
        out, err = writer.communicate()
        if writer.returncode != -signal.SIGKILL:  # it finished before the signal
            assert writer.returncode == 0, err
            break
        before = done
        with ResultStore(path, create=False) as store:  # reopens, recovering the write-ahead log
            done = _assert_whole_batches([r["key"] for r in store.rows()], batch_size)
            assert all(r["metrics"]["batch"] == int(r["key"][1:4]) for r in store.rows())
        interrupted += before < done < n_batches  # this run had stored something and was cut short
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    raw.close()
    assert interrupted >= 2, f"only {interrupted} of {attempts} kills landed mid-sweep; the test proved little"
    writer = _writer(path, n_batches, batch_size, 0.0)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert out.split()[-1] == "done"
    with ResultStore(path, create=False) as store:
        assert _assert_whole_batches([r["key"] for r in store.rows()], batch_size) == n_batches
        assert len(store) == n_batches * batch_size
        all_keys = [f"b{b:03d}-{i:04d}" for b in range(n_batches) for i in range(batch_size)]
        assert store.missing(all_keys) == []


def test_readers_never_see_part_of_a_batch(tmp_path):
    path = tmp_path / "shared.db"
    ResultStore(path).close()
    n_batches, batch_size = 20, 100
    writer = _writer(path, n_batches, batch_size, 0.01)
    seen = set()
    with ResultStore(path, create=False) as reader, ResultStore(path, create=False) as counter:
        while True:
            finished = writer.poll() is not None
            seen.add(_assert_whole_batches([r["key"] for r in reader.rows()], batch_size))
            assert len(counter) % batch_size == 0
            if finished:
                break
    _, err = writer.communicate()
    assert writer.returncode == 0, err
    assert max(seen) == n_batches
    assert len(seen - {0, n_batches}) >= 3, f"the reader saw too few intermediate states: {sorted(seen)}"


def test_a_read_only_store_is_read_and_never_written(tmp_path):
    path = tmp_path / "r.db"
    with ResultStore(path) as store:
        store.add_batch([_row("a")])
        assert not store.read_only
    before = _snapshot(path)
    with ResultStore(path, read_only=True) as store:
        assert store.read_only and store.why_read_only == "read-only (opened with read_only=True)"
        assert [r["key"] for r in store.rows()] == ["a"] and store.missing(["a", "b"]) == ["b"]
        with pytest.raises(reglab.experiments.store.ReadOnlyStoreError, match=r"r\.db' is read-only .*rows cannot be added"):
            store.add_batch([_row("b")])
    assert _snapshot(path) == before  # no row, no -wal or -shm file beside it
    with pytest.raises(ValueError, match=r"new\.db' does not exist and cannot be made a store \(read_only=True\)"):
        ResultStore(tmp_path / "new.db", read_only=True)
    assert not (tmp_path / "new.db").exists()
    with pytest.raises(TypeError, match="read_only must be True or False; got 1"):
        ResultStore(path, read_only=1)


# --------------------------------------------------------------------------- created with its first rows


def test_a_deferred_store_is_made_only_with_its_first_rows(tmp_path):
    path = tmp_path / "later.db"
    with ResultStore(path, defer_create=True) as store:
        assert not path.exists() and not store.created
        assert len(store) == 0 and store.rows() == [] and store.missing(["a"]) == ["a"] and not store.has("a")
        with pytest.raises(TypeError, match=r"rows\[0\] must be a dict"):
            store.add_batch(["not a row"])
        assert list(tmp_path.iterdir()) == []  # a refused batch makes nothing
        assert store.add_batch([_row("a")]) == 1
        assert store.created and store.meta["format"] == "reglab-results"
    with ResultStore(path, create=False) as store:
        assert [r["key"] for r in store.rows()] == ["a"]
    with pytest.raises(TypeError, match="defer_create must be True or False; got 'yes'"):
        ResultStore(tmp_path / "x.db", defer_create="yes")


def test_a_deferred_store_that_cannot_store_its_first_rows_leaves_no_file(tmp_path, monkeypatch):
    from reglab.experiments import store as stores

    def full(connection, encoded):  # SQLite's own "database or disk is full", from a page limit
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return real(connection, encoded)

    real = stores.insert_rows
    monkeypatch.setattr(stores, "insert_rows", full)
    path = tmp_path / "new.db"
    with ResultStore(path, defer_create=True) as store:
        with pytest.raises(OSError, match=r"No space left on device \(SQLite: database or disk is full\)") as caught:
            store.add_batch([_row(f"key-{k:04d}", seed=k) for k in range(500)])  # more than the pages there are
        assert caught.value.errno == 28 and caught.value.filename == str(path)
    assert list(tmp_path.iterdir()) == []


def test_a_deferred_store_sees_a_store_another_process_made(tmp_path):
    path = tmp_path / "shared.db"
    with ResultStore(path, defer_create=True) as waiting:
        assert waiting.missing(["a", "b"]) == ["a", "b"]
        writer = _writer(path, 1, 3, 0.0)
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert waiting.created and len(waiting) == 3
        assert waiting.add_batch([_row("b000-0000"), _row("z")]) == 1  # one was the other process's
    with ResultStore(path, create=False) as store:
        assert len(store) == 4


# --------------------------------------------------------------------------- a lock held by another process

def test_a_store_locked_by_another_process_says_so_and_stores_nothing(tmp_path):
    path = tmp_path / "busy.db"
    with ResultStore(path) as store:
        store.add_batch([_row("a")])
    locker = hold_lock(path)
    try:
        with ResultStore(path, timeout=0.05) as store:
            with pytest.raises(reglab.experiments.store.StoreBusyError, match=r"busy\.db' is locked by another process"):
                store.add_batch([_row("b")])
            assert [r["key"] for r in store.rows()] == ["a"]  # readers are not blocked
            release(locker)
            assert store.add_batch([_row("b")]) == 1  # the same call again, once the lock is gone
    finally:
        locker.kill()
        locker.communicate()


def test_rows_are_checked_as_they_are_read_and_a_damaged_one_is_named(tmp_path):
    path = tmp_path / "r.db"
    with ResultStore(path) as store:
        store.add_batch([_row("a"), _row("b", seed=1)])
    raw = sqlite3.connect(path)
    raw.execute("UPDATE results SET seed = 'three' WHERE key = 'b'")
    raw.commit()
    raw.close()
    with ResultStore(path) as store:
        with pytest.raises(reglab.experiments.store.DamagedRowError,
                           match=r"r\.db', row 2 \(key b\): its seed is 'three', not an integer >= 0; the store was "
                                 r"left unchanged: delete that row \(sqlite3 .*DELETE FROM results WHERE rowid = 2"):
            store.rows()
        assert [r["row"] for r in store.rows(dataset="e" * 64)] == []  # rows not read are not checked


def test_a_sweep_waits_for_a_locked_store_and_keeps_its_batch_until_it_is_stored(tmp_path):
    from reglab.datasets import make_dataset
    from reglab.experiments.sweep import SweepSpec, run_sweep

    path = tmp_path / "busy.db"
    spec = SweepSpec(reglab.TrainConfig(n_iterations=50, init="fresh", mask_mode="fresh"), {"l2": (0.0, 0.5)},
                     seeds=(0, 1), folds=1)
    dataset = make_dataset("moons", n_samples=80, seed=1)
    with ResultStore(path) as store:
        store.add_batch([_row("unrelated")])
    locker = hold_lock(path)
    waits = []

    def on_busy(wait):
        waits.append(wait)
        if len(waits) == 3:  # the sweep has been refused the lock three times: let it go
            release(locker)

    try:
        with ResultStore(path, timeout=0.05) as store:
            result = run_sweep(dataset, spec, store, batch_size=4, on_busy=on_busy)
            refits = sum(len(rows) for rows in result.refit_rows.values())  # the chosen and the baseline, per seed
            assert len(store) == 1 + 4 + refits
    finally:
        locker.kill()
        locker.communicate()
    # The first chunk waited for the lock three times and was kept until stored; the refit found it free.
    assert [(w.models, w.stored) for w in waits] == [(4, False)] * 3 + [(4, True)]
    assert all(later.seconds >= earlier.seconds for earlier, later in zip(waits, waits[1:]))
    assert refits in (2, 4) and result.trained == 4 + refits and len(result.rows) == 4


# --------------------------------------------------------------------------- damaged rows


def _sweep_store(tmp_path):
    from reglab.datasets import make_dataset
    from reglab.experiments.sweep import SweepSpec, run_sweep

    spec = SweepSpec(reglab.TrainConfig(n_iterations=30, init="fresh", mask_mode="fresh"), {"l2": (0.0, 0.5)},
                     seeds=(0,))
    dataset = make_dataset("moons", n_samples=80, seed=1)
    path = tmp_path / "sweep.db"
    with ResultStore(path) as store:
        run_sweep(dataset, spec, store)
    return path, lambda store: run_sweep(dataset, spec, store)


@pytest.mark.parametrize(
    "column, value, problem",
    [
        ("metrics", "{}", "its metrics lack 'train_accuracy' (they hold nothing)"),
        ("metrics", '{"train_accuracy": "high", "dev_accuracy": 0.5, "test_accuracy": 0.5}',
         "its metric 'train_accuracy' is 'high', not an accuracy in [0, 1]"),
        ("metrics", "not json", "its metrics is not JSON (Expecting value: line 1 column 1 (char 0))"),
        ("metrics", '{"dev_accuracy": NaN}', "its metric 'dev_accuracy' is nan, not a finite number, a text or null"),
        ("config", '{"l2": -1}', "its config is not a valid configuration (l2 must be a real number >= 0; got -1)"),
        ("config", "[1, 2]", "its config is '[1, 2]', not a JSON object"),
        ("seed", "'three'", "its seed is 'three', not an integer >= 0"),
        ("seconds", "'slow'", "its seconds is 'slow', not a number >= 0"),
        ("config", "json_set(config, '$.l1', 0.25)", "its key is not the key of its config and data set"),
    ],
)
def test_a_damaged_row_is_named_with_its_store_its_row_and_what_is_wrong(tmp_path, column, value, problem):
    path, sweep_again = _sweep_store(tmp_path)
    raw = sqlite3.connect(path)
    rowid, key = raw.execute("SELECT rowid, key FROM results ORDER BY rowid DESC LIMIT 1").fetchone()
    raw.execute(f"UPDATE results SET {column} = {value if value.startswith(('json', chr(39))) else repr(value)} "
                f"WHERE rowid = {rowid}")
    raw.commit()
    raw.close()
    before = _snapshot(path)
    with ResultStore(path) as store, pytest.raises(reglab.experiments.store.DamagedRowError) as caught:
        sweep_again(store)
    message = str(caught.value)
    assert message.startswith(f"results store {str(path)!r}, row {rowid} (key {key}): {problem}"), message
    assert message.endswith(f"the store was left unchanged: delete that row (sqlite3 {str(path)!r} \"DELETE FROM "
                            f"results WHERE rowid = {rowid}\") to train it again, or use another store")
    assert isinstance(caught.value, ValueError)
    assert _snapshot(path)[0] == before[0]


def test_a_sweep_refuses_a_damaged_row_before_training_anything(tmp_path, monkeypatch):
    import reglab.experiments.chunks as chunks

    path, sweep_again = _sweep_store(tmp_path)
    raw = sqlite3.connect(path)
    raw.execute("UPDATE results SET metrics = '{}' WHERE rowid = 1")
    raw.execute("DELETE FROM results WHERE rowid = 2")  # a model the sweep would train again
    raw.commit()
    raw.close()

    def trained(*args, **kwargs):
        raise AssertionError("trained before the damaged row was seen")

    monkeypatch.setattr(chunks, "fit_many", trained)
    with ResultStore(path) as store, pytest.raises(reglab.experiments.store.DamagedRowError, match="row 1 "):
        sweep_again(store)
