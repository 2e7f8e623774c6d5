import numpy as np
import pytest

from reglab.stats import mean_interval, paired_difference


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


@pytest.mark.parametrize("seed", range(5))
def test_intervals_agree_with_scipy_stats_on_random_inputs(seed):
    from scipy import stats

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    a = rng.normal(0.9, 0.03, n)
    b = a - rng.normal(0.01, 0.02, n)
    # one sample: scipy's t interval around the mean with the standard error
    expected = stats.t.interval(0.95, n - 1, loc=np.mean(a), scale=stats.sem(a))
    interval = mean_interval(a)
    assert (interval.low, interval.high) == pytest.approx(expected, rel=1e-12)
    assert interval.standard_error == pytest.approx(stats.sem(a), rel=1e-12)
    # paired: the interval of the mean difference is scipy's for the differences, and it excludes zero
    # exactly when ttest_rel's two-sided p-value is below 0.05
    difference = paired_difference(a, b)
    expected = stats.t.interval(0.95, n - 1, loc=np.mean(a - b), scale=stats.sem(a - b))
    assert (difference.interval.low, difference.interval.high) == pytest.approx(expected, rel=1e-12)
    assert difference.distinguishable == (stats.ttest_rel(a, b).pvalue < 0.05)


def test_a_paired_difference_says_what_it_shows():
    close = paired_difference([0.93, 0.95, 0.92, 0.94], [0.915, 0.93, 0.925, 0.92])
    assert close.describe("L2", "plain", where="on this test set") == (
        "L2 − plain: +1.2 points, 95% interval −0.6 to +3.1 over 4 pairs: not distinguishable on this test set")
    apart = paired_difference([0.95, 0.96, 0.95, 0.97], [0.90, 0.90, 0.91, 0.90])
    assert apart.distinguishable and apart.describe("a", "b").endswith(": distinguishable")
    same = paired_difference([0.9, 0.8], [0.9, 0.8])  # the same model twice: exactly no difference
    assert (same.interval.mean, same.interval.low, same.interval.high) == (0.0, 0.0, 0.0)
    assert not same.distinguishable
    assert paired_difference([0.9], [0.8]).describe("a", "b") == "a − b: +10.0 points (one pair: no interval)"
    # Two seeds that differ by the same point: no spread to judge by (a t interval would be a single point).
    alike = paired_difference([0.905, 0.915], [0.9, 0.91])
    assert not alike.distinguishable
    assert alike.describe("a", "b", where="on this test set") == (
        "a − b: +0.5 points in each of 2 pairs: no spread to judge by, not distinguishable on this test set")
    with pytest.raises(ValueError, match="the same pairs"):
        paired_difference([0.9, 0.8], [0.9])
