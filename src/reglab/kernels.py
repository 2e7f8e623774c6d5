"""The compiled training loop: M networks at once, fused and compiled with numba.

``train_loop_compiled`` takes the same arguments as the reference ``train.train_loop`` and
returns the same things; the reference stays the definition of correct and the two agree to
rounding (about 1e-12 relative after 1000 iterations in float64). Differences are only in the
order of floating-point sums (the compiled loop vectorises them; NumPy's BLAS has its own order).

How it runs: the parameters of each model live in one flat row (``theta``, (M, P)); one compiled
call runs every model for all the iterations up to the next record point, in parallel over the
model axis (numba ``prange`` on the machine's cores), and returns to Python only to record the
cost and report progress. Compiled code is cached on disk, so only the first process compiles.

Dropout masks are the reference's own, bit for bit:

- course masks (``masks.CourseMasks``): the course's fixed uniforms from ``masks.course_draws``,
  computed once and shared by all models;
- fresh masks (``masks.FreshMasks``): each model's ``Generator`` fills, in NumPy, the uniforms of
  a chunk of iterations at once. ``rng.random((k, S, m))`` yields exactly the numbers that ``k``
  iterations of ``rng.random((n_l, m))`` per hidden layer would, in the same order, and leaves
  the generator in the same state.

numba is imported on first use only, so ``import reglab`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .masks import CourseMasks, FreshMasks, course_draws
from .model import History
from .params import Params
from .train import Hyper, Progress, _check_finite
from .validation import check_choice, check_int

__all__ = ["train_loop_compiled", "DTYPES", "pack", "unpack"]

#: Working precisions of the compiled loop.
DTYPES = ("float64", "float32")

# Fresh masks are drawn in chunks of iterations whose uniforms take at most this many bytes
# (two such buffers alternate); fewer, longer compiled calls matter for wide batches.
_CHUNK_BYTES = 64 * 2**20


def _fused():
    """The numba module, imported (and its functions compiled or loaded from cache) on first use."""
    from . import _fused as module

    return module


def _layout(layer_sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(sizes (L+1,), weight offsets (L,), activation row offsets (L+1,), P) of the flat layout."""
    sizes = np.asarray(layer_sizes, dtype=np.int64)
    w_off = np.zeros(len(sizes) - 1, dtype=np.int64)
    position = 0
    for layer in range(len(sizes) - 1):
        w_off[layer] = position
        position += sizes[layer + 1] * sizes[layer] + sizes[layer + 1]
    row_off = np.concatenate([[0], np.cumsum(sizes[1:])]).astype(np.int64)
    return sizes, w_off, row_off, int(position)


def pack(params: Params, dtype=np.float64) -> np.ndarray:
    """All parameters of each model in one row, (M, P): W_1 (row-major), b_1, ..., W_L, b_L."""
    rows = []
    for W, b in zip(params.weights, params.biases):
        rows.append(W.reshape(W.shape[0], -1))
        rows.append(b.reshape(b.shape[0], -1))
    return np.ascontiguousarray(np.concatenate(rows, axis=1), dtype=dtype)


def unpack(theta: np.ndarray, layer_sizes: tuple[int, ...]) -> Params:
    """Inverse of ``pack``: float64 ``Params`` from rows (M, P)."""
    n_models = theta.shape[0]
    weights, biases = [], []
    position = 0
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        W = theta[:, position : position + n_out * n_in].reshape(n_models, n_out, n_in)
        position += n_out * n_in
        b = theta[:, position : position + n_out].reshape(n_models, n_out, 1)
        position += n_out
        weights.append(W.astype(np.float64))
        biases.append(b.astype(np.float64))
    return Params(tuple(weights), tuple(biases))


class _FreshDraws:
    """The uniforms of fresh masks, chunk after chunk, drawn one chunk ahead.

    Each model's ``Generator`` fills its part of a (M, K, S, m) buffer with ``random(out=...)``.
    NumPy releases the GIL while it fills, so the next chunk is drawn on worker threads while
    the compiled loop (which releases the GIL too) trains on the current one. Two buffers
    alternate. Chunks are drawn strictly in order and only as many as the schedule needs, so
    every generator ends exactly where the reference loop leaves it.
    """

    def __init__(self, rngs, n_hidden_units: int, m: int, steps: list[int]):
        self._rngs = list(rngs)
        n_models = len(self._rngs)
        chunk = max(steps)
        self._buffers = [np.empty((n_models, chunk, n_hidden_units, m)) for _ in range(2)]  # (M, K, S, m)
        self._steps = steps
        self._pool = ThreadPoolExecutor(max_workers=2)
        halves = [range(0, n_models // 2), range(n_models // 2, n_models)]
        self._groups = [g for g in halves if len(g)]
        self._pending = self._submit(0)

    def _submit(self, index: int):
        if index >= len(self._steps):
            return None
        buffer, k = self._buffers[index % 2], self._steps[index]

        def fill(models):
            for model in models:
                self._rngs[model].random(out=buffer[model, :k])

        return [self._pool.submit(fill, group) for group in self._groups], buffer

    def take(self, index: int) -> np.ndarray:
        """The uniforms of chunk ``index`` (chunks must be taken in order); starts the next one."""
        futures, buffer = self._pending
        for future in futures:
            future.result()
        self._pending = self._submit(index + 1)
        return buffer

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _schedule(n_iterations: int, record_every: int, chunk: int | None) -> list[tuple[int, int, int | None]]:
    """Compiled calls as (first iteration, steps, column of the recorded cost or None)."""
    recorded_at = sorted(set(range(0, n_iterations, record_every)) | {n_iterations - 1})
    calls = []
    for column, (start, stop) in enumerate(zip(recorded_at, recorded_at[1:] + [n_iterations])):
        i = start
        while i < stop:
            steps = stop - i if chunk is None else min(stop - i, chunk)
            calls.append((i, steps, column if i == start else None))
            i += steps
    return calls


def train_loop_compiled(
    X: np.ndarray,
    Y: np.ndarray,
    params: Params,
    hyper: Hyper,
    mask_source: CourseMasks | FreshMasks | None = None,
    n_iterations: int = 30000,
    record_every: int = 100,
    progress: Progress | None = None,
    on_record: Callable[[int, np.ndarray], None] | None = None,
    dtype=np.float64,
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
        Per-model learning rate (M,), l2 (M,), l1 (M,) and keep_prob (M, H).
    mask_source : CourseMasks, FreshMasks or None
        Where dropout masks come from, exactly as for ``train_loop``; None trains without dropout.
        The thresholds are ``hyper.keep_prob``. A ``FreshMasks``' generators are advanced exactly
        as the reference loop would advance them.
    n_iterations : int
        Gradient-descent iterations, >= 1.
    record_every : int
        The cost (before the update) is recorded at iterations 0, record_every, ... and the last.
    progress : callable, optional
        ``progress(i + 1, n_iterations)`` at every record point.
    on_record : callable, optional
        ``on_record(i, cost)`` with cost (M,) at every record point.
    dtype : {numpy.float64, numpy.float32}
        Working precision. float32 is faster on wide batches but agrees with the reference only
        to single precision. Returned parameters are float64 either way.
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
    name = check_choice("dtype", np.dtype(dtype).name if _is_dtype(dtype) else repr(dtype), DTYPES)
    work = np.dtype(name)
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
    sizes, w_off, row_off, _ = _layout(layer_sizes)
    n_hidden_units = int(row_off[-2])  # S: rows of all hidden layers
    theta = pack(params, work)  # (M, P)
    X_work = np.ascontiguousarray(X, dtype=work)  # (n_0, m)
    Y_work = np.ascontiguousarray(np.reshape(Y, -1), dtype=work)  # (m,)
    l2 = np.asarray(hyper.l2, dtype=np.float64)
    l1 = np.asarray(hyper.l1, dtype=np.float64)
    args_rates = (
        np.asarray(hyper.learning_rate, dtype=work),
        (l2 / m).astype(work),  # the reference's l2/m, then times W
        (l1 / m).astype(work),
    )
    keep = np.ascontiguousarray(np.reshape(hyper.keep_prob, (n_models, -1)), dtype=np.float64)
    keep_inv = (1.0 / keep).astype(work)  # inverted dropout scales by 1 / keep_prob
    inv_m = work.type(1.0 / m)
    cost_scales = (l2 / (2 * m), l1 / m)  # float64, as penalties.l2_cost / l1_cost

    recorded_at = sorted(set(range(0, n_iterations, record_every)) | {n_iterations - 1})
    chunk = None
    if isinstance(mask_source, FreshMasks):
        per_step = n_models * n_hidden_units * m * 8  # bytes of uniforms per iteration
        chunk = int(max(1, min(record_every, _CHUNK_BYTES // max(per_step, 1))))
    calls = _schedule(n_iterations, record_every, chunk)
    fresh = None
    if mask_source is None:
        draws = np.empty((1, 1, 0, m))
    elif isinstance(mask_source, CourseMasks):
        hidden_shapes = [(int(n), m) for n in layer_sizes[1:-1]]
        draws = np.concatenate(course_draws(hidden_shapes), axis=0)[None, None]  # (1, 1, S, m)
    else:
        rngs = _fresh_rngs(mask_source, n_models)
        fresh = _FreshDraws(rngs, n_hidden_units, m, [steps for _, steps, _ in calls])
    dropout = mask_source is not None
    # A parallel region costs a thread start-up per call; one model has nothing to share out.
    segment = fused.train_segment if n_models > 1 and parallel else fused.train_segment_serial

    costs = np.empty((n_models, len(recorded_at)))
    cost = np.empty(n_models)
    try:
        for index, (start, steps, column) in enumerate(calls):
            if fresh is not None:
                draws = fresh.take(index)
            segment(
                X_work, Y_work, theta, sizes, w_off, row_off, *args_rates, keep, keep_inv,
                inv_m, draws, dropout, steps, column is not None, *cost_scales, cost,
            )
            if column is not None:
                costs[:, column] = cost
                _check_finite(cost, start, hyper, start_cost=costs[:, 0])
                if on_record is not None:
                    on_record(start, cost.copy())
                if progress is not None:
                    progress(start + 1, n_iterations)
    finally:
        if fresh is not None:
            fresh.close()
    finite = np.isfinite(theta).all(axis=1)  # (M,)
    _check_finite(np.where(finite, 0.0, np.nan), n_iterations, hyper)
    return unpack(theta, layer_sizes), History(np.array(recorded_at), costs)


def _is_dtype(value) -> bool:
    try:
        np.dtype(value)
    except TypeError:
        return False
    return True


def _fresh_rngs(source: FreshMasks, n_models: int) -> list[np.random.Generator]:
    rngs = list(source.rngs)
    if len(rngs) != n_models:
        raise ValueError(f"mask_source must hold one generator per model ({n_models}); got {len(rngs)}")
    return rngs
