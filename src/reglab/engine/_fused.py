"""The numba code of the compiled engine (imported on first use by ``compiled``; imports numba).

One fused loop trains one network for many iterations: ``_train_one``, the reference engine's
arithmetic (``network``, ``penalties``, ``constraints``, ``loop``) written as plain loops over
(unit, input, example) with the example loop innermost, so that LLVM vectorises them.
``train_segment`` runs it for every model of a batch in parallel over the model axis;
``train_segment_serial`` on one thread, for one model (a parallel region would wait for a free
core at every record point).

Layout, per model (the course's units x examples, examples innermost, padded to ``mp``, a
multiple of ``PAD``, with zero inputs and zero weight in every sum, so no vector loop has a scalar
remainder)::

    theta[model]   # (P,): W_1 (n_1 x n_0, row-major), b_1 (n_1), W_2, b_2, ..., W_L, b_L
    acts           # (n_0 + U, mp): the inputs X in rows 0 : n_0, then layer l's outputs in
                   # rows row_off[l] : row_off[l + 1]
    grad           # like acts: the gradient of the cost with respect to each layer's Z

The two engines agree to rounding: sums are reassociated (fastmath "reassoc": vectorised
reductions) and inverted dropout multiplies by 1 / keep_prob where the reference divides. No
"contract": fused multiply-adds placed by LLVM differ between the process that compiles and the
processes that load the cache (``tests/test_compiled_cache.py``). Two ways of writing a loop keep
it scalar, and are avoided: a load inside a conditional expression, and swapping two arrays
between layers.

Dropout masks, bit for bit those of ``masks``: the course's fixed uniforms (``draws`` (S, mp)),
thresholded once per call; or the counter-based hash of ``masks.fresh_hashes``, computed here
for each (iteration, unit) and example.

Every function is in this one file on purpose: numba's on-disk cache of a function is
invalidated when its own file changes, not when a helper it calls from another file does.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_FASTMATH = {"reassoc"}

#: The example axis is padded to a multiple of this (no scalar remainder in the vector loops).
PAD = 16

NO_MASKS, COURSE_MASKS, FRESH_MASKS = 0, 1, 2

_GOLDEN_64 = np.uint64(0x9E3779B97F4A7C15)
_MIX_64_A = np.uint64(0xBF58476D1CE4E5B9)
_MIX_64_B = np.uint64(0x94D049BB133111EB)
_GOLDEN_32 = np.uint64(0x9E3779B9)
_MIX_32_A = np.uint64(0x7FEB352D)
_MIX_32_B = np.uint64(0x846CA68B)
_LOW_32 = np.uint64(0xFFFFFFFF)
_S15 = np.uint64(15)
_S16 = np.uint64(16)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S32 = np.uint64(32)


@njit(cache=True, error_model="numpy")
def _row_seed(key, counter):
    """SplitMix64 read at position ``counter`` from state ``key`` (masks.fresh_hashes)."""
    z = key + counter * _GOLDEN_64
    z = z ^ (z >> _S30)
    z = z * _MIX_64_A
    z = z ^ (z >> _S27)
    z = z * _MIX_64_B
    return z ^ (z >> _S31)


@njit(cache=True, error_model="numpy")
def _softplus(s):
    """log(1 + exp(s)), as NumPy's logaddexp(0, s) computes it."""
    if s == 0.0:
        return math.log(2.0)
    if s > 0.0:
        return s + math.log1p(math.exp(-s))
    return math.log1p(math.exp(s))


@njit(cache=True, error_model="numpy")
def _descend(w, dot, inv_m, l2_m, l1_m, rate, shrink):
    """dW = dot / m (+ l2/m W) (+ l1/m sign W); then W - lr dW, or (1 - weight_decay) W - lr dW."""
    g = inv_m * dot
    if l2_m != 0.0:
        g = g + l2_m * w
    if l1_m != 0.0:
        g = g + l1_m * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
    if shrink != 1.0:
        return shrink * w - rate * g
    return w - rate * g


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _train_one(
    model, X, Y, valid, m, theta, sizes, w_off, row_off, lr, l2_m, l1_m, shrink, max_norm, keep, keep_inv,
    thresholds, keys, mask_mode, draws, first_iteration, n_steps, want_cost, update, l2_2m, l1_m64, cost,
):
    """n_steps iterations of gradient descent for theta[model] (updated in place)."""
    n_layers = sizes.shape[0] - 1
    n_inputs = sizes[0]
    mp = X.shape[1]
    acts = np.empty((row_off[n_layers + 1], mp))  # X, then every layer's outputs
    for k in range(n_inputs):
        for e in range(mp):
            acts[k, e] = X[k, e]
    grad = np.empty((row_off[n_layers + 1], mp))  # dZ of every layer, in the rows of acts
    n_hidden = row_off[n_layers] - n_inputs
    scale = np.ones((n_hidden, mp))  # dropout scales of the hidden units: 1 / keep_prob or 0
    th = theta[model]
    rate = lr[model]
    decay = shrink[model]
    limit = max_norm[model]
    l2 = l2_m[model]
    l1 = l1_m[model]
    inv_m = 1.0 / m
    key = keys[model]
    if mask_mode == COURSE_MASKS:  # the same masks every step
        for layer in range(n_layers - 1):
            kp = keep[model, layer]
            kp_inv = keep_inv[model, layer]
            for r in range(row_off[layer + 1] - n_inputs, row_off[layer + 2] - n_inputs):
                for e in range(m):
                    scale[r, e] = kp_inv if draws[r, e] < kp else 0.0
    for step in range(n_steps):
        if mask_mode == FRESH_MASKS:
            base = np.uint64(first_iteration + step) * np.uint64(n_hidden)
            for layer in range(n_layers - 1):
                threshold = np.uint64(thresholds[model, layer])
                kp_inv = keep_inv[model, layer]
                for r in range(row_off[layer + 1] - n_inputs, row_off[layer + 2] - n_inputs):
                    seed = _row_seed(key, base + np.uint64(r + 1))
                    low = seed & _LOW_32
                    high = seed >> _S32
                    for e in range(mp):
                        x = ((low + np.uint64(e) * _GOLDEN_32) & _LOW_32) ^ high
                        x = x ^ (x >> _S16)
                        x = (x * _MIX_32_A) & _LOW_32
                        x = x ^ (x >> _S15)
                        x = (x * _MIX_32_B) & _LOW_32
                        x = x ^ (x >> _S16)
                        scale[r, e] = kp_inv if x <= threshold else 0.0
        # ---- forward: Z = W A_prev + b; hidden: ReLU, then dropout ----
        for layer in range(n_layers):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            wo = w_off[layer]
            bo = wo + n_out * n_in
            src = row_off[layer]
            for j in range(n_out):
                out = row_off[layer + 1] + j
                b = th[bo + j]
                for e in range(mp):
                    acts[out, e] = b
                for k in range(n_in):
                    w = th[wo + j * n_in + k]
                    for e in range(mp):
                        acts[out, e] += w * acts[src + k, e]
                if layer < n_layers - 1:
                    for e in range(mp):
                        v = acts[out, e]
                        acts[out, e] = 0.0 if v < 0.0 else v
                    if mask_mode != NO_MASKS:
                        r = out - n_inputs
                        for e in range(mp):
                            acts[out, e] *= scale[r, e]
        # ---- cost before the update (only at record points) ----
        top = row_off[n_layers]
        if want_cost and step == 0:
            data = 0.0
            for j in range(sizes[n_layers]):
                for e in range(m):
                    s = -acts[top + j, e] if Y[e] > 0.5 else acts[top + j, e]
                    data += _softplus(s)
            squares = 0.0
            absolutes = 0.0
            for layer in range(n_layers):
                wo = w_off[layer]
                for q in range(wo, wo + sizes[layer + 1] * sizes[layer]):
                    squares += th[q] * th[q]
                    absolutes += abs(th[q])
            cost[model] = 1.0 / m * data + l2_2m[model] * squares + l1_m64[model] * absolutes
            if not update:
                return
        # ---- backward ----
        for j in range(sizes[n_layers]):
            for e in range(mp):
                grad[top + j, e] = (1.0 / (1.0 + math.exp(-acts[top + j, e])) - Y[e]) * valid[e]
        for layer in range(n_layers - 1, -1, -1):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            wo = w_off[layer]
            bo = wo + n_out * n_in
            src = row_off[layer]
            dst = row_off[layer + 1]
            if layer > 0:  # dZ_below = (W.T dZ) / keep_prob where A_below > 0; W before its update
                factor = keep_inv[model, layer - 1] if mask_mode != NO_MASKS else 1.0
                for k in range(n_in):
                    for e in range(mp):
                        grad[src + k, e] = 0.0
                    for j in range(n_out):
                        w = th[wo + j * n_in + k]
                        for e in range(mp):
                            grad[src + k, e] += w * grad[dst + j, e]
                    for e in range(mp):  # the load outside the condition, or the loop stays scalar
                        v = grad[src + k, e] * factor
                        grad[src + k, e] = v if acts[src + k, e] > 0.0 else 0.0
            # dW = dZ A_prev.T / m (+ penalties), db = sum(dZ) / m; the step; max-norm per row
            for j in range(n_out):
                for k in range(n_in):
                    s = 0.0
                    for e in range(mp):
                        s += grad[dst + j, e] * acts[src + k, e]
                    q = wo + j * n_in + k
                    th[q] = _descend(th[q], s, inv_m, l2, l1, rate, decay)
                if limit < np.inf:
                    squares = 0.0
                    for k in range(n_in):
                        w = th[wo + j * n_in + k]
                        squares += w * w
                    norm = math.sqrt(squares)
                    if norm > limit:
                        factor_norm = limit / norm
                        for k in range(n_in):
                            th[wo + j * n_in + k] *= factor_norm
                t = 0.0
                for e in range(mp):
                    t += grad[dst + j, e]
                th[bo + j] -= rate * (inv_m * t)


@njit(cache=True, error_model="numpy", parallel=True, nogil=True)
def train_segment(
    X, Y, valid, m, theta, sizes, w_off, row_off, lr, l2_m, l1_m, shrink, max_norm, keep, keep_inv, thresholds,
    keys, mask_mode, draws, first_iteration, n_steps, want_cost, update, l2_2m, l1_m64, cost,
):
    """``n_steps`` iterations for every model of the batch (prange over the model axis).

    X (n_0, mp) padded inputs, Y (mp,) labels, valid (mp,) 1 for the m real examples and 0 for
    padding; theta (M, P) updated in place; lr, l2_m = l2 / m, l1_m = l1 / m, shrink = 1 -
    weight_decay (M,); max_norm (M,), inf for no constraint; keep (M, H) and keep_inv = 1 / keep;
    thresholds (M, H) uint32 = ceil(keep * 2**32) - 1 and keys (M,) uint64 for fresh masks;
    mask_mode NO_MASKS, COURSE_MASKS or FRESH_MASKS; draws (S, mp) the course's uniforms;
    first_iteration: the iteration number of the first step; cost (M,) receives the cost of the
    first step when want_cost (with l2_2m = l2 / 2m, l1_m64 = l1 / m); with update False, every
    model stops right after that cost (theta unchanged).
    """
    for model in prange(theta.shape[0]):
        _train_one(
            np.int64(model), X, Y, valid, m, theta, sizes, w_off, row_off, lr, l2_m, l1_m, shrink, max_norm, keep,
            keep_inv, thresholds, keys, mask_mode, draws, first_iteration, n_steps, want_cost, update, l2_2m,
            l1_m64, cost,
        )


@njit(cache=True, error_model="numpy", nogil=True)
def train_segment_serial(
    X, Y, valid, m, theta, sizes, w_off, row_off, lr, l2_m, l1_m, shrink, max_norm, keep, keep_inv, thresholds,
    keys, mask_mode, draws, first_iteration, n_steps, want_cost, update, l2_2m, l1_m64, cost,
):
    """``train_segment`` on one thread."""
    for model in range(theta.shape[0]):
        _train_one(
            np.int64(model), X, Y, valid, m, theta, sizes, w_off, row_off, lr, l2_m, l1_m, shrink, max_norm, keep,
            keep_inv, thresholds, keys, mask_mode, draws, first_iteration, n_steps, want_cost, update, l2_2m,
            l1_m64, cost,
        )
