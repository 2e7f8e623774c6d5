"""The numba code of the compiled engine (imported lazily by ``kernels``; imports numba).

One fused loop trains one network for many iterations; ``train_segment`` runs it for every
model of a batch, in parallel over the model axis. The arithmetic is the reference engine's
(``network``, ``penalties``, ``train``) written as loops over examples, so the two agree to
rounding: sums may be reassociated (``fastmath`` "reassoc"/"contract", which lets the
compiler vectorise the reductions and use fused multiply-adds), and inverted dropout
multiplies by 1 / keep_prob where the reference divides by keep_prob (vectorised division
is slow; the two differ by at most one rounding).

Layout, per model (the course's units x examples, one flat parameter row per model)::

    theta[model]   # (P,): W_1 (n_1 x n_0, row-major), b_1 (n_1), W_2, b_2, ..., W_L, b_L
    acts           # (U, m): layer l's outputs in rows row_off[l] : row_off[l + 1]
    draws          # (Md, Kd, S, m): uniforms of the hidden layers' dropout, rows as in acts;
                   # Md is 1 (shared) or M, Kd is 1 (the same every iteration) or n_steps
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Reassociation (vectorised sums) and contraction (fused multiply-add) only: no "nnan"/"ninf",
# so a diverging model still produces NaN/inf that the driver detects.
_FASTMATH = {"reassoc", "contract"}


@njit(cache=True, fastmath=_FASTMATH)
def _softplus(s):
    """log(1 + exp(s)), as NumPy's logaddexp(0, s) computes it."""
    if s == 0.0:
        return math.log(2.0)
    if s > 0.0:
        return s + math.log1p(math.exp(-s))
    return math.log1p(math.exp(s))


@njit(cache=True, fastmath=_FASTMATH)
def _train_one(
    model, X, Y, theta, sizes, w_off, row_off, lr, l2_m, l1_m, keep, keep_inv, inv_m,
    draws, dropout, n_steps, want_cost, l2_2m, l1_m64, cost,
):
    """n_steps iterations of gradient descent for theta[model] (updated in place)."""
    n_layers = sizes.shape[0] - 1
    m = X.shape[1]
    max_units = 0
    for layer in range(1, n_layers + 1):
        max_units = max(max_units, sizes[layer])
    acts = np.empty((row_off[n_layers], m), dtype=theta.dtype)  # (U, m)
    dz = np.empty((max_units, m), dtype=theta.dtype)  # gradient w.r.t. the current layer's Z
    da = np.empty((max_units, m), dtype=theta.dtype)  # gradient w.r.t. the layer below's output
    n_hidden_rows = draws.shape[2]
    scale = np.empty((n_hidden_rows, m), dtype=theta.dtype)  # mask / keep_prob of hidden units
    th = theta[model]
    zero = inv_m - inv_m  # 0 and 1 in the working dtype
    one = inv_m / inv_m
    dm = model if draws.shape[0] > 1 else 0
    rate = lr[model]
    for step in range(n_steps):
        if dropout and (step == 0 or draws.shape[1] > 1):  # fixed draws: one scale for all steps
            uniforms = draws[dm, step if draws.shape[1] > 1 else 0]  # (S, m)
            for layer in range(n_layers - 1):
                kp = keep[model, layer]
                kp_inv = keep_inv[model, layer]
                for r in range(row_off[layer], row_off[layer + 1]):
                    u_row = uniforms[r]
                    s_row = scale[r]
                    for e in range(m):
                        s_row[e] = kp_inv if u_row[e] < kp else zero
        # ---- forward: Z = W @ A_prev + b, then ReLU and dropout (hidden) ----
        for layer in range(n_layers):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            wo = w_off[layer]
            bo = wo + n_out * n_in
            hidden = layer < n_layers - 1
            for j in range(n_out):
                z = acts[row_off[layer] + j]
                z[:] = zero
                for k in range(n_in):
                    w = th[wo + j * n_in + k]
                    a_prev = X[k] if layer == 0 else acts[row_off[layer - 1] + k]
                    for e in range(m):
                        z[e] += w * a_prev[e]
                b = th[bo + j]
                if hidden and dropout:
                    s_row = scale[row_off[layer] + j]
                    for e in range(m):
                        v = z[e] + b
                        z[e] = (zero if v < zero else v) * s_row[e]
                elif hidden:
                    for e in range(m):
                        v = z[e] + b
                        z[e] = zero if v < zero else v
                else:
                    for e in range(m):
                        z[e] = z[e] + b  # logits
        # ---- cost before the update (only at record points) ----
        last = n_layers - 1
        if want_cost and step == 0:
            data = 0.0
            for j in range(sizes[n_layers]):
                logits = acts[row_off[last] + j]
                for e in range(m):
                    s = -logits[e] if Y[e] > 0.5 else logits[e]
                    data += _softplus(np.float64(s))
            squares = 0.0
            absolutes = 0.0
            for layer in range(n_layers):
                wo = w_off[layer]
                for q in range(wo, wo + sizes[layer + 1] * sizes[layer]):
                    w64 = np.float64(th[q])
                    squares += w64 * w64
                    absolutes += abs(w64)
            cost[model] = 1.0 / m * data + l2_2m[model] * squares + l1_m64[model] * absolutes
        # ---- backward, updating each layer as soon as the layer below has its gradient ----
        for j in range(sizes[n_layers]):
            logits = acts[row_off[last] + j]
            for e in range(m):
                dz[j, e] = 1.0 / (1.0 + math.exp(-logits[e])) - Y[e]
        for layer in range(n_layers - 1, -1, -1):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            wo = w_off[layer]
            bo = wo + n_out * n_in
            if layer > 0:  # dA_prev = W.T @ dZ, with this layer's weights before their update
                for k in range(n_in):
                    row = da[k]
                    row[:m] = zero
                    for j in range(n_out):
                        w = th[wo + j * n_in + k]
                        dzj = dz[j]
                        for e in range(m):
                            row[e] += w * dzj[e]
            for j in range(n_out):
                dzj = dz[j]
                total = zero
                for e in range(m):
                    total += dzj[e]
                for k in range(n_in):
                    a_prev = X[k] if layer == 0 else acts[row_off[layer - 1] + k]
                    s = zero
                    for e in range(m):
                        s += dzj[e] * a_prev[e]
                    q = wo + j * n_in + k
                    w = th[q]
                    g = inv_m * s
                    if l2_m[model] != 0.0:
                        g = g + l2_m[model] * w
                    if l1_m[model] != 0.0:
                        g = g + l1_m[model] * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
                    th[q] = w - rate * g
                th[bo + j] = th[bo + j] - rate * (inv_m * total)
            if layer > 0:  # through dropout and ReLU of the layer below: dZ_prev
                below = layer - 1
                for k in range(n_in):
                    a_row = acts[row_off[below] + k]
                    d_row = da[k]
                    out = dz[k]
                    if dropout:
                        s_row = scale[row_off[below] + k]
                        for e in range(m):
                            out[e] = d_row[e] * s_row[e] * (one if a_row[e] > zero else zero)
                    else:
                        for e in range(m):
                            out[e] = d_row[e] * (one if a_row[e] > zero else zero)


@njit(cache=True, parallel=True, nogil=True)
def train_segment(
    X, Y, theta, sizes, w_off, row_off, lr, l2_m, l1_m, keep, keep_inv, inv_m,
    draws, dropout, n_steps, want_cost, l2_2m, l1_m64, cost,
):
    """``n_steps`` iterations for every model of the batch (prange over the model axis).

    X (n_0, m), Y (m,), theta (M, P) updated in place; lr, l2_m, l1_m (M,) and inv_m in the
    working dtype; keep (M, H) float64 thresholds and keep_inv (M, H) = 1 / keep; draws as in the
    module docstring; cost (M,) float64 receives the cost of the first step when want_cost.
    """
    for model in prange(theta.shape[0]):
        _train_one(
            np.int64(model), X, Y, theta, sizes, w_off, row_off, lr, l2_m, l1_m, keep, keep_inv, inv_m,
            draws, dropout, n_steps, want_cost, l2_2m, l1_m64, cost,
        )


@njit(cache=True, nogil=True)
def train_segment_serial(
    X, Y, theta, sizes, w_off, row_off, lr, l2_m, l1_m, keep, keep_inv, inv_m,
    draws, dropout, n_steps, want_cost, l2_2m, l1_m64, cost,
):
    """``train_segment`` on one thread: no parallel region to start (the better choice for M = 1)."""
    for model in range(theta.shape[0]):
        _train_one(
            np.int64(model), X, Y, theta, sizes, w_off, row_off, lr, l2_m, l1_m, keep, keep_inv, inv_m,
            draws, dropout, n_steps, want_cost, l2_2m, l1_m64, cost,
        )
