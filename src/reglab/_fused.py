"""The numba code of the compiled engine (imported lazily by ``kernels``; imports numba).

One fused loop trains one network for many iterations; ``train_segment`` runs it for every
model of a batch, in parallel over the model axis. The arithmetic is the reference engine's
(``network``, ``penalties``, ``train``) written as loops over examples, so the two agree to
rounding: sums are reassociated (``fastmath`` "reassoc"/"contract": vectorised reductions,
fused multiply-adds) and inverted dropout multiplies by 1 / keep_prob where the reference
divides by keep_prob (the two differ by at most one rounding).

Layout, per model (the course's units x examples, examples innermost, padded to ``mp``)::

    theta[model]   # (P,): W_1 (n_1 x n_0, row-major), b_1 (n_1), W_2, b_2, ..., W_L, b_L
    acts           # (n_0 + U, mp): the inputs X in rows 0 : n_0, then layer l's outputs in
                   # rows row_off[l] : row_off[l + 1] (row_off[0] = 0 is X)
    dz, dz_next    # (max units, mp): gradient w.r.t. the current layer's Z, and the layer below's

What makes it fast (measured; see benchmarks/bench_engines.py):

- every loop over examples vectorises: ``error_model="numpy"`` (numba's default checks each
  float division for zero and raises, which keeps the sigmoid loop scalar), branches chosen
  outside the loops (a mode tested inside a loop stopped vectorisation: 2.4x slower), 2-D
  indexing instead of row views (a view costs reference counting), and ``_exp``, a vectorisable
  exp within one ulp of libm's (libm's exp is a scalar call per example);
- the examples are padded from m to a multiple of ``PAD`` (zero inputs, zero weight in the
  gradient), so no vector loop has a scalar remainder;
- matrix products take four rows per pass over the examples (one pass reads four input rows and
  writes one output row; dW takes four dot products per pass), ReLU and dropout are applied in
  the last pass, and the backward pass goes from dZ of a layer straight to dZ of the layer below
  in one pass per unit. Dropout needs no mask in the backward pass: a unit has A > 0 exactly
  where ReLU passed it and dropout kept it, so dZ_below = (W.T dZ) / keep_prob where A > 0.

The update is the reference's ``constraints.decay_and_step`` and ``constraints.project_max_norm``:
``(1 - weight_decay) W - lr dW`` only for a model whose decay is not zero, and each unit's row of
W rescaled to its model's max_norm right after that row's update (biases untouched), only for a
model with a finite max_norm; the tests are per model and per weight or row, never per example.

Dropout masks, bit for bit those of ``masks``:

- course masks: the course's fixed uniforms (``draws`` (S, mp)), thresholded once per call;
- fresh masks: the counter-based hash of ``masks.fresh_hashes`` computed inside the loop, a row
  seed per (iteration, unit) with 64-bit SplitMix64, then 32-bit ``lowbias32`` per example,
  written as LLVM i32 operations (``_kept``) so that it vectorises (numba would widen 32-bit
  integer arithmetic to 64 bits, and AVX2 has no 64-bit multiply). The scales of a unit go to a
  one-row scratch just before the unit's last forward pass.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

# Reassociation (vectorised sums) and contraction (fused multiply-add) only: no "nnan"/"ninf",
# so a diverging model still produces NaN/inf that the driver detects.
_FASTMATH = {"reassoc", "contract"}

#: The example axis is padded to a multiple of this (a whole number of AVX2/AVX-512 registers).
PAD = 8

NO_MASKS, COURSE_MASKS, FRESH_MASKS = 0, 1, 2

_GOLDEN_64 = np.uint64(0x9E3779B97F4A7C15)
_LOW_32 = np.uint64(0xFFFFFFFF)


@njit(cache=True, error_model="numpy", inline="always")
def _row_seed(key, counter):
    """SplitMix64 read at position ``counter`` from state ``key`` (masks.fresh_hashes)."""
    z = key + counter * _GOLDEN_64
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@intrinsic
def _kept(typingctx, low, high, example, threshold):
    """lowbias32((low + example * 0x9E3779B9) ^ high) <= threshold, in 32-bit unsigned arithmetic."""
    sig = types.boolean(types.uint32, types.uint32, types.int64, types.uint32)

    def codegen(context, builder, signature, args):
        low, high, example, threshold = args
        i32 = ir.IntType(32)
        x = builder.add(low, builder.mul(builder.trunc(example, i32), ir.Constant(i32, 0x9E3779B9)))
        x = builder.xor(x, high)
        x = builder.xor(x, builder.lshr(x, ir.Constant(i32, 16)))
        x = builder.mul(x, ir.Constant(i32, 0x7FEB352D))
        x = builder.xor(x, builder.lshr(x, ir.Constant(i32, 15)))
        x = builder.mul(x, ir.Constant(i32, 0x846CA68B))
        x = builder.xor(x, builder.lshr(x, ir.Constant(i32, 16)))
        return builder.icmp_unsigned("<=", x, threshold)

    return sig, codegen


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _softplus(s):
    """log(1 + exp(s)), as NumPy's logaddexp(0, s) computes it."""
    if s == 0.0:
        return math.log(2.0)
    if s > 0.0:
        return s + math.log1p(math.exp(-s))
    return math.log1p(math.exp(s))


# How a pass finishes each value v before storing it (chosen outside the loop over examples:
# a branch inside it would stop vectorisation).
_STORE, _RELU_SCALED, _GATED = 0, 1, 2


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _finish_row(out, row, finish, aux, aux_row, factor, zero):
    """Second pass for rows whose sum needed several passes: apply ``finish`` in place."""
    mp = out.shape[1]
    if finish == _RELU_SCALED:
        for e in range(mp):
            v = out[row, e]
            out[row, e] = (zero if v < zero else v) * aux[aux_row, e]
    elif finish == _GATED:
        for e in range(mp):
            out[row, e] = out[row, e] * factor if aux[aux_row, e] > zero else zero


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _pass(out, row, src, first, count, w0, w1, w2, w3, init, bias, finish, aux, aux_row, factor, zero):
    """out[row, e] = finish((bias if init else out[row, e]) + w0 src[first, e] + ... ), count = 1, 2 or 4 rows.

    finish is _STORE (v), _RELU_SCALED (max(v, 0) * aux[aux_row, e]) or _GATED (v * factor where
    aux[aux_row, e] > 0, else 0). Every branch is outside the loops over examples; plain 2-D
    indexing (no row views: a view costs reference counting in numba).
    """
    mp = out.shape[1]
    if count == 4:
        if not init:
            for e in range(mp):
                out[row, e] += (w0 * src[first, e] + w1 * src[first + 1, e]) + (
                    w2 * src[first + 2, e] + w3 * src[first + 3, e]
                )
            _finish_row(out, row, finish, aux, aux_row, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                v = bias + ((w0 * src[first, e] + w1 * src[first + 1, e]) + (w2 * src[first + 2, e] + w3 * src[first + 3, e]))
                out[row, e] = (zero if v < zero else v) * aux[aux_row, e]
        elif finish == _GATED:
            for e in range(mp):
                v = bias + ((w0 * src[first, e] + w1 * src[first + 1, e]) + (w2 * src[first + 2, e] + w3 * src[first + 3, e]))
                out[row, e] = v * factor if aux[aux_row, e] > zero else zero
        else:
            for e in range(mp):
                out[row, e] = bias + (
                    (w0 * src[first, e] + w1 * src[first + 1, e]) + (w2 * src[first + 2, e] + w3 * src[first + 3, e])
                )
    elif count == 2:
        if not init:
            for e in range(mp):
                out[row, e] += w0 * src[first, e] + w1 * src[first + 1, e]
            _finish_row(out, row, finish, aux, aux_row, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                v = bias + (w0 * src[first, e] + w1 * src[first + 1, e])
                out[row, e] = (zero if v < zero else v) * aux[aux_row, e]
        elif finish == _GATED:
            for e in range(mp):
                v = bias + (w0 * src[first, e] + w1 * src[first + 1, e])
                out[row, e] = v * factor if aux[aux_row, e] > zero else zero
        else:
            for e in range(mp):
                out[row, e] = bias + (w0 * src[first, e] + w1 * src[first + 1, e])
    else:
        if not init:
            for e in range(mp):
                out[row, e] += w0 * src[first, e]
            _finish_row(out, row, finish, aux, aux_row, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                v = bias + w0 * src[first, e]
                out[row, e] = (zero if v < zero else v) * aux[aux_row, e]
        elif finish == _GATED:
            for e in range(mp):
                v = bias + w0 * src[first, e]
                out[row, e] = v * factor if aux[aux_row, e] > zero else zero
        else:
            for e in range(mp):
                out[row, e] = bias + w0 * src[first, e]


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _product_row(out, row, src, first, n_rows, th, w_start, w_stride, bias, finish, aux, aux_row, factor, zero):
    """out[row] = finish(bias + sum_{c < n_rows} th[w_start + c * w_stride] * src[first + c]): passes of 4, 2, 1 rows.

    Only the last pass finishes; when there are several, the first writes and the others add.
    """
    c = 0
    while c < n_rows:
        count = 4 if n_rows - c >= 4 else (2 if n_rows - c >= 2 else 1)
        q = w_start + c * w_stride
        w0 = th[q]
        w1 = th[q + w_stride] if count > 1 else zero
        w2 = th[q + 2 * w_stride] if count > 2 else zero
        w3 = th[q + 3 * w_stride] if count > 2 else zero
        single = c == 0 and count == n_rows  # one pass: write and finish at once
        if single:
            _pass(out, row, src, first + c, count, w0, w1, w2, w3, True, bias, finish, aux, aux_row, factor, zero)
        elif c == 0:
            _pass(out, row, src, first + c, count, w0, w1, w2, w3, True, bias, _STORE, aux, aux_row, factor, zero)
        else:
            last = c + count >= n_rows
            _pass(out, row, src, first + c, count, w0, w1, w2, w3, False, bias, finish if last else _STORE,
                  aux, aux_row, factor, zero)
        c += count


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _exp(x):
    """exp(x) for float64, within about one ulp of libm's, written so that loops vectorise.

    Range reduction x = n ln2 + r (|r| <= ln2 / 2, Cody-Waite with a two-part ln2), a degree-13
    Taylor polynomial for exp(r) (truncation below 2e-16 relative), times 2**n built from bits.
    x is clamped to [-708, 709] first (exp(-708) ~ 3e-308 and exp(709) ~ 8e307 are finite),
    NaN passes through.
    """
    x = -708.0 if x < -708.0 else (709.0 if x > 709.0 else x)
    t = x * 1.4426950408889634 + 6755399441055744.0  # n + 1.5 * 2**52: rounds x / ln2 to n
    n = t - 6755399441055744.0
    r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10  # fdlibm's ln2 parts
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return p * _pow2_of_shifted(t)


@intrinsic
def _pow2_of_shifted(typingctx, t):
    """2**n from t = n + 1.5 * 2**52 (|n| < 1023): the bits of t hold n; shift it into the exponent."""
    sig = types.float64(types.float64)

    def codegen(context, builder, signature, args):
        (t,) = args
        i64 = ir.IntType(64)
        bits = builder.bitcast(t, i64)
        n = builder.sub(bits, ir.Constant(i64, 0x4338000000000000))  # the bits of 1.5 * 2**52
        exponent = builder.shl(builder.add(n, ir.Constant(i64, 1023)), ir.Constant(i64, 52))
        return builder.bitcast(exponent, ir.DoubleType())

    return sig, codegen


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _descend(w, dot, inv_m, l2_m, l1_m, rate, shrink):
    """One gradient step for a weight: dW = dot / m (+ l2/m W) (+ l1/m sign W), the reference's order;
    then W - lr dW, or (1 - weight_decay) W - lr dW when ``shrink`` = 1 - weight_decay is not 1."""
    g = inv_m * dot
    if l2_m != 0.0:
        g = g + l2_m * w
    if l1_m != 0.0:
        g = g + l1_m * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
    if shrink != 1.0:
        return shrink * w - rate * g
    return w - rate * g


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _project_row(th, start, n_in, limit):
    """Rescale th[start : start + n_in] (one unit's incoming weights) to norm ``limit`` when above it.

    As ``constraints.project_max_norm``: W * (limit / ||W||) where ||W|| > limit; the norm in float64.
    """
    squares = 0.0
    for q in range(start, start + n_in):
        w64 = np.float64(th[q])
        squares += w64 * w64
    norm = math.sqrt(squares)
    if norm > limit:  # False for a NaN norm: left for the divergence check
        factor = limit / norm
        for q in range(start, start + n_in):
            th[q] = th[q] * factor


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _train_one(
    model, X, Y, valid, m, theta, sizes, w_off, row_off, lr, l2_m, l1_m, shrink, max_norm, keep, keep_inv,
    thresholds, keys, mask_mode, draws, first_iteration, n_steps, want_cost, update, l2_2m, l1_m64, cost,
):
    """n_steps iterations of gradient descent for theta[model] (updated in place)."""
    n_layers = sizes.shape[0] - 1
    n_inputs = sizes[0]
    mp = X.shape[1]
    max_units = 0
    for layer in range(1, n_layers + 1):
        max_units = max(max_units, sizes[layer])
    work = theta.dtype
    acts = np.empty((row_off[n_layers + 1], mp), dtype=work)  # (n_0 + U, mp), X first
    for k in range(n_inputs):
        acts[k, :] = X[k]
    dz = np.empty((max_units, mp), dtype=work)  # gradient w.r.t. the current layer's Z
    dz_next = np.empty((max_units, mp), dtype=work)  # ... and the layer below's
    n_hidden = row_off[n_layers] - n_inputs  # S
    seed_low = np.empty(n_hidden, dtype=np.uint32)  # fresh masks: row seeds of this iteration
    seed_high = np.empty(n_hidden, dtype=np.uint32)
    # Dropout scales (1 / keep_prob or 0) of the hidden units: the course's, fixed, for all rows;
    # fresh ones one row at a time, just before the row is finished.
    scale = np.ones((n_hidden if mask_mode == COURSE_MASKS else 1, mp), dtype=work)  # ones: no dropout
    th = theta[model]
    one = valid[0]  # 1 and 0 in the working dtype (valid[0] is 1: m >= 1)
    zero = one - one
    rate = lr[model]
    decay = shrink[model]  # 1 - weight_decay: 1 for no decay
    limit = max_norm[model]  # inf for no constraint
    constrained = limit < np.inf
    if mask_mode == COURSE_MASKS:  # the same masks every step: scales once per call
        for layer in range(n_layers - 1):
            kp = keep[model, layer]
            kp_inv = keep_inv[model, layer]
            for r in range(row_off[layer + 1] - n_inputs, row_off[layer + 2] - n_inputs):
                for e in range(m):
                    scale[r, e] = kp_inv if draws[r, e] < kp else zero
    key = keys[model]
    for step in range(n_steps):
        if mask_mode == FRESH_MASKS:
            base = np.uint64(first_iteration + step) * np.uint64(n_hidden)
            for r in range(n_hidden):
                seed = _row_seed(key, base + np.uint64(r + 1))
                seed_low[r] = np.uint32(seed & _LOW_32)
                seed_high[r] = np.uint32(seed >> np.uint64(32))
        # ---- forward: Z = W @ A_prev + b, then ReLU and dropout (hidden), in the last pass ----
        for layer in range(n_layers):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            wo = w_off[layer]
            bo = wo + n_out * n_in
            src = row_off[layer]
            hidden = layer < n_layers - 1
            for j in range(n_out):
                r_out = row_off[layer + 1] + j
                r = r_out - n_inputs  # hidden unit number
                finish = _RELU_SCALED if hidden else _STORE
                scale_row = r if mask_mode == COURSE_MASKS else 0
                if hidden and mask_mode == FRESH_MASKS:
                    low = seed_low[r]
                    high = seed_high[r]
                    threshold = thresholds[model, layer]
                    kp_inv = keep_inv[model, layer]
                    for e in range(mp):
                        scale[0, e] = kp_inv if _kept(low, high, e, threshold) else zero
                _product_row(
                    acts, r_out, acts, src, n_in, th, wo + j * n_in, 1, th[bo + j], finish, scale, scale_row, one, zero
                )
        # ---- cost before the update (only at record points) ----
        top = row_off[n_layers]
        if want_cost and step == 0:
            data = 0.0
            for j in range(sizes[n_layers]):
                for e in range(m):
                    s = -acts[top + j, e] if Y[e] > 0.5 else acts[top + j, e]
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
            if not update:  # the cost only: the caller decides whether to take the step
                return
        # ---- backward: dZ of the output, then layer by layer downwards ----
        for j in range(sizes[n_layers]):
            for e in range(mp):
                dz[j, e] = (1.0 / (1.0 + _exp(-np.float64(acts[top + j, e]))) - Y[e]) * valid[e]
        inv_m = one / m
        for layer in range(n_layers - 1, -1, -1):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            wo = w_off[layer]
            bo = wo + n_out * n_in
            src = row_off[layer]
            if layer > 0:
                # dZ_below = (W.T @ dZ) / keep_prob where A_below > 0, else 0; W before its update.
                # (A_below > 0 only where ReLU passed and dropout kept the unit.)
                kp_inv = keep_inv[model, layer - 1] if mask_mode != NO_MASKS else one
                for k in range(n_in):
                    _product_row(dz_next, k, dz, 0, n_out, th, wo + k, n_in, zero, _GATED, acts, src + k, kp_inv, zero)
            # dW = dZ @ A_prev.T / m (+ penalties), db = sum(dZ) / m; then the update.
            for j in range(n_out):
                total = zero
                for e in range(mp):
                    total += dz[j, e]
                k = 0
                while k + 4 <= n_in:  # four weights per pass over the examples
                    s0 = zero
                    s1 = zero
                    s2 = zero
                    s3 = zero
                    for e in range(mp):
                        d = dz[j, e]
                        s0 += d * acts[src + k, e]
                        s1 += d * acts[src + k + 1, e]
                        s2 += d * acts[src + k + 2, e]
                        s3 += d * acts[src + k + 3, e]
                    q = wo + j * n_in + k
                    th[q] = _descend(th[q], s0, inv_m, l2_m[model], l1_m[model], rate, decay)
                    th[q + 1] = _descend(th[q + 1], s1, inv_m, l2_m[model], l1_m[model], rate, decay)
                    th[q + 2] = _descend(th[q + 2], s2, inv_m, l2_m[model], l1_m[model], rate, decay)
                    th[q + 3] = _descend(th[q + 3], s3, inv_m, l2_m[model], l1_m[model], rate, decay)
                    k += 4
                while k < n_in:
                    s0 = zero
                    for e in range(mp):
                        s0 += dz[j, e] * acts[src + k, e]
                    q = wo + j * n_in + k
                    th[q] = _descend(th[q], s0, inv_m, l2_m[model], l1_m[model], rate, decay)
                    k += 1
                if constrained:  # the row's update is complete: project it
                    _project_row(th, wo + j * n_in, n_in, limit)
                th[bo + j] = th[bo + j] - rate * (inv_m * total)
            dz, dz_next = dz_next, dz


@njit(cache=True, error_model="numpy", parallel=True, nogil=True)
def train_segment(
    X, Y, valid, m, theta, sizes, w_off, row_off, lr, l2_m, l1_m, shrink, max_norm, keep, keep_inv, thresholds,
    keys, mask_mode, draws, first_iteration, n_steps, want_cost, update, l2_2m, l1_m64, cost,
):
    """``n_steps`` iterations for every model of the batch (prange over the model axis).

    X (n_0, mp) padded inputs, Y (mp,) labels, valid (mp,) 1 for the m real examples and 0 for
    padding; theta (M, P) updated in place; lr, l2_m, l1_m (M,) in the working dtype; shrink (M,)
    = 1 - weight_decay in the working dtype (1: no decay); max_norm (M,) float64, inf for no
    constraint; keep (M, H)
    float64 and keep_inv (M, H) = 1 / keep; thresholds (M, H) uint32 = ceil(keep * 2**32) - 1 and
    keys (M,) uint64 for fresh masks; mask_mode NO_MASKS, COURSE_MASKS or FRESH_MASKS; draws
    (S, mp) the course's uniforms; first_iteration: the iteration number of the first step;
    cost (M,) float64 receives the cost of the first step when want_cost; with update False, every
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
    """``train_segment`` on one thread: no parallel region to start (the better choice for M = 1)."""
    for model in range(theta.shape[0]):
        _train_one(
            np.int64(model), X, Y, valid, m, theta, sizes, w_off, row_off, lr, l2_m, l1_m, shrink, max_norm, keep,
            keep_inv, thresholds, keys, mask_mode, draws, first_iteration, n_steps, want_cost, update, l2_2m,
            l1_m64, cost,
        )
