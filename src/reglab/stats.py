"""Summaries of repeated measurements: a mean with its 95% confidence interval, and paired differences.

Intervals are Student's t intervals: the values are treated as independent draws (seeds, folds).
Two sets of measurements taken on the same seeds (and folds) are compared through their paired
differences, which removes what the two share (the split, the initialisation) from the spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "mean_interval", "Difference", "paired_difference"]


@dataclass(frozen=True)
class Interval:
    """Mean of n values with a two-sided confidence interval [low, high]."""

    mean: float
    low: float
    high: float
    n: int
    level: float = 0.95
    standard_error: float = 0.0  # of the mean: the sample standard deviation / sqrt(n); 0 for one value

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:.4f} (n=1)"
        if not np.isclose(self.mean - self.low, self.high - self.mean, rtol=1e-9, atol=1e-12):  # cut at a bound
            return f"{self.mean:.4f} ({self.level:.0%}: {self.low:.4f} to {self.high:.4f})"
        return f"{self.mean:.4f} ± {self.half_width:.4f}"


def mean_interval(values, level: float = 0.95, bounds: tuple[float, float] | None = None) -> Interval:
    """Mean with Student's t interval (the values are treated as independent draws, e.g. seeds).

    One value gives a zero-width interval at that value (n = 1 says there is no spread to show).
    ``bounds`` (low, high), e.g. (0, 1) for accuracies, cuts the interval to the values that can
    occur: with few seeds a t interval can reach past them.
    """
    from scipy.special import stdtrit  # Student t quantile; lighter to import than scipy.stats

    data = np.asarray(values, dtype=float).ravel()
    if data.size == 0:
        raise ValueError("values must hold at least one number; got none")
    if not np.all(np.isfinite(data)):
        raise ValueError("values must be finite")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    mean = float(np.mean(data))
    if data.size < 2:
        return Interval(mean, mean, mean, 1, level)
    sem = float(np.std(data, ddof=1)) / np.sqrt(data.size)
    half = float(stdtrit(data.size - 1, 0.5 + level / 2)) * sem
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Interval(mean, low, high, int(data.size), level, sem)


@dataclass(frozen=True)
class Difference:
    """The mean of paired differences a - b with its confidence interval, and what it lets a reader say."""

    interval: Interval

    @property
    def distinguishable(self) -> bool:
        """Whether the interval excludes zero. One pair, or pairs whose differences are all the same (no spread to
        judge by: accuracies are counts, and a few seeds often differ by the same point), cannot tell."""
        i = self.interval
        return i.n >= 2 and i.standard_error > 0 and (i.low > 0 or i.high < 0)

    def describe(self, a: str, b: str, *, unit: str = "points", scale: float = 100.0, where: str = "") -> str:
        """E.g. ``"L2 - plain: +1.2 points, 95% interval -0.3 to +2.7: not distinguishable on this test set"``."""
        i = self.interval
        signed = lambda value: f"{scale * value:+.1f}".replace("-", "−")  # noqa: E731  (a minus sign, not a hyphen)
        text = f"{a} − {b}: {signed(i.mean)} {unit}"
        if i.n < 2:
            return text + " (one pair: no interval)"
        if i.standard_error == 0 and i.mean != 0:
            return text + f" in each of {i.n} pairs: no spread to judge by, not distinguishable {where}".rstrip()
        verdict = ("distinguishable" if self.distinguishable else "not distinguishable") + (f" {where}" if where else "")
        return f"{text}, {i.level:.0%} interval {signed(i.low)} to {signed(i.high)} over {i.n} pairs: {verdict}"


def paired_difference(a, b, level: float = 0.95) -> Difference:
    """The mean of ``a - b`` over pairs (same seed, same fold) with Student's t interval of it.

    ``a`` and ``b`` hold the same number of values, in the same order of pairs.
    """
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"a and b must hold values of the same pairs; got {a.size} and {b.size} values")
    if a.size and np.all(a == b):  # identical measurements: exactly no difference (t would divide 0 by 0)
        return Difference(Interval(0.0, 0.0, 0.0, int(a.size), level, 0.0))
    return Difference(mean_interval(a - b, level))
