"""Every declared training setting reaches everything made from the declaration.

The test walks ``reglab.settings.SETTINGS``: nothing here names a setting, so a setting added to the
declaration is checked by these tests with no change to them. For each one, a value other than its
default (``other_value``, derived from its kind and bounds) must reach ``TrainConfig``, the command
line (``reglab train --<flag>``: the model it saves has the value; a value out of bounds is refused
naming the option), the scikit-learn estimator (``model_.config``) and both engines (they train the
same model with it, and a different one than without it).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import reglab
from reglab import cli
from reglab.settings import SETTINGS, Setting

DECLARED = pytest.mark.parametrize("declared", SETTINGS, ids=[s.name for s in SETTINGS])


def other_value(declared: Setting):
    """A valid value that is not the default, from the declaration alone."""
    if declared.kind == "flag":
        return not declared.default
    if declared.kind == "choice":
        return next(c for c in declared.choices if c != declared.default)
    if declared.kind == "layers":
        return (5,)
    if declared.kind == "keep_prob":
        return 0.8
    if declared.kind == "int":
        return int(declared.low) + 1
    if declared.low is not None and declared.high is not None:
        return (declared.low + declared.high) / 2
    if declared.default:
        return declared.default / 2
    return (declared.low or 0.0) + 0.5


def out_of_bounds(declared: Setting):
    """A value the declaration refuses (None if every value of its type is allowed)."""
    if declared.kind in ("int", "real") and declared.low is not None:
        return declared.low - 1
    return None


def context(declared: Setting) -> dict:
    """The settings this one needs to act (``Setting.needs``), as TrainConfig values."""
    return dict(declared.needs)


def _as_config_value(declared: Setting, value):
    return reglab.TrainConfig(**{declared.name: value, **context(declared)}).to_dict()[declared.name]


def _flag_value(value) -> list[str]:
    if isinstance(value, tuple):
        return [",".join(str(v) for v in value)]
    return [str(value)]


@DECLARED
def test_the_declaration_is_coherent(declared):
    config = reglab.TrainConfig()
    assert getattr(config, declared.name) == reglab.TrainConfig.__dataclass_fields__[declared.name].default or \
        declared.kind == "keep_prob"  # stored per layer
    assert declared.flag.startswith("--") and declared.help.endswith(".")
    assert other_value(declared) != declared.default
    declared.check(other_value(declared), n_hidden=2)
    assert declared.name in reglab.TrainConfig.__doc__


@DECLARED
def test_train_config_takes_and_checks_it(declared):
    value = other_value(declared)
    config = reglab.TrainConfig(**{declared.name: value, **context(declared)})
    assert getattr(config, declared.name) == _as_config_value(declared, value)
    assert reglab.TrainConfig.from_dict(config.to_dict()) == config
    bad = out_of_bounds(declared)
    if bad is not None:
        with pytest.raises(ValueError, match=rf"^{declared.name} must be .*; got {bad!r}"):
            reglab.TrainConfig(**{declared.name: bad})


@DECLARED
def test_the_command_line_takes_it(declared, tmp_path, capsys):
    value = other_value(declared)
    options = [] if declared.kind == "flag" and value is False else [declared.flag]
    if declared.kind != "flag":
        options += _flag_value(value)
    for name, needed in declared.needs:
        options += [reglab.settings.setting(name).flag] + ([] if isinstance(needed, bool) else _flag_value(needed))
    iterations = [] if declared.name == "n_iterations" else ["--iterations", "120"]
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "moons", *iterations, *options, "--out", str(out)]) == 0, capsys.readouterr().err
    saved = json.loads((out / "results.json").read_text())["models"][0]["config"]
    expected = _as_config_value(declared, value)
    assert saved[declared.name] == (list(expected) if isinstance(expected, tuple) else expected)
    assert reglab.load_model(out / "model.npz").config.to_dict()[declared.name] == expected
    bad = out_of_bounds(declared)
    if bad is not None:
        capsys.readouterr()
        assert cli.main(["train", "--data", "moons", "--iterations", "10", declared.flag, str(bad),
                         "--out", str(tmp_path / "bad")]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"reglab: error: Invalid value for {declared.flag}: {declared.name} must be"), error
        assert not (tmp_path / "bad").exists()


@DECLARED
def test_the_estimator_takes_it(declared):
    from sklearn.base import clone

    from reglab.sklearn import RegularizedMLPClassifier

    value = other_value(declared)
    parameters = {declared.estimator_name: value}
    for name, needed in declared.needs:
        parameters[reglab.settings.setting(name).estimator_name] = needed
    if declared.name != "n_iterations":
        parameters["max_iter"] = 120
    estimator = RegularizedMLPClassifier(**parameters)
    assert clone(estimator).get_params()[declared.estimator_name] == value
    X, y = reglab.datasets.make_dataset("moons", seed=1).X_train, reglab.datasets.make_dataset("moons", seed=1).y_train
    model = estimator.fit(X, y).model_
    assert getattr(model.config, declared.name) == _as_config_value(declared, value)
    bad = out_of_bounds(declared)
    if bad is not None:
        with pytest.raises(ValueError, match=f"The '{declared.estimator_name}' parameter"):
            RegularizedMLPClassifier(**{declared.estimator_name: bad}).fit(X, y)


def _noisy_problem():
    """Few noisy points of a curved boundary: the held-out cost falls, then rises within a few hundred steps,
    so that every early-stopping setting changes where training stops."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 2))
    y = ((X[:, 0] * X[:, 1] + 0.2 * rng.standard_normal(60)) > 0).astype(float)
    return X, y


@DECLARED
def test_both_engines_train_it_alike_and_it_changes_the_model(declared):
    X, y = _noisy_problem()
    base = dict(n_iterations=400, learning_rate=0.5, init="fresh", seed=1, **context(declared))
    changed = reglab.TrainConfig(**{**base, declared.name: other_value(declared)})
    unchanged = reglab.TrainConfig(**base)
    if changed == unchanged:  # the base already sets its other value (init, seed): compare with its default
        unchanged = reglab.TrainConfig(**{**base, declared.name: declared.default})
    models = {engine: reglab.fit_many(X, y, [changed, unchanged], engine=engine, record_every=20)
              for engine in ("reference", "compiled")}
    for reference, compiled in zip(models["reference"], models["compiled"]):
        for a, b in zip(reference.params.weights + reference.params.biases, compiled.params.weights + compiled.params.biases):
            if a.shape == b.shape:
                np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(reference.history.iterations, compiled.history.iterations)
    with_it, without_it = models["reference"]
    same_weights = all(a.shape == b.shape and np.array_equal(a, b)
                       for a, b in zip(with_it.params.weights, without_it.params.weights)) and \
        len(with_it.params.weights) == len(without_it.params.weights)
    same_history = all(np.array_equal(getattr(with_it.history, f), getattr(without_it.history, f))
                       for f in ("iterations", "cost", "best_iteration", "stopped_iteration"))
    assert not (same_weights and same_history), f"{declared.name}={other_value(declared)!r} changed nothing"
