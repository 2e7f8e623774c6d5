import numpy as np
import pytest

from reglab.stats import mean_interval


def test_interval_of_known_values():
    # mean 2, sample sd 1, n 4: half width t(0.975, 3) * 1/2, with t(0.975, 3) = 3.182446305284263 (tables).
    interval = mean_interval([1.0, 2.0, 2.0, 3.0])
    sd = np.std([1, 2, 2, 3], ddof=1)
    assert interval.mean == 2.0 and interval.n == 4
    assert interval.half_width == pytest.approx(3.182446305284263 * sd / 2, rel=1e-12)


def test_an_interval_is_cut_to_the_values_that_can_occur():
    # mean 0.945, sample sd 0.0070711, n 2: half width t(0.975, 1) = 12.706204736174705 (tables) * 0.005 = 0.0635
    interval = mean_interval([0.94, 0.95], bounds=(0.0, 1.0))
    assert interval.low == pytest.approx(0.945 - 12.706204736174705 * 0.005, rel=1e-9)
    assert interval.high == 1.0
    assert str(interval) == "0.9450 (95%: 0.8815 to 1.0000)"
    assert str(mean_interval([0.5, 0.6], bounds=(0.0, 1.0))) == "0.5500 (95%: 0.0000 to 1.0000)"
    assert str(mean_interval([0.90, 0.91, 0.92], bounds=(0.0, 1.0))) == "0.9100 ± 0.0248"  # inside: symmetric


def test_one_value_has_no_spread():
    interval = mean_interval([0.93])
    assert (interval.low, interval.mean, interval.high, interval.n) == (0.93, 0.93, 0.93, 1)


def test_coverage_is_about_95_percent():
    rng = np.random.default_rng(0)
    intervals = [mean_interval(rng.normal(0.5, 0.1, size=8)) for _ in range(1500)]
    hits = sum(i.low <= 0.5 <= i.high for i in intervals)
    assert 0.93 < hits / 1500 < 0.97


@pytest.mark.parametrize("values, message", [([], "at least one"), ([1.0, np.nan], "finite")])
def test_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        mean_interval(values)
