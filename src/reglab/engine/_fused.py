"""The numba code of the compiled engine (imported lazily by ``kernels``; imports numba).

One fused loop trains one network for many iterations; ``train_segment`` runs it for every
model of a batch, in parallel over the model axis. The arithmetic is the reference engine's
(``network``, ``penalties``, ``train``) written as loops over examples, so the two agree to
rounding: sums are reassociated (``fastmath`` "reassoc": vectorised reductions), products are
added with fused multiply-adds (one rounding instead of two; on a CPU without them, ``_fma`` is
a slow library call), and inverted dropout multiplies by 1 / keep_prob where the reference
divides by keep_prob (the two differ by at most one rounding).

All of it is one file on purpose: numba's on-disk cache of a function is invalidated when *its*
file changes, not when a helper it inlines from another file does (a split would let an upgrade
run stale machine code).

Layout, per model (the course's units x examples, examples innermost, padded to ``mp``)::

    theta[model]   # (P,): W_1 (n_1 x n_0, row-major), b_1 (n_1), W_2, b_2, ..., W_L, b_L
    acts           # (n_0 + U, mp): the inputs X in rows 0 : n_0, then layer l's outputs in
                   # rows row_off[l] : row_off[l + 1] (row_off[0] = 0 is X)
    dz, dz_next    # (max units + 1, mp): gradient w.r.t. the current layer's Z, and the layer below's
                   # (the extra row: scratch for an odd unit's twin in a two-unit pass)

What makes it fast (measured; see benchmarks/bench_engines.py):

- every loop over examples vectorises: ``error_model="numpy"`` (numba's default checks each
  float division for zero and raises, which keeps the sigmoid loop scalar), branches chosen
  outside the loops (a mode tested inside a loop stopped vectorisation: 2.4x slower), 2-D
  indexing instead of row views (a view costs reference counting), and ``_exp``, a vectorisable
  exp within one ulp of libm's (libm's exp is a scalar call per example);
- the examples are padded from m to a multiple of ``PAD`` (zero inputs, zero weight in the
  gradient), so no vector loop has a scalar remainder;
- a pass over the examples reads up to four rows of the layer below (three as four: the third
  again with weight zero) and writes two units of the layer above (Z = W A_prev + b forward,
  dZ_below = W.T dZ backward), so each loaded row serves two units; ReLU and dropout are applied
  in the last pass (no multiply by a scale without dropout); dW takes four dot products (and the
  bias sum) of two units in one pass; the backward pass goes from dZ of a layer straight to dZ of
  the layer below, and the lowest hidden layer's dZ (with at most two inputs) is never stored: it
  goes straight into that layer's dW and db. Dropout needs no mask in the
  backward pass: a unit has A > 0 exactly where ReLU passed it and dropout kept it, so
  dZ_below = (W.T dZ) / keep_prob where A > 0.

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
  two-row scratch just before the two units' forward pass.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# Reassociation (vectorised sums) only: no "nnan"/"ninf", so a diverging model still produces
# NaN/inf that the driver detects; and no "contract": with fused multiply-adds left to LLVM, the
# machine code numba runs in the process that compiles it placed them differently from the code
# it caches for every later process (the plain model on `field` ended 30000 iterations at 0.905 /
# 0.85 in the compiling process and at 0.955 / 0.865 in all others). The hot loops write their
# fused multiply-adds out instead (``_fma``, ``_fmuladd``): the same instructions in both, and the
# speed of contraction back (12% of the loop, measured).
_FASTMATH = {"reassoc"}

#: The example axis is padded to a multiple of this: LLVM vectorises a loop over examples 4 doubles wide, four
#: registers per step (16 examples), and leaves what is left over to a scalar loop; 16 leaves nothing over.
PAD = 16

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


def _multiply_add(typingctx, a, b, c, llvm_name, flags):
    """Typing and code of an intrinsic a * b + c on floats: LLVM's ``llvm_name`` (fma or fmuladd) with ``flags``."""
    if not all(isinstance(t, types.Float) for t in (a, b, c)):
        return None
    kind = typingctx.unify_types(a, b, c)

    def codegen(context, builder, signature, args):
        value = context.get_value_type(kind)
        args = [context.cast(builder, v, t, kind) for v, t in zip(args, signature.args)]
        name = f"{llvm_name}.{'f64' if kind == types.float64 else 'f32'}"
        function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(value, [value] * 3), name)
        return builder.call(function, args, fastmath=flags)

    return kind(a, b, c), codegen


# Fused multiply-adds are written out, not left to LLVM (fastmath "contract", see _FASTMATH): each is then
# the same operation wherever the code is compiled.
@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once (one instruction on a CPU with fused multiply-add)."""
    return _multiply_add(typingctx, a, b, c, "llvm.fma", ())


@intrinsic
def _fmuladd(typingctx, a, b, c):
    """a * b + c for sums over the examples: LLVM vectorises a reassociable fmuladd reduction (not an fma
    one); on a CPU with fused multiply-add it is the same instruction as ``_fma``."""
    return _multiply_add(typingctx, a, b, c, "llvm.fmuladd", ("reassoc",))


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _sum4(init, w0, x0, w1, x1, w2, x2, w3, x3):
    """init + w0 x0 + w1 x1 + w2 x2 + w3 x3 as four fused multiply-adds."""
    return _fma(w3, x3, _fma(w2, x2, _fma(w1, x1, _fma(w0, x0, init))))


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
_STORE, _RELU_SCALED, _GATED, _RELU = 0, 1, 2, 3  # _RELU: max(v, 0), for networks without dropout


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
    elif finish == _RELU:
        for e in range(mp):
            v = out[row, e]
            out[row, e] = zero if v < zero else v


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _pass(out, row, src, i0, i1, i2, i3, count, w0, w1, w2, w3, init, bias, finish, aux, aux_row, factor, zero):
    """out[row, e] = finish((bias if init else out[row, e]) + w0 src[i0, e] + ... ), count = 1, 2 or 4 rows.

    finish is _STORE (v), _RELU (max(v, 0)), _RELU_SCALED (max(v, 0) * aux[aux_row, e]) or _GATED
    (v * factor where aux[aux_row, e] > 0, else 0). Every branch is outside the loops over examples; plain 2-D
    indexing (no row views: a view costs reference counting in numba).
    """
    mp = out.shape[1]
    if count == 4:
        if not init:
            for e in range(mp):
                out[row, e] = _sum4(out[row, e], w0, src[i0, e], w1, src[i1, e], w2, src[i2, e], w3, src[i3, e])
            _finish_row(out, row, finish, aux, aux_row, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                v = _sum4(bias, w0, src[i0, e], w1, src[i1, e], w2, src[i2, e], w3, src[i3, e])
                out[row, e] = (zero if v < zero else v) * aux[aux_row, e]
        elif finish == _GATED:
            for e in range(mp):
                v = _sum4(bias, w0, src[i0, e], w1, src[i1, e], w2, src[i2, e], w3, src[i3, e])
                out[row, e] = v * factor if aux[aux_row, e] > zero else zero
        elif finish == _RELU:
            for e in range(mp):
                v = _sum4(bias, w0, src[i0, e], w1, src[i1, e], w2, src[i2, e], w3, src[i3, e])
                out[row, e] = zero if v < zero else v
        else:
            for e in range(mp):
                out[row, e] = _sum4(bias, w0, src[i0, e], w1, src[i1, e], w2, src[i2, e], w3, src[i3, e])
    elif count == 2:
        if not init:
            for e in range(mp):
                out[row, e] = _fma(w1, src[i1, e], _fma(w0, src[i0, e], out[row, e]))
            _finish_row(out, row, finish, aux, aux_row, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                v = _fma(w1, src[i1, e], _fma(w0, src[i0, e], bias))
                out[row, e] = (zero if v < zero else v) * aux[aux_row, e]
        elif finish == _GATED:
            for e in range(mp):
                v = _fma(w1, src[i1, e], _fma(w0, src[i0, e], bias))
                out[row, e] = v * factor if aux[aux_row, e] > zero else zero
        elif finish == _RELU:
            for e in range(mp):
                v = _fma(w1, src[i1, e], _fma(w0, src[i0, e], bias))
                out[row, e] = zero if v < zero else v
        else:
            for e in range(mp):
                out[row, e] = _fma(w1, src[i1, e], _fma(w0, src[i0, e], bias))
    else:
        if not init:
            for e in range(mp):
                out[row, e] = _fma(w0, src[i0, e], out[row, e])
            _finish_row(out, row, finish, aux, aux_row, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                v = _fma(w0, src[i0, e], bias)
                out[row, e] = (zero if v < zero else v) * aux[aux_row, e]
        elif finish == _GATED:
            for e in range(mp):
                v = _fma(w0, src[i0, e], bias)
                out[row, e] = v * factor if aux[aux_row, e] > zero else zero
        elif finish == _RELU:
            for e in range(mp):
                v = _fma(w0, src[i0, e], bias)
                out[row, e] = zero if v < zero else v
        else:
            for e in range(mp):
                out[row, e] = _fma(w0, src[i0, e], bias)


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _pass2(out, ra, rb, src, i0, i1, i2, i3, count, a0, a1, a2, a3, b0, b1, b2, b3, init, bias_a, bias_b, finish,
           aux, aux_a, aux_b, factor, zero):
    """``_pass`` for two output rows ra, rb (weights a*, b*; aux rows aux_a, aux_b) sharing the loads of src."""
    mp = out.shape[1]
    if count == 4:
        if not init:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                x2 = src[i2, e]
                x3 = src[i3, e]
                out[ra, e] = _sum4(out[ra, e], a0, x0, a1, x1, a2, x2, a3, x3)
                out[rb, e] = _sum4(out[rb, e], b0, x0, b1, x1, b2, x2, b3, x3)
            _finish_row(out, ra, finish, aux, aux_a, factor, zero)
            _finish_row(out, rb, finish, aux, aux_b, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                x2 = src[i2, e]
                x3 = src[i3, e]
                u = _sum4(bias_a, a0, x0, a1, x1, a2, x2, a3, x3)
                v = _sum4(bias_b, b0, x0, b1, x1, b2, x2, b3, x3)
                out[ra, e] = (zero if u < zero else u) * aux[aux_a, e]
                out[rb, e] = (zero if v < zero else v) * aux[aux_b, e]
        elif finish == _GATED:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                x2 = src[i2, e]
                x3 = src[i3, e]
                u = _sum4(bias_a, a0, x0, a1, x1, a2, x2, a3, x3)
                v = _sum4(bias_b, b0, x0, b1, x1, b2, x2, b3, x3)
                out[ra, e] = u * factor if aux[aux_a, e] > zero else zero
                out[rb, e] = v * factor if aux[aux_b, e] > zero else zero
        elif finish == _RELU:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                x2 = src[i2, e]
                x3 = src[i3, e]
                u = _sum4(bias_a, a0, x0, a1, x1, a2, x2, a3, x3)
                v = _sum4(bias_b, b0, x0, b1, x1, b2, x2, b3, x3)
                out[ra, e] = zero if u < zero else u
                out[rb, e] = zero if v < zero else v
        else:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                x2 = src[i2, e]
                x3 = src[i3, e]
                out[ra, e] = _sum4(bias_a, a0, x0, a1, x1, a2, x2, a3, x3)
                out[rb, e] = _sum4(bias_b, b0, x0, b1, x1, b2, x2, b3, x3)
    elif count == 2:
        if not init:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                out[ra, e] = _fma(a1, x1, _fma(a0, x0, out[ra, e]))
                out[rb, e] = _fma(b1, x1, _fma(b0, x0, out[rb, e]))
            _finish_row(out, ra, finish, aux, aux_a, factor, zero)
            _finish_row(out, rb, finish, aux, aux_b, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                u = _fma(a1, x1, _fma(a0, x0, bias_a))
                v = _fma(b1, x1, _fma(b0, x0, bias_b))
                out[ra, e] = (zero if u < zero else u) * aux[aux_a, e]
                out[rb, e] = (zero if v < zero else v) * aux[aux_b, e]
        elif finish == _GATED:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                u = _fma(a1, x1, _fma(a0, x0, bias_a))
                v = _fma(b1, x1, _fma(b0, x0, bias_b))
                out[ra, e] = u * factor if aux[aux_a, e] > zero else zero
                out[rb, e] = v * factor if aux[aux_b, e] > zero else zero
        elif finish == _RELU:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                u = _fma(a1, x1, _fma(a0, x0, bias_a))
                v = _fma(b1, x1, _fma(b0, x0, bias_b))
                out[ra, e] = zero if u < zero else u
                out[rb, e] = zero if v < zero else v
        else:
            for e in range(mp):
                x0 = src[i0, e]
                x1 = src[i1, e]
                out[ra, e] = _fma(a1, x1, _fma(a0, x0, bias_a))
                out[rb, e] = _fma(b1, x1, _fma(b0, x0, bias_b))
    else:
        if not init:
            for e in range(mp):
                x0 = src[i0, e]
                out[ra, e] = _fma(a0, x0, out[ra, e])
                out[rb, e] = _fma(b0, x0, out[rb, e])
            _finish_row(out, ra, finish, aux, aux_a, factor, zero)
            _finish_row(out, rb, finish, aux, aux_b, factor, zero)
        elif finish == _RELU_SCALED:
            for e in range(mp):
                x0 = src[i0, e]
                u = _fma(a0, x0, bias_a)
                v = _fma(b0, x0, bias_b)
                out[ra, e] = (zero if u < zero else u) * aux[aux_a, e]
                out[rb, e] = (zero if v < zero else v) * aux[aux_b, e]
        elif finish == _GATED:
            for e in range(mp):
                x0 = src[i0, e]
                u = _fma(a0, x0, bias_a)
                v = _fma(b0, x0, bias_b)
                out[ra, e] = u * factor if aux[aux_a, e] > zero else zero
                out[rb, e] = v * factor if aux[aux_b, e] > zero else zero
        elif finish == _RELU:
            for e in range(mp):
                x0 = src[i0, e]
                u = _fma(a0, x0, bias_a)
                v = _fma(b0, x0, bias_b)
                out[ra, e] = zero if u < zero else u
                out[rb, e] = zero if v < zero else v
        else:
            for e in range(mp):
                x0 = src[i0, e]
                out[ra, e] = _fma(a0, x0, bias_a)
                out[rb, e] = _fma(b0, x0, bias_b)


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _product_rows2(out, ra, src, first, n_rows, th, wa, wb, w_stride, bias_a, bias_b, finish, aux, aux_a, aux_b,
                   factor, zero):
    """``_product_row`` for the two rows ra and ra + 1 of out (weights from th[wa] and th[wb]) in shared passes."""
    rb = ra + 1
    c = 0
    while c < n_rows:
        left = n_rows - c
        count = 4 if left >= 3 else left
        i0 = first + c
        qa = wa + c * w_stride
        qb = wb + c * w_stride
        a0 = th[qa]
        b0 = th[qb]
        a1 = th[qa + w_stride] if count > 1 else zero
        b1 = th[qb + w_stride] if count > 1 else zero
        a2 = th[qa + 2 * w_stride] if count > 2 else zero
        b2 = th[qb + 2 * w_stride] if count > 2 else zero
        a3 = th[qa + 3 * w_stride] if left >= 4 else zero
        b3 = th[qb + 3 * w_stride] if left >= 4 else zero
        i3 = i0 + 3 if left >= 4 else i0 + 2
        done = c + min(left, 4) >= n_rows
        _pass2(out, ra, rb, src, i0, i0 + 1, i0 + 2, i3, count, a0, a1, a2, a3, b0, b1, b2, b3, c == 0, bias_a,
               bias_b, finish if done else _STORE, aux, aux_a, aux_b, factor, zero)
        c += min(left, 4)


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _product_row(out, row, src, first, n_rows, th, w_start, w_stride, bias, finish, aux, aux_row, factor, zero):
    """out[row] = finish(bias + sum_{c < n_rows} th[w_start + c * w_stride] * src[first + c]): passes of 4, 2, 1 rows.

    Three remaining rows take the four-row pass, their last row a second time with weight zero
    (adding w * a + 0 * a is adding w * a: one pass instead of two). Only the last pass finishes;
    when there are several, the first writes and the others add.
    """
    c = 0
    while c < n_rows:
        left = n_rows - c
        count = 4 if left >= 3 else left
        i0 = first + c
        q = w_start + c * w_stride
        w0 = th[q]
        w1 = th[q + w_stride] if count > 1 else zero
        w2 = th[q + 2 * w_stride] if count > 2 else zero
        w3 = th[q + 3 * w_stride] if left >= 4 else zero
        i3 = i0 + 3 if left >= 4 else i0 + 2
        done = c + min(left, 4) >= n_rows
        _pass(out, row, src, i0, i0 + 1, i0 + 2, i3, count, w0, w1, w2, w3, c == 0, bias, finish if done else _STORE,
              aux, aux_row, factor, zero)
        c += min(left, 4)


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _dots(dz, j, acts, i0, i1, i2, i3, count, with_total, zero):
    """(sum dz[j] acts[i0], ..., sum dz[j] acts[i3], sum dz[j]) over the examples, in one pass.

    count = 4 (rows i0..i3), 2 (i0, i1) or 1 (i0); unused sums are zero; the total only
    ``with_total`` (else zero). Branches outside the loops.
    """
    mp = dz.shape[1]
    s0 = zero
    s1 = zero
    s2 = zero
    s3 = zero
    t = zero
    if count == 4:
        if with_total:
            for e in range(mp):
                d = dz[j, e]
                t += d
                s0 = _fmuladd(d, acts[i0, e], s0)
                s1 = _fmuladd(d, acts[i1, e], s1)
                s2 = _fmuladd(d, acts[i2, e], s2)
                s3 = _fmuladd(d, acts[i3, e], s3)
        else:
            for e in range(mp):
                d = dz[j, e]
                s0 = _fmuladd(d, acts[i0, e], s0)
                s1 = _fmuladd(d, acts[i1, e], s1)
                s2 = _fmuladd(d, acts[i2, e], s2)
                s3 = _fmuladd(d, acts[i3, e], s3)
    elif count == 2:
        if with_total:
            for e in range(mp):
                d = dz[j, e]
                t += d
                s0 = _fmuladd(d, acts[i0, e], s0)
                s1 = _fmuladd(d, acts[i1, e], s1)
        else:
            for e in range(mp):
                d = dz[j, e]
                s0 = _fmuladd(d, acts[i0, e], s0)
                s1 = _fmuladd(d, acts[i1, e], s1)
    elif with_total:
        for e in range(mp):
            d = dz[j, e]
            t += d
            s0 = _fmuladd(d, acts[i0, e], s0)
    else:
        for e in range(mp):
            s0 = _fmuladd(dz[j, e], acts[i0, e], s0)
    return s0, s1, s2, s3, t


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _dots2(dz, ja, jb, acts, i0, i1, i2, i3, count, with_total, zero):
    """``_dots`` for the two rows ja, jb of dz at once (each loaded row of acts serves both):
    (a0, a1, a2, a3, b0, b1, b2, b3, total_a, total_b)."""
    mp = dz.shape[1]
    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = ta = tb = zero
    if count == 4:
        if with_total:
            for e in range(mp):
                d = dz[ja, e]
                f = dz[jb, e]
                x0 = acts[i0, e]
                x1 = acts[i1, e]
                x2 = acts[i2, e]
                x3 = acts[i3, e]
                ta += d
                tb += f
                a0 = _fmuladd(d, x0, a0)
                a1 = _fmuladd(d, x1, a1)
                a2 = _fmuladd(d, x2, a2)
                a3 = _fmuladd(d, x3, a3)
                b0 = _fmuladd(f, x0, b0)
                b1 = _fmuladd(f, x1, b1)
                b2 = _fmuladd(f, x2, b2)
                b3 = _fmuladd(f, x3, b3)
        else:
            for e in range(mp):
                d = dz[ja, e]
                f = dz[jb, e]
                x0 = acts[i0, e]
                x1 = acts[i1, e]
                x2 = acts[i2, e]
                x3 = acts[i3, e]
                a0 = _fmuladd(d, x0, a0)
                a1 = _fmuladd(d, x1, a1)
                a2 = _fmuladd(d, x2, a2)
                a3 = _fmuladd(d, x3, a3)
                b0 = _fmuladd(f, x0, b0)
                b1 = _fmuladd(f, x1, b1)
                b2 = _fmuladd(f, x2, b2)
                b3 = _fmuladd(f, x3, b3)
    elif count == 2:
        if with_total:
            for e in range(mp):
                d = dz[ja, e]
                f = dz[jb, e]
                x0 = acts[i0, e]
                x1 = acts[i1, e]
                ta += d
                tb += f
                a0 = _fmuladd(d, x0, a0)
                a1 = _fmuladd(d, x1, a1)
                b0 = _fmuladd(f, x0, b0)
                b1 = _fmuladd(f, x1, b1)
        else:
            for e in range(mp):
                d = dz[ja, e]
                f = dz[jb, e]
                x0 = acts[i0, e]
                x1 = acts[i1, e]
                a0 = _fmuladd(d, x0, a0)
                a1 = _fmuladd(d, x1, a1)
                b0 = _fmuladd(f, x0, b0)
                b1 = _fmuladd(f, x1, b1)
    elif with_total:
        for e in range(mp):
            d = dz[ja, e]
            f = dz[jb, e]
            x0 = acts[i0, e]
            ta += d
            tb += f
            a0 = _fmuladd(d, x0, a0)
            b0 = _fmuladd(f, x0, b0)
    else:
        for e in range(mp):
            x0 = acts[i0, e]
            a0 = _fmuladd(dz[ja, e], x0, a0)
            b0 = _fmuladd(dz[jb, e], x0, b0)
    return a0, a1, a2, a3, b0, b1, b2, b3, ta, tb


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _gated_dots2(part, ra, rb, dz, i0, i1, i2, i3, a0, a1, a2, a3, b0, b1, b2, b3, init, acts, ga, gb, factor,
                 x0, x1, zero):
    """dZ of two units of the lowest hidden layer, summed into their dW and db without being stored.

    g_a = ((0 if init else part[ra]) + a0 dz[i0] + ... + a3 dz[i3]) * factor where acts[ga] > 0, else 0
    (likewise g_b); returns (sum g_a X0, sum g_a X1, sum g_a, sum g_b X0, sum g_b X1, sum g_b) with the
    input rows X0 = acts[x0], X1 = acts[x1] (x1 = x0 for one input: its sums are then unused).
    """
    mp = dz.shape[1]
    sa0 = sa1 = ta = sb0 = sb1 = tb = zero
    if init:
        for e in range(mp):
            d0 = dz[i0, e]
            d1 = dz[i1, e]
            d2 = dz[i2, e]
            d3 = dz[i3, e]
            u = _sum4(zero, a0, d0, a1, d1, a2, d2, a3, d3)
            v = _sum4(zero, b0, d0, b1, d1, b2, d2, b3, d3)
            g = u * factor if acts[ga, e] > zero else zero
            h = v * factor if acts[gb, e] > zero else zero
            y0 = acts[x0, e]
            y1 = acts[x1, e]
            ta += g
            sa0 = _fmuladd(g, y0, sa0)
            sa1 = _fmuladd(g, y1, sa1)
            tb += h
            sb0 = _fmuladd(h, y0, sb0)
            sb1 = _fmuladd(h, y1, sb1)
    else:
        for e in range(mp):
            d0 = dz[i0, e]
            d1 = dz[i1, e]
            d2 = dz[i2, e]
            d3 = dz[i3, e]
            u = _sum4(part[ra, e], a0, d0, a1, d1, a2, d2, a3, d3)
            v = _sum4(part[rb, e], b0, d0, b1, d1, b2, d2, b3, d3)
            g = u * factor if acts[ga, e] > zero else zero
            h = v * factor if acts[gb, e] > zero else zero
            y0 = acts[x0, e]
            y1 = acts[x1, e]
            ta += g
            sa0 = _fmuladd(g, y0, sa0)
            sa1 = _fmuladd(g, y1, sa1)
            tb += h
            sb0 = _fmuladd(h, y0, sb0)
            sb1 = _fmuladd(h, y1, sb1)
    return sa0, sa1, ta, sb0, sb1, tb


@njit(cache=True, error_model="numpy", fastmath=_FASTMATH, inline="always")
def _lowest_layer_step(th, dz, part, acts, n_dz, w2, n_units, w1, bias1, n_inputs, factor, inv_m, l2_m, l1_m, rate,
                       shrink, constrained, limit, zero):
    """The gradient step of the lowest hidden layer's weights W1 (n_units x n_inputs, n_inputs <= 2) and b1.

    Its dZ = (W2.T dz) * factor where A1 > 0 (W2 from th[w2], n_dz x n_units; dz its n_dz rows) goes
    straight into dW1 = dZ X.T / m and db1 = sum(dZ) / m (b1 at th[bias1]), two units per pass, never
    stored: the passes over dz but the last add into ``part`` (rows of scratch), the last sums. An
    odd last unit is paired with itself (its twin's sums are dropped).
    """
    for k in range(0, n_units, 2):
        kb = k + 1 if k + 1 < n_units else k
        c = 0
        while n_dz - c > 4:  # not the last pass: partial sums into part (rows k, k + 1)
            qa = w2 + c * n_units + k
            qb = w2 + c * n_units + kb
            _pass2(part, k, k + 1, dz, c, c + 1, c + 2, c + 3, 4, th[qa], th[qa + n_units], th[qa + 2 * n_units],
                   th[qa + 3 * n_units], th[qb], th[qb + n_units], th[qb + 2 * n_units], th[qb + 3 * n_units],
                   c == 0, zero, zero, _STORE, acts, 0, 0, factor, zero)
            c += 4
        # the last pass: up to four dz rows (missing ones read row c again with weight zero)
        left = n_dz - c
        qa = w2 + c * n_units + k
        qb = w2 + c * n_units + kb
        a1 = th[qa + n_units] if left > 1 else zero
        b1 = th[qb + n_units] if left > 1 else zero
        a2 = th[qa + 2 * n_units] if left > 2 else zero
        b2 = th[qb + 2 * n_units] if left > 2 else zero
        a3 = th[qa + 3 * n_units] if left > 3 else zero
        b3 = th[qb + 3 * n_units] if left > 3 else zero
        sa0, sa1, ta, sb0, sb1, tb = _gated_dots2(
            part, k, k + 1, dz, c, c + 1 if left > 1 else c, c + 2 if left > 2 else c, c + 3 if left > 3 else c,
            th[qa], a1, a2, a3, th[qb], b1, b2, b3, c == 0, acts, n_inputs + k, n_inputs + kb, factor,
            0, 1 if n_inputs > 1 else 0, zero,
        )
        for u in range(2 if kb > k else 1):
            row = k + u
            s0, s1, t = (sb0, sb1, tb) if u else (sa0, sa1, ta)
            _descend_run(th, w1 + row * n_inputs, n_inputs, s0, s1, zero, zero, inv_m, l2_m, l1_m, rate, shrink)
            if constrained:
                _project_row(th, w1 + row * n_inputs, n_inputs, limit)
            th[bias1 + row] = th[bias1 + row] - rate * (inv_m * t)


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
    p = _fma(p, r, 1.0 / 479001600.0)
    p = _fma(p, r, 1.0 / 39916800.0)
    p = _fma(p, r, 1.0 / 3628800.0)
    p = _fma(p, r, 1.0 / 362880.0)
    p = _fma(p, r, 1.0 / 40320.0)
    p = _fma(p, r, 1.0 / 5040.0)
    p = _fma(p, r, 1.0 / 720.0)
    p = _fma(p, r, 1.0 / 120.0)
    p = _fma(p, r, 1.0 / 24.0)
    p = _fma(p, r, 1.0 / 6.0)
    p = _fma(p, r, 0.5)
    p = _fma(p, r, 1.0)
    p = _fma(p, r, 1.0)
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
def _descend_run(th, q, n, s0, s1, s2, s3, inv_m, l2_m, l1_m, rate, shrink):
    """``_descend`` for the n (1 to 4) weights th[q : q + n] with the dot products s0 ... s3."""
    th[q] = _descend(th[q], s0, inv_m, l2_m, l1_m, rate, shrink)
    if n > 1:
        th[q + 1] = _descend(th[q + 1], s1, inv_m, l2_m, l1_m, rate, shrink)
    if n > 2:
        th[q + 2] = _descend(th[q + 2], s2, inv_m, l2_m, l1_m, rate, shrink)
    if n > 3:
        th[q + 3] = _descend(th[q + 3], s3, inv_m, l2_m, l1_m, rate, shrink)


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
    dz = np.empty((max_units + 1, mp), dtype=work)  # gradient w.r.t. the current layer's Z (+ a scratch row)
    dz_next = np.empty((max_units + 1, mp), dtype=work)  # ... and the layer below's
    n_hidden = row_off[n_layers] - n_inputs  # S
    seed_low = np.empty(n_hidden, dtype=np.uint32)  # fresh masks: row seeds of this iteration
    seed_high = np.empty(n_hidden, dtype=np.uint32)
    # Dropout scales (1 / keep_prob or 0) of the hidden units: the course's, fixed, for all rows;
    # fresh ones two rows at a time, just before the two units' pass.
    scale = np.ones((n_hidden if mask_mode == COURSE_MASKS else 2, mp), dtype=work)  # ones: no dropout
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
            finish = (_RELU_SCALED if mask_mode != NO_MASKS else _RELU) if hidden else _STORE
            j = 0
            while j < n_out:  # two units per pass where there are two (one read of A_prev for both)
                both = j + 1 < n_out
                r_out = row_off[layer + 1] + j
                r = r_out - n_inputs  # hidden unit number
                sa, sb = (r, r + 1) if mask_mode == COURSE_MASKS else (0, 1)  # their rows of scale
                if hidden and mask_mode == FRESH_MASKS:
                    threshold = thresholds[model, layer]
                    kp_inv = keep_inv[model, layer]
                    for u in range(2 if both else 1):
                        low = seed_low[r + u]
                        high = seed_high[r + u]
                        for e in range(mp):
                            scale[u, e] = kp_inv if _kept(low, high, e, threshold) else zero
                wa = wo + j * n_in
                if both:
                    _product_rows2(acts, r_out, acts, src, n_in, th, wa, wa + n_in, 1, th[bo + j], th[bo + j + 1],
                                   finish, scale, sa, sb, one, zero)
                else:
                    _product_row(acts, r_out, acts, src, n_in, th, wa, 1, th[bo + j], finish, scale, sa, one, zero)
                j += 2 if both else 1
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
            fused = layer == 1 and n_inputs <= 2
            if layer > 0:
                # dZ_below = (W.T @ dZ) / keep_prob where A_below > 0, else 0; W before its update.
                # (A_below > 0 only where ReLU passed and dropout kept the unit.)
                kp_inv = keep_inv[model, layer - 1] if mask_mode != NO_MASKS else one
            if fused:  # the lowest hidden layer's dZ goes straight into its step (W1 is not needed any more)
                _lowest_layer_step(th, dz, dz_next, acts, n_out, wo, n_in, w_off[0], w_off[0] + n_in * n_inputs,
                                   n_inputs, kp_inv, inv_m, l2_m[model], l1_m[model], rate, decay, constrained, limit,
                                   zero)
            elif layer > 0:
                k = 0
                while k + 1 < n_in:  # two rows of dZ_below per pass
                    _product_rows2(dz_next, k, dz, 0, n_out, th, wo + k, wo + k + 1, n_in, zero, zero, _GATED, acts,
                                   src + k, src + k + 1, kp_inv, zero)
                    k += 2
                if k < n_in:
                    _product_row(dz_next, k, dz, 0, n_out, th, wo + k, n_in, zero, _GATED, acts, src + k, kp_inv, zero)
            # dW = dZ @ A_prev.T / m (+ penalties), db = sum(dZ) / m; then the update.
            l2 = l2_m[model]
            l1 = l1_m[model]
            j = 0
            while j < n_out:  # two units' rows per pass where there are two
                both = j + 1 < n_out
                total_a = total_b = zero
                k = 0
                while k < n_in:  # up to four weights per pass over the examples (three as four, see _product_row)
                    left = n_in - k
                    count = 4 if left >= 3 else left
                    i3 = src + (k + 3 if left >= 4 else k + 2)
                    qa = wo + j * n_in + k
                    if both:
                        a0, a1, a2, a3, b0, b1, b2, b3, ta, tb = _dots2(
                            dz, j, j + 1, acts, src + k, src + k + 1, src + k + 2, i3, count, k == 0, zero
                        )
                        _descend_run(th, qa + n_in, min(left, 4), b0, b1, b2, b3, inv_m, l2, l1, rate, decay)
                    else:
                        a0, a1, a2, a3, ta = _dots(dz, j, acts, src + k, src + k + 1, src + k + 2, i3, count, k == 0, zero)
                        tb = zero
                    _descend_run(th, qa, min(left, 4), a0, a1, a2, a3, inv_m, l2, l1, rate, decay)
                    if k == 0:
                        total_a = ta
                        total_b = tb
                    k += min(left, 4)
                for u in range(2 if both else 1):  # each row's update is complete: project it, then the bias
                    if constrained:
                        _project_row(th, wo + (j + u) * n_in, n_in, limit)
                    th[bo + j + u] = th[bo + j + u] - rate * (inv_m * (total_b if u else total_a))
                j += 2 if both else 1
            if fused:
                break
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
