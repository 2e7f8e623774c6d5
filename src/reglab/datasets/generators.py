"""Built-in data sets: TensorFlow Playground's four, moons, and ``field``, the default.

Every generator is deterministic for a seed (``np.random.default_rng(seed)``, never the global
generator) and returns a ``Dataset`` split into train and test points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..validation import check_choice, check_int, check_real
from .dataset import Dataset, split_sizes

__all__ = ["GENERATORS", "GENERATOR_DEFAULTS", "DEFAULT_DATASET", "make_dataset"]

DEFAULT_DATASET = "field"
MAX_SAMPLES = 1_000_000


# --------------------------------------------------------------------------- generators

Draw = Callable[[np.random.Generator, int, int, float], tuple[np.ndarray, ...]]


class _Generator(NamedTuple):
    summary: str
    n_samples: int
    noise: float
    test_fraction: float
    draw: Draw  # (rng, n_train, n_test, noise) -> X_train, y_train, X_test, y_test


def _pooled(draw_points: Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]) -> Draw:
    """Draw all points from one distribution, then split them at random."""

    def draw(rng, n_train, n_test, noise):
        X, y = draw_points(rng, n_train + n_test, noise)
        order = rng.permutation(n_train + n_test)
        test, train = order[:n_test], order[n_test:]
        return X[train], y[train], X[test], y[test]

    return draw


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _circle(rng, n, noise):
    """TensorFlow Playground's circle: label 1 inside radius 2.5 (judged after noise)."""
    n_in, n_out = _halves(n)
    radius = np.concatenate([rng.uniform(0, 2.5, n_in), rng.uniform(3.5, 5, n_out)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])  # (n, 2)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    y = (np.hypot(*(X + jitter).T) < 2.5).astype(np.float64)
    return X, y


def _xor(rng, n, noise):
    """TensorFlow Playground's xor: label 1 where (x + e_x)(y + e_y) >= 0."""
    X = rng.uniform(-5, 5, (n, 2))
    X = X + np.where(X > 0, 0.3, -0.3)  # keep points 0.3 away from the axes
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    y = (np.prod(X + jitter, axis=1) >= 0).astype(np.float64)
    return X, y


def _gauss(rng, n, noise):
    """TensorFlow Playground's gauss: label 1 around (2, 2), 0 around (-2, -2)."""
    n_pos, n_neg = _halves(n)
    std = math.sqrt(0.5 + 7 * noise)  # the Playground's variance is 0.5 + 7 * noise
    centers = np.repeat([[2.0, 2.0], [-2.0, -2.0]], [n_pos, n_neg], axis=0)
    X = centers + rng.normal(0, std, (n, 2))
    y = np.repeat([1.0, 0.0], [n_pos, n_neg])
    return X, y


def _spiral(rng, n, noise):
    """TensorFlow Playground's spiral: two arms, label 1 on the arm with delta = 0."""
    parts = []
    for label, delta, count in zip((1.0, 0.0), (0.0, np.pi), _halves(n)):
        i = np.arange(count)
        radius = 5 * i / count
        t = 1.75 * 2 * np.pi * i / count + delta
        points = np.column_stack([radius * np.sin(t), radius * np.cos(t)])
        parts.append((points + rng.uniform(-1, 1, (count, 2)) * noise, np.full(count, label)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _moons(rng, n, noise):
    """Two interleaving half circles (as scikit-learn's make_moons); label 1 on the lower one."""
    n_upper, n_lower = _halves(n)
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.concatenate([upper, lower]) + rng.normal(0, noise, (n, 2))
    y = np.repeat([0.0, 1.0], [n_upper, n_lower])
    return X, y


# The "field": a course-like data set. Points fill an ellipse around (-0.15, -0.05); the clean
# label is 1 above a gently curved diagonal. Labels are flipped with a probability that is
# large in a few small "pockets" near the boundary and raised along the whole boundary. Train
# and test are drawn separately, each with its own pockets: what a network learns about the
# training set's pockets is wrong on the test set, which is what overfitting looks like.
_FIELD_CENTER = np.array([-0.15, -0.05])
_FIELD_AXES = np.array([0.47, 0.62])
_FIELD_POCKETS = 8  # per split
_FIELD_POCKET_WIDTH = 0.055  # standard deviation of a pocket's bump
_FIELD_POCKET_PEAK = 3.0  # flip probability at a pocket's centre is noise * 3
_FIELD_EDGE_PEAK = 0.75  # flip probability on the clean boundary is noise * 0.75
_FIELD_EDGE_WIDTH = 0.1
_FIELD_POCKET_BAND = 0.2  # pockets sit within this vertical distance of the boundary


def _field_boundary(x: np.ndarray) -> np.ndarray:
    u = x - _FIELD_CENTER[0]
    return -0.03 + 0.9 * u + 0.4 * u**2


def _in_ellipse(rng, n: int, scale: float = 1.0) -> np.ndarray:
    radius = scale * np.sqrt(rng.uniform(0, 1, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return _FIELD_CENTER + _FIELD_AXES * np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _field_split(rng, n, noise):
    X = _in_ellipse(rng, n)  # (n, 2)
    height = X[:, 1] - _field_boundary(X[:, 0])  # (n,) > 0 above the boundary
    y = (height > 0).astype(np.float64)
    pockets = np.empty((0, 2))
    while pockets.shape[0] < _FIELD_POCKETS:
        candidates = _in_ellipse(rng, 4 * _FIELD_POCKETS, scale=0.9)
        near = np.abs(candidates[:, 1] - _field_boundary(candidates[:, 0])) < _FIELD_POCKET_BAND
        pockets = np.concatenate([pockets, candidates[near]])[:_FIELD_POCKETS]
    squared = np.sum((X[:, None, :] - pockets[None, :, :]) ** 2, axis=-1)  # (n, pockets)
    intensity = _FIELD_POCKET_PEAK * np.exp(-squared / (2 * _FIELD_POCKET_WIDTH**2)).sum(axis=1)
    intensity += _FIELD_EDGE_PEAK * np.exp(-((height / _FIELD_EDGE_WIDTH) ** 2))
    flip = rng.uniform(0, 1, n) < np.minimum(1.0, noise * intensity)
    y[flip] = 1.0 - y[flip]
    return X, y


def _field(rng, n_train, n_test, noise):
    return (*_field_split(rng, n_train, noise), *_field_split(rng, n_test, noise))


_GENERATORS: dict[str, _Generator] = {
    "field": _Generator(
        "course-like: noisy, gently curved diagonal boundary with pockets of flipped labels; "
        "an unregularized net overfits",
        400, 0.15, 0.5, _field,
    ),
    "circle": _Generator("TensorFlow Playground circle: class 1 inside radius 2.5", 400, 0.0, 0.5, _pooled(_circle)),
    "xor": _Generator("TensorFlow Playground xor: class 1 in quadrants I and III", 400, 0.0, 0.5, _pooled(_xor)),
    "gauss": _Generator("TensorFlow Playground gauss: two Gaussian blobs at (2, 2) and (-2, -2)", 400, 0.0, 0.5, _pooled(_gauss)),
    "spiral": _Generator("TensorFlow Playground spiral: two interleaved spiral arms", 400, 0.0, 0.5, _pooled(_spiral)),
    "moons": _Generator("two interleaving half circles (scikit-learn-style moons)", 400, 0.2, 0.5, _pooled(_moons)),
}

#: Built-in data sets: name -> one-line description with the defaults.
GENERATORS: dict[str, str] = {
    name: f"{spec.summary} (default {spec.n_samples} points, noise {spec.noise:g}, test fraction {spec.test_fraction:g})"
    for name, spec in _GENERATORS.items()
}

#: Each built-in set's default options (what ``make_dataset`` uses when one is not given), e.g. for a form.
GENERATOR_DEFAULTS: dict[str, dict] = {
    name: {"n_samples": spec.n_samples, "noise": spec.noise, "test_fraction": spec.test_fraction}
    for name, spec in _GENERATORS.items()
}


def make_dataset(
    name: str,
    *,
    n_samples: int | None = None,
    noise: float | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> Dataset:
    """Generate a built-in data set, split into train and test.

    Parameters
    ----------
    name : str
        One of ``GENERATORS``: "field" (the default data set, course-like), "circle", "xor",
        "gauss", "spiral" (TensorFlow Playground's formulas, coordinates in about [-6, 6]),
        "moons" (scikit-learn-style).
    n_samples : int, optional
        Points in total (train + test), in [4, 1000000]. Default 400 for every generator.
    noise : float, optional
        In [0, 1]. circle/xor: jitter U(-5, 5) * noise before labelling; gauss: variance
        0.5 + 7 * noise; spiral: jitter U(-1, 1) * noise; moons: Gaussian std; field: scale of
        the label-flip probability. Defaults: field 0.15, moons 0.2, the Playground sets 0.
    test_fraction : float, optional
        Share of the points in the test split, in (0, 1). Default 0.5.
    seed : int
        Seed of ``np.random.default_rng``, >= 0. The split is drawn from the same generator.

    Returns
    -------
    Dataset
        X_train (n_train, 2), y_train (n_train,) and X_test (n_test, 2), y_test (n_test,),
        labels 0.0/1.0.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a data set name (one of {', '.join(GENERATORS)}); got {name!r}")
    spec = _GENERATORS[check_choice("name", name, tuple(GENERATORS))]
    n = spec.n_samples if n_samples is None else check_int("n_samples", n_samples, low=4, high=MAX_SAMPLES)
    noise = spec.noise if noise is None else check_real("noise", noise, low=0, high=1)
    fraction = spec.test_fraction if test_fraction is None else check_real(
        "test_fraction", test_fraction, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    seed = check_int("seed", seed, low=0)
    n_train, n_test = split_sizes(n, fraction, f"n_samples={n}")
    rng = np.random.default_rng(seed)
    X_train, y_train, X_test, y_test = spec.draw(rng, n_train, n_test, noise)
    return Dataset(
        name,
        np.ascontiguousarray(X_train, dtype=np.float64),
        np.asarray(y_train, dtype=np.float64),
        np.ascontiguousarray(X_test, dtype=np.float64),
        np.asarray(y_test, dtype=np.float64),
        f"built-in {name!r} ({n} points: {n_train} train / {n_test} test, noise {noise:g}, seed {seed})",
    )
