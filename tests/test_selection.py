"""Honest choices: stratified folds, ties shown as ties, the one-standard-error rule, stability of the choice."""

from __future__ import annotations

import numpy as np
import pytest

from reglab.experiments.selection import choose, regularization_order, stability, stratified_folds


@pytest.mark.parametrize("n_folds, seed", [(2, 0), (5, 1), (10, 3)])
def test_folds_are_stratified_disjoint_and_cover_every_point_once(n_folds, seed):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(211) < 0.4, "a", "b")
    folds = stratified_folds(y, n_folds, seed)
    assert folds.shape == y.shape and set(folds.tolist()) == set(range(n_folds))  # every point in exactly one fold
    for label in ("a", "b"):
        per_fold = np.bincount(folds[y == label], minlength=n_folds)
        assert per_fold.max() - per_fold.min() <= 1  # each class dealt evenly
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 1
    assert np.array_equal(stratified_folds(y, n_folds, seed), folds)  # seeded
    assert not np.array_equal(stratified_folds(y, n_folds, seed + 1), folds)


def test_folds_refuse_a_class_too_small_for_them():
    with pytest.raises(ValueError, match="folds=5 needs at least 5 training points of each class; class 1 has 3"):
        stratified_folds(np.array([0] * 20 + [1] * 3), 5, 0)
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        stratified_folds(np.array([0, 1] * 5), 1, 0)


def test_regularization_order_follows_the_declared_directions():
    weak = {"l2": 0.1, "l1": 0.0, "keep_prob": (1.0, 1.0), "weight_decay": 0.0, "max_norm": None}
    assert regularization_order({**weak, "l2": 0.7}) > regularization_order(weak)
    assert regularization_order({**weak, "keep_prob": (0.8, 0.8)}) > regularization_order(weak)
    assert regularization_order({**weak, "max_norm": 2.0}) > regularization_order(weak)
    assert regularization_order({**weak, "l2": 0.7}) > regularization_order({**weak, "keep_prob": (0.5, 0.5)})  # λ first


def _units(n_folds=5, n_seeds=4):
    return [(0, fold, seed) for fold in range(n_folds) for seed in range(n_seeds)]


SETTINGS = {"plain": {"l2": 0.0}, "l2 0.3": {"l2": 0.3}, "l2 0.7": {"l2": 0.7}, "l2 3": {"l2": 3.0}}


def test_a_clear_winner_is_chosen_and_the_others_are_not_tied():
    rng = np.random.default_rng(0)
    units = _units()
    dev = {"plain": {u: 0.80 + 0.01 * rng.standard_normal() for u in units},
           "l2 0.7": {u: 0.90 + 0.01 * rng.standard_normal() for u in units}}
    choice = choose(dev, SETTINGS)
    assert choice.best == choice.chosen == "l2 0.7"
    assert set(choice.tied) == {"l2 0.7"} and not choice.nothing_distinguishable
    assert choice.differences["plain"].interval.mean == pytest.approx(0.10, abs=0.01)


def test_noise_makes_every_configuration_a_tie_and_the_rule_picks_the_most_regularized_within_one_se():
    rng = np.random.default_rng(1)
    units = _units()
    shared = {u: 0.5 + 0.05 * rng.standard_normal() for u in units}  # what a unit gives every configuration
    dev = {name: {u: shared[u] + 0.02 * rng.standard_normal() for u in units} for name in SETTINGS}
    choice = choose(dev, SETTINGS)
    assert choice.nothing_distinguishable and set(choice.tied) == set(SETTINGS)
    means = {k: np.mean(list(v.values())) for k, v in dev.items()}
    within = [k for k in SETTINGS if means[k] >= means[choice.best] - choice.standard_error]
    assert choice.chosen == max(within, key=lambda k: SETTINGS[k]["l2"])


def test_two_configurations_that_are_the_same_model_tie_exactly():
    units = _units()
    same = {u: 0.9 - 0.01 * (u[1] % 3) for u in units}
    dev = {"plain": dict(same), "l2 0.3": dict(same), "l2 3": {u: v - 0.2 for u, v in same.items()}}
    choice = choose(dev, SETTINGS, order=["plain", "l2 0.3", "l2 3"])
    assert choice.best == "plain"  # equal means: the earlier in the grid's order
    difference = choice.differences["l2 0.3"].interval
    assert (difference.mean, difference.low, difference.high) == (0.0, 0.0, 0.0)
    assert choice.is_tied("l2 0.3") and not choice.is_tied("l2 3")
    assert choice.chosen == "l2 0.3"  # as good, and more regularized


def test_stability_over_splits_and_over_bootstrap_resamples():
    rng = np.random.default_rng(2)
    units = [(split, fold, seed) for split in range(3) for fold in range(5) for seed in range(2)]
    dev = {"plain": {u: 0.80 + 0.01 * rng.standard_normal() for u in units},
           "l2 0.7": {u: 0.90 + 0.01 * rng.standard_normal() for u in units}}
    frequency, what = stability(dev, SETTINGS)
    assert what == "3 splits" and frequency == {"plain": 0.0, "l2 0.7": 1.0}
    one_split = {k: {u: v for u, v in d.items() if u[0] == 0} for k, d in dev.items()}
    frequency, what = stability(one_split, SETTINGS, n_resamples=50)
    assert what == "50 bootstrap resamples of the folds and seeds" and frequency["l2 0.7"] == 1.0
    noisy = {k: {u: 0.5 + 0.05 * rng.standard_normal() for u in units if u[0] == 0} for k in SETTINGS}
    frequency, _ = stability(noisy, SETTINGS, n_resamples=200)
    assert sum(frequency.values()) == pytest.approx(1.0) and max(frequency.values()) < 1.0  # noise moves the choice
