"""The course notebook's names and behaviour, in its (features x examples) layout, over reglab's engine.

``from reglab.course import *`` stands in for the notebook's ``from reg_utils import ...`` and
``from testCases import *``: point those two imports here and the notebook runs unchanged. The
module also holds reference versions of the four graded functions and of ``model``.

Layout, as in the course: ``X`` (n_x, m), ``Y`` (1, m) of 0/1 labels, parameters as a dict
``{"W1": (n_1, n_0), "b1": (n_1, 1), "W2": ..., ...}``, gradients as a dict ``{"dW1": ..., ...}``.

This is a thin layer: every number comes from the engine (``network.forward``/``backward``,
``ops``, ``penalties``, ``masks.CourseMasks``, ``params.init_course``, ``train.train_loop``). The
course's dicts become ``Params`` with a model axis of 1 and back, and the engine's results are
arranged into the course's return values, cache tuples and gradient dicts.

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

from . import network, ops, penalties
from .masks import CourseMasks
from .params import Params, init_course
from .train import Hyper, train_loop
from .validation import check_int, check_layer_sizes, check_real, check_X

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


# --------------------------------------------------------------------------- input checks


def _check_examples(X, *, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """X (n_features, m): a finite 2-D array of numbers, as float64."""
    try:
        array = np.asarray(X)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"{name} must be a 2-D array (features, examples); got {X!r:.60}") from error
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (features, examples) as in the course; "
            f"got {array.ndim}-D with shape {array.shape}"
        )
    array = check_X(array.T, name=name).T
    if n_features is not None and array.shape[0] != n_features:
        raise ValueError(
            f"{name} must have {n_features} rows (one per input feature); got shape {array.shape}"
        )
    return array


def _check_labels(Y, m: int, *, name: str = "Y") -> np.ndarray:
    """Y (1, m) of labels 0/1."""
    array = np.asarray(Y)
    if array.ndim != 2 or array.shape[0] != 1:
        raise ValueError(f"{name} must be a (1, examples) row of 0/1 labels; got shape {array.shape}")
    if array.shape[1] != m:
        raise ValueError(f"{name} must have one label per example ({m}); got {array.shape[1]}")
    if array.dtype.kind not in "biuf" or not np.all((array == 0) | (array == 1)):
        shown = np.unique(array)[:5] if array.dtype.kind != "O" else array.dtype
        raise ValueError(f"{name} must hold labels 0 and 1 only; got values {shown}")
    return array


def _check_probabilities(A, *, name: str = "A3") -> np.ndarray:
    """A (1, m): the network's output, probabilities in [0, 1]."""
    array = np.asarray(A)
    if array.ndim != 2 or array.shape[0] != 1 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a (1, examples) row of probabilities; got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers; got dtype {array.dtype}")
    if not np.all((array >= 0) & (array <= 1)):  # also rejects NaN
        outside = array[~np.isnan(array) & ((array < 0) | (array > 1))]
        found = [f"{outside.size} value(s) outside, e.g. {outside[0]}"] if outside.size else []
        found += [f"{np.isnan(array).sum()} NaN"] if np.isnan(array).any() else []
        raise ValueError(f"{name} must hold probabilities in [0, 1]; got {' and '.join(found)}")
    return array.astype(np.float64, copy=False)


def _check_keep_prob(keep_prob) -> float:
    return check_real("keep_prob", keep_prob, low=0, high=1, low_inclusive=False)


def _check_lambd(lambd) -> float:
    return check_real("lambd", lambd, low=0)


# ------------------------------------------------------------ course dicts <-> engine Params


def _to_params(parameters, *, name: str = "parameters") -> Params:
    """The course's {"W1", "b1", ...} dict as ``Params`` with one model, after checking shapes."""
    if not isinstance(parameters, Mapping):
        raise TypeError(
            f"{name} must be a dict with keys 'W1', 'b1', 'W2', 'b2', ...; "
            f"got {type(parameters).__name__}"
        )
    n_layers = 0
    while f"W{n_layers + 1}" in parameters:
        n_layers += 1
    expected = {f"{kind}{l}" for l in range(1, n_layers + 1) for kind in "Wb"}
    missing = sorted(expected - set(parameters))
    stray = sorted(str(k) for k in set(parameters) - expected if str(k)[:1] in "Wb")
    if n_layers == 0 or missing or stray:
        raise ValueError(
            f"{name} must hold 'W1', 'b1', ..., 'WL', 'bL' for layers 1..L; got keys "
            f"{sorted(map(str, parameters))}"
            + (f" (missing {missing})" if n_layers and missing else "")
            + (f" (not in sequence: {stray})" if stray else "")
        )
    weights, biases = [], []
    n_in = None
    for l in range(1, n_layers + 1):
        W, b = np.asarray(parameters[f"W{l}"]), np.asarray(parameters[f"b{l}"])
        for key, array in ((f"W{l}", W), (f"b{l}", b)):
            if array.dtype.kind not in "biuf":
                raise TypeError(f"{name}['{key}'] must be an array of numbers; got dtype {array.dtype}")
        if W.ndim != 2:
            raise ValueError(f"{name}['W{l}'] must be 2-D (units, inputs); got shape {W.shape}")
        if n_in is not None and W.shape[1] != n_in:
            raise ValueError(
                f"{name}['W{l}'] must have {n_in} columns (the units of layer {l - 1}); got shape {W.shape}"
            )
        if b.shape != (W.shape[0], 1):
            raise ValueError(f"{name}['b{l}'] must have shape ({W.shape[0]}, 1) like W{l}'s rows; got {b.shape}")
        weights.append(W.astype(np.float64, copy=False)[None])  # (1, n_l, n_{l-1})
        biases.append(b.astype(np.float64, copy=False)[None])  # (1, n_l, 1)
        n_in = W.shape[0]
    if n_in != 1:
        raise ValueError(
            f"{name}['W{n_layers}'] must have 1 row (one sigmoid output unit); got shape {weights[-1].shape[1:]}"
        )
    return Params(tuple(weights), tuple(biases))


def _to_dict(params: Params) -> dict[str, np.ndarray]:
    """``Params`` of one model as the course's dict of 2-D arrays."""
    out = {}
    for l, (W, b) in enumerate(zip(params.weights, params.biases), start=1):
        out[f"W{l}"] = W[0]
        out[f"b{l}"] = b[0]
    return out


def _hidden_keep_prob(params: Params, keep_prob: float) -> np.ndarray:
    """The engine's per-model, per-hidden-layer keep_prob, (1, H)."""
    return np.full((1, len(params.weights) - 1), keep_prob)


def _forward(X, parameters, keep_prob: float | None) -> tuple[np.ndarray, tuple]:
    """Run the engine's forward pass; return A_L (1, m) and the course's cache tuple."""
    params = _to_params(parameters)
    X = _check_examples(X, n_features=params.layer_sizes[0])
    masks = kp = None
    if keep_prob is not None:
        kp = _hidden_keep_prob(params, keep_prob)
        masks = CourseMasks(kp)([(n, X.shape[1]) for n in params.layer_sizes[1:-1]])
    fc = network.forward(params, X, masks, kp)
    cache = []
    last = len(params.weights) - 1
    for l, (W, b) in enumerate(zip(params.weights, params.biases)):
        if l == last:
            cache += [fc.logits[0], fc.output[0], W[0], b[0]]
        else:
            # The engine keeps only what its backward pass needs (the ReLU outputs); the course's
            # cache also holds the pre-activations, recomputed here with the engine's own op.
            Z = ops.linear_forward(fc.inputs[l], W, b)
            cache += [Z[0]] + ([masks[l][0]] if masks is not None else []) + [fc.inputs[l + 1][0], W[0], b[0]]
    return fc.output[0], tuple(cache)


def _from_cache(X, cache, *, dropout: bool) -> tuple[np.ndarray, Params, network.ForwardCache]:
    """The course's cache tuple as the engine's (checked X, Params, ForwardCache)."""
    per_hidden = 5 if dropout else 4
    layout = "(Z1, D1, A1, W1, b1, ..., ZL, AL, WL, bL)" if dropout else "(Z1, A1, W1, b1, ..., ZL, AL, WL, bL)"
    source = "forward_propagation_with_dropout" if dropout else "forward_propagation"
    if not isinstance(cache, (tuple, list)):
        raise TypeError(f"cache must be the tuple returned by {source}, {layout}; got {type(cache).__name__}")
    if len(cache) < 4 or (len(cache) - 4) % per_hidden:
        raise ValueError(
            f"cache must be the tuple returned by {source}, {layout}: {per_hidden} arrays per hidden "
            f"layer and 4 for the output layer; got {len(cache)} items"
        )
    n_hidden = (len(cache) - 4) // per_hidden
    parts = [cache[h * per_hidden : (h + 1) * per_hidden] for h in range(n_hidden)] + [cache[-4:]]
    parameters = {}
    for l, part in enumerate(parts, start=1):
        parameters[f"W{l}"], parameters[f"b{l}"] = part[-2], part[-1]
    params = _to_params(parameters, name="cache")
    X = _check_examples(X, n_features=params.layer_sizes[0])
    m = X.shape[1]
    inputs, masks = [X], []
    for l, part in enumerate(parts[:-1], start=1):
        named = {"A": part[-3]} | ({"D": part[1]} if dropout else {})
        for kind, array in named.items():
            if np.shape(array) != (params.layer_sizes[l], m):
                raise ValueError(
                    f"cache's {kind}{l} must have shape ({params.layer_sizes[l]}, {m}) (units of layer {l}, "
                    f"examples of X); got {np.shape(array)}"
                )
        inputs.append(np.asarray(part[-3], dtype=np.float64)[None])
        if dropout:
            masks.append(np.asarray(part[1])[None])
    Z, A = (np.asarray(a, dtype=np.float64)[None] for a in parts[-1][:2])
    fc = network.ForwardCache(tuple(inputs), tuple(masks) if dropout else None, Z, A)
    return X, params, fc


def _backward(X, Y, cache, *, dropout: bool, keep_prob: float = 1.0, lambd: float = 0.0) -> dict:
    """The engine's backward pass (plus the L2 gradient), as the course's gradient dict."""
    X, params, fc = _from_cache(X, cache, dropout=dropout)
    m = X.shape[1]
    Y = _check_labels(Y, m)
    grads = network.backward(params, fc, Y, _hidden_keep_prob(params, keep_prob))
    dweights = penalties.add_penalty_gradients(grads.dweights, params.weights, np.array([lambd]), np.zeros(1), m)
    out = {}
    n_layers = len(params.weights)
    for l in range(n_layers, 0, -1):
        # The engine consumes dZ internally; the course's dict shows it, so it is rebuilt with
        # the same ops from what the engine returns.
        if l == n_layers:
            dZ = ops.cross_entropy_backward(fc.output, Y)
        else:
            dZ = ops.relu_backward(grads.dinputs[l - 1], fc.inputs[l])
        out[f"dZ{l}"], out[f"dW{l}"], out[f"db{l}"] = dZ[0], dweights[l - 1][0], grads.dbiases[l - 1][0]
        if l > 1:
            out[f"dA{l - 1}"] = grads.dinputs[l - 2][0]
    return out


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
    return _to_dict(init_course(sizes, seed=3))


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
    return _forward(X, parameters, None)


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
    return _backward(X, Y, cache, dropout=False)


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
    a3 = _check_probabilities(a3, name="a3")
    Y = _check_labels(Y, a3.shape[1])
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
    params = _to_params(parameters)
    learning_rate = check_real("learning_rate", learning_rate, low=0, low_inclusive=False)
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a dict with keys 'dW1', 'db1', ...; got {type(grads).__name__}")
    out = {}
    for key, value in _to_dict(params).items():
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
    params = _to_params(parameters)
    X = _check_examples(X, n_features=params.layer_sizes[0])
    y = _check_labels(y, X.shape[1], name="y")
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
    """Fill the plane by predicted class and scatter the examples on the current axes, then show.

    Parameters
    ----------
    model : callable
        Takes points as rows, an array (n_points, 2), and returns n_points predictions 0/1
        (any shape), e.g. ``lambda x: predict_dec(parameters, x.T)``.
    X : array of shape (2, m)
        The examples; the grid spans their range plus 1 on every side, with step 0.01.
    y : array of shape (1, m) or (m,)
        Their labels 0/1, used as colours (red 0, blue 1, as in the filled regions).

    Titles and axis limits set beforehand (as the notebook does) are kept.
    """
    X = _check_examples(X, n_features=2)
    labels = np.ravel(y)
    if labels.shape[0] != X.shape[1]:
        raise ValueError(f"y must have one label per example of X ({X.shape[1]}); got {labels.shape[0]}")
    if not callable(model):
        raise TypeError(f"model must be a function of points (n_points, 2); got {type(model).__name__}")
    x1 = np.arange(X[0].min() - 1, X[0].max() + 1, _BOUNDARY_STEP)
    x2 = np.arange(X[1].min() - 1, X[1].max() + 1, _BOUNDARY_STEP)
    xx, yy = np.meshgrid(x1, x2)
    predicted = np.asarray(model(np.column_stack([xx.ravel(), yy.ravel()])), dtype=float)
    if predicted.size != xx.size:
        raise ValueError(f"model must return one prediction per point ({xx.size}); got {predicted.size}")
    axes = plt.gca()
    # Explicit levels and colour range: class 0 and class 1 get the colormap's two ends, like the
    # scattered labels, even where only one class is predicted.
    axes.contourf(xx, yy, predicted.reshape(xx.shape), levels=[-0.5, 0.5, 1.5], vmin=0, vmax=1, cmap=plt.cm.Spectral)
    axes.set_ylabel("x2")
    axes.set_xlabel("x1")
    axes.scatter(X[0], X[1], c=labels, vmin=0, vmax=1, cmap=plt.cm.Spectral)
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
    from . import datasets  # imported when used: the loader lives in its own module

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
    params = _to_params(parameters)
    lambd = _check_lambd(lambd)
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
    return _backward(X, Y, cache, dropout=False, lambd=_check_lambd(lambd))


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
    return _forward(X, parameters, _check_keep_prob(keep_prob))


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
    return _backward(X, Y, cache, dropout=True, keep_prob=_check_keep_prob(keep_prob))


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
    X = _check_examples(X)
    Y = _check_labels(Y, X.shape[1])
    rate = check_real("learning_rate", learning_rate, low=0, low_inclusive=False)
    num_iterations = check_int("num_iterations", num_iterations, low=1)
    lambd = _check_lambd(lambd)
    keep_prob = _check_keep_prob(keep_prob)
    hidden = len(_HIDDEN_LAYERS)
    hyper = Hyper(np.array([rate]), np.array([lambd]), np.zeros(1), np.full((1, hidden), keep_prob))
    mask_source = CourseMasks(hyper.keep_prob) if keep_prob < 1 else None

    def print_progress(i: int, cost: np.ndarray) -> None:
        if print_cost and i % _PRINT_EVERY == 0:
            print("Cost after iteration {}: {}".format(i, cost[0]))

    params, history = train_loop(
        X,
        Y.astype(np.float64),
        init_course((X.shape[0], *_HIDDEN_LAYERS, 1), seed=3),
        hyper,
        mask_source,
        num_iterations,
        record_every=_COST_EVERY,
        on_record=print_progress,
    )
    if print_cost:
        every_thousand = history.iterations % _COST_EVERY == 0  # the loop also records the last one
        plt.figure()
        plt.plot(history.cost[0, every_thousand])
        plt.ylabel("cost")
        plt.xlabel("iterations (x1,000)")
        plt.title("Learning rate =" + str(learning_rate))
        _show()
    return _to_dict(params)


# ---------------------------------------------------------------------- testCases builders
# The course builds these with np.random.seed(1) followed by randn draws, and writes the rest as
# literals printed to 8 decimals. The draws are reproduced with a private RandomState(1).

_Y_ASSESS = [[1, 1, 0, 1, 0]]
_A3_ASSESS = [[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]]
_Z1 = [[-1.52855314, 3.32524635, 2.13994541, 2.60700654, -0.75942115], [-1.98043538, 4.1600994, 0.79051021, 1.46493512, -0.45506242]]
_W1 = [[-1.09989127, -0.17242821, -0.87785842], [0.04221375, 0.58281521, -1.10061918]]
_B1 = [[1.14472371], [0.90159072]]
_W2 = [[0.50249434, 0.90085595], [-0.68372786, -0.12289023], [-0.93576943, -0.26788808]]
_B2 = [[0.53035547], [-0.69166075], [-0.39675353]]
_W3 = [[-0.6871727, -0.84520564, -0.67124613]]
_B3 = [[-0.0126646]]


def _draw_parameters(legacy: np.random.RandomState) -> dict[str, np.ndarray]:
    """W1 (2, 3), b1, W2 (3, 2), b2, W3 (1, 3), b3 drawn in that order with randn."""
    shapes = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 2), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}
    return {key: legacy.randn(*shape) for key, shape in shapes.items()}


def compute_cost_with_regularization_test_case() -> tuple[np.ndarray, np.ndarray, dict]:
    """``(A3 (1, 5), Y (1, 5), parameters)`` of the course's check of ``compute_cost_with_regularization``."""
    parameters = _draw_parameters(np.random.RandomState(1))
    return np.array(_A3_ASSESS), np.array(_Y_ASSESS), parameters


def backward_propagation_with_regularization_test_case() -> tuple[np.ndarray, np.ndarray, tuple]:
    """``(X (3, 5), Y (1, 5), cache)`` of the course's check of ``backward_propagation_with_regularization``."""
    X = np.random.RandomState(1).randn(3, 5)
    cache = (
        np.array(_Z1),
        np.array([[0.0, 3.32524635, 2.13994541, 2.60700654, 0.0], [0.0, 4.1600994, 0.79051021, 1.46493512, 0.0]]),
        np.array(_W1),
        np.array(_B1),
        np.array([[0.53035547, 5.94892323, 2.31780174, 3.16005701, 0.53035547],
                  [-0.69166075, -3.47645987, -2.25194702, -2.65416996, -0.69166075],
                  [-0.39675353, -4.62285846, -2.61101729, -3.22874921, -0.39675353]]),
        np.array([[0.53035547, 5.94892323, 2.31780174, 3.16005701, 0.53035547], [0.0] * 5, [0.0] * 5]),
        np.array(_W2),
        np.array(_B2),
        np.array([[-0.3771104, -4.10060224, -1.60539468, -2.18416951, -0.3771104]]),
        np.array(_A3_ASSESS),
        np.array(_W3),
        np.array(_B3),
    )
    return X, np.array(_Y_ASSESS), cache


def forward_propagation_with_dropout_test_case() -> tuple[np.ndarray, dict]:
    """``(X (3, 5), parameters)`` of the course's check of ``forward_propagation_with_dropout``."""
    legacy = np.random.RandomState(1)
    X = legacy.randn(3, 5)
    return X, _draw_parameters(legacy)


def backward_propagation_with_dropout_test_case() -> tuple[np.ndarray, np.ndarray, tuple]:
    """``(X (3, 5), Y (1, 5), cache)`` of the course's check of ``backward_propagation_with_dropout``."""
    X = np.random.RandomState(1).randn(3, 5)
    cache = (
        np.array(_Z1),
        np.array([[True, False, True, True, True], [True, True, True, True, False]]),
        np.array([[0.0, 0.0, 4.27989081, 5.21401307, 0.0], [0.0, 8.32019881, 1.58102041, 2.92987024, 0.0]]),
        np.array(_W1),
        np.array(_B1),
        np.array([[0.53035547, 8.02565606, 4.10524802, 5.78975856, 0.53035547],
                  [-0.69166075, -1.71413186, -3.81223329, -4.61667916, -0.69166075],
                  [-0.39675353, -2.62563561, -4.82528105, -6.0607449, -0.39675353]]),
        np.array([[True, False, True, False, True], [False, True, False, True, True], [False, False, True, False, False]]),
        np.array([[1.06071093, 0.0, 8.21049603, 0.0, 1.06071093], [0.0] * 5, [0.0] * 5]),
        np.array(_W2),
        np.array(_B2),
        np.array([[-0.7415562, -0.0126646, -5.65469333, -0.0126646, -0.7415562]]),
        np.array([[0.32266394, 0.49683389, 0.00348883, 0.49683389, 0.32266394]]),
        np.array(_W3),
        np.array(_B3),
    )
    return X, np.array(_Y_ASSESS), cache
