"""Checks of user input, in one place.

Every public entry (library functions, loaders, the CLI, the course layer) validates through
these helpers, so that every message names the parameter, what is allowed and what was given.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "ParameterError",
    "check_bool",
    "check_real",
    "check_int",
    "check_choice",
    "check_keep_prob",
    "check_layer_sizes",
    "check_X",
    "check_X_y",
    "binary_labels",
    "check_class_labels",
    "not_whole_labels",
]


class ParameterError(Exception):
    """A user error about one named parameter (``parameter``, e.g. ``"keep_prob[1]"``).

    Raised as ``ParameterValueError`` (a ``ValueError``) or ``ParameterTypeError`` (a ``TypeError``), so
    that callers such as the command line can say which of their own options it is about.
    """

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


class ParameterValueError(ParameterError, ValueError):
    """A parameter's value is not allowed."""


class ParameterTypeError(ParameterError, TypeError):
    """A parameter's value is of a type that is not allowed."""


def describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_real(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """A finite real number within the given bounds, returned as float."""
    lo = "" if low is None else ("[" if low_inclusive else "(") + f"{low:g}"
    hi = "" if high is None else f"{high:g}" + ("]" if high_inclusive else ")")
    if low is not None and high is not None:
        allowed = f"a real number in {lo}, {hi}"
    elif low is not None:
        allowed = f"a real number {'>=' if low_inclusive else '>'} {low:g}"
    elif high is not None:
        allowed = f"a real number {'<=' if high_inclusive else '<'} {high:g}"
    else:
        allowed = "a finite real number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(name, f"{name} must be {allowed}; got {describe(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    ok = math.isfinite(number)
    if ok and low is not None:
        ok = number >= low if low_inclusive else number > low
    if ok and high is not None:
        ok = number <= high if high_inclusive else number < high
    if not ok:
        raise ParameterValueError(name, f"{name} must be {allowed}; got {describe(value)}")
    return number


def check_int(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (not a bool) within the given inclusive bounds."""
    if low is not None and high is not None:
        allowed = f"an integer in [{low}, {high}]"
    elif low is not None:
        allowed = f"an integer >= {low}"
    else:
        allowed = "an integer"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterTypeError(name, f"{name} must be {allowed}; got {describe(value)}")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ParameterValueError(name, f"{name} must be {allowed}; got {describe(value)}")
    return number


def check_seeds(seeds) -> Sequence[int]:
    """At least one seed, each in [0, 2**32 - 1] and given once, as a tuple; a range stays a range.

    A repeated seed would repeat a run and narrow an interval over seeds. A range is checked at its
    ends (its seeds are distinct), so that a grid of many seeds is never listed.
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ParameterTypeError("seeds", f"seeds must be a sequence of seeds, such as range(5); got {type(seeds).__name__}")
    if isinstance(seeds, range) and seeds.step > 0:
        for k in ((0, len(seeds) - 1) if seeds else ()):
            check_int(f"seeds[{k}]", seeds[k], low=0, high=2**32 - 1)
        checked = seeds
    else:
        checked = tuple(check_int(f"seeds[{k}]", seed, low=0, high=2**32 - 1) for k, seed in enumerate(seeds))
        if len(set(checked)) < len(checked):
            repeated = next(seed for seed in checked if checked.count(seed) > 1)
            raise ParameterValueError("seeds", f"seeds must be different (distinct: a repeated seed repeats a run and narrows the interval); "
                             f"{repeated} is given twice")
    if not checked:
        raise ParameterValueError("seeds", "seeds must hold at least one seed; got none")
    return checked


def check_bool(name: str, value) -> bool:
    """True or False (NumPy's booleans too), as a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterTypeError(name, f"{name} must be True or False; got {describe(value)}")
    return bool(value)


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    # Only a str can be a choice: `in` on an array or a dict would compare element-wise or fail.
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ParameterValueError(name, f"{name} must be one of {allowed}; got {describe(value)}")
    return value


def check_keep_prob(value, n_hidden: int) -> tuple[float, ...]:
    """One keep_prob per hidden layer, each in (0, 1]; a single number applies to all."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (numbers.Real, Sequence, np.ndarray)):
        raise ParameterTypeError("keep_prob", f"keep_prob must be a number in (0, 1] or one such number per hidden layer; "
            f"got {describe(value)}"
        )
    if isinstance(value, numbers.Real):
        return (check_real("keep_prob", value, low=0, high=1, low_inclusive=False),) * n_hidden
    values = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
    if len(values) != n_hidden:
        raise ParameterValueError("keep_prob", f"keep_prob must be one number or {n_hidden} numbers (one per hidden layer); "
            f"got {len(values)}: {describe(value)}"
        )
    return tuple(
        check_real(f"keep_prob[{i}]", v, low=0, high=1, low_inclusive=False)
        for i, v in enumerate(values)
    )


def check_layer_sizes(name: str, value) -> tuple[int, ...]:
    """A non-empty sequence of integers >= 1."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    ):
        raise ParameterTypeError(name, f"{name} must be a sequence of integers >= 1; got {describe(value)}")
    sizes = tuple(value)
    if not sizes:
        raise ParameterValueError(name, f"{name} must hold at least one layer size; got {describe(value)}")
    return tuple(check_int(f"{name}[{i}]", s, low=1) for i, s in enumerate(sizes))


def check_X(X, *, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """A finite, non-empty 2-D float array (n_samples, n_features)."""
    try:
        array = np.asarray(X)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{name} must be a 2-D array of numbers; got {describe(X)}") from error
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == bool
    ):
        raise ValueError(f"{name} must hold numbers; got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); got {array.ndim}-D with shape {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}")
    if np.iscomplexobj(array):
        raise ValueError(f"{name} must hold real numbers; got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must hold finite numbers; got {bad} NaN or infinite value(s)")
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(
            f"{name} must have {n_features} features (columns); got {array.shape[1]}"
        )
    return array


def not_whole_labels(classes, name: str = "y") -> str | None:
    """Why labels that are numbers but not whole ones (``{0, 0.5}``) are not classes; None if they are not such.

    scikit-learn calls such a target "continuous" and its classifiers refuse it; reglab's library, command
    line and estimator refuse it alike, with this message.
    """
    values = np.asarray(classes).ravel()
    if values.dtype.kind != "f":
        return None
    fractional = values[values != np.round(values)]
    if not fractional.size:
        return None
    shown = ", ".join(f"{v:g}" for v in fractional[:3]) + (", ..." if fractional.size > 3 else "")
    return (f"{name} must hold class labels, whole numbers or text; got numbers that are not whole ({shown}), as a "
            f"regression target has: write the two classes as 0 and 1, or as text")


def check_class_labels(classes, name: str = "y") -> None:
    """Refuse (ValueError) labels that are numbers but not whole ones: see ``not_whole_labels``."""
    problem = not_whole_labels(classes, name)
    if problem is not None:
        raise ValueError(problem)


def binary_labels(y, *, name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Encode two-class labels as 0/1. Returns (encoded (n,), classes (2,)).

    Labels that are already {0, 1} keep their meaning (1 is the positive class). A single
    class present is accepted only if it is 0 or 1 (e.g. a small test set).
    """
    array = np.asarray(y)
    if array.ndim == 2 and 1 in array.shape:
        array = array.ravel()
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,); got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite labels; got NaN or infinite values")
    classes = np.unique(array)
    check_class_labels(classes, name)
    if classes.size > 2:
        shown = ", ".join(str(c) for c in classes[:5]) + (", ..." if classes.size > 5 else "")
        raise ValueError(f"{name} must hold two classes; got {classes.size}: {shown}")
    numeric = array.dtype.kind in "biuf"
    if numeric and set(classes.tolist()) <= {0, 1}:
        return (array == 1).astype(np.float64), np.array([0, 1])
    if classes.size < 2:
        raise ValueError(
            f"{name} must hold two classes (or labels 0/1); got the single class {classes[0].item()!r}"
        )
    return (array == classes[1]).astype(np.float64), classes


def check_X_y(X, y, *, n_features: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validated (X (n, f) float64, y (n,) float64 in {0, 1})."""
    X = check_X(X, n_features=n_features)
    y, _ = binary_labels(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of samples; got {X.shape[0]} and {y.shape[0]}"
        )
    return X, y
