"""``fit`` and ``fit_many``: the validated entry to training, with scikit-learn-shaped data.

``fit_many`` checks its input, groups the configurations into batches of same-shaped models
(``batch_key``), builds each batch's initial parameters, mask source and per-model settings
(``batch_hyper``), runs one engine loop per batch and returns one ``Model`` per configuration.
``Trainer`` trains one model in segments whose step settings may change between them (the web
page's pause, step and "go on with another λ").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .config import TrainConfig
from .engine.early_stopping import EarlyStopping, stratified_holdout
from .divergence import about, diverged_error
from .engine.loop import History, Hyper, Progress, TrainingDivergedError, check_finite, objective, train_loop
from .engine.masks import CourseMasks, FreshMasks
from .engine.params import Params, init_course, init_fresh, model_streams, stack
from . import memory
from .model import Model
from .validation import ParameterValueError, binary_labels, check_choice, check_int, check_X, check_X_y

__all__ = ["fit", "fit_many", "Trainer", "CHANGEABLE", "ENGINES", "batch_key", "batch_hyper", "check_training_memory", "model_bytes"]

ENGINES = ("reference", "compiled")


def batch_hyper(configs: Sequence[TrainConfig]) -> Hyper:
    """The engine's per-model settings (arrays along the model axis) of these configurations."""
    return Hyper(
        np.array([c.learning_rate for c in configs], dtype=float),
        np.array([c.l2 for c in configs], dtype=float),
        np.array([c.l1 for c in configs], dtype=float),
        np.array([c.keep_prob for c in configs], dtype=float).reshape(len(configs), -1),
        np.array([c.weight_decay for c in configs], dtype=float),
        np.array([np.inf if c.max_norm is None else c.max_norm for c in configs], dtype=float),
    )


def model_bytes(layer_sizes: Sequence[int], n_examples: int, n_records: int) -> int:
    """Bytes one model needs while it trains (float64), estimated from its sizes."""
    units = sum(layer_sizes[1:])
    params = sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    # Pre-activations, activations, their gradients and masks (~6 arrays per unit per example),
    # parameters with their gradients and updated copies (~4), and the recorded costs.
    return 8 * (6 * units * n_examples + 4 * params + n_records)


def check_training_memory(configs: Sequence[TrainConfig], X: np.ndarray, record_every: int) -> None:
    """Refuse (MemoryError, with the estimate) models that would need more than half the available memory."""
    n_examples, n_features = X.shape
    need = sum(
        model_bytes((n_features, *c.hidden_layer_sizes, 1), n_examples, c.n_iterations // record_every + 2) for c in configs
    )
    limit = memory.memory_limit()
    if need > limit:
        sizes = max((c.hidden_layer_sizes for c in configs), key=sum)
        raise MemoryError(
            f"training {len(configs)} model{'s' if len(configs) != 1 else ''} (hidden_layer_sizes up to "
            f"{','.join(map(str, sizes))}) on {n_examples} examples needs about {need / 2**20:,.0f} MiB, more than "
            f"the {limit / 2**20:,.0f} MiB allowed (half the memory available); use smaller hidden layers or fewer models"
        )


def _initial_params(layer_sizes: Sequence[int], configs: Sequence[TrainConfig]) -> Params:
    batches = []
    for config in configs:
        if config.init == "course":
            batches.append(init_course(layer_sizes, config.seed))
        else:
            init_rngs, _ = model_streams(config.seed)
            batches.append(init_fresh(layer_sizes, init_rngs))
    return stack(batches)


def _mask_source(configs: Sequence[TrainConfig], hyper: Hyper, start: int = 0):
    """The batch's dropout masks (None without dropout); fresh masks counted from iteration ``start``."""
    if not hyper.uses_dropout:
        return None
    if configs[0].mask_mode == "course":  # batches share one mask mode (see batch_key)
        return CourseMasks(hyper.keep_prob)
    return FreshMasks(hyper.keep_prob, [model_streams(c.seed)[1][0] for c in configs], start=start)


def batch_key(config: TrainConfig) -> tuple:
    early = (config.validation_fraction,) if config.early_stopping else None
    return (config.hidden_layer_sizes, config.n_iterations, config.mask_mode if config.uses_dropout else None, early)


def fit_many(
    X,
    y,
    configs: Sequence[TrainConfig],
    *,
    engine: str = "compiled",
    record_every: int = 100,
    progress: Progress | None = None,
    standardize: bool = False,
    X_dev=None,
    y_dev=None,
    watch: Callable[[int, Params, np.ndarray, tuple[int, ...]], bool] | None = None,
) -> list[Model]:
    """Train one model per config on (X (n_samples, n_features), y (n_samples,)).

    With ``standardize=True`` each feature is centred and scaled by the mean and standard
    deviation of X; the models keep that transformation and apply it when predicting.
    Configs with ``early_stopping`` watch ``X_dev`` (n_dev, n_features), ``y_dev`` (n_dev,) when
    given (all of X then trains), else a stratified ``validation_fraction`` held out of X.

    Configs that share layer sizes, iteration count and mask mode are trained together as one
    batch along the model axis. Returns the models in the order of ``configs``.
    ``engine="compiled"`` (the default) runs ``engine.compiled.train_loop_compiled`` (numba);
    ``engine="reference"`` runs ``engine.loop.train_loop``, the readable NumPy definition of correct.

    ``watch(iteration, params, cost, indices)``, if given, is called at every record point of every
    batch (batches train one after the other) with the batch's parameters at that iteration (before
    its update; ``Params`` with the batch's models along the first axis), their cost (M,) and the
    positions of their configs in ``configs``; returning True ends that batch's training there.
    ``progress(done, total)`` counts iterations over all models.

    A model whose cost diverges raises ``TrainingDivergedError``: its message names the configuration
    (its position in ``configs``), the setting most likely at fault and what to try; its
    ``divergences`` list every model of that batch that diverged at that point (``reglab.divergence``).
    """
    loop = _engine_loop(engine)
    record_every = check_int("record_every", record_every, low=1)
    configs = list(configs)
    if not configs:
        raise ValueError("configs must hold at least one TrainConfig; got none")
    for k, config in enumerate(configs):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"configs[{k}] must be a TrainConfig; got {type(config).__name__}")
    X, y_encoded, classes, scaling, dev = _training_data(X, y, configs, record_every, standardize, X_dev, y_dev)
    XT, YT = X.T, y_encoded[None, :]  # the engine's (features x examples) layout
    groups: dict[tuple, list[int]] = {}
    for k, config in enumerate(configs):
        groups.setdefault(batch_key(config), []).append(k)
    total = sum(configs[k].n_iterations for k in range(len(configs)))
    done_before = 0
    models: list[Model | None] = [None] * len(configs)
    for indices in groups.values():
        batch = [configs[k] for k in indices]
        layer_sizes = batch[0].layer_sizes(X.shape[1])
        hyper = batch_hyper(batch)
        X_fit, Y_fit, stopper = _early_stopping(batch, XT, YT, y_encoded, dev)
        batch_options = {} if stopper is None else {"watch": stopper}
        if watch is not None:
            batch_options = dict(batch_options, watch=_watching(watch, tuple(indices), stopper))

        def report(i, n, _offset=done_before, _size=len(batch)):
            if progress is not None:
                progress(_offset + i * _size, total)

        try:
            params, history = loop(
                X_fit,
                Y_fit,
                _initial_params(layer_sizes, batch),
                hyper,
                _mask_source(batch, hyper),
                batch[0].n_iterations,
                record_every,
                report,
                **batch_options,
            )
            if stopper is not None:
                params = stopper.best_params(params)
                history = History(history.iterations, history.cost, np.stack(stopper.dev_cost, axis=1),
                                  np.stack(stopper.dev_accuracy, axis=1), stopper.best_iteration, stopper.stopped_at)
            # The last recorded cost is from before the last update: check where training ended too.
            with np.errstate(over="ignore", invalid="ignore"):
                final_cost, _ = objective(params, X_fit, Y_fit, hyper)
            check_finite(final_cost, batch[0].n_iterations, hyper, start_cost=history.cost[:, 0])
        except TrainingDivergedError as error:  # which configuration, and the setting most likely at fault
            raise diverged_error(error, indices, configs, X=X_fit.T, standardized=standardize) from None
        for j, k in enumerate(indices):
            models[k] = Model(configs[k], params.model(j), history.model(j), classes, *scaling)
        done_before += batch[0].n_iterations * len(batch)
    if progress is not None:
        progress(total, total)
    return models  # type: ignore[return-value]


class _TrainingData(NamedTuple):
    X: np.ndarray  # (n, f), standardised when asked
    y_encoded: np.ndarray  # (n,) 0/1
    classes: np.ndarray  # (2,)
    scaling: tuple  # (mean (f,), scale (f,)) or (None, None)
    dev: tuple | None  # (X_dev.T (f, n_dev), Y_dev (1, n_dev)) or None


def _engine_loop(engine: str) -> Callable:
    """The training loop of ``engine`` (numba is imported on the compiled engine's first use only)."""
    if check_choice("engine", engine, ENGINES) == "compiled":
        from .engine.compiled import train_loop_compiled

        return train_loop_compiled
    return train_loop


def _training_data(X, y, configs, record_every: int, standardize: bool, X_dev, y_dev) -> _TrainingData:
    """Checked training data: labels 0/1, the input scaling (if asked) applied, the dev set in the engine's layout.

    Models too large for the memory are refused first (``check_training_memory``).
    """
    X, _ = check_X_y(X, y)
    check_training_memory(configs, X, record_every)
    y_encoded, classes = binary_labels(y)
    if np.all(y_encoded == y_encoded[0]):
        only = np.asarray(classes[int(y_encoded[0])] if len(classes) == 2 else classes[0]).item()
        raise ValueError(f"y must hold both classes to learn from; every label is {only!r}")
    scaling = (None, None)
    if standardize:
        with np.errstate(over="ignore", invalid="ignore"):  # refused below by name
            mean, scale = X.mean(axis=0), X.std(axis=0)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale))):
            raise ParameterValueError(
                "standardize",
                f"standardize=True cannot scale X: the mean or standard deviation of its features overflows "
                f"(largest |value| {np.max(np.abs(X)):.3g}); divide X by a constant first"
            )
        scaling = (mean, np.where(scale > 0, scale, 1.0))  # a constant feature is only centred
        X = (X - scaling[0]) / scaling[1]
    dev = None if X_dev is None and y_dev is None else _dev_set(X_dev, y_dev, X.shape[1], classes, scaling)
    return _TrainingData(X, y_encoded, classes, scaling, dev)


def _early_stopping(batch: Sequence[TrainConfig], XT, YT, y_encoded, dev):
    """(X_fit, Y_fit, EarlyStopping or None) of a batch: without early stopping all of X trains."""
    if not batch[0].early_stopping:
        return XT, YT, None
    if dev is None:
        held = stratified_holdout(y_encoded, batch[0].validation_fraction, seed=0)
        XT, YT, X_watch, Y_watch = XT[:, ~held], YT[:, ~held], XT[:, held], YT[:, held]
    else:
        X_watch, Y_watch = dev
    stopper = EarlyStopping(X_watch, Y_watch, [True] * len(batch), [c.patience for c in batch],
                            [c.min_delta for c in batch])
    return XT, YT, stopper


def _watching(watch, indices: tuple[int, ...], stopper):
    """The engine's watch for one batch: early stopping (if any) first, then the caller's watch."""

    def engine_watch(iteration, params, cost):
        stop = bool(stopper(iteration, params, cost)) if stopper is not None else False
        return bool(watch(iteration, params, cost, indices)) or stop

    return engine_watch


def _dev_set(X_dev, y_dev, n_features, classes, scaling) -> tuple[np.ndarray, np.ndarray]:
    """An explicit early-stopping set in the engine's layout: X_dev.T (scaled like X), labels 0/1."""
    if X_dev is None or y_dev is None:
        raise ValueError("X_dev and y_dev must be given together (or neither)")
    X_dev = check_X(X_dev, name="X_dev", n_features=n_features)
    labels = np.asarray(y_dev).ravel()
    if labels.shape[0] != X_dev.shape[0]:
        raise ValueError(f"X_dev and y_dev must have the same number of samples; got {X_dev.shape[0]} and {labels.shape[0]}")
    known = np.isin(labels.astype(str), np.asarray(classes).astype(str)) if labels.dtype.kind not in "biuf" \
        else np.isin(labels, classes)
    if not np.all(known):
        raise ValueError(f"y_dev must hold only the training classes {list(np.asarray(classes).tolist())}; "
                         f"got {np.unique(labels[~known])[:5].tolist()}")
    positive = (labels.astype(str) == str(classes[1])) if labels.dtype.kind not in "biuf" else (labels == classes[1])
    if scaling[0] is not None:
        X_dev = (X_dev - scaling[0]) / scaling[1]
    return X_dev.T, positive.astype(np.float64)[None, :]


#: The keyword options ``fit`` passes on to ``fit_many``.
_FIT_MANY_OPTIONS = frozenset(
    name for name, p in inspect.signature(fit_many).parameters.items() if p.kind is p.KEYWORD_ONLY
)


def fit(X, y, config: TrainConfig | None = None, **kwargs) -> Model:
    """Train one network. ``config`` defaults to the notebook's plain model (``TrainConfig()``).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,), two classes
    config : TrainConfig, optional
    **kwargs
        ``engine``, ``record_every``, ``progress``, ``standardize``, ``X_dev``, ``y_dev``: see ``fit_many``;
        ``watch(iteration, params, cost)``: called at every record point with the network's parameters
        (``Params``, M = 1) and cost (1,) at that iteration; True stops training there.
    """
    if config is not None and not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, e.g. TrainConfig(l2=0.7); got {type(config).__name__}")
    unknown = sorted(set(kwargs) - _FIT_MANY_OPTIONS)
    if unknown:
        hint = " (settings such as l2 go in config=TrainConfig(...))" if set(unknown) & set(TrainConfig.__dataclass_fields__) else ""
        raise TypeError(f"fit got unexpected keyword argument{'s' if len(unknown) > 1 else ''} "
                        f"{', '.join(map(repr, unknown))}{hint}")
    watch = kwargs.pop("watch", None)
    if watch is not None:
        kwargs["watch"] = lambda iteration, params, cost, indices: watch(iteration, params, cost)
    try:
        return fit_many(X, y, [config if config is not None else TrainConfig()], **kwargs)[0]
    except TrainingDivergedError as error:
        raise about(error, lambda index: "the model") from None


#: The settings a ``Trainer`` may change between segments: they act on each step, not on the network's shape,
#: its initial weights or its data.
CHANGEABLE = ("learning_rate", "l2", "l1", "keep_prob", "weight_decay", "max_norm", "n_iterations")


class Trainer:
    """One network trained in segments, whose step settings may change between segments.

    ``fit`` trains a model in one go; a ``Trainer`` trains the same model a segment at a time
    (``run``), keeping its parameters, the iteration count and the fresh-mask counter between
    segments, so that segments with unchanged settings give exactly the weights of one ``fit`` of
    the same total (in both engines). Between segments ``update`` may change λ, L1, keep_prob, the
    learning rate, weight decay, max-norm and the planned ``n_iterations`` (``CHANGEABLE``); the
    changes are kept in ``changes``. The web page's pause, step and "go on with another λ" are this.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,), two classes
    config : TrainConfig
        The settings to start with; ``config.n_iterations`` is the planned total.
    engine, record_every, standardize, X_dev, y_dev
        As for ``fit_many``. Early stopping keeps one monitor over all segments.

    Examples
    --------
    >>> trainer = Trainer(X, y, TrainConfig(n_iterations=3000))      # doctest: +SKIP
    >>> trainer.run(1000); trainer.update(l2=0.7); trainer.run()     # doctest: +SKIP
    >>> model = trainer.model()                                      # doctest: +SKIP
    """

    def __init__(self, X, y, config: TrainConfig, *, engine: str = "compiled", record_every: int = 100,
                 standardize: bool = False, X_dev=None, y_dev=None):
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, e.g. TrainConfig(l2=0.7); got {type(config).__name__}")
        _engine_loop(engine)  # checked now, not at the first run
        self.engine = engine
        self.record_every = check_int("record_every", record_every, low=1)
        data = _training_data(X, y, [config], self.record_every, standardize, X_dev, y_dev)
        self._classes, self._scaling = data.classes, data.scaling
        self._X, self._Y, self._stopper = _early_stopping([config], data.X.T, data.y_encoded[None, :], data.y_encoded,
                                                          data.dev)
        self.config = config
        self.params = _initial_params(config.layer_sizes(data.X.shape[1]), [config])  # Params, M = 1
        self.iteration = 0  # iterations done: the next one to run
        self.changes: list[tuple[int, dict]] = []  # (iteration, {setting: new value}) of each update
        self.stopped = False  # early stopping ended the training
        self._iterations: list[int] = []
        self._costs: list[float] = []

    @property
    def remaining(self) -> int:
        """Iterations left until ``config.n_iterations`` (0 when early stopping has ended training)."""
        return 0 if self.stopped else max(0, self.config.n_iterations - self.iteration)

    def update(self, **changes) -> TrainConfig:
        """Change settings of ``CHANGEABLE`` for the next segments; returns the new config.

        A value is checked as ``TrainConfig`` checks it (a ``ValueError``/``TypeError`` naming the setting).
        """
        fixed = sorted(set(changes) - set(CHANGEABLE))
        if fixed:
            raise ValueError(f"{', '.join(fixed)} cannot change during training; settings that can: "
                             f"{', '.join(CHANGEABLE)}")
        new = self.config.replace(**changes)
        if new.n_iterations < self.iteration:
            raise ValueError(f"n_iterations must be at least the {self.iteration} iterations already done; "
                             f"got {new.n_iterations}")
        done = {k: getattr(new, k) for k in changes if getattr(new, k) != getattr(self.config, k)}
        if done:
            self.changes.append((self.iteration, done))
        self.config = new
        return new

    def run(self, n_iterations: int | None = None, *, watch: Callable[[int, Params, np.ndarray], bool] | None = None,
            progress: Progress | None = None) -> int:
        """Train ``n_iterations`` more (default: the ``remaining``); returns the iterations done.

        ``watch(iteration, params, cost)`` is called at the record points of the segment (its first
        iteration, every ``record_every`` after it, its last), with the iteration counted from the
        start of training; True ends the segment there, before that iteration's update. Early
        stopping, if on, may end it too (``stopped``). The history keeps the record points one ``fit``
        would (multiples of ``record_every`` and the planned last iteration).
        """
        n_iterations = self.remaining if n_iterations is None else check_int("n_iterations", n_iterations, low=0)
        if n_iterations == 0 or self.stopped:
            return 0
        loop = _engine_loop(self.engine)
        hyper = batch_hyper([self.config])
        start, ended = self.iteration, [None]

        def segment_watch(i, params, cost):
            at = start + i
            stop = False
            # The record points of one fit (multiples of record_every and the last iteration) whatever the segments:
            # early stopping then counts its patience as in one fit, and the history is one fit's.
            if at % self.record_every == 0 or at == self.config.n_iterations - 1:
                if self._iterations[-1:] == [at]:  # paused there: the cost under the settings it goes on with
                    self._costs[-1] = float(cost[0])
                else:
                    self._iterations.append(at)
                    self._costs.append(float(cost[0]))
                    if self._stopper is not None and self._stopper(at, params, cost):
                        self.stopped = stop = True
            if watch is not None and watch(at, params, cost):
                stop = True
            if stop:
                ended[0] = at
            return stop

        # A segment that starts between record points first runs up to the next one, so that the engine's own
        # record points (every record_every from where a loop starts) fall on one fit's.
        to_aligned = min(n_iterations, -start % self.record_every)
        for piece in (to_aligned, n_iterations - to_aligned):
            if piece == 0:
                continue
            masks = _mask_source([self.config], hyper, start=self.iteration)
            offset = self.iteration
            self.params, _ = loop(self._X, self._Y, self.params, hyper, masks, piece, self.record_every, progress,
                                  watch=lambda i, params, cost, _offset=offset: segment_watch(_offset + i - start, params, cost))
            if ended[0] is not None:
                self.iteration = ended[0]
                break
            self.iteration = offset + piece
        return self.iteration - start

    @property
    def history(self) -> History:
        """The recorded costs of all segments (with the dev set's when early stopping is on)."""
        iterations, cost = np.array(self._iterations, dtype=int), np.array(self._costs)
        if self._stopper is None:
            return History(iterations, cost)
        dev_at = {i: (float(c[0]), float(a[0])) for i, c, a in
                  zip(self._stopper.iterations, self._stopper.dev_cost, self._stopper.dev_accuracy)}
        dev = np.array([dev_at.get(i, (np.nan, np.nan)) for i in self._iterations]).reshape(-1, 2)  # (T, 2)
        return History(iterations, cost, dev[:, 0], dev[:, 1], int(self._stopper.best_iteration[0]),
                       int(self._stopper.stopped_at[0]))

    def snapshot(self, params: Params) -> Model:
        """A model with ``params`` (e.g. those a watch sees), this trainer's settings, classes and input scaling.

        Its history is empty: it is for predicting and measuring along the way (``model()`` is the trained one).
        """
        return Model(self.config, params, History(np.zeros(0, dtype=int), np.zeros(0)), self._classes, *self._scaling)

    def model(self) -> Model:
        """The network as trained so far (with early stopping: its best weights), as a ``Model``."""
        params = self.params if self._stopper is None else self._stopper.best_params(self.params)
        return Model(self.config, params, self.history, self._classes, *self._scaling)
