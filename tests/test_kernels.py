"""The compiled engine against the reference loop, which is the definition of correct.

The comparisons run 1000 iterations on a small generated problem. Both engines round
differently (the order of sums differs), so they agree to rounding, not bit for bit; the
problem and learning rates are chosen so that training is well-conditioned (no ReLU unit
balanced on its kink), where rounding differences stay near 1e-15 instead of being amplified.
"""

from __future__ import annotations

import numpy as np
import pytest

import reglab
import reglab.engine.params
from reglab.engine import compiled as kernels, masks
from reglab.engine.masks import CourseMasks, FreshMasks
from reglab.engine.early_stopping import EarlyStopping
from reglab.engine.params import init_fresh, model_streams
from reglab.engine.loop import Hyper, TrainingDivergedError, train_loop
from reglab.engine.compiled import train_loop_compiled

N_ITER = 1000
TOL = 1e-9


def _problem(m: int = 60, seed: int = 7):
    """A noisy curved boundary in 2-D: X (2, m), Y (1, m), the engine's layout."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((2, m))
    Y = ((X[0] + 0.5 * X[1] ** 2 + 0.3 * rng.standard_normal(m)) > 0.3).astype(float)[None, :]
    return X, Y


def _hyper(
    n_models: int, n_hidden: int, l2: float, l1: float, keep_prob: float,
    weight_decay: float = 0.0, max_norm: float | None = None,
) -> Hyper:
    """Different settings per model: learning rates 0.1..0.2, strengths and keep_prob spread out.

    With more than one model, the last has no weight decay and no max-norm constraint (a batch
    mixing constrained and free models); the others' max_norm grows by half per model.
    """
    spread = np.linspace(1.0, 0.5, n_models)
    keep = 1.0 - (1.0 - keep_prob) * spread  # (M,), keep_prob for model 0
    free = np.arange(n_models) == n_models - 1 if n_models > 1 else np.zeros(1, dtype=bool)
    return Hyper(
        np.linspace(0.1, 0.2, n_models),
        l2 * spread,
        l1 * spread,
        np.repeat(keep[:, None], n_hidden, axis=1) * np.linspace(1.0, 0.97, n_hidden)[None, :]
        if keep_prob < 1
        else np.ones((n_models, n_hidden)),
        np.where(free, 0.0, weight_decay * spread),
        None if max_norm is None else np.where(free, np.inf, max_norm * (1 + 0.5 * np.arange(n_models))),
    )


def _sources(mode, hyper: Hyper, n_models: int):
    """Two identical, independent mask sources (one per engine)."""
    if mode is None:
        return None, None
    if mode == "course":
        return CourseMasks(hyper.keep_prob), CourseMasks(hyper.keep_prob)
    make = lambda: FreshMasks(hyper.keep_prob, [np.random.default_rng(50 + k) for k in range(n_models)])  # noqa: E731
    return make(), make()


def _max_difference(a: reglab.engine.params.Params, b: reglab.engine.params.Params) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a.weights + a.biases, b.weights + b.biases))


# (l2, l1, keep_prob): every combination of the three regularizers.
COMBINATIONS = {
    "plain": (0.0, 0.0, 1.0),
    "l2": (0.7, 0.0, 1.0),
    "l1": (0.0, 0.05, 1.0),
    "l2+l1": (0.5, 0.03, 1.0),
    "dropout": (0.0, 0.0, 0.86),
    "l2+dropout": (0.7, 0.0, 0.8),
    "l1+dropout": (0.0, 0.05, 0.85),
    "l2+l1+dropout": (0.3, 0.02, 0.9),
}
# Depths and batch sizes, rotated over the cases so that each appears with every kind of case.
SHAPES = [((2, 20, 3, 1), 1), ((2, 8, 1), 3), ((2, 6, 5, 4, 1), 2)]
CASES = []
for number, (name, settings) in enumerate(COMBINATIONS.items()):
    modes = [None] if settings[2] == 1.0 else ["course", "fresh"]
    for shift, mode in enumerate(modes):
        CASES.append(pytest.param(name, settings, mode, SHAPES[(number + shift) % 3], id=f"{name}-{mode}"))


def _both_engines(settings, mode, shape):
    """The same start, settings and masks trained N_ITER iterations by the reference and the compiled loop."""
    sizes, n_models = shape
    X, Y = _problem()
    params = init_fresh(sizes, [np.random.default_rng(10 + k) for k in range(n_models)])
    hyper = _hyper(n_models, len(sizes) - 2, *settings)
    reference_masks, compiled_masks = _sources(mode, hyper, n_models)
    expected, expected_history = train_loop(X, Y, params, hyper, reference_masks, N_ITER, 100)
    got, history = train_loop_compiled(X, Y, params, hyper, compiled_masks, N_ITER, 100)
    return X, Y, params, hyper, reference_masks, compiled_masks, expected, expected_history, got, history


@pytest.mark.parametrize("name, settings, mode, shape", CASES)
def test_compiled_matches_reference(name, settings, mode, shape):
    sizes, n_models = shape
    X, Y, params, hyper, reference_masks, compiled_masks, expected, expected_history, got, history = _both_engines(
        settings, mode, shape)

    assert got.layer_sizes == tuple(sizes) and got.n_models == n_models
    assert _max_difference(expected, got) < TOL
    np.testing.assert_array_equal(history.iterations, expected_history.iterations)
    np.testing.assert_allclose(history.cost, expected_history.cost, rtol=0, atol=TOL)
    # Training moved the parameters well beyond the tolerance: the comparison is not vacuous.
    assert _max_difference(params, got) > 1e-2
    if mode == "fresh":  # both sources end at the same iteration, ready for more training
        assert reference_masks.iteration == compiled_masks.iteration == N_ITER


# (l2, l1, keep_prob, weight_decay, max_norm): decoupled decay and max-norm, alone, together and
# with the penalties and dropout.
CONSTRAINED = {
    "decay": (0.0, 0.0, 1.0, 2e-3, None),
    "max-norm": (0.0, 0.0, 1.0, 0.0, 0.8),
    "decay+max-norm+l2": (0.5, 0.0, 1.0, 1e-3, 0.9),
    "decay+l1+dropout": (0.0, 0.03, 0.85, 2e-3, None),
    "decay+max-norm+l2+l1+dropout": (0.3, 0.02, 0.9, 1e-3, 0.9),
}
CONSTRAINED_CASES = []
for number, (name, settings) in enumerate(CONSTRAINED.items()):
    modes = [None] if settings[2] == 1.0 else ["course", "fresh"]
    for shift, mode in enumerate(modes):
        CONSTRAINED_CASES.append(
            pytest.param(name, settings, mode, SHAPES[(number + shift) % 3], id=f"{name}-{mode}")
        )


@pytest.mark.parametrize("name, settings, mode, shape", CONSTRAINED_CASES)
def test_compiled_matches_reference_with_decay_and_max_norm(name, settings, mode, shape):
    n_models = shape[1]
    X, Y, params, hyper, _, _, expected, expected_history, got, history = _both_engines(settings, mode, shape)

    assert _max_difference(expected, got) < TOL
    np.testing.assert_allclose(history.cost, expected_history.cost, rtol=0, atol=TOL)
    # Not vacuous: the update rules changed the result well beyond the tolerance ...
    free = hyper._replace(weight_decay=None, max_norm=None)
    unconstrained, _ = train_loop_compiled(X, Y, params, free, _sources(mode, hyper, n_models)[1], N_ITER, 100)
    assert float(np.max(np.abs(got.weights[0][0] - unconstrained.weights[0][0]))) > 1e-3
    if n_models > 1:  # ... and left the batch's free last model alone (the same arithmetic, bit for bit)
        assert all(np.array_equal(a[-1], b[-1]) for a, b in zip(got.weights, unconstrained.weights))
    # ... and the max-norm constraint binds: some unit of model 0 sits at its limit.
    if hyper.max_norm is not None:
        norms = [np.linalg.norm(W[0], axis=1) for W in got.weights]
        assert max(n.max() for n in norms) == pytest.approx(hyper.max_norm[0], rel=1e-12)


def _early_stopping_problem():
    """Training (2, 60) and dev (2, 40) splits of a noisy problem on which small networks overfit."""
    X, Y = _problem(m=100, seed=7)
    return X[:, :60], Y[:, :60], X[:, 60:], Y[:, 60:]


# (sizes, learning rates, patience, min_delta, watched, (l2, l1, keep_prob, weight_decay, max_norm), mask mode)
EARLY_STOPPING_CASES = {
    "one model": ((2, 6, 5, 4, 1), [0.05], [3], [0.0], [True], (0.0, 0.0, 1.0, 0.0, None), None),
    "three models, course dropout, decay": (
        (2, 8, 1), [0.1, 0.15, 0.2], [3, 5, 4], [0.0, 1e-4, 0.0], [True, True, True],
        (0.2, 0.0, 0.9, 1e-3, None), "course",
    ),
    "three models, one unwatched, fresh dropout, max-norm": (
        (2, 6, 5, 4, 1), [0.1, 0.15, 0.08], [3, 2, 4], [0.0, 0.0, 1e-3], [True, True, False],
        (0.0, 0.01, 0.9, 0.0, 1.2), "fresh",
    ),
}


@pytest.mark.parametrize("case", EARLY_STOPPING_CASES)
def test_compiled_early_stopping_matches_reference(case):
    sizes, rates, patience, min_delta, watched, settings, mode = EARLY_STOPPING_CASES[case]
    n_models, n_iterations = len(rates), N_ITER
    X, Y, X_dev, Y_dev = _early_stopping_problem()
    params = init_fresh(sizes, [np.random.default_rng(10 + k) for k in range(n_models)])
    hyper = _hyper(n_models, len(sizes) - 2, *settings)._replace(learning_rate=np.array(rates))
    reference_masks, compiled_masks = _sources(mode, hyper, n_models)
    reference_stopper = EarlyStopping(X_dev, Y_dev, watched, patience, min_delta)
    compiled_stopper = EarlyStopping(X_dev, Y_dev, watched, patience, min_delta)

    final, history = train_loop(X, Y, params, hyper, reference_masks, n_iterations, 20, watch=reference_stopper)
    got_final, got_history = train_loop_compiled(
        X, Y, params, hyper, compiled_masks, n_iterations, 20, watch=compiled_stopper
    )

    # Training stopped early, after every watched model had improved for a while (not vacuous).
    stopped_at = reference_stopper.stopped_at
    assert history.iterations[-1] < n_iterations - 1 and np.all(stopped_at[watched] >= 0)
    assert np.all(stopped_at[~np.array(watched)] == -1)
    assert reference_stopper.best_iteration[watched].max() >= 100
    # The same decisions, from the same dev curves.
    np.testing.assert_array_equal(compiled_stopper.best_iteration, reference_stopper.best_iteration)
    np.testing.assert_array_equal(compiled_stopper.stopped_at, stopped_at)
    assert compiled_stopper.iterations == reference_stopper.iterations == list(history.iterations)
    np.testing.assert_allclose(compiled_stopper.dev_cost, reference_stopper.dev_cost, rtol=0, atol=TOL)
    np.testing.assert_array_equal(compiled_stopper.dev_accuracy, reference_stopper.dev_accuracy)
    # The same history (ending at the stopping point), final and restored weights.
    np.testing.assert_array_equal(got_history.iterations, history.iterations)
    np.testing.assert_allclose(got_history.cost, history.cost, rtol=0, atol=TOL)
    assert _max_difference(got_final, final) < TOL
    best = reference_stopper.best_params(final)
    assert _max_difference(compiled_stopper.best_params(got_final), best) < TOL
    assert _max_difference(best, final) > 1e-3  # the best weights are not the last ones
    if mode == "fresh":  # both sources drew the masks of the stopping iteration, no more
        assert compiled_masks.iteration == reference_masks.iteration == history.iterations[-1] + 1


def test_a_watch_stops_before_the_update_of_its_iteration():
    X, Y = _problem()
    params = init_fresh((2, 8, 1), [np.random.default_rng(k) for k in range(2)])
    hyper = _hyper(2, 1, 0.1, 0.0, 0.8, weight_decay=1e-3, max_norm=1.0)
    calls = []

    def stop_at_200(i, current, cost):
        calls.append((i, reglab.engine.params.copy(current)))
        return i == 200

    stopped, history = train_loop_compiled(
        X, Y, params, hyper, _sources("fresh", hyper, 2)[0], 1000, 100, watch=stop_at_200
    )
    assert [i for i, _ in calls] == [0, 100, 200]
    np.testing.assert_array_equal(history.iterations, [0, 100, 200])
    assert history.cost.shape == (2, 3)
    # What the monitor saw at 0 is the initial parameters; at 200 the returned ones, which are
    # those after 200 updates (iterations 0..199), as a 200-iteration run gives them.
    assert _max_difference(calls[0][1], params) == 0.0
    assert _max_difference(calls[-1][1], stopped) == 0.0
    run_200, history_200 = train_loop_compiled(X, Y, params, hyper, _sources("fresh", hyper, 2)[0], 200, 100)
    assert _max_difference(stopped, run_200) == 0.0
    np.testing.assert_array_equal(history.cost[:, :2], history_200.cost[:, :2])
    reference, _ = train_loop(X, Y, params, hyper, _sources("fresh", hyper, 2)[0], 200, 100)
    assert _max_difference(stopped, reference) < TOL
    # A monitor that never stops changes nothing.
    unmonitored, _ = train_loop_compiled(X, Y, params, hyper, _sources("fresh", hyper, 2)[0], 300, 100)
    monitored, _ = train_loop_compiled(
        X, Y, params, hyper, _sources("fresh", hyper, 2)[0], 300, 100, watch=lambda i, p, cost: False
    )
    assert _max_difference(unmonitored, monitored) == 0.0


def test_fresh_masks_differ_between_models_and_from_course_masks():
    # Guards the fresh-mask path against one stream shared by all models or the fixed draws.
    X, Y = _problem()
    one = init_fresh((2, 8, 1), [np.random.default_rng(3)])
    params = reglab.engine.params.stack([one, one])  # two identical networks
    hyper = Hyper(np.full(2, 0.1), np.zeros(2), np.zeros(2), np.full((2, 1), 0.8))

    def fresh(*seeds):
        return FreshMasks(hyper.keep_prob, [np.random.default_rng(s) for s in seeds])

    different, _ = train_loop_compiled(X, Y, params, hyper, fresh(1, 2), 50)
    same_seed, _ = train_loop_compiled(X, Y, params, hyper, fresh(1, 1), 50)
    course, _ = train_loop_compiled(X, Y, params, hyper, CourseMasks(hyper.keep_prob), 50)
    assert np.max(np.abs(different.weights[0][0] - different.weights[0][1])) > 1e-3
    assert np.max(np.abs(same_seed.weights[0][0] - same_seed.weights[0][1])) == 0.0
    assert np.max(np.abs(course.weights[0][0] - course.weights[0][1])) == 0.0
    assert np.max(np.abs(different.weights[0] - course.weights[0])) > 1e-3


def test_parallel_and_serial_give_identical_results():
    X, Y = _problem()
    sizes, n_models = (2, 8, 3, 1), 5
    params = init_fresh(sizes, [np.random.default_rng(k) for k in range(n_models)])
    hyper = _hyper(n_models, 2, 0.3, 0.01, 0.8)
    a, history_a = train_loop_compiled(X, Y, params, hyper, _sources("fresh", hyper, n_models)[0], 300)
    b, history_b = train_loop_compiled(
        X, Y, params, hyper, _sources("fresh", hyper, n_models)[0], 300, parallel=False
    )
    assert _max_difference(a, b) == 0.0
    np.testing.assert_array_equal(history_a.cost, history_b.cost)


def test_input_parameters_are_not_modified():
    X, Y = _problem()
    params = init_fresh((2, 8, 1), [np.random.default_rng(0)])
    before = reglab.engine.params.copy(params)
    train_loop_compiled(X, Y, params, _hyper(1, 1, 0.1, 0.0, 1.0), None, 20)
    assert _max_difference(before, params) == 0.0


def test_the_watch_sees_each_record_points_parameters_and_cost_in_both_engines():
    X, Y = _problem()
    params = init_fresh((2, 8, 1), [np.random.default_rng(k) for k in range(2)])
    hyper = _hyper(2, 1, 0.2, 0.0, 0.9)
    seen = {}
    for engine, loop in (("reference", train_loop), ("compiled", train_loop_compiled)):
        records, steps = [], []
        _, history = loop(
            X, Y, params, hyper, _sources("fresh", hyper, 2)[0], 250, record_every=100,
            progress=lambda i, n: steps.append((i, n)),
            watch=lambda i, current, cost: records.append((i, reglab.engine.params.copy(current), cost.copy())),
        )
        assert [i for i, _, _ in records] == [0, 100, 200, 249]
        assert steps == [(1, 250), (101, 250), (201, 250), (250, 250)]
        np.testing.assert_array_equal(history.iterations, [0, 100, 200, 249])
        for column, (_, _, cost) in enumerate(records):
            assert cost.shape == (2,)
            np.testing.assert_array_equal(cost, history.cost[:, column])
        assert _max_difference(records[0][1], params) == 0.0  # the first is the initial network
        seen[engine] = records
    for (_, p_ref, c_ref), (_, p_cmp, c_cmp) in zip(seen["reference"], seen["compiled"]):
        assert _max_difference(p_ref, p_cmp) < TOL
        np.testing.assert_allclose(c_cmp, c_ref, rtol=0, atol=TOL)


def test_divergence_raises_and_names_the_learning_rate():
    X, Y = _problem()
    params = init_fresh((2, 8, 1), [np.random.default_rng(k) for k in range(3)])
    hyper = Hyper(np.array([0.1, 1e6, 0.1]), np.zeros(3), np.zeros(3), np.ones((3, 1)))
    with pytest.raises(TrainingDivergedError, match=r"model 1 .*learning_rate=1e\+06"):
        train_loop_compiled(X, Y, params, hyper, None, 300)


def test_user_errors():
    X, Y = _problem()
    params = init_fresh((2, 8, 1), [np.random.default_rng(0)])
    hyper = _hyper(1, 1, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="n_iterations must be an integer >= 1; got 0"):
        train_loop_compiled(X, Y, params, hyper, None, 0)
    with pytest.raises(TypeError, match="mask_source must be None, .*got function"):
        train_loop_compiled(X, Y, params, hyper, lambda shapes: None, 10)
    with pytest.raises(ValueError, match=r"mask_source must hold one key per model \(1\); got 2"):
        train_loop_compiled(X, Y, params, hyper, FreshMasks(np.ones((2, 1)), [np.random.default_rng(0)] * 2), 10)


def test_pack_and_unpack_are_inverse():
    params = init_fresh((3, 4, 2, 1), [np.random.default_rng(k) for k in range(2)])
    theta = kernels.pack(params)
    assert theta.shape == (2, 3 * 4 + 4 + 4 * 2 + 2 + 2 + 1)
    np.testing.assert_array_equal(theta[1, :12], params.weights[0][1].ravel())
    assert _max_difference(kernels.unpack(theta, params.layer_sizes), params) == 0.0


def test_fit_many_dispatches_to_the_compiled_engine():
    X, Y = _problem(m=80, seed=2)
    configs = [
        reglab.TrainConfig(hidden_layer_sizes=(8,), n_iterations=400, l2=0.3),
        reglab.TrainConfig(hidden_layer_sizes=(8,), n_iterations=400, keep_prob=0.8, mask_mode="fresh", seed=5),
    ]
    reference = reglab.fit_many(X.T, Y[0], configs, engine="reference")
    compiled = reglab.fit_many(X.T, Y[0], configs, engine="compiled")
    for r, c in zip(reference, compiled):
        assert c.config == r.config
        assert _max_difference(r.params, c.params) < TOL
        np.testing.assert_allclose(c.history.cost, r.history.cost, rtol=0, atol=TOL)


def test_fit_many_trains_decay_max_norm_and_early_stopping_compiled():
    X, Y = _problem(m=100, seed=7)
    common = dict(hidden_layer_sizes=(6, 5, 4), n_iterations=500, init="fresh")
    configs = [
        reglab.TrainConfig(weight_decay=1e-3, max_norm=1.0, keep_prob=0.9, mask_mode="fresh", seed=1, **common),
        reglab.TrainConfig(max_norm=1.5, l2=0.2, seed=2, **common),
        reglab.TrainConfig(early_stopping=True, validation_fraction=0.4, patience=3, learning_rate=0.1, seed=1,
                           weight_decay=1e-4, **common),
        reglab.TrainConfig(early_stopping=True, validation_fraction=0.4, patience=5, learning_rate=0.15, seed=2,
                           **common),
    ]
    reference = reglab.fit_many(X.T, Y[0], configs, engine="reference", record_every=20)
    compiled = reglab.fit_many(X.T, Y[0], configs, engine="compiled", record_every=20)
    for r, c in zip(reference, compiled):
        assert _max_difference(r.params, c.params) < TOL
        np.testing.assert_array_equal(c.history.iterations, r.history.iterations)
        np.testing.assert_allclose(c.history.cost, r.history.cost, rtol=0, atol=TOL)
    for r, c in zip(reference[2:], compiled[2:]):  # the early-stopping pair, one batch
        assert r.history.stopped_iteration >= 0 and r.history.iterations[-1] < 499
        assert (c.history.best_iteration, c.history.stopped_iteration) == (
            r.history.best_iteration, r.history.stopped_iteration)
        np.testing.assert_allclose(c.history.dev_cost, r.history.dev_cost, rtol=0, atol=TOL)
        np.testing.assert_array_equal(c.history.dev_accuracy, r.history.dev_accuracy)


# ---- fresh masks: the counter-based definition (masks.py) ----------------------------------------


def _hash_by_hand(key: int, iteration: int, unit: int, example: int, n_units: int) -> int:
    """The definition in masks.py, with Python integers and explicit reductions."""
    z = (key + (iteration * n_units + unit + 1) * 0x9E3779B97F4A7C15) % 2**64
    z ^= z >> 30
    z = z * 0xBF58476D1CE4E5B9 % 2**64
    z ^= z >> 27
    z = z * 0x94D049BB133111EB % 2**64
    z ^= z >> 31
    x = ((z % 2**32) + example * 0x9E3779B9) % 2**32 ^ (z >> 32)
    x ^= x >> 16
    x = x * 0x7FEB352D % 2**32
    x ^= x >> 15
    x = x * 0x846CA68B % 2**32
    return x ^ (x >> 16)


def test_row_seed_is_splitmix64():
    # SplitMix64 from state 0 starts 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4 (the published sequence);
    # the row seeds of key 0, iteration 0 are those outputs.
    counters = np.array([1, 2], dtype=np.uint64) * np.uint64(masks.GOLDEN_64)
    seeds = masks._splitmix64(counters)
    assert [int(s) for s in seeds] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


@pytest.mark.parametrize("key", [0, 1, 2**63 + 12345, 2**64 - 1])
def test_fresh_hashes_follow_the_written_definition(key):
    iteration, n_units, m = 7, 5, 9
    hashes = masks.fresh_hashes(np.array([key], dtype=np.uint64), iteration, n_units, m)
    assert hashes.shape == (1, n_units, m) and hashes.dtype == np.uint32
    for unit in range(n_units):
        for example in range(m):
            assert int(hashes[0, unit, example]) == _hash_by_hand(key, iteration, unit, example, n_units)


def _many_masks(keep_prob: float, n_models: int = 4, n_iterations: int = 40):
    """Masks (T, M, S, m) of a [2, 20, 3, 1] network on 211 examples, from model_streams keys."""
    _, rngs = model_streams(11, n_models)
    source = FreshMasks(np.full((n_models, 2), keep_prob), rngs)
    shapes = [(20, 211), (3, 211)]
    return np.stack([np.concatenate(source(shapes), axis=1) for _ in range(n_iterations)])


@pytest.mark.parametrize("keep_prob", [0.86, 0.5, 0.1])
def test_fresh_masks_keep_at_the_keep_prob(keep_prob):
    kept = _many_masks(keep_prob)
    n = kept.size
    bound = 5 * np.sqrt(keep_prob * (1 - keep_prob) / n)  # five binomial standard deviations
    assert abs(kept.mean() - keep_prob) < bound, (kept.mean(), bound)
    # Every unit and every example is kept at the same rate (no unit or example favoured).
    per_unit = kept.mean(axis=(0, 1, 3))  # (S,)
    per_example = kept.mean(axis=(0, 1, 2))  # (m,)
    for rates, count in [(per_unit, n / per_unit.size), (per_example, n / per_example.size)]:
        spread = 5 * np.sqrt(keep_prob * (1 - keep_prob) / count)
        assert np.all(np.abs(rates - keep_prob) < spread)


def test_fresh_masks_have_no_correlation_between_neighbours():
    kept = _many_masks(0.5).astype(float)  # (T, M, S, m)
    pairs = {
        "consecutive iterations": (kept[1:], kept[:-1]),
        "neighbouring models": (kept[:, 1:], kept[:, :-1]),
        "neighbouring units": (kept[:, :, 1:], kept[:, :, :-1]),
        "neighbouring examples": (kept[..., 1:], kept[..., :-1]),
    }
    for name, (a, b) in pairs.items():
        correlation = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(correlation) < 5 / np.sqrt(a.size), (name, correlation)
    # The same unit and example in the two layers' first rows, far apart in the counter.
    correlation = np.corrcoef(kept[:, :, 0].ravel(), kept[:, :, 20].ravel())[0, 1]
    assert abs(correlation) < 5 / np.sqrt(kept[:, :, 0].size)


def test_keep_prob_one_keeps_everything_and_masks_nest():
    kept_all = _many_masks(1.0, n_models=2, n_iterations=5)
    assert kept_all.all()
    # One hash per unit: a unit kept at keep_prob 0.5 is kept at 0.8 too (the same uniforms).
    assert np.all(_many_masks(0.8, 2, 5) >= _many_masks(0.5, 2, 5))


def test_fresh_masks_are_deterministic_and_count_iterations():
    keep = np.full((2, 2), 0.7)
    shapes = [(20, 50), (3, 50)]

    def source(seed):
        return FreshMasks(keep, model_streams(seed, 2)[1])

    a, b, c = source(4), source(4), source(5)
    np.testing.assert_array_equal(a.keys, b.keys)
    assert a.keys.dtype == np.uint64 and len(set(a.keys.tolist())) == 2
    assert not np.array_equal(a.keys, c.keys)
    first = a(shapes)
    assert a.iteration == 1
    b.advance(1)  # skipping an iteration, as the compiled engine does, gives the next masks
    for x, y in zip(a(shapes), b(shapes)):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], a(shapes)[0])
    # The masks of any iteration, computed directly.
    direct = masks.fresh_masks(b.keys, keep, shapes, 0)
    for x, y in zip(first, direct):
        np.testing.assert_array_equal(x, y)
