"""Summaries of repeated measurements: mean and a 95% confidence interval."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "mean_interval"]


@dataclass(frozen=True)
class Interval:
    """Mean of n values with a two-sided confidence interval [low, high]."""

    mean: float
    low: float
    high: float
    n: int
    level: float = 0.95

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
    return Interval(mean, low, high, int(data.size), level)
