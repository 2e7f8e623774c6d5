"""How training behaves, through the public API: what each regularizer does, determinism, errors.

Every test trains a few hundred iterations on a small data set made here (two noisy blobs), so
the file runs in seconds; the course's exact numbers are tested elsewhere.
"""

from __future__ import annotations

import numpy as np
import pytest

import reglab
import reglab.experiments.compare
import reglab.memory
from reglab.training import batch_hyper
from reglab import TrainConfig
from reglab.engine import loop as train, masks
from reglab.engine.masks import CourseMasks, FreshMasks
from reglab.engine.params import init_course


def blobs(seed: int = 0, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian blobs around (-1, -1) and (1, 1): X (n, 2), y (n,) in {0, 1}."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = 0.9 * rng.standard_normal((n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    return X, y


@pytest.fixture(scope="module")
def data():
    return blobs()


def weights_of(model: reglab.Model) -> np.ndarray:
    return np.concatenate([W.ravel() for W in model.params.weights])


def assert_same_model(a: reglab.Model, b: reglab.Model, atol: float = 0.0) -> None:
    for left, right in zip((*a.params.weights, *a.params.biases), (*b.params.weights, *b.params.biases)):
        np.testing.assert_allclose(left, right, rtol=0, atol=atol)
    np.testing.assert_allclose(a.history.cost, b.history.cost, rtol=0, atol=atol)


def differs(a: reglab.Model, b: reglab.Model) -> bool:
    return any(not np.array_equal(x, y) for x, y in zip(a.params.weights, b.params.weights))


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def manual_proba(model: reglab.Model, X: np.ndarray) -> np.ndarray:
    """The network without dropout, written out in the samples x features layout."""
    A = X
    n_layers = len(model.params.weights)
    for layer, (W, b) in enumerate(zip(model.params.weights, model.params.biases)):
        Z = A @ W[0].T + b[0].T  # (n, n_out)
        A = sigmoid(Z) if layer == n_layers - 1 else np.maximum(Z, 0.0)
    return A[:, 0]


# ---- what each regularizer does --------------------------------------------------------------------


def test_larger_l2_gives_smaller_weights(data):
    X, y = data
    strengths = (0.0, 0.5, 2.0, 8.0)
    models = reglab.fit_many(X, y, [TrainConfig(l2=l2, n_iterations=500) for l2 in strengths])
    norms = [m.weight_norm() for m in models]
    assert all(a > b for a, b in zip(norms, norms[1:])), norms
    # weight_norm is the norm of all weights (biases excluded), checked by hand on one model.
    assert norms[0] == pytest.approx(np.sqrt(np.sum(weights_of(models[0]) ** 2)), rel=1e-12)


def test_larger_l1_drives_more_weights_towards_zero(data):
    X, y = data
    strengths = (0.0, 0.3, 1.0, 3.0)
    models = reglab.fit_many(X, y, [TrainConfig(l1=l1, n_iterations=500) for l1 in strengths])
    near_zero = [np.mean(np.abs(weights_of(m)) < 0.05) for m in models]
    absolute = [np.sum(np.abs(weights_of(m))) for m in models]
    assert all(a < b for a, b in zip(near_zero, near_zero[1:])), near_zero
    assert all(a > b for a, b in zip(absolute, absolute[1:])), absolute
    assert near_zero[0] < 0.1 and near_zero[-1] > 0.8
    assert all(m.accuracy(X, y) > 0.85 for m in models)  # the few weights left still classify


@pytest.mark.parametrize("mask_mode", ["course", "fresh"])
def test_dropout_is_the_identity_at_prediction(data, mask_mode, monkeypatch):
    X, y = data
    model = reglab.fit(X, y, TrainConfig(keep_prob=0.6, mask_mode=mask_mode, n_iterations=300))

    # No randomness at prediction: every way reglab could draw a mask now raises.
    def no_randomness(*args, **kwargs):
        raise AssertionError("prediction drew random numbers")

    monkeypatch.setattr(np.random, "default_rng", no_randomness)
    monkeypatch.setattr(np.random, "RandomState", no_randomness)
    monkeypatch.setattr(masks, "course_draws", no_randomness)
    monkeypatch.setattr(CourseMasks, "__call__", no_randomness)
    monkeypatch.setattr(FreshMasks, "__call__", no_randomness)
    legacy_state = np.random.get_state()[1].copy()

    first, second = model.predict_proba(X), model.predict_proba(X)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(model.predict(X), model.predict(X))
    # Full units, no 1/keep_prob scaling: the plain forward pass.
    np.testing.assert_allclose(first, manual_proba(model, X), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(np.random.get_state()[1], legacy_state)


def test_l2_and_dropout_together_train(data):
    X, y = data
    model = reglab.fit(X, y, TrainConfig(l2=0.7, keep_prob=0.8, mask_mode="fresh", seed=1, n_iterations=1000))
    cost = model.history.cost
    assert cost[-1] < 0.5 * cost[0], cost
    assert model.accuracy(X, y) > 0.85  # chance is 0.5
    X_test, y_test = blobs(seed=1)
    assert model.accuracy(X_test, y_test) > 0.8


def test_per_layer_keep_prob(data):
    X, y = data
    per_layer = TrainConfig(keep_prob=(0.5, 1.0), n_iterations=300)
    assert per_layer.keep_prob == (0.5, 1.0)
    np.testing.assert_array_equal(batch_hyper([per_layer]).keep_prob, [[0.5, 1.0]])

    plain, first_only, both, second_only, ones = reglab.fit_many(
        X,
        y,
        [
            TrainConfig(n_iterations=300),
            per_layer,
            TrainConfig(keep_prob=0.5, n_iterations=300),
            TrainConfig(keep_prob=(1.0, 0.5), n_iterations=300),
            TrainConfig(keep_prob=(1.0, 1.0), n_iterations=300),
        ],
    )
    assert first_only.history.cost[-1] < 0.6 * first_only.history.cost[0]
    assert first_only.accuracy(X, y) > 0.85
    # Each layer's value is used: every combination gives a different model...
    for a, b in [(first_only, both), (first_only, second_only), (second_only, both), (first_only, plain)]:
        assert differs(a, b)
    # ...and keep_prob 1 in every layer is no dropout at all.
    assert_same_model(ones, plain)

    # The course masks for (0.5, 1.0): the second hidden layer keeps every unit.
    shapes = [(20, 80), (3, 80)]
    mask_1, mask_2 = CourseMasks(np.array([[0.5, 1.0]]))(shapes)
    assert mask_2.all()
    assert 0.4 < mask_1.mean() < 0.6


# ---- batching and randomness ---------------------------------------------------------------------------


def test_fit_many_equals_fit_one_by_one(data):
    X, y = data
    configs = [
        TrainConfig(n_iterations=150),
        TrainConfig(l2=0.7, n_iterations=150),
        TrainConfig(l1=0.2, learning_rate=0.1, n_iterations=150),
        TrainConfig(l2=0.3, l1=0.1, keep_prob=0.8, n_iterations=150),
        TrainConfig(keep_prob=(0.7, 0.9), mask_mode="fresh", seed=1, n_iterations=150),
        TrainConfig(keep_prob=0.8, mask_mode="fresh", seed=2, init="fresh", n_iterations=150),
        TrainConfig(init="fresh", seed=5, n_iterations=150),
        TrainConfig(hidden_layer_sizes=(5,), keep_prob=0.9, n_iterations=100),
    ]
    together = reglab.fit_many(X, y, configs)
    assert [m.config for m in together] == configs
    for config, batched in zip(configs, together):
        assert_same_model(batched, reglab.fit(X, y, config), atol=1e-12)


def test_fresh_masks_same_seed_same_model_different_seed_different(data):
    X, y = data

    def config(seed):
        return TrainConfig(keep_prob=0.7, mask_mode="fresh", init="fresh", seed=seed, n_iterations=200)

    a, b, c = reglab.fit(X, y, config(7)), reglab.fit(X, y, config(7)), reglab.fit(X, y, config(8))
    assert_same_model(a, b)
    assert differs(a, c)
    # With the same initialisation, fresh masks give another model than the course's fixed masks.
    course = reglab.fit(X, y, config(7).replace(mask_mode="course"))
    assert differs(a, course)


def test_fresh_masks_alone_change_the_model(data):
    X, y = data
    XT, YT = X.T, y[None, :].astype(float)
    params = init_course((2, 20, 3, 1))
    hyper = batch_hyper([TrainConfig(keep_prob=0.7)])

    def run(seed):
        source = FreshMasks(hyper.keep_prob, [np.random.default_rng(seed)])
        return train.train_loop(XT, YT, params, hyper, source, n_iterations=100)[0]

    same_1, same_2, other = run(1), run(1), run(2)
    np.testing.assert_array_equal(same_1.weights[0], same_2.weights[0])
    assert not np.array_equal(same_1.weights[0], other.weights[0])


class Recorder:
    """A mask source that remembers what the wrapped source returned, iteration by iteration."""

    def __init__(self, source):
        self.source, self.calls = source, []

    def __call__(self, shapes):
        result = self.source(shapes)
        self.calls.append([mask.copy() for mask in result])
        return result


def test_course_masks_are_the_same_every_iteration(data):
    X, y = data
    XT, YT = X.T, y[None, :].astype(float)
    m = XT.shape[1]
    hyper = batch_hyper([TrainConfig(keep_prob=0.86)])
    recorder = Recorder(CourseMasks(hyper.keep_prob))
    train.train_loop(XT, YT, init_course((2, 20, 3, 1)), hyper, recorder, n_iterations=25)
    assert len(recorder.calls) == 25
    # The notebook's masks: RandomState(1), rand(20, m) then rand(3, m), kept where below keep_prob.
    legacy = np.random.RandomState(1)
    expected = [legacy.rand(20, m) < 0.86, legacy.rand(3, m) < 0.86]
    for call in recorder.calls:
        for mask, want in zip(call, expected):
            np.testing.assert_array_equal(mask, want[None])


def test_fresh_masks_change_every_iteration(data):
    X, y = data
    XT, YT = X.T, y[None, :].astype(float)
    hyper = batch_hyper([TrainConfig(keep_prob=0.86)])
    recorder = Recorder(FreshMasks(hyper.keep_prob, [np.random.default_rng(0)]))
    train.train_loop(XT, YT, init_course((2, 20, 3, 1)), hyper, recorder, n_iterations=10)
    first_layer = [call[0] for call in recorder.calls]
    assert all(not np.array_equal(a, b) for a, b in zip(first_layer, first_layer[1:]))


# ---- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", [(20, 3), (5,)], ids=["course network", "one hidden layer"])
def test_too_large_learning_rate_raises(data, hidden):
    X, y = data
    config = TrainConfig(hidden_layer_sizes=hidden, learning_rate=1e6, n_iterations=300)
    with pytest.raises(reglab.TrainingDivergedError, match=r"learning_rate=1e\+06.*smaller learning_rate"):
        reglab.fit(X, y, config)


def test_too_large_learning_rate_in_a_batch_names_that_model(data):
    X, y = data
    configs = [TrainConfig(n_iterations=300), TrainConfig(learning_rate=1e5, n_iterations=300)]
    with pytest.raises(reglab.TrainingDivergedError, match=r"the model of configs\[1\] .*learning_rate=100000"):
        reglab.fit_many(X, y, configs)
    assert issubclass(reglab.TrainingDivergedError, ValueError)


def test_a_sound_learning_rate_does_not_raise(data):
    X, y = data
    model = reglab.fit(X, y, TrainConfig(learning_rate=1.0, n_iterations=300))
    assert np.all(np.isfinite(model.history.cost))


@pytest.mark.parametrize(
    "settings, match",
    [
        (dict(keep_prob=0), r"keep_prob must be a real number in \(0, 1\]; got 0"),
        (dict(keep_prob=1.5), r"keep_prob must be a real number in \(0, 1\]; got 1.5"),
        (dict(keep_prob=(0.5, 0.0)), r"keep_prob\[1\] must be a real number in \(0, 1\]; got 0.0"),
        (dict(keep_prob=(0.5, 0.5, 0.5)), r"keep_prob must be one number or 2 numbers .*got 3"),
        (dict(l2=-0.1), "l2 must be a real number >= 0; got -0.1"),
        (dict(l1=-1), "l1 must be a real number >= 0; got -1"),
        (dict(learning_rate=0), "learning_rate must be a real number > 0; got 0"),
        (dict(learning_rate=-0.3), "learning_rate must be a real number > 0; got -0.3"),
        (dict(n_iterations=0), r"n_iterations must be an integer in \[1, 1000000000\]; got 0"),
        (dict(n_iterations=10**9 + 1), r"n_iterations must be an integer in \[1, 1000000000\]; got 1000000001"),
        (dict(hidden_layer_sizes=(20, 0)), r"hidden_layer_sizes\[1\] must be an integer >= 1; got 0"),
        (dict(hidden_layer_sizes=()), "hidden_layer_sizes must hold at least one layer size"),
        (dict(mask_mode="sometimes"), "mask_mode must be one of 'course', 'fresh'; got 'sometimes'"),
        (dict(init="zeros"), "init must be one of 'course', 'fresh'; got 'zeros'"),
        (dict(seed=-1), r"seed must be an integer in \[0, 4294967295\]; got -1"),
    ],
)
def test_bad_settings_are_refused(settings, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**settings)


def test_wrong_types_of_settings_are_refused():
    with pytest.raises(TypeError, match=r"n_iterations must be an integer in \[1, 1000000000\]; got 10.5"):
        TrainConfig(n_iterations=10.5)
    with pytest.raises(TypeError, match="l2 must be a real number >= 0; got '0.7'"):
        TrainConfig(l2="0.7")


def test_models_too_big_for_memory_are_refused_before_anything_is_allocated(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(reglab.memory, "available_memory", lambda: 2 * 2**20)  # 1 MiB allowed
    with pytest.raises(MemoryError, match=r"training 1 model \(hidden_layer_sizes up to 500,500\) on 80 examples "
                                          r"needs about 11 MiB, more than the 1 MiB allowed"):
        reglab.fit(X, y, TrainConfig(hidden_layer_sizes=(500, 500), n_iterations=10))
    reglab.fit(X, y, TrainConfig(n_iterations=10))  # the course's model: about 0.25 MiB


def test_the_recorded_iterations_are_every_record_every_th_and_the_last():
    assert train.recorded_iterations(5, 2) == [0, 2, 4]
    assert train.recorded_iterations(6, 2) == [0, 2, 4, 5]
    assert train.recorded_iterations(1, 100) == [0]
    assert train.recorded_iterations(250, 100) == [0, 100, 200, 249]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda d: reglab.compare(None), TypeError, r"dataset must be a data set .*; got NoneType"),
        (lambda d: reglab.compare("field"), TypeError, r"dataset must be a data set .*resolve_data\('field'\).*; got str"),
        (lambda d: reglab.compare(d, [TrainConfig()]), TypeError, "configs must map model names to TrainConfig.*; got list"),
        (lambda d: reglab.compare(d, {"a": 0.7}), TypeError, r"configs\['a'\] must be a TrainConfig; got float"),
        (lambda d: reglab.experiments.compare.compare_seeds(d, seeds=5), TypeError, r"seeds must be a sequence .*range\(5\); got int"),
        (lambda d: reglab.experiments.compare.compare_seeds(d, seeds=[1, 1]), ValueError, "seeds must be different .*1 is given twice"),
        (lambda d: reglab.fit(d.X_train, d.y_train, {"l2": 0.7}), TypeError, "config must be a TrainConfig.*; got dict"),
        (lambda d: reglab.fit(d.X_train, d.y_train, l2=0.7), TypeError, r"fit got unexpected keyword argument 'l2' \(settings"),
    ],
)
def test_the_python_api_names_the_wrong_argument(data, call, error, message):
    with pytest.raises(error, match=message):
        call(compare_dataset(data))


def test_training_data_of_one_class_is_refused(data):
    X, _ = data
    for labels, shown in [(np.zeros(len(X)), "0"), (np.full(len(X), 1), "1")]:
        with pytest.raises(ValueError, match=f"y must hold both classes to learn from; every label is {shown}"):
            reglab.fit(X, labels, TrainConfig(n_iterations=10))


def test_bad_data_is_refused(data):
    X, y = data
    config = TrainConfig(n_iterations=10)
    with_nan = X.copy()
    with_nan[3, 1] = np.nan
    cases = [
        (with_nan, y, "X must hold finite numbers; got 1 NaN or infinite value"),
        (X[:, 0], y, r"X must be 2-D \(n_samples, n_features\); got 1-D with shape \(80,\)"),
        (X[None], y, "X must be 2-D .*got 3-D"),
        (X, y[:-1], "X and y must have the same number of samples; got 80 and 79"),
        (X, np.arange(80) % 3, "y must hold two classes; got 3"),
        (np.empty((0, 2)), np.empty(0), r"X must not be empty; got shape \(0, 2\)"),
        (X, np.empty(0), "y must not be empty"),
        (X, np.stack([y, y], axis=1), r"y must be 1-D \(n_samples,\); got shape \(80, 2\)"),
        (X, np.full(80, 7), r"y must hold two classes \(or labels 0/1\); got the single class 7$"),
    ]
    for bad_X, bad_y, match in cases:
        with pytest.raises(ValueError, match=match):
            reglab.fit(bad_X, bad_y, config)
    with pytest.raises(TypeError, match="configs\\[0\\] must be a TrainConfig; got dict"):
        reglab.fit_many(X, y, [dict(l2=0.7)])
    with pytest.raises(ValueError, match="configs must hold at least one TrainConfig"):
        reglab.fit_many(X, y, [])


def test_prediction_checks_its_input(data):
    X, y = data
    model = reglab.fit(X, y, TrainConfig(n_iterations=50))
    with pytest.raises(ValueError, match=r"X must have 2 features \(columns\); got 3"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="X must hold finite numbers"):
        model.predict_proba(np.full((2, 2), np.inf))


# ---- compare: the models train at the same time, each as alone --------------------------------------------


def compare_dataset(data):
    from types import SimpleNamespace

    X, y = data
    return SimpleNamespace(X_train=X[:60], y_train=y[:60], X_test=X[60:], y_test=y[60:])


def test_compare_trains_each_model_as_fit_alone_would(data):
    from reglab.experiments.compare import compare

    dataset = compare_dataset(data)
    configs = {
        "plain": TrainConfig(n_iterations=400),
        "L2": TrainConfig(l2=0.7, n_iterations=400),
        "dropout": TrainConfig(keep_prob=0.86, n_iterations=400),
        "fresh": TrainConfig(keep_prob=0.8, mask_mode="fresh", init="fresh", seed=4, n_iterations=300),
    }
    calls = []
    result = compare(dataset, configs, progress=lambda done, total: calls.append((done, total)))
    assert [r.name for r in result.results] == list(configs)
    assert result.threads >= 1
    for name, config in configs.items():
        alone = reglab.fit(dataset.X_train, dataset.y_train, config)
        assert_same_model(result[name].model, alone)  # bit for bit
        assert result[name].test_accuracy == alone.accuracy(dataset.X_test, dataset.y_test)
        assert result[name].seconds > 0
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1] == (1500, 1500)
    assert {total for _, total in calls} == {1500}


def test_compare_hands_each_result_over_as_soon_as_it_is_measured(data):
    import threading

    from reglab.experiments.compare import compare

    configs = {"plain": TrainConfig(n_iterations=300), "L2": TrainConfig(l2=0.7, n_iterations=300),
               "dropout": TrainConfig(keep_prob=0.86, n_iterations=300)}
    seen, inside = [], threading.Lock()

    def on_result(result):
        assert inside.acquire(blocking=False), "on_result called by two threads at once"
        try:
            seen.append(result)
        finally:
            inside.release()

    result = compare(compare_dataset(data), configs, on_result=on_result)
    assert sorted(r.name for r in seen) == sorted(configs)
    for handed in seen:
        assert handed is result[handed.name]


def test_an_error_in_on_result_stops_the_comparison(data):
    from reglab.experiments.compare import compare

    def refuse(result):
        raise OSError(f"disk full while saving {result.name}")

    configs = {"slow": TrainConfig(n_iterations=200000), "quick": TrainConfig(n_iterations=100)}
    with pytest.raises(OSError, match="disk full while saving quick"):  # "slow" stopped before its end
        compare(compare_dataset(data), configs, on_result=refuse)


def test_a_ctrl_c_while_compare_starts_its_threads_stops_every_model_before_compare_raises(data, monkeypatch):
    # A Ctrl-C inside Thread.start (pool.submit starts the threads) used to leave a thread the pool
    # did not know of: compare raised at once while that model trained on and then handed its
    # result over (the CLI wrote it into a run folder it had already removed).
    import signal
    import threading

    from reglab.experiments import compare as experiments

    real_start = threading.Thread.start

    def start(thread):
        real_start(thread)
        if thread.name.startswith("reglab-compare"):
            signal.raise_signal(signal.SIGINT)  # Python's handler: KeyboardInterrupt, here in start()

    monkeypatch.setattr(threading.Thread, "start", start)
    monkeypatch.setattr(experiments, "_cores", lambda: 2)  # the threaded path on any machine
    configs = {"plain": TrainConfig(n_iterations=20000), "L2": TrainConfig(l2=0.7, n_iterations=20000)}
    handed = []
    with pytest.raises(KeyboardInterrupt):
        experiments.compare(compare_dataset(data), configs, engine="reference", on_result=handed.append)
    still = [t for t in threading.enumerate() if t.name.startswith("reglab-compare")]
    for thread in still:  # (none: a thread found here was left running, and is waited for)
        thread.join()
    assert (still, handed) == ([], [])


def test_interrupts_deferred_raises_a_ctrl_c_when_the_block_ends():
    import signal

    from reglab._signals import interrupts_deferred

    ran = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            signal.raise_signal(signal.SIGINT)
            ran.append("after the Ctrl-C")
    assert ran == ["after the Ctrl-C"]
    with interrupts_deferred():  # nothing held back: nothing raised
        ran.append("quiet")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_compare_reports_a_diverging_model_and_stops_the_others(data):
    from reglab.experiments.compare import compare

    configs = {"slow": TrainConfig(n_iterations=200000), "diverges": TrainConfig(learning_rate=1e6, n_iterations=300)}
    done = []
    with pytest.raises(reglab.TrainingDivergedError, match=r"learning_rate=1e\+06"):
        compare(compare_dataset(data), configs, progress=lambda i, n: done.append(i))
    assert max(done, default=0) < 200000  # "slow" stopped at a record point, long before its end


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_a_watch_given_to_fit_sees_the_network_and_can_stop_it(data, engine):
    X, y = data
    seen = []

    def watch(iteration, params, cost):
        seen.append((iteration, params.weights[0].shape, cost.shape))
        return iteration == 200

    config = TrainConfig(n_iterations=1000, keep_prob=0.8, mask_mode="fresh", init="fresh", seed=2)
    stopped = reglab.fit(X, y, config, engine=engine, watch=watch)
    assert [i for i, _, _ in seen] == [0, 100, 200]
    assert seen[0][1] == (1, 20, 2) and seen[0][2] == (1,)
    assert list(stopped.history.iterations) == [0, 100, 200]
    # Stopped before the update of iteration 200: the network of 200 updates, as n_iterations=200 trains.
    short = reglab.fit(X, y, config.replace(n_iterations=200), engine=engine)
    for a, b in zip(stopped.params.weights, short.params.weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="fit got unexpected keyword argument 'watcher'"):
        reglab.fit(X, y, config, watcher=watch)


def test_a_comparison_names_the_model_that_diverged_and_the_setting_most_likely_at_fault(data):
    X, y = data
    dataset = reglab.datasets.Dataset("toy", X, y, X, y, "toy")
    configs = reglab.experiments.compare.course_study_configs(TrainConfig(n_iterations=300), l2=1e6)
    with pytest.raises(reglab.TrainingDivergedError) as caught:
        reglab.compare(dataset, configs)
    message = str(caught.value)
    assert message.startswith("training diverged: the cost of model 'L2 (lambd=1e+06)' ")
    assert f"the likely cause is l2=1e+06: with learning_rate=0.3 on m = {len(y)} training points" in message
    (divergence,) = caught.value.divergences
    assert divergence.cause == "l2" and divergence.config == configs["L2 (lambd=1e+06)"]


@pytest.mark.parametrize(
    "settings, largest, standardized, cause",
    [
        (dict(l2=1e3), 1.0, False, "l2"),  # lr·l2/m = 3 > 2: the penalty's own step grows the weights
        (dict(l2=600.0), 1.0, False, "learning_rate"),  # 1.8: it shrinks them, however it oscillates
        (dict(l1=400.0), 1.0, False, "l1"),  # lr·l1/m = 1.2: more than a weight's size
        (dict(), 1e3, False, "standardize"),  # |x|² = 1e6 against a rate at the course's 0.3
        (dict(), 1e3, True, "learning_rate"),  # standardised already: not the data's scale
        (dict(learning_rate=1e6), 226.0, False, "learning_rate"),  # 1e6/0.3 is the larger excess than 226²
    ],
)
def test_the_likely_cause_of_a_divergence_follows_the_documented_rules(settings, largest, standardized, cause):
    from reglab.divergence import explain

    X = np.full((100, 2), largest)  # m = 100 examples
    found = explain(0, TrainConfig(**settings), iteration=100, cost=float("nan"), start_cost=None, X=X,
                    standardized=standardized)
    assert found.cause == cause
