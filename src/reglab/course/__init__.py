"""The course notebook's names and behaviour, in its (features x examples) layout, over reglab's engine.

``from reglab.course import *`` stands in for the notebook's ``from reg_utils import ...`` and
``from testCases import *``: point those two imports here and the notebook runs unchanged. The
module also holds reference versions of the four graded functions and of ``model``.

Layout, as in the course: ``X`` (n_x, m), ``Y`` (1, m) of 0/1 labels, parameters as a dict
``{"W1": (n_1, n_0), "b1": (n_1, 1), "W2": ..., ...}``, gradients as a dict ``{"dW1": ..., ...}``.

This is a thin layer: every number comes from the engine (``network.forward``/``backward``,
``ops``, ``penalties``, ``masks.CourseMasks``, ``params.init_course``, ``train.train_loop``) and
every figure's drawing from ``plots``. ``course_layout`` checks the course's dicts and tuples and
converts them to the engine's ``Params`` (a model axis of 1) and back, cheaply enough for the
notebook's own 30000-iteration loops; ``course_cases`` holds the ``testCases`` builders, which
are re-exported here.

Deliberate differences from the course's helper modules:

- **The global random generator is left alone.** The course calls ``np.random.seed`` in
  ``initialize_parameters`` (seed 3), in its test-case builders (seed 1) and at the start of every
  ``forward_propagation_with_dropout`` call (seed 1). Here the same draws come from private legacy
  ``RandomState`` objects, so every value is identical, but ``np.random``'s state is the same
  after a call as before. Reason: every course function that draws re-seeds first, so no output
  of the notebook depends on the state they leave behind; re-seeding the global generator on
  every forward pass (30000 times per model) would instead make any other code that uses
  ``np.random`` silently repeat itself. The one visible difference: unseeded ``np.random`` draws
  made right after one of these calls differ from what they would be under the course's helpers.
- ``compute_cost`` is computed stably from the logits: outputs of exactly 0 or 1 give the exact
  limit with no warning and no NaN (the course's version warns and relies on ``nansum``).
- ``update_parameters`` returns a new dict and does not modify the one it is given.
- ``model`` allows L2 and dropout together; ``print_cost=False`` also skips the cost figure.
- Bad input raises ``ValueError``/``TypeError`` naming the parameter instead of failing deep
  inside NumPy.

Printing and figures: like the course, ``predict`` and ``model`` print, and ``model`` and
``plot_decision_boundary`` call ``plt.show()``; this module is the only place in reglab that does,
because the notebook's cells rely on it. ``plt.show()`` is called only under an interactive
matplotlib backend (under Agg it would only warn).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from ..engine import network, ops, penalties
from .cases import backward_propagation_with_dropout_test_case, backward_propagation_with_regularization_test_case, compute_cost_with_regularization_test_case, forward_propagation_with_dropout_test_case
from .layout import backward, check_examples, check_keep_prob, check_labels, check_lambd, check_learning_rate, check_probabilities, forward, to_dict, to_params
from ..engine.masks import CourseMasks
from ..engine.params import init_course
from ..plots import draw_decision_boundary
from ..engine.loop import Hyper, train_loop
from ..validation import check_int, check_layer_sizes

__all__ = [
    "sigmoid",
    "relu",
    "initialize_parameters",
    "forward_propagation",
    "backward_propagation",
    "compute_cost",
    "update_parameters",
    "predict",
    "predict_dec",
    "plot_decision_boundary",
    "load_2D_dataset",
    "compute_cost_with_regularization",
    "backward_propagation_with_regularization",
    "forward_propagation_with_dropout",
    "backward_propagation_with_dropout",
    "model",
    "compute_cost_with_regularization_test_case",
    "backward_propagation_with_regularization_test_case",
    "forward_propagation_with_dropout_test_case",
    "backward_propagation_with_dropout_test_case",
]

_HIDDEN_LAYERS = (20, 3)  # the course's model: layers_dims = [n_x, 20, 3, 1]
_COST_EVERY = 1000  # the course keeps the cost every 1000 iterations for its figure
_PRINT_EVERY = 10000  # and prints it every 10000
_BOUNDARY_STEP = 0.01  # grid step of the course's decision-boundary plot


def _show() -> None:
    """``plt.show()`` only under an interactive backend (Agg's show() just warns)."""
    try:
        from matplotlib.backends import BackendFilter, backend_registry

        non_interactive = backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE)
    except ImportError:  # matplotlib < 3.9
        from matplotlib.rcsetup import non_interactive_bk as non_interactive
    if matplotlib.get_backend().lower() not in {name.lower() for name in non_interactive}:
        plt.show()


# ------------------------------------------------------------------------- reg_utils names


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))``, elementwise, any shape (the engine's ``ops.sigmoid``)."""
    return ops.sigmoid(x)


def relu(x):
    """``max(0, x)``, elementwise, any shape (the engine's ``ops.relu_forward``)."""
    return ops.relu_forward(x)


def initialize_parameters(layer_dims) -> dict[str, np.ndarray]:
    """The course's initialisation: seed 3, ``randn(n_l, n_{l-1}) / sqrt(n_{l-1})``, zero biases.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_0, n_1, ..., n_L]``, e.g. ``[2, 20, 3, 1]``; at least two entries.

    Returns
    -------
    dict
        ``"W<l>"`` of shape (n_l, n_{l-1}) and ``"b<l>"`` of shape (n_l, 1) for l = 1..L.
        The global ``np.random`` state is not changed (see the module docstring).
    """
    sizes = check_layer_sizes("layer_dims", layer_dims)
    if len(sizes) < 2:
        raise ValueError(f"layer_dims must list at least 2 sizes (inputs and outputs); got {list(sizes)}")
    return to_dict(init_course(sizes, seed=3))


def forward_propagation(X, parameters) -> tuple[np.ndarray, tuple]:
    """LINEAR -> RELU -> ... -> LINEAR -> SIGMOID, without dropout.

    Parameters
    ----------
    X : array of shape (n_0, m)
    parameters : dict
        ``W1, b1, ..., WL, bL`` as returned by ``initialize_parameters``; one output unit.

    Returns
    -------
    A3 : array of shape (1, m)
        The output probabilities (``AL`` for a network of L layers).
    cache : tuple
        ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``: per layer its pre-activation,
        activation (n_l, m), weights and biases.
    """
    return forward(X, parameters, None)


def backward_propagation(X, Y, cache) -> dict[str, np.ndarray]:
    """Gradients of the cross-entropy cost through the cache of ``forward_propagation``.

    Parameters
    ----------
    X : array of shape (n_0, m)
    Y : array of shape (1, m), labels 0/1
    cache : tuple
        ``(Z1, A1, W1, b1, ..., Z3, A3, W3, b3)``.

    Returns
    -------
    dict
        ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1`` (shapes like the arrays they
        are gradients of).
    """
    return backward(X, Y, cache, dropout=False)


def compute_cost(a3, Y) -> float:
    """Mean binary cross-entropy of the output probabilities.

    Parameters
    ----------
    a3 : array of shape (1, m), probabilities in [0, 1]
    Y : array of shape (1, m), labels 0/1

    Returns
    -------
    float
        ``-mean(Y log a3 + (1 - Y) log(1 - a3))``, computed through the engine's stable
        ``ops.cross_entropy`` on the logits ``log(a3) - log(1 - a3)``: a3 of exactly 0 or 1 gives
        the exact limit (0 where right, inf where wrong) with no warning.
    """
    a3 = check_probabilities(a3, name="a3")
    Y = check_labels(Y, a3.shape[1])
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right logit of a saturated output
        logits = np.log(a3) - np.log1p(-a3)  # (1, m)
    return float(ops.cross_entropy(logits[None], Y)[0])


def update_parameters(parameters, grads, learning_rate) -> dict[str, np.ndarray]:
    """One gradient-descent step ``W <- W - learning_rate * dW``, ``b <- b - learning_rate * db``.

    Parameters
    ----------
    parameters : dict of ``W1, b1, ..., WL, bL``
    grads : dict holding ``dW1, db1, ..., dWL, dbL`` of the same shapes
    learning_rate : float, > 0

    Returns
    -------
    dict
        The updated parameters, a new dict (unlike the course, ``parameters`` is not modified).
    """
    params = to_params(parameters)
    learning_rate = check_learning_rate(learning_rate)
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a dict with keys 'dW1', 'db1', ...; got {type(grads).__name__}")
    out = {}
    for key, value in to_dict(params).items():
        gradient = grads.get("d" + key)
        if gradient is None or np.shape(gradient) != value.shape:
            found = "missing" if gradient is None else f"shape {np.shape(gradient)}"
            raise ValueError(f"grads['d{key}'] must be an array of shape {value.shape} like {key}; got {found}")
        out[key] = value - learning_rate * np.asarray(gradient)
    return out


def predict(X, y, parameters) -> np.ndarray:
    """Predict 0/1 for every example, print ``Accuracy: <value>`` as the course does, return predictions.

    Parameters
    ----------
    X : array of shape (n_0, m)
    y : array of shape (1, m), the true labels 0/1
    parameters : dict of ``W1, b1, ..., WL, bL``

    Returns
    -------
    array of int, shape (1, m)
        1 where the output probability is above 0.5.
    """
    params = to_params(parameters)
    X = check_examples(X, n_features=params.layer_sizes[0])
    y = check_labels(y, X.shape[1], name="y")
    p = (network.predict_proba(params, X) > 0.5).astype(int)  # (1, m)
    print("Accuracy: " + str(np.mean(p[0, :] == y[0, :])))
    return p


def predict_dec(parameters, X) -> np.ndarray:
    """Predicted classes for plotting: a bool array (1, m), True where the output is above 0.5.

    Parameters
    ----------
    parameters : dict of ``W1, b1, ..., WL, bL``
    X : array of shape (n_0, m)
    """
    a3, _ = forward_propagation(X, parameters)
    return a3 > 0.5


def plot_decision_boundary(model: Callable, X, y) -> None:
    """Shade the plane by predicted class and scatter the examples on the current axes, then show.

    The drawing is ``plots.draw_decision_boundary``'s, on a grid with the course's step 0.01
    spanning the examples' range plus 1 on every side, as the course's grid does.

    Parameters
    ----------
    model : callable
        Takes points as rows, an array (n_points, 2), and returns n_points predictions 0/1
        (any shape, e.g. bool (1, n_points)), e.g. ``lambda x: predict_dec(parameters, x.T)``.
    X : array of shape (2, m)
        The examples.
    y : array of shape (1, m) or (m,)
        Their labels 0/1, used as colours (red 0, blue 1, as in the shaded regions).

    Titles and axis limits set beforehand (as the notebook does) are kept.
    """
    X = check_examples(X, n_features=2)
    labels = np.ravel(y)
    if labels.shape[0] != X.shape[1]:
        raise ValueError(f"y must have one label per example of X ({X.shape[1]}); got {labels.shape[0]}")
    if not callable(model):
        raise TypeError(f"model must be a function of points (n_points, 2); got {type(model).__name__}")

    def predict(points: np.ndarray) -> np.ndarray:
        predicted = model(points)
        if np.size(predicted) != len(points):  # named after the course's argument, not plots'
            raise ValueError(f"model must return one prediction per point ({len(points)}); got {np.size(predicted)}")
        return predicted

    axes = plt.gca()
    kept = (
        None if axes.get_autoscalex_on() else axes.get_xlim(),
        None if axes.get_autoscaley_on() else axes.get_ylim(),
    )
    draw_decision_boundary(
        axes, predict, X.T, labels, step=_BOUNDARY_STEP, show_points=False,
        xlim=(X[0].min() - 1, X[0].max() + 1), ylim=(X[1].min() - 1, X[1].max() + 1),
    )
    # The grid is the course's; the view stays where the notebook put it, like the course's contourf.
    if kept[0] is not None:
        axes.set_xlim(kept[0])
    if kept[1] is not None:
        axes.set_ylim(kept[1])
    axes.set_xlabel("x1")
    axes.set_ylabel("x2")
    axes.scatter(X[0], X[1], c=labels, vmin=0, vmax=1, cmap="Spectral")  # the course's points, one set
    _show()


def load_2D_dataset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The course's data set, transposed to (features, examples), with the train set scattered.

    The file is ``datasets/data.mat`` under the working directory (the course's folder layout),
    else the file named by ``$REGLAB_COURSE_DATA``; if neither exists the error says so.

    Returns
    -------
    train_X : array of shape (2, 211)
    train_Y : array of shape (1, 211)
    test_X : array of shape (2, 200)
    test_Y : array of shape (1, 200)
    """
    from .. import datasets  # imported when used: the loader lives in its own module

    data = datasets.load_course(datasets.find_course_file())
    train_X, test_X = data.X_train.T, data.X_test.T
    train_Y, test_Y = np.asarray(data.y_train)[None, :], np.asarray(data.y_test)[None, :]
    plt.scatter(train_X[0, :], train_X[1, :], c=train_Y.ravel(), s=40, vmin=0, vmax=1, cmap=plt.cm.Spectral)
    return train_X, train_Y, test_X, test_Y


# ------------------------------------------------------------------------ graded functions


def compute_cost_with_regularization(A3, Y, parameters, lambd) -> float:
    """Cross-entropy plus the L2 penalty ``lambd / (2 m) * sum_l ||W_l||^2`` (weights only).

    Parameters
    ----------
    A3 : array of shape (1, m), output probabilities
    Y : array of shape (1, m), labels 0/1
    parameters : dict of ``W1, b1, ..., WL, bL``
    lambd : float, >= 0

    Returns
    -------
    float
    """
    params = to_params(parameters)
    lambd = check_lambd(lambd)
    cross_entropy_cost = compute_cost(A3, Y)
    m = np.shape(Y)[1]
    return cross_entropy_cost + float(penalties.l2_cost(params.weights, np.array([lambd]), m)[0])


def backward_propagation_with_regularization(X, Y, cache, lambd) -> dict[str, np.ndarray]:
    """``backward_propagation`` plus the L2 penalty's gradient ``lambd / m * W`` on every ``dW``.

    Parameters
    ----------
    X : array of shape (n_0, m)
    Y : array of shape (1, m), labels 0/1
    cache : tuple ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)`` from ``forward_propagation``
    lambd : float, >= 0

    Returns
    -------
    dict
        ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1``.
    """
    return backward(X, Y, cache, dropout=False, lambd=check_lambd(lambd))


def forward_propagation_with_dropout(X, parameters, keep_prob=0.5) -> tuple[np.ndarray, tuple]:
    """Forward pass with inverted dropout on every hidden layer, with the course's masks.

    The course draws its masks after ``np.random.seed(1)`` at every call:
    ``D1 = rand(n_1, m) < keep_prob``, then ``D2 = rand(n_2, m) < keep_prob``, so every call
    uses the same masks. The same draws are made here from a private generator
    (``masks.CourseMasks``); the global one is not touched.

    Parameters
    ----------
    X : array of shape (n_0, m)
    parameters : dict of ``W1, b1, ..., WL, bL``
    keep_prob : float in (0, 1]

    Returns
    -------
    A3 : array of shape (1, m)
    cache : tuple
        ``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)``; ``D`` are bool masks
        (n_l, m) and ``A`` the hidden activations after the mask and the ``1/keep_prob`` scaling.
    """
    return forward(X, parameters, check_keep_prob(keep_prob))


def backward_propagation_with_dropout(X, Y, cache, keep_prob) -> dict[str, np.ndarray]:
    """Gradients through the cache of ``forward_propagation_with_dropout``, reusing its masks.

    Parameters
    ----------
    X : array of shape (n_0, m)
    Y : array of shape (1, m), labels 0/1
    cache : tuple ``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)``
    keep_prob : float in (0, 1], the value used in the forward pass

    Returns
    -------
    dict
        ``dZ3, dW3, db3, dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1``; ``dA`` are masked and scaled
        by ``1/keep_prob``, as in the course.
    """
    return backward(X, Y, cache, dropout=True, keep_prob=check_keep_prob(keep_prob))


def model(X, Y, learning_rate=0.3, num_iterations=30000, print_cost=True, lambd=0, keep_prob=1) -> dict:
    """Train the course's [n_x, 20, 3, 1] network by full-batch gradient descent.

    Initialised like ``initialize_parameters``, trained by the engine's ``train_loop`` with the
    course's fixed dropout masks: the notebook's accuracies come out exactly. Unlike the
    notebook's ``model``, L2 (``lambd > 0``) and dropout (``keep_prob < 1``) may be used together.

    Parameters
    ----------
    X : array of shape (n_x, m)
    Y : array of shape (1, m), labels 0/1
    learning_rate : float, > 0
    num_iterations : int, >= 1
    print_cost : bool
        If True, print ``Cost after iteration i: cost`` every 10000 iterations while training
        and plot the cost recorded every 1000 iterations on a new figure (then ``plt.show()``
        under an interactive backend). If False, neither (the course draws an empty figure).
    lambd : float, >= 0
        L2 strength, penalty ``lambd / (2 m) * sum ||W||^2``.
    keep_prob : float in (0, 1]
        Dropout keep probability of both hidden layers; 1 means no dropout.

    Returns
    -------
    dict
        The trained ``W1, b1, W2, b2, W3, b3``.
    """
    X = check_examples(X)
    Y = check_labels(Y, X.shape[1])
    rate = check_learning_rate(learning_rate)
    num_iterations = check_int("num_iterations", num_iterations, low=1)
    lambd = check_lambd(lambd)
    keep_prob = check_keep_prob(keep_prob)
    hidden = len(_HIDDEN_LAYERS)
    hyper = Hyper(np.array([rate]), np.array([lambd]), np.zeros(1), np.full((1, hidden), keep_prob))
    mask_source = CourseMasks(hyper.keep_prob) if keep_prob < 1 else None

    def print_progress(i: int, params, cost: np.ndarray) -> bool:
        if print_cost and i % _PRINT_EVERY == 0:
            print("Cost after iteration {}: {}".format(i, cost[0]))
        return False

    params, history = train_loop(
        X,
        Y.astype(np.float64),
        init_course((X.shape[0], *_HIDDEN_LAYERS, 1), seed=3),
        hyper,
        mask_source,
        num_iterations,
        record_every=_COST_EVERY,
        watch=print_progress,
    )
    if print_cost:
        every_thousand = history.iterations % _COST_EVERY == 0  # the loop also records the last one
        plt.figure()
        plt.plot(history.cost[0, every_thousand])
        plt.ylabel("cost")
        plt.xlabel("iterations (x1,000)")
        plt.title("Learning rate =" + str(learning_rate))
        _show()
    return to_dict(params)
