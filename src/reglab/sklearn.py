"""``RegularizedMLPClassifier``: reglab's network as a scikit-learn estimator.

The only module of reglab that imports scikit-learn (install the ``sklearn`` extra); ``import
reglab`` does not load it. The estimator is a thin layer: its parameters become a ``TrainConfig``,
``reglab.fit`` trains, and the trained ``reglab.Model`` is kept as ``model_``, so a model saved
from the estimator is the same file the library and the ``reglab`` command read and write.
"""

from __future__ import annotations

import dataclasses
import inspect
import numbers
import textwrap

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted

from .config import TrainConfig
from .model import Model
from .settings import SETTINGS, Setting
from .training import ENGINES, fit
from .validation import not_whole_labels

try:
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn < 1.6: the method on BaseEstimator

    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


__all__ = ["RegularizedMLPClassifier", "LOSS_RECORD_EVERY"]

#: The training cost is recorded every LOSS_RECORD_EVERY iterations (and at the last one), as the course does.
LOSS_RECORD_EVERY = 100

# scikit-learn >= 1.6 describes estimators with Tags objects (``__sklearn_tags__``), older versions
# with a dict (``_more_tags``); the estimator defines whichever the installed version reads.
_TAG_OBJECTS = hasattr(BaseEstimator, "__sklearn_tags__")


#: The estimator's parameters that are not training settings: (name, default, constraints, description).
_OPTIONS = (
    ("standardize", False, ["boolean"], "Centre and scale each feature by the mean and standard deviation of the "
     "training X before the network; the model keeps that transformation and applies it when predicting (also "
     "after saving). A Pipeline with StandardScaler works as well."),
    ("engine", "compiled", [StrOptions(set(ENGINES))], "compiled: the numba training loop; reference: the readable "
     "NumPy loop. Both train the same model up to rounding."),
)
_RANDOM_STATE_HELP = (
    "Seed of the initial weights and of fresh dropout masks. An int in [0, 2**32 - 1] is used as reglab's seed "
    "itself; None draws a seed from NumPy's global RandomState and a RandomState instance draws one from that "
    "instance (scikit-learn's convention). The seed used is kept as seed_."
)


def _constraints(declared: Setting) -> list:
    """scikit-learn's parameter constraints of a declared setting."""
    closed = {(True, True): "both", (True, False): "left", (False, True): "right", (False, False): "neither"}
    if declared.name == "seed":
        return ["random_state"]
    if declared.kind in ("int", "real"):
        number = numbers.Integral if declared.kind == "int" else numbers.Real
        bounds = (declared.low_inclusive and declared.low is not None, declared.high_inclusive and declared.high is not None)
        return [Interval(number, declared.low, declared.high, closed=closed[bounds])] + ([None] if declared.optional else [])
    if declared.kind == "choice":
        return [StrOptions(set(declared.choices))]
    if declared.kind == "flag":
        return ["boolean"]
    if declared.kind == "layers":  # an int is one hidden layer
        return ["array-like", Interval(numbers.Integral, 1, None, closed="left")]
    return [Interval(numbers.Real, 0, 1, closed="right"), "array-like"]  # keep_prob


def _signature() -> inspect.Signature:
    """``__init__(self, hidden_layer_sizes=(20, 3), *, <every other setting>, standardize, engine)``."""
    kinds = [inspect.Parameter.POSITIONAL_OR_KEYWORD] + [inspect.Parameter.KEYWORD_ONLY] * len(SETTINGS)
    parameters = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    parameters += [inspect.Parameter(s.estimator_name, kind, default=s.estimator_value) for s, kind in zip(SETTINGS, kinds)]
    parameters += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default) for name, default, _, _ in _OPTIONS]
    return inspect.Signature(parameters)


def _parameter_docs() -> str:
    """The numpydoc Parameters section, from the settings' declarations."""
    lines = []
    for s in SETTINGS:
        text = _RANDOM_STATE_HELP if s.name == "seed" else f"{s.help} Allowed: {s.allowed()}."
        kind = "None, int or numpy.random.RandomState" if s.name == "seed" else s.annotation
        if s.estimator:
            text += f" (reglab's ``{s.name}``)"
        lines += [f"    {s.estimator_name} : {kind}, default={s.estimator_value!r}", _indented(text)]
    for name, default, _, text in _OPTIONS:
        lines += [f"    {name} : {type(default).__name__}, default={default!r}", _indented(text)]
    return "\n".join(lines)


def _indented(text: str) -> str:
    return textwrap.fill(text, 100, initial_indent=" " * 8, subsequent_indent=" " * 8)


class RegularizedMLPClassifier(ClassifierMixin, BaseEstimator):
    """Binary classifier: (LINEAR -> RELU [-> DROPOUT]) x H -> LINEAR -> SIGMOID, full-batch gradient descent.

    The network of the course "Regularization" (layers [n_features, 20, 3, 1] by default), with
    L2, L1 and inverted dropout in any combination, trained on all samples at every step. Its
    parameters are reglab's training settings (``reglab.settings``), under scikit-learn's names
    where it has them, and ``standardize`` and ``engine``.

    Parameters
    ----------
{parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels, sorted; ``predict_proba[:, 1]`` is the probability of ``classes_[1]``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` in ``fit`` had string column names (a DataFrame).
    model_ : reglab.Model
        The trained network; ``model_.save(path)`` writes the file that ``reglab.load_model`` and
        ``reglab predict`` read.
    loss_curve_ : ndarray of shape (n_records,)
        The regularized training cost (cross-entropy plus penalties; with dropout, under that
        iteration's masks) before the update of the iterations in ``loss_curve_iterations_``.
    loss_curve_iterations_ : ndarray of shape (n_records,)
        0, 100, 200, ... and ``max_iter - 1``: where ``loss_curve_`` was recorded.
    n_iter_ : int
        Iterations run (``max_iter``, or fewer when early stopping stopped training).
    validation_scores_ : ndarray of shape (n_records,) or None
        With early stopping: accuracy on the held-out points at each record point; else None.
    best_validation_score_ : float or None
        With early stopping: the held-out accuracy at the iteration whose weights were kept.
    seed_ : int
        The seed the model was trained with (see ``random_state``).

    See Also
    --------
    reglab.fit : the same training from the library, returning a ``reglab.Model``.
    sklearn.multiclass.OneVsRestClassifier : wrap this estimator for more than two classes.

    Notes
    -----
    ``l2`` penalises as ``MLPClassifier``'s ``alpha`` does (``alpha / 2 * sum ||W||^2 / n_samples``) when
    ``l2 = alpha``. Differences from ``sklearn.neural_network.MLPClassifier``: ``learning_rate`` is the
    (constant) step itself, the solver is plain full-batch gradient descent, training runs exactly
    ``max_iter`` iterations (unless early stopping stops it), and only two classes are supported.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from reglab.sklearn import RegularizedMLPClassifier
    >>> X, y = make_moons(200, noise=0.2, random_state=0)
    >>> clf = RegularizedMLPClassifier(l2=0.7, keep_prob=0.86, max_iter=2000, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        **{s.estimator_name: _constraints(s) for s in SETTINGS},
        **{name: constraints for name, _, constraints, _ in _OPTIONS},
    }

    def __init__(self, *args, **kwargs):
        bound = self.__init__.__signature__.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = _signature()  # what scikit-learn's get_params and clone read

    # ---- training ----------------------------------------------------------------------------
    def _train_config(self, seed: int) -> TrainConfig:
        """The reglab settings of these parameters (TrainConfig checks what the constraints cannot)."""
        values = {s.name: getattr(self, s.estimator_name) for s in SETTINGS}
        hidden = values["hidden_layer_sizes"]
        values["hidden_layer_sizes"] = (hidden,) if isinstance(hidden, numbers.Integral) else tuple(hidden)
        values["early_stopping"] = bool(values["early_stopping"])
        values["seed"] = seed
        return TrainConfig(**values)

    def _fit_options(self) -> dict:
        """Keyword arguments of ``reglab.fit`` other than the config."""
        return {"engine": self.engine, "standardize": bool(self.standardize), "record_every": LOSS_RECORD_EVERY}

    def _seed(self) -> int:
        """reglab's seed: the int itself, else drawn from the RandomState (None: NumPy's global one)."""
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.uint32).max))

    def fit(self, X, y):
        """Train the network on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs, finite numbers.
        y : array-like of shape (n_samples,)
            Labels of exactly two classes (any labels, strings too).

        Returns
        -------
        self : RegularizedMLPClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid parameters, more or fewer than two classes, or a diverging training
            (``reglab.TrainingDivergedError``, when ``learning_rate`` is too large).
        """
        self._validate_params()
        X, y = _validate_data(self, X, y, dtype=np.float64)
        problem = not_whole_labels(np.unique(y)) if np.asarray(y).dtype.kind == "f" else None
        if problem is not None:  # scikit-learn's words first (its checks look for them), then what to do, as reglab says it
            raise ValueError(f"Unknown label type: continuous. {problem}")
        check_classification_targets(y)
        classes = unique_labels(y)
        if classes.size > 2:
            shown = ", ".join(str(_plain(c)) for c in classes[:5]) + (", ..." if classes.size > 5 else "")
            raise ValueError(
                f"Only binary classification is supported. The type of the target is "
                f"{type_of_target(y, input_name='y')}: y holds {classes.size} classes ({shown}). "
                f"For more classes wrap the estimator: "
                f"sklearn.multiclass.OneVsRestClassifier({type(self).__name__}(...))"
            )
        if classes.size < 2:
            raise ValueError(f"y must hold two classes; got one class: {_plain(classes[0])!r}")
        seed = self._seed()
        config = self._train_config(seed)
        y_encoded = (y == classes[1]).astype(np.float64)  # (n_samples,): 1 for classes[1]
        model = fit(X, y_encoded, config, **self._fit_options())
        # The model carries the real labels, so library, CLI and estimator predict the same labels.
        model = dataclasses.replace(model, classes=_plain_labels(classes))
        self._set_fitted(model, classes)
        return self

    def _set_fitted(self, model: Model, classes: np.ndarray) -> None:
        """Fitted attributes from a trained model."""
        self.model_ = model
        self.classes_ = classes
        self.n_features_in_ = model.n_features
        self.loss_curve_ = np.array(model.history.cost, dtype=float)
        self.loss_curve_iterations_ = np.array(model.history.iterations)
        history = model.history
        stopped = history.early_stopped and history.stopped_iteration >= 0
        self.n_iter_ = int(history.stopped_iteration) if stopped else model.config.n_iterations
        self.seed_ = model.config.seed
        self.validation_scores_ = np.array(history.dev_accuracy, dtype=float) if history.early_stopped else None
        self.best_validation_score_ = (
            float(history.dev_accuracy[list(history.iterations).index(history.best_iteration)])
            if history.early_stopped else None
        )

    @classmethod
    def from_model(cls, model: Model, *, engine: str = "compiled") -> RegularizedMLPClassifier:
        """A fitted estimator around a trained ``reglab.Model`` (from ``reglab.fit`` or ``load_model``).

        Parameters
        ----------
        model : reglab.Model
            Its settings become the estimator's parameters (``random_state`` is its seed), its
            network the fitted one; refitting trains anew with those settings.
        engine : {"compiled", "reference"}, default="compiled"
            The engine of a refit (a model does not record the engine it was trained with).

        Returns
        -------
        RegularizedMLPClassifier
            Fitted: predicts exactly as ``model`` does.
        """
        if not isinstance(model, Model):
            raise TypeError(f"model must be a reglab.Model; got {type(model).__name__}")
        values = {s.estimator_name: getattr(model.config, s.name) for s in SETTINGS}
        keep_prob = values["keep_prob"]
        values["keep_prob"] = keep_prob[0] if len(set(keep_prob)) == 1 else keep_prob
        estimator = cls(**values, standardize=model.standardized, engine=engine)
        estimator._validate_params()
        estimator._set_fitted(model, np.asarray(model.classes))
        return estimator

    # ---- prediction --------------------------------------------------------------------------
    def _checked_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        return _validate_data(self, X, reset=False, dtype=np.float64)

    def decision_function(self, X):
        """The network's output before the sigmoid (the logit of ``classes_[1]``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Positive where ``classes_[1]`` is predicted.
        """
        X = self._checked_X(X)  # first: it raises NotFittedError before model_ is looked up
        return self.model_.decision_function(X)

    def predict_proba(self, X):
        """Class probabilities (the network without dropout).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Column k is the probability of ``classes_[k]``.
        """
        X = self._checked_X(X)
        positive = self.model_.predict_proba(X)  # (n_samples,)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X):
        """Predicted labels: ``classes_[1]`` where its probability is above 0.5.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``; the same as ``model_.predict(X)``.
        """
        X = self._checked_X(X)
        return self.classes_[(self.model_.predict_proba(X) > 0.5).astype(int)]

    # ---- scikit-learn tags -------------------------------------------------------------------
    if _TAG_OBJECTS:

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.classifier_tags.multi_class = False
            return tags

    else:  # pragma: no cover - scikit-learn < 1.6

        def _more_tags(self):
            return {"binary_only": True}


RegularizedMLPClassifier.__doc__ = RegularizedMLPClassifier.__doc__.replace("{parameters}", _parameter_docs())


def _plain_labels(classes: np.ndarray) -> np.ndarray:
    """Labels as a non-object array, so a saved model loads with ``allow_pickle=False``."""
    if classes.dtype != object:
        return classes
    return np.asarray(classes.tolist())


def _plain(label):
    """A NumPy scalar as the Python value it holds (for messages: 'a', not np.str_('a'))."""
    return label.item() if isinstance(label, np.generic) else label
