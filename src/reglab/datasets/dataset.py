"""A two-class data set split into train and test: the ``Dataset`` type and the split sizes.

Both ways of getting a data set build these: the built-in generators (``reglab.datasets``) and
the file readers (``reglab.loaders``). ``Dataset`` is importable from ``reglab.datasets``, where
users look for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..validation import ParameterValueError

__all__ = ["Dataset", "split_sizes"]


@dataclass(frozen=True)
class Dataset:
    """A two-class data set split into train and test.

    Attributes
    ----------
    name : str
        "course", a built-in generator's name, or a file's stem.
    X_train : ndarray of shape (n_train, n_features), float64
    y_train : ndarray of shape (n_train,)
        0/1 as float64 for built-ins and the course's .mat layout; a .csv/.npz file's own labels.
    X_test : ndarray of shape (n_test, n_features), float64
    y_test : ndarray of shape (n_test,)
    source : str
        One human-readable line saying where the data came from.
    """

    name: str
    X_train: np.ndarray = field(repr=False)  # the repr names the data, it does not print it
    y_train: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    source: str

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def classes(self) -> np.ndarray:
        """The two labels, sorted, (2,)."""
        return np.unique(np.concatenate([self.y_train, self.y_test]))

    def to_dict(self) -> dict:
        """JSON-able description (no arrays): name, source, sizes, features, classes."""
        return {
            "name": self.name,
            "source": self.source,
            "n_train": int(self.X_train.shape[0]),
            "n_test": int(self.X_test.shape[0]),
            "n_features": self.n_features,
            "classes": [c.item() for c in self.classes],
        }


def split_sizes(n: int, test_fraction: float, what: str) -> tuple[int, int]:
    """(n_train, n_test) for n points, at least one on each side; ``what`` names the points in the error."""
    n_test = int(round(n * test_fraction))
    if not 1 <= n_test <= n - 1:
        raise ParameterValueError(
            "test_fraction",
            f"test_fraction={test_fraction:g} leaves {n_test} test and {n - n_test} training points "
            f"from {what}; choose a test_fraction that leaves at least one point on each side"
        )
    return n - n_test, n_test
