"""The course's containers on the way into and out of the engine, checked.

The notebook passes examples as ``X`` (n_x, m) and labels as ``Y`` (1, m), parameters as a dict
``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}``, gradients as a dict and the forward pass's cache as a
flat tuple; the engine wants ``Params`` with a model axis of 1 and a ``network.ForwardCache``.
This module converts between the two (views, no copies of float64 input) and runs the course's
forward and backward passes through the engine.

The checks run on every call, since the notebook calls these functions 30000 times per model, so
they are made cheap: shapes, dtypes and dict keys are compared directly, and arrays are scanned
only where bad values would otherwise turn into silent garbage (non-finite examples, labels other
than 0/1, probabilities outside [0, 1]). Well-formed float64 input takes the short path; anything
else goes through ``reglab.validation`` or the long key check, whose messages name the parameter,
what is allowed and what was given.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..engine import network, ops, penalties
from ..engine.masks import CourseMasks
from ..engine.params import Params
from ..validation import check_real, check_X

__all__ = [
    "check_examples",
    "check_labels",
    "check_probabilities",
    "check_keep_prob",
    "check_lambd",
    "check_learning_rate",
    "to_params",
    "to_dict",
    "forward",
    "backward",
]


# --------------------------------------------------------------------------- arrays


def check_examples(X, *, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """X (n_features, m): a finite, non-empty 2-D array of numbers, as float64 (no copy if it is one)."""
    if type(X) is np.ndarray:
        array = X
    else:
        try:
            array = np.asarray(X)
        except ValueError as error:  # ragged nested lists
            raise ValueError(f"{name} must be a 2-D array (features, examples); got {X!r:.60}") from error
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (features, examples) as in the course; "
            f"got {array.ndim}-D with shape {array.shape}"
        )
    if array.dtype != np.float64 or array.size == 0 or not np.isfinite(array).all():
        array = check_X(array.T, name=name).T  # converts other numbers, or raises the precise error
    if n_features is not None and array.shape[0] != n_features:
        raise ValueError(
            f"{name} must have {n_features} rows (one per input feature); got shape {array.shape}"
        )
    return array


def check_labels(Y, m: int, *, name: str = "Y") -> np.ndarray:
    """Y (1, m) of labels 0/1, returned as given (any numeric dtype)."""
    array = Y if type(Y) is np.ndarray else np.asarray(Y)
    if array.ndim != 2 or array.shape[0] != 1:
        raise ValueError(f"{name} must be a (1, examples) row of 0/1 labels; got shape {array.shape}")
    if array.shape[1] != m:
        raise ValueError(f"{name} must have one label per example ({m}); got {array.shape[1]}")
    kind = array.dtype.kind
    if kind == "b" or (kind == "u" and array.max(initial=0) <= 1):  # one reduction for the course's uint8
        return array
    if kind not in "biuf" or not ((array == 0) | (array == 1)).all():
        shown = np.unique(array)[:5] if array.dtype.kind != "O" else array.dtype
        raise ValueError(f"{name} must hold labels 0 and 1 only; got values {shown}")
    return array


def check_probabilities(A, *, name: str = "A3") -> np.ndarray:
    """A (1, m): the network's output, probabilities in [0, 1], as float64."""
    array = A if type(A) is np.ndarray else np.asarray(A)
    if array.ndim != 2 or array.shape[0] != 1 or array.shape[1] == 0:
        raise ValueError(f"{name} must be a (1, examples) row of probabilities; got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold numbers; got dtype {array.dtype}")
    if not (array.min() >= 0 and array.max() <= 1):  # NaN compares False: rejected too
        outside = array[~np.isnan(array) & ((array < 0) | (array > 1))]
        found = [f"{outside.size} value(s) outside, e.g. {outside[0]}"] if outside.size else []
        found += [f"{np.isnan(array).sum()} NaN"] if np.isnan(array).any() else []
        raise ValueError(f"{name} must hold probabilities in [0, 1]; got {' and '.join(found)}")
    return array.astype(np.float64, copy=False)


def check_keep_prob(keep_prob) -> float:
    """The course's dropout keep probability, in (0, 1]."""
    return check_real("keep_prob", keep_prob, low=0, high=1, low_inclusive=False)


def check_lambd(lambd) -> float:
    """The course's L2 strength, >= 0."""
    return check_real("lambd", lambd, low=0)


def check_learning_rate(learning_rate) -> float:
    """A learning rate, > 0."""
    return check_real("learning_rate", learning_rate, low=0, low_inclusive=False)


# ------------------------------------------------------------ course dicts <-> engine Params


def _layer_count(parameters: Mapping, name: str) -> int:
    """L for a dict holding exactly W1, b1, ..., WL, bL (other keys not starting with W or b allowed)."""
    n_layers = 0
    while f"W{n_layers + 1}" in parameters:
        n_layers += 1
    if n_layers and len(parameters) == 2 * n_layers and all(f"b{l}" in parameters for l in range(1, n_layers + 1)):
        return n_layers  # the usual dict: nothing else to look at
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
    return n_layers


def _float_array(value, what: str) -> np.ndarray:
    """An array of real numbers as float64 (a view or the array itself when it already is one)."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be an array of numbers; got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def to_params(parameters, *, name: str = "parameters") -> Params:
    """The course's {"W1", "b1", ...} dict as ``Params`` with one model (views), after checking shapes."""
    if not isinstance(parameters, Mapping):
        raise TypeError(
            f"{name} must be a dict with keys 'W1', 'b1', 'W2', 'b2', ...; "
            f"got {type(parameters).__name__}"
        )
    n_layers = _layer_count(parameters, name)
    weights, biases = [], []
    n_in = None
    for l in range(1, n_layers + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        if type(W) is not np.ndarray or W.dtype != np.float64:  # the usual float64 arrays pass as they are
            W = _float_array(W, f"{name}['W{l}']")
        if type(b) is not np.ndarray or b.dtype != np.float64:
            b = _float_array(b, f"{name}['b{l}']")
        if W.ndim != 2:
            raise ValueError(f"{name}['W{l}'] must be 2-D (units, inputs); got shape {W.shape}")
        if n_in is not None and W.shape[1] != n_in:
            raise ValueError(
                f"{name}['W{l}'] must have {n_in} columns (the units of layer {l - 1}); got shape {W.shape}"
            )
        if b.shape != (W.shape[0], 1):
            raise ValueError(f"{name}['b{l}'] must have shape ({W.shape[0]}, 1) like W{l}'s rows; got {b.shape}")
        weights.append(W[None])  # (1, n_l, n_{l-1})
        biases.append(b[None])  # (1, n_l, 1)
        n_in = W.shape[0]
    if n_in != 1:
        raise ValueError(
            f"{name}['W{n_layers}'] must have 1 row (one sigmoid output unit); got shape {weights[-1].shape[1:]}"
        )
    return Params(tuple(weights), tuple(biases))


def to_dict(params: Params) -> dict[str, np.ndarray]:
    """``Params`` of one model as the course's dict of 2-D arrays (views)."""
    out = {}
    for l, (W, b) in enumerate(zip(params.weights, params.biases), start=1):
        out[f"W{l}"] = W[0]
        out[f"b{l}"] = b[0]
    return out


# ------------------------------------------------------------------ forward and backward


def forward(X, parameters, keep_prob: float | None) -> tuple[np.ndarray, tuple]:
    """The engine's forward pass (dropout with the course's masks if ``keep_prob`` is given).

    Returns A_L (1, m) and the course's cache tuple: per hidden layer ``Z, [D,] A, W, b``, then
    ``Z_L, A_L, W_L, b_L``.
    """
    params = to_params(parameters)
    X = check_examples(X, n_features=params.layer_sizes[0])
    masks = kp = None
    if keep_prob is not None:
        kp = np.full((1, len(params.weights) - 1), keep_prob)  # (1, H): one model, every hidden layer
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
    params = to_params(parameters, name="cache")
    X = check_examples(X, n_features=params.layer_sizes[0])
    m = X.shape[1]
    sizes = params.layer_sizes
    inputs, masks = [X], []
    for l, part in enumerate(parts[:-1], start=1):
        for kind, array in (("A", part[-3]), ("D", part[1])) if dropout else (("A", part[-3]),):
            if np.shape(array) != (sizes[l], m):
                raise ValueError(
                    f"cache's {kind}{l} must have shape ({sizes[l]}, {m}) (units of layer {l}, "
                    f"examples of X); got {np.shape(array)}"
                )
        inputs.append(np.asarray(part[-3], dtype=np.float64)[None])
        if dropout:
            masks.append(np.asarray(part[1])[None])
    Z, A = (np.asarray(a, dtype=np.float64)[None] for a in parts[-1][:2])
    fc = network.ForwardCache(tuple(inputs), tuple(masks) if dropout else None, Z, A)
    return X, params, fc


def backward(X, Y, cache, *, dropout: bool, keep_prob: float = 1.0, lambd: float = 0.0) -> dict[str, np.ndarray]:
    """The engine's backward pass (plus the L2 gradient), as the course's gradient dict.

    Keys from the output layer down: ``dZ3, dW3, db3, dA2, dZ2, ..., dZ1, dW1, db1``.
    """
    X, params, fc = _from_cache(X, cache, dropout=dropout)
    m = X.shape[1]
    Y = check_labels(Y, m)
    kp = np.full((1, len(params.weights) - 1), keep_prob) if dropout else None  # (1, H)
    grads = network.backward(params, fc, Y, kp)
    dweights = grads.dweights
    if lambd:  # a zero strength adds nothing: skip the call
        dweights = penalties.add_penalty_gradients(dweights, params.weights, np.array([lambd]), np.zeros(1), m)
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
