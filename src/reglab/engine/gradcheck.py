"""Central-difference checks of the network's analytic gradients, for every regularizer combination.

``gradient_check`` compares the gradient of the regularized cost computed by the engine
(``loop.objective`` for the cost, ``loop.gradients`` for backprop plus penalties) with central
differences of the cost, over every weight and bias, and returns one relative error::

    ||g - g_num|| / (||g|| + ||g_num||)

``run_gradchecks`` builds a small random problem and checks plain, L2, L1, dropout (fixed
masks, also with one keep_prob per hidden layer) and all their combinations.

A central difference only approximates a derivative where the cost is smooth between the two
evaluation points. The cost has kinks where a hidden pre-activation is 0 (ReLU) and, with L1,
where a weight is 0. ``gradient_check`` detects a perturbation that crosses one and refuses to
return a meaningless number; ``run_gradchecks`` draws its problem away from all of them.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import ops
from . import loop
from .params import Params
from .loop import Hyper
from ..validation import check_int, check_layer_sizes, check_real

__all__ = ["GradcheckResult", "gradient_check", "run_gradchecks", "KinkError"]

#: Smallest distance, in units of epsilon, between the generated problem and any kink.
_KINK_MARGIN = 1e3
_MAX_DRAWS = 1000


class KinkError(ValueError):
    """A perturbation of the gradient check crosses a kink of the cost (ReLU at 0, or |w| at 0 with L1)."""


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of one gradient check.

    Attributes
    ----------
    name : str
        The regularizers checked: "plain", "L2", "L1 + dropout", ...
    relative_error : float
        ``||g - g_num|| / (||g|| + ||g_num||)`` over all weights and biases.
    passed : bool
        ``relative_error < threshold``.
    threshold : float
    n_parameters : int
        Number of weights and biases perturbed.
    """

    name: str
    relative_error: float
    passed: bool
    threshold: float
    n_parameters: int


def gradient_check(X, Y, params: Params, hyper: Hyper, masks=None, *, epsilon: float = 1e-6) -> float:
    """Relative error between the engine's gradient and central differences of the cost.

    Every weight and bias ``theta`` is moved to ``theta + epsilon`` and ``theta - epsilon``; the
    regularized cost (cross-entropy plus penalties, with the *same* dropout masks in every
    evaluation) is evaluated at both, and their difference quotient is compared with the analytic
    gradient.

    Parameters
    ----------
    X : array of shape (n_0, m)
        Inputs in the engine's (features x examples) layout.
    Y : array of shape (1, m)
        Labels in {0, 1}.
    params : Params
        One network (M = 1) with layer sizes ``(n_0, ..., 1)``.
    hyper : Hyper
        ``l2`` (1,), ``l1`` (1,) and ``keep_prob`` (1, H) are used; the learning rate is not.
    masks : sequence of H bool arrays of shape (1, n_l, m), optional
        Fixed dropout masks, one per hidden layer (True keeps a unit). Required when any
        keep_prob is below 1; without masks there is no dropout.
    epsilon : float
        Perturbation, > 0.

    Returns
    -------
    float
        ``||g - g_num|| / (||g|| + ||g_num||)`` over all parameters; 0.0 when both are zero.

    Raises
    ------
    ValueError
        Invalid arguments.
    KinkError
        A perturbation crosses a kink (a hidden unit's ReLU changes side, or a weight changes sign
        while ``l1 > 0``): a central difference is meaningless there.
    """
    X, Y, masks, epsilon = _check_arguments(X, Y, params, hyper, masks, epsilon)
    work = Params(tuple(W.copy() for W in params.weights), tuple(b.copy() for b in params.biases))
    cost, cache = loop.objective(work, X, Y, hyper, masks)
    dweights, dbiases = loop.gradients(work, cache, Y, hyper)
    active = _active_units(cache)
    uses_l1 = bool(hyper.l1[0] > 0)

    analytic, numeric = [], []
    arrays = [(f"W{k + 1}", W, dW, True) for k, (W, dW) in enumerate(zip(work.weights, dweights))]
    arrays += [(f"b{k + 1}", b, db, False) for k, (b, db) in enumerate(zip(work.biases, dbiases))]
    for label, array, grad, is_weight in arrays:
        for index in np.ndindex(array.shape[1:]):
            at = (0, *index)
            original = array[at]
            up, down = original + epsilon, original - epsilon
            if is_weight and uses_l1 and np.sign(up) != np.sign(down):
                raise KinkError(
                    f"{label}{list(index)} = {original:g} is within epsilon={epsilon:g} of 0, where "
                    f"the L1 penalty has a kink; move the point or use a smaller epsilon"
                )
            array[at] = up
            cost_up = _cost_same_side(work, X, Y, hyper, masks, active, label, index, epsilon)
            array[at] = down
            cost_down = _cost_same_side(work, X, Y, hyper, masks, active, label, index, epsilon)
            array[at] = original
            # (up - down) is not exactly 2 * epsilon in floating point; divide by what was used.
            numeric.append((cost_up - cost_down) / (up - down))
            analytic.append(grad[at])
    g, g_num = np.array(analytic), np.array(numeric)
    scale = np.linalg.norm(g) + np.linalg.norm(g_num)
    return 0.0 if scale == 0 else float(np.linalg.norm(g - g_num) / scale)


def run_gradchecks(
    *,
    seed: int = 0,
    layer_sizes: Sequence[int] = (3, 5, 3, 1),
    n_examples: int = 8,
    l2: float = 0.7,
    l1: float = 0.1,
    keep_prob: float = 0.8,
    threshold: float = 1e-7,
) -> list[GradcheckResult]:
    """Check the gradients of every combination of L2, L1 and dropout on a small random problem.

    The combinations are all subsets of {L2, L1, dropout} ("plain", "L2", "L1", "L2 + L1",
    "dropout", "L2 + dropout", "L1 + dropout", "L2 + L1 + dropout") and, with two or more hidden
    layers, the dropout ones again with a different keep_prob per hidden layer (named
    "... (per-layer keep_prob)"; keep_prob for the first hidden layer rising evenly towards 1).
    All use the same data, parameters and dropout draws.

    Parameters
    ----------
    seed : int
        Seed of the ``np.random.default_rng`` that draws data, parameters and masks, >= 0.
    layer_sizes : sequence of int
        ``(n_inputs, hidden..., 1)``, at least one hidden layer.
    n_examples : int
        Number of examples m, >= 1.
    l2, l1 : float
        Penalty strengths used where L2 / L1 is on, > 0.
    keep_prob : float
        Keep probability where dropout is on, in (0, 1].
    threshold : float
        A check passes when its relative error is below this, > 0.

    Returns
    -------
    list of GradcheckResult
        One per combination, in the order above.
    """
    seed = check_int("seed", seed, low=0)
    sizes = _check_network_sizes(layer_sizes)
    n_examples = check_int("n_examples", n_examples, low=1)
    l2 = check_real("l2", l2, low=0, low_inclusive=False)
    l1 = check_real("l1", l1, low=0, low_inclusive=False)
    keep_prob = check_real("keep_prob", keep_prob, low=0, high=1, low_inclusive=False)
    threshold = check_real("threshold", threshold, low=0, low_inclusive=False)
    epsilon = 1e-6

    X, Y, params, draws = _problem(np.random.default_rng(seed), sizes, n_examples, epsilon)
    n_hidden = len(sizes) - 2
    keep_probs = {"dropout": np.full((1, n_hidden), keep_prob)}
    if n_hidden >= 2:
        per_layer = np.linspace(keep_prob, 1.0, n_hidden + 1)[:-1]  # e.g. 0.8, 0.9 for two layers
        keep_probs["dropout (per-layer keep_prob)"] = per_layer[None, :]
    n_parameters = sum(W[0].size for W in params.weights) + sum(b[0].size for b in params.biases)

    results = []
    for dropout_name, keep in [(None, None), *keep_probs.items()]:
        for use_l2, use_l1 in [(False, False), (True, False), (False, True), (True, True)]:
            parts = [name for name, on in (("L2", use_l2), ("L1", use_l1)) if on]
            if dropout_name is not None:
                parts.append(dropout_name)
            name = " + ".join(parts) or "plain"
            hyper = Hyper(
                np.ones(1),
                np.array([l2 if use_l2 else 0.0]),
                np.array([l1 if use_l1 else 0.0]),
                np.ones((1, n_hidden)) if keep is None else keep,
            )
            masks = None if keep is None else [d < keep[0, k] for k, d in enumerate(draws)]
            error = gradient_check(X, Y, params, hyper, masks, epsilon=epsilon)
            results.append(GradcheckResult(name, error, error < threshold, threshold, n_parameters))
    return results


# ---- helpers ----------------------------------------------------------------------------------


def _problem(rng: np.random.Generator, sizes: tuple[int, ...], m: int, epsilon: float):
    """A random (X (n_0, m), Y (1, m), params, uniform dropout draws) far from every kink.

    Draws are repeated until every hidden pre-activation and every weight is at least
    ``_KINK_MARGIN * epsilon`` away from 0. A perturbation of one parameter by epsilon moves a
    pre-activation by about epsilon times an O(1) factor (inputs and weights are O(1)), so no
    check on this problem crosses a kink; ``gradient_check`` would detect it if one did.
    """
    margin = _KINK_MARGIN * epsilon
    for _ in range(_MAX_DRAWS):
        X = rng.standard_normal((sizes[0], m))
        Y = (rng.random((1, m)) < 0.5).astype(float)
        weights = tuple(
            (rng.standard_normal((1, n_out, n_in)) / np.sqrt(n_in))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        biases = tuple(0.1 * rng.standard_normal((1, n_out, 1)) for n_out in sizes[1:])
        draws = [rng.random((1, n, m)) for n in sizes[1:-1]]
        if min(np.min(np.abs(W)) for W in weights) < margin:
            continue
        A, smallest = X, np.inf
        for W, b in zip(weights[:-1], biases[:-1]):
            Z = ops.linear_forward(A, W, b)
            smallest = min(smallest, float(np.min(np.abs(Z))))
            A = ops.relu_forward(Z)
        if smallest >= margin:
            return X, Y, Params(weights, biases), draws
    raise ValueError(
        f"could not draw a problem with every pre-activation and weight at least {margin:g} from 0 in "
        f"{_MAX_DRAWS} attempts with layer_sizes={sizes} and n_examples={m}; use fewer examples or "
        f"smaller layers (a gradient check needs only a few)"
    )


def _active_units(cache) -> list[np.ndarray]:
    """Which hidden units pass a nonzero value on (ReLU active and not dropped), per hidden layer."""
    return [A > 0 for A in cache.inputs[1:]]


def _cost_same_side(work, X, Y, hyper, masks, active, label, index, epsilon) -> float:
    """The cost at the perturbed point, after checking that no hidden unit changed side."""
    cost, cache = loop.objective(work, X, Y, hyper, masks)
    for layer, (before, now) in enumerate(zip(active, _active_units(cache)), start=1):
        if not np.array_equal(before, now):
            raise KinkError(
                f"moving {label}{list(index)} by epsilon={epsilon:g} switches a ReLU of hidden layer "
                f"{layer} (a pre-activation within reach of 0): a central difference is meaningless "
                f"there; move the point or use a smaller epsilon"
            )
    return float(cost[0])


def _check_network_sizes(layer_sizes) -> tuple[int, ...]:
    sizes = check_layer_sizes("layer_sizes", layer_sizes)
    if len(sizes) < 3 or sizes[-1] != 1:
        raise ValueError(
            f"layer_sizes must be (n_inputs, hidden..., 1) with at least one hidden layer and one "
            f"output unit; got {tuple(sizes)}"
        )
    return sizes


def _check_arguments(X, Y, params, hyper, masks, epsilon):
    """Validated (X, Y, masks, epsilon) for ``gradient_check``."""
    epsilon = check_real("epsilon", epsilon, low=0, low_inclusive=False)
    if not isinstance(params, Params):
        raise TypeError(f"params must be a reglab Params; got {type(params).__name__}")
    if params.n_models != 1:
        raise ValueError(f"params must hold one network (model axis M = 1); got M = {params.n_models}")
    sizes = params.layer_sizes
    if sizes[-1] != 1:
        raise ValueError(f"params must end in one output unit; got layer sizes {sizes}")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != sizes[0] or X.shape[1] == 0:
        raise ValueError(
            f"X must be (n_0, m) = ({sizes[0]}, m >= 1) in the (features x examples) layout; "
            f"got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("X must hold finite numbers; got NaN or infinite values")
    m = X.shape[1]
    Y = np.asarray(Y, dtype=float)
    if Y.shape != (1, m):
        raise ValueError(f"Y must have shape (1, m) = (1, {m}); got {Y.shape}")
    if not np.all((Y == 0) | (Y == 1)):
        raise ValueError("Y must hold labels 0 and 1 only")
    if not isinstance(hyper, Hyper):
        raise TypeError(f"hyper must be a reglab Hyper; got {type(hyper).__name__}")
    n_hidden = len(sizes) - 2
    for name, shape in (("l2", (1,)), ("l1", (1,)), ("keep_prob", (1, n_hidden))):
        value = np.asarray(getattr(hyper, name), dtype=float)
        if value.shape != shape:
            raise ValueError(f"hyper.{name} must have shape {shape}; got {value.shape}")
    check_real("hyper.l2", float(hyper.l2[0]), low=0)
    check_real("hyper.l1", float(hyper.l1[0]), low=0)
    for k in range(n_hidden):
        check_real(
            f"hyper.keep_prob[0, {k}]", float(hyper.keep_prob[0, k]), low=0, high=1, low_inclusive=False
        )
    if masks is None:
        if hyper.uses_dropout:
            raise ValueError(
                "masks must be given when hyper.keep_prob < 1: a gradient check of dropout needs "
                "fixed masks, one bool (1, n_l, m) array per hidden layer"
            )
        return X, Y, None, epsilon
    if isinstance(masks, (np.ndarray, numbers.Number)) or len(masks) != n_hidden:
        raise ValueError(
            f"masks must be a sequence of {n_hidden} arrays (one per hidden layer); got {masks!r:.60}"
        )
    checked = []
    for k, mask in enumerate(masks):
        mask = np.asarray(mask)
        expected = (1, sizes[k + 1], m)
        if mask.shape != expected or mask.dtype != bool:
            raise ValueError(
                f"masks[{k}] must be a bool array of shape {expected}; got {mask.dtype} {mask.shape}"
            )
        checked.append(mask)
    return X, Y, checked, epsilon
