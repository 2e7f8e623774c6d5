"""``reglab.training.Trainer``: a model trained in segments is the model ``fit`` trains, and settings may change."""

from __future__ import annotations

import numpy as np
import pytest

import reglab
from reglab.datasets import make_dataset
from reglab.training import Trainer

ENGINES = ("reference", "compiled")


@pytest.fixture(scope="module")
def data():
    d = make_dataset("field", n_samples=120, seed=2)
    return d.X_train, d.y_train


def _same_weights(a, b):
    for x, y in zip(a.params.weights + a.params.biases, b.params.weights + b.params.biases):
        np.testing.assert_array_equal(x, y)


CASES = {
    "plain": reglab.TrainConfig(n_iterations=700),
    "fresh dropout, L2, L1": reglab.TrainConfig(n_iterations=700, keep_prob=(0.8, 0.7), mask_mode="fresh", seed=4,
                                                 init="fresh", l2=0.3, l1=0.05),
    "course dropout, max-norm, decay": reglab.TrainConfig(n_iterations=700, keep_prob=0.86, max_norm=2.0,
                                                          weight_decay=0.001),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES)
def test_segments_of_the_same_settings_give_the_weights_of_one_fit(data, engine, case):
    X, y = data
    config = CASES[case]
    whole = reglab.fit(X, y, config, engine=engine)
    trainer = Trainer(X, y, config, engine=engine)
    done = [trainer.run(137), trainer.run(1), trainer.run(300)]
    paused_at = []

    def pause(iteration, params, cost):  # a pause in the middle of a segment, as the web page's
        if iteration >= 600 and not paused_at:
            paused_at.append(iteration)
            return True
        return False

    done.append(trainer.run(watch=pause))
    done.append(trainer.run())
    assert done == [137, 1, 300, paused_at[0] - 438, 700 - paused_at[0]] and paused_at[0] == 600
    assert trainer.iteration == 700 and trainer.remaining == 0 and trainer.run() == 0
    _same_weights(trainer.model(), whole)
    assert trainer.model().accuracy(X, y) == whole.accuracy(X, y)
    np.testing.assert_array_equal(trainer.history.iterations, whole.history.iterations)  # one fit's record points
    np.testing.assert_allclose(trainer.history.cost, whole.history.cost, rtol=1e-13)


@pytest.mark.parametrize("engine", ENGINES)
def test_early_stopping_over_segments_is_early_stopping_in_one_fit(data, engine):
    X, y = data
    config = reglab.TrainConfig(hidden_layer_sizes=(30, 10), n_iterations=20000, early_stopping=True, patience=3,
                                learning_rate=0.5)
    whole = reglab.fit(X, y, config, engine=engine)
    assert 0 <= whole.history.stopped_iteration < 19999  # it did stop early (not vacuous)
    trainer = Trainer(X, y, config, engine=engine)
    assert trainer.model().history.iterations.size == 0  # a model before any training: the initial weights
    paused: set[int] = set()

    def pause(iteration, params, cost):  # pauses on the way, once at each
        if iteration % 1000 == 500 and iteration not in paused:
            paused.add(iteration)
            return True
        return False

    while trainer.remaining:
        trainer.run(250, watch=pause)
    assert paused
    _same_weights(trainer.model(), whole)
    history = trainer.model().history
    assert history.best_iteration == whole.history.best_iteration
    assert history.stopped_iteration == whole.history.stopped_iteration


@pytest.mark.parametrize("engine", ENGINES)
def test_changes_between_segments_act_and_are_recorded(data, engine):
    X, y = data
    config = reglab.TrainConfig(n_iterations=1000, init="fresh", seed=1)
    plain = Trainer(X, y, config, engine=engine)
    plain.run(500)
    changed = Trainer(X, y, config, engine=engine)
    changed.run(500)
    _same_weights(plain.model(), changed.model())
    changed.update(l2=5.0, keep_prob=0.9)
    plain.run()
    changed.run()
    assert changed.changes == [(500, {"l2": 5.0, "keep_prob": (0.9, 0.9)})]
    assert changed.model().config.l2 == 5.0
    assert changed.model().weight_norm() < plain.model().weight_norm()  # larger λ, smaller weights
    assert changed.history.iterations.tolist() == plain.history.iterations.tolist()


def test_only_step_settings_change_and_values_are_checked(data):
    X, y = data
    trainer = Trainer(X, y, reglab.TrainConfig(n_iterations=300))
    trainer.run(200)
    with pytest.raises(ValueError, match="hidden_layer_sizes, seed cannot change during training"):
        trainer.update(seed=2, hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="l2 must be"):
        trainer.update(l2=-1)
    with pytest.raises(ValueError, match="n_iterations must be at least the 200 iterations already done"):
        trainer.update(n_iterations=100)
    trainer.update(n_iterations=400)
    assert trainer.remaining == 200
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        Trainer(X, y, {"l2": 0.7})
