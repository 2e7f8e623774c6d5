"""The compiled training loop: M networks at once, fused and compiled with numba.

``train_loop_compiled`` takes the same arguments as the reference ``loop.train_loop`` and
returns the same things; the reference stays the definition of correct and the two agree to
rounding (about 1e-12 relative after 1000 iterations in float64). Differences are only in the
order of floating-point sums (the compiled loop vectorises them; NumPy's BLAS has its own order).

How it runs: the parameters of each model live in one flat row (``theta``, (M, P)); one compiled
call (``_fused``) runs every model for all the iterations up to the next record point, in parallel
over the model axis (numba ``prange`` on the machine's cores), and returns to Python only to record
the cost and report progress. Compiled code is cached on disk: the first process after an install
compiles it (a few seconds), the others load it.

Decoupled weight decay and the max-norm projection (``constraints``) act inside the
compiled update, per model; a model without them takes the plain update. With a ``watch``
(early stopping, a live view), each record point first computes the cost alone, calls the watch with
the current parameters, and only then takes that iteration's step, as ``loop.train_loop`` does.

Dropout masks are the reference's own, bit for bit:

- course masks (``masks.CourseMasks``): the course's fixed uniforms from ``masks.course_draws``,
  computed once and shared by all models;
- fresh masks (``masks.FreshMasks``): the counter-based hash of ``masks.fresh_hashes``, from each
  model's key and the iteration number, computed inside the compiled loop (no draws in NumPy,
  no buffers of uniforms). The source's iteration counter is advanced as the reference loop's
  calls would advance it.

numba is imported on first use only, so ``import reglab`` stays fast.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_int
from .loop import History, Hyper, Progress, Watch, check_finite, recorded_iterations
from .masks import CourseMasks, FreshMasks, course_draws
from .params import Params

__all__ = ["train_loop_compiled", "prepare", "cache_misses", "pack", "unpack"]


def _fused():
    """The numba module, imported (and its functions compiled or loaded from cache) on first use."""
    from . import _fused as module

    return module


def _layout(layer_sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sizes (L+1,), weight offsets (L,), activation row offsets (L+2,)) of the flat layout.

    Activation rows: the inputs X in rows 0 : n_0, then layer l's outputs in rows
    row_off[l] : row_off[l + 1] for l = 1 .. L.
    """
    sizes = np.asarray(layer_sizes, dtype=np.int64)
    w_off = np.zeros(len(sizes) - 1, dtype=np.int64)
    position = 0
    for layer in range(len(sizes) - 1):
        w_off[layer] = position
        position += sizes[layer + 1] * sizes[layer] + sizes[layer + 1]
    row_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return sizes, w_off, row_off


def pack(params: Params) -> np.ndarray:
    """All parameters of each model in one row, (M, P): W_1 (row-major), b_1, ..., W_L, b_L."""
    rows = []
    for W, b in zip(params.weights, params.biases):
        rows.append(W.reshape(W.shape[0], -1))
        rows.append(b.reshape(b.shape[0], -1))
    return np.ascontiguousarray(np.concatenate(rows, axis=1), dtype=np.float64)


def unpack(theta: np.ndarray, layer_sizes: tuple[int, ...]) -> Params:
    """Inverse of ``pack``: ``Params`` from rows (M, P) (copies)."""
    n_models = theta.shape[0]
    weights, biases = [], []
    position = 0
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        W = theta[:, position : position + n_out * n_in].reshape(n_models, n_out, n_in)
        position += n_out * n_in
        b = theta[:, position : position + n_out].reshape(n_models, n_out, 1)
        position += n_out
        weights.append(W.copy())
        biases.append(b.copy())
    return Params(tuple(weights), tuple(biases))


def _padded(rows: np.ndarray, width: int) -> np.ndarray:
    """rows (n, m) copied into zeros (n, width), width >= m."""
    out = np.zeros((rows.shape[0], width))
    out[:, : rows.shape[1]] = rows
    return out


def train_loop_compiled(
    X: np.ndarray,
    Y: np.ndarray,
    params: Params,
    hyper: Hyper,
    mask_source: CourseMasks | FreshMasks | None = None,
    n_iterations: int = 30000,
    record_every: int = 100,
    progress: Progress | None = None,
    watch: Watch | None = None,
    parallel: bool = True,
) -> tuple[Params, History]:
    """Full-batch gradient descent for M networks at once, compiled; same results as ``train_loop``.

    Parameters
    ----------
    X : ndarray of shape (n_0, m)
        Training inputs shared by all models, the course's (features x examples) layout.
    Y : ndarray of shape (1, m)
        Labels in {0, 1}.
    params : Params
        Initial parameters of M networks of any depth (not modified).
    hyper : Hyper
        Per-model learning rate (M,), l2 (M,), l1 (M,), keep_prob (M, H), and optionally
        weight_decay (M,) and max_norm (M,) (inf: no constraint), applied after each step as
        ``reglab.constraints`` defines them (weights only).
    mask_source : CourseMasks, FreshMasks or None
        Where dropout masks come from, exactly as for ``train_loop``; None trains without dropout.
        The thresholds are ``hyper.keep_prob``. A ``FreshMasks``' iteration counter is advanced
        by ``n_iterations``, as that many calls of the reference loop would advance it.
    n_iterations : int
        Gradient-descent iterations, >= 1.
    record_every : int
        The cost (before the update) is recorded at iterations 0, record_every, ... and the last.
    progress : callable, optional
        ``progress(i + 1, n_iterations)`` at every record point.
    watch : callable, optional
        ``watch(i, params, cost)`` at every record point, after ``progress``, with the parameters of
        iteration i (before its update) as ``Params`` and the cost (M,) (e.g.
        ``early_stopping.EarlyStopping``). True ends training there, without that iteration's update;
        the history then ends at iteration i. As in ``train_loop``.
    parallel : bool
        Share the models of a batch out over the CPU cores (numba's thread count); one model
        always runs on one thread.

    Returns
    -------
    params : Params
        Trained parameters, float64, weights[l] (M, n_{l+1}, n_l), biases[l] (M, n_{l+1}, 1).
    history : History
        Recorded iterations (T,) and costs (M, T).

    Raises
    ------
    TrainingDivergedError
        When a model's cost becomes NaN or infinite (the message names its learning rate).
    """
    n_iterations = check_int("n_iterations", n_iterations, low=1)
    record_every = check_int("record_every", record_every, low=1)
    if mask_source is not None and not isinstance(mask_source, (CourseMasks, FreshMasks)):
        raise TypeError(
            "mask_source must be None, a reglab.masks.CourseMasks or a reglab.masks.FreshMasks "
            f"for the compiled engine; got {type(mask_source).__name__} (use engine 'reference')"
        )
    fused = _fused()
    layer_sizes = params.layer_sizes
    n_models = params.n_models
    m = X.shape[-1]
    width = -(-m // fused.PAD) * fused.PAD  # examples padded to whole vector registers
    sizes, w_off, row_off = _layout(layer_sizes)
    theta = pack(params)  # (M, P)
    X_padded = _padded(np.asarray(X, dtype=np.float64), width)  # (n_0, mp)
    Y_padded = _padded(np.reshape(Y, (1, -1)), width)[0]  # (mp,)
    valid = _padded(np.ones((1, m)), width)[0]  # (mp,): 1 for examples, 0 for padding
    l2 = np.asarray(hyper.l2, dtype=np.float64)
    l1 = np.asarray(hyper.l1, dtype=np.float64)
    weight_decay = np.zeros(n_models) if hyper.weight_decay is None else np.asarray(hyper.weight_decay, dtype=float)
    max_norm = np.full(n_models, np.inf) if hyper.max_norm is None else np.asarray(hyper.max_norm, dtype=float)
    rates = (
        np.asarray(hyper.learning_rate, dtype=np.float64),
        l2 / m,  # the reference's l2/m, then times W
        l1 / m,
        1 - weight_decay,  # the reference's (1 - weight_decay) * W
        np.ascontiguousarray(max_norm, dtype=np.float64),
    )
    keep = np.ascontiguousarray(np.reshape(hyper.keep_prob, (n_models, -1)), dtype=np.float64)
    keep_inv = 1.0 / keep  # inverted dropout scales by 1 / keep_prob
    # Fresh masks keep a unit where its hash h < keep * 2**32, i.e. h <= ceil(keep * 2**32) - 1.
    thresholds = (np.ceil(keep * 2.0**32) - 1).astype(np.uint32)  # (M, H)
    cost_scales = (l2 / (2 * m), l1 / m)  # float64, as penalties.l2_cost / l1_cost

    recorded_at = recorded_iterations(n_iterations, record_every)
    keys = np.zeros(n_models, dtype=np.uint64)
    draws = np.zeros((0, width))
    first_iteration = 0
    if mask_source is None:
        mode = fused.NO_MASKS
    elif isinstance(mask_source, CourseMasks):
        mode = fused.COURSE_MASKS
        hidden_shapes = [(int(n), m) for n in layer_sizes[1:-1]]
        draws = _padded(np.concatenate(course_draws(hidden_shapes), axis=0), width)  # (S, mp)
    else:
        mode = fused.FRESH_MASKS
        keys = mask_source.keys
        if keys.shape[0] != n_models:
            raise ValueError(f"mask_source must hold one key per model ({n_models}); got {keys.shape[0]}")
        first_iteration = mask_source.iteration
    # One model has nothing to share out, and a parallel region waits for a free core at every call (measured:
    # about 8 ms per record point when another program holds a core, 10x the training between two).
    segment = fused.train_segment if n_models > 1 and parallel else fused.train_segment_serial

    def run(start: int, n_steps: int, want_cost: bool, update: bool) -> None:
        segment(
            X_padded, Y_padded, valid, m, theta, sizes, w_off, row_off, *rates, keep, keep_inv, thresholds,
            keys, mode, draws, first_iteration + start, n_steps, want_cost, update, *cost_scales, cost,
        )

    costs = np.empty((n_models, len(recorded_at)))
    cost = np.empty(n_models)
    n_recorded = 0
    for start, stop in zip(recorded_at, recorded_at[1:] + [n_iterations]):
        if watch is None:  # the cost comes with the first step of the segment
            run(start, stop - start, True, True)
        else:  # the watch may stop training before this iteration's update: the cost alone first
            run(start, 1, True, False)
        costs[:, n_recorded] = cost
        n_recorded += 1
        check_finite(cost, start, hyper, start_cost=costs[:, 0])
        if progress is not None:
            progress(start + 1, n_iterations)
        if watch is not None:
            if watch(start, unpack(theta, layer_sizes), cost.copy()):
                _advance(mask_source, 1)  # the reference loop draws this iteration's masks before stopping
                break
            run(start, stop - start, False, True)
        _advance(mask_source, stop - start)  # as stop - start calls of the reference loop would
    finite = np.isfinite(theta).all(axis=1)  # (M,)
    check_finite(np.where(finite, 0.0, np.nan), n_iterations, hyper)
    history = History(np.array(recorded_at[:n_recorded]), costs[:, :n_recorded])  # shorter when stopped early
    return unpack(theta, layer_sizes), history


def _advance(mask_source, n_iterations: int) -> None:
    """Move a ``FreshMasks``' counter on by ``n_iterations`` (other sources have no counter)."""
    if isinstance(mask_source, FreshMasks):
        mask_source.advance(n_iterations)


def prepare() -> float:
    """Load the compiled code (compiling it first, once after installation); return the seconds it took.

    Training calls it anyway on first use; calling it first keeps that time out of a training time,
    and lets a caller say that the engine is being compiled (``cache_misses`` grows).
    """
    import time

    from .params import init_fresh

    start = time.perf_counter()
    X, Y = np.zeros((2, 4)), np.array([[0.0, 1.0, 0.0, 1.0]])
    for n_models in (1, 2):  # the serial and the parallel entry
        params = init_fresh((2, 2, 1), [np.random.default_rng(k) for k in range(n_models)])
        hyper = Hyper(np.full(n_models, 0.1), np.zeros(n_models), np.zeros(n_models), np.ones((n_models, 1)))
        train_loop_compiled(X, Y, params, hyper, None, n_iterations=1)
    return time.perf_counter() - start


def cache_misses() -> int:
    """How many times this process compiled the engine's entries (numba's cache missed) instead of loading them."""
    fused = _fused()
    return sum(sum(entry.stats.cache_misses.values()) for entry in (fused.train_segment, fused.train_segment_serial))
