"""Choosing a configuration honestly: stratified folds, ties shown as ties, the one-standard-error rule.

A sweep measures every configuration on the same units: (split, fold, seed) triples, the same
data and the same initial draws for every configuration. ``choose`` compares configurations on
those units in pairs:

- the best is the configuration with the highest mean dev accuracy;
- a configuration is *tied* with the best when the interval of their paired differences
  (``reglab.stats.paired_difference``) includes zero: the units cannot tell them apart. The intervals
  are 95% together over the comparisons with the best (Bonferroni: each at 1 - 0.05 / (k - 1) for k
  configurations): the best is picked for being high, and k - 1 separate 95% intervals would let
  one configuration in twenty look distinguishable from it by chance even when nothing is;
- the chosen one follows the one-standard-error rule: among the configurations whose mean is
  within one standard error of the best's mean, the most regularized (``regularization_order``);
- nothing is distinguishable when every configuration is tied with the best.

``stability`` says how often each configuration would be chosen had the units been other ones:
over the splits (fold assignments drawn with other split seeds) when there are several, else over
bootstrap resamples of the units.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..settings import SETTINGS
from ..stats import Difference, paired_difference
from ..validation import ParameterValueError, check_int

__all__ = ["stratified_folds", "regularization_order", "Choice", "choose", "stability", "ONE_SE_RULE", "FAMILY_ERROR"]

#: The chance, over all the comparisons with the best together, of calling a tie a difference.
FAMILY_ERROR = 0.05

ONE_SE_RULE = (
    "the most regularized configuration whose mean dev accuracy is within one standard error of the best's "
    "(the one-standard-error rule; more regularized: a larger λ, then a larger L1 strength, then a smaller keep_prob, "
    "then a larger weight decay, then a smaller max-norm)"
)


def stratified_folds(y, n_folds: int, seed: int) -> np.ndarray:
    """Fold of each point, (n,) ints in [0, n_folds): stratified by class, seeded, disjoint and covering every point.

    Within each class the points are shuffled (``np.random.default_rng(seed)``) and dealt to the folds in turn,
    so every fold holds each class's points in about the class's share.
    """
    y = np.asarray(y)
    n_folds = check_int("folds", n_folds, low=2)
    seed = check_int("split_seed", seed, low=0)
    rng = np.random.default_rng(seed)
    folds = np.empty(y.size, dtype=int)
    offset = 0
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if members.size < n_folds:
            raise ParameterValueError("folds", f"folds={n_folds} needs at least {n_folds} training points of each "
                                      f"class; class {np.asarray(label).item()!r} has {members.size}: use fewer folds")
        rng.shuffle(members)
        folds[members] = (np.arange(members.size) + offset) % n_folds  # the classes continue the deal, not restart it
        offset += members.size
    return folds


def regularization_order(settings: Mapping) -> tuple:
    """A key that sorts settings from least to most regularized (``ONE_SE_RULE`` says how)."""
    key = []
    for declared in SETTINGS:
        if declared.stronger is None or declared.name not in settings:
            continue
        value = settings[declared.name]
        if value is None:  # max-norm off: the least constrained
            value = np.inf
        value = float(np.mean(value)) if isinstance(value, (tuple, list)) else float(value)
        key.append(value if declared.stronger == "larger" else -value)
    return tuple(key)


@dataclass(frozen=True)
class Choice:
    """What the dev set says about a grid.

    ``best``, ``chosen`` and the keys of ``tied`` are configuration keys (as given to ``choose``);
    ``tied[key]`` is the paired difference best − key (the best is tied with itself: exactly 0).
    """

    best: Hashable
    chosen: Hashable
    tied: dict
    differences: dict  # key -> Difference (best - key), for every configuration
    standard_error: float  # of the best's mean dev accuracy
    nothing_distinguishable: bool

    def is_tied(self, key) -> bool:
        return key in self.tied


def _chosen(values: np.ndarray, rank: Sequence[int]) -> tuple[int, int, float]:
    """(best, chosen, standard error of the best) of values (configs, units); ``rank[i]``: config i's place from
    the most regularized (0) down, grid order breaking ties."""
    means = values.mean(axis=1)  # (configs,)
    best = int(np.argmax(means))  # the first of equal means
    n = values.shape[1]
    se = float(values[best].std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    within = np.flatnonzero(means >= means[best] - se - 1e-12)
    return best, int(min(within, key=lambda k: rank[k])), se


def _ranks(keys: Sequence[Hashable], settings: Mapping[Hashable, Mapping]) -> list[int]:
    """Each key's place in the order of choice: the most regularized first, then the earlier in the grid."""
    order = sorted(range(len(keys)), key=lambda i: (tuple(-v for v in regularization_order(settings[keys[i]])), i))
    rank = [0] * len(keys)
    for place, i in enumerate(order):
        rank[i] = place
    return rank


def _table(dev, keys) -> tuple[list, np.ndarray]:
    """The units every configuration has, and the dev accuracies on them, (configs, units)."""
    units = sorted(set.intersection(*(set(dev[k]) for k in keys)), key=repr)
    if not units:
        raise ValueError("the configurations share no unit (split, fold, seed) to be compared on")
    return units, np.array([[dev[k][u] for u in units] for k in keys], dtype=float)


def choose(dev: Mapping[Hashable, Mapping[Hashable, float]], settings: Mapping[Hashable, Mapping],
           order: Sequence[Hashable] | None = None) -> Choice:
    """The best, the ties and the chosen configuration from paired dev accuracies.

    Parameters
    ----------
    dev : mapping of key to (mapping of unit to accuracy)
        For each configuration, its dev accuracy on each unit (e.g. (split seed, fold, seed)); the
        configurations are compared on the units they all have.
    settings : mapping of key to settings
        Each configuration's settings (for ``regularization_order``).
    order : sequence of keys, optional
        The grid's order, which breaks remaining ties (the earlier first). Default: ``dev``'s order.
    """
    keys = list(dev) if order is None else [k for k in order if k in dev]
    if not keys:
        raise ValueError("dev must hold at least one configuration; got none")
    _, values = _table(dev, keys)
    best, chosen, se = _chosen(values, _ranks(keys, settings))
    level = 1 - FAMILY_ERROR / max(1, len(keys) - 1)  # Bonferroni over the comparisons with the best
    differences: dict[Hashable, Difference] = {k: paired_difference(values[best], values[i], level)
                                               for i, k in enumerate(keys)}
    tied = {k: d for k, d in differences.items() if not d.distinguishable}
    return Choice(keys[best], keys[chosen], tied, differences, se, nothing_distinguishable=len(tied) == len(keys))


def stability(dev: Mapping[Hashable, Mapping[tuple, float]], settings: Mapping[Hashable, Mapping],
              order: Sequence[Hashable] | None = None, *, n_resamples: int = 500,
              seed: int = 0) -> tuple[dict, str]:
    """How often each configuration would be chosen on other units: ({key: fraction}, what was resampled).

    Units are tuples whose first item is the split (the split seed of the fold assignment). With
    several splits, each split's units choose on their own; with one, ``n_resamples`` bootstrap
    resamples of the units (drawn with replacement, seeded) each choose.
    """
    keys = list(dev) if order is None else [k for k in order if k in dev]
    units, values = _table(dev, keys)
    rank = _ranks(keys, settings)
    splits = sorted({u[0] for u in units}, key=repr)
    counts = np.zeros(len(keys))
    if len(splits) > 1:
        for split in splits:
            mine = [j for j, u in enumerate(units) if u[0] == split]
            counts[_chosen(values[:, mine], rank)[1]] += 1
        total, what = len(splits), f"{len(splits)} splits"
    else:
        rng = np.random.default_rng(seed)
        for _ in range(n_resamples):
            counts[_chosen(values[:, rng.integers(0, len(units), len(units))], rank)[1]] += 1
        total, what = n_resamples, f"{n_resamples} bootstrap resamples of the folds and seeds"
    return {k: counts[i] / total for i, k in enumerate(keys)}, what
