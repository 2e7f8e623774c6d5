"""Speed of the training engines against the course's own style of NumPy code.

Run:  python benchmarks/bench_engines.py [--iterations 2000] [--repeats 5]

Prints, for each engine and batch size, the median time over repetitions, the time per model
and iteration, the speed-up over the course-style loop per model (the median of per-repetition
ratios: each repetition times the loop right before the engine, so that both see the same moment
of a shared machine), and the distance to the
arithmetic floor: the engine's matrix-product floating-point operations divided by this
machine's measured matrix-multiply rate (a large NumPy matmul, all BLAS threads).

The baseline is written here, as the notebook writes it: parameters in a dict, np.dot, one
forward, one cost, one backward and one update per iteration (the plain model, and the dropout
model with the notebook's np.random.rand masks, from a private RandomState and not re-seeded at
every iteration as the notebook does). reglab's engines compute the cost only where it is
recorded (every 100 iterations by default), so the leaner loop without the cost is timed too.
This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from course_style import course_parameters, course_style_loop
from reglab.engine import compiled as kernels
from reglab.engine import loop as train
from reglab.engine.masks import FreshMasks
from reglab.engine.params import init_course, init_fresh, stack

LAYERS = (2, 20, 3, 1)
M_EXAMPLES = 211  # the course's training set size


# ---- measurement helpers ----------------------------------------------------------------------
def median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_rate(repeats: int, n: int = 1500) -> float:
    """Floating-point operations per second of a float64 n x n matmul (NumPy's BLAS)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    a @ b  # warm-up: threads started, pages touched
    return 2.0 * n**3 / median_seconds(lambda: a @ b, max(repeats, 5))


def matmul_flops(layer_sizes, m: int) -> float:
    """Matrix-product flops of one training iteration of one model: Z = W A, dW = dZ A.T, dA = W.T dZ."""
    products = [n_out * n_in for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]
    return 2.0 * m * (2 * sum(products) + sum(products[1:]))


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return "; ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} x{i.get('num_threads')}"
        for i in threadpool_info()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="*", default=[16, 64, 256])
    args = parser.parse_args()
    n, repeats = args.iterations, args.repeats

    import numba

    rng = np.random.default_rng(0)
    X = rng.standard_normal((LAYERS[0], M_EXAMPLES))  # (2, 211)
    Y = ((X[0] * X[1] + 0.3 * rng.standard_normal(M_EXAMPLES)) > 0).astype(float)[None, :]
    course = init_course(LAYERS)
    as_dict = course_parameters(LAYERS)  # the same weights in the course's own layout

    def hyper(M, keep_prob=1.0):
        return train.Hyper(np.full(M, 0.3), np.zeros(M), np.zeros(M), np.full((M, len(LAYERS) - 2), keep_prob))

    def fresh_setup(M):
        params = init_fresh(LAYERS, [np.random.default_rng(k) for k in range(M)])
        h = hyper(M, 0.86)
        return params, h, lambda: FreshMasks(h.keep_prob, [np.random.default_rng(100 + k) for k in range(M)])

    # Warm-up: compile or load every compiled variant from the cache before timing.
    for M in (1, 2):
        params, h, masks = fresh_setup(M)
        kernels.train_loop_compiled(X, Y, params, h, masks(), 5)
        kernels.train_loop_compiled(X, Y, stack([course] * M), hyper(M), None, 5)

    rate = matmul_rate(repeats)
    floor = matmul_flops(LAYERS, M_EXAMPLES) / rate  # seconds per model-iteration
    rows = []

    plain_loop = lambda: course_style_loop(X, Y, as_dict, 0.3, n)  # noqa: E731
    dropout_loop = lambda: course_style_loop(X, Y, as_dict, 0.3, n, 0.86)  # noqa: E731
    lean_loop = lambda: course_style_loop(X, Y, as_dict, 0.3, n, with_cost=False)  # noqa: E731

    def measure(name, M, run, baseline=None):
        """Median time of ``run``; with a baseline loop, each repetition also times the baseline right
        before the engine, and the speed-up is the median of the per-repetition ratios (both sides see
        the same moment of a shared machine)."""
        times, ratios = [], []
        for _ in range(repeats):
            before = 0.0
            if baseline is not None:
                start = time.perf_counter()
                baseline()
                before = time.perf_counter() - start
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
            ratios.append(before / (times[-1] / M))
        seconds = statistics.median(times)
        rows.append((name, M, seconds, seconds / (M * n), statistics.median(ratios) if baseline else None))
        return seconds / (M * n)

    base = measure("course-style loop (np.dot, dicts)", 1, plain_loop)
    base_dropout = measure("course-style loop, dropout 0.86", 1, dropout_loop)
    lean = measure("  the same without the cost at every iteration", 1, lean_loop)
    measure("reference engine (train_loop)", 1, lambda: train.train_loop(X, Y, course, hyper(1), None, n), plain_loop)
    measure(
        "compiled, 1 model", 1, lambda: kernels.train_loop_compiled(X, Y, course, hyper(1), None, n), plain_loop
    )
    measure(
        "  the same, vs the loop without the cost", 1,
        lambda: kernels.train_loop_compiled(X, Y, course, hyper(1), None, n), lean_loop,
    )
    params, h, masks = fresh_setup(1)
    measure(
        "compiled, 1 model, fresh dropout", 1,
        lambda: kernels.train_loop_compiled(X, Y, params, h, masks(), n), dropout_loop,
    )
    for M in args.batches:
        batch = stack([course] * M)
        measure(
            f"compiled, {M} models", M, lambda: kernels.train_loop_compiled(X, Y, batch, hyper(M), None, n), plain_loop
        )
        params, h, masks = fresh_setup(M)
        measure(
            f"compiled, {M} models, fresh dropout", M,
            lambda: kernels.train_loop_compiled(X, Y, params, h, masks(), n), dropout_loop,
        )
    M = max(args.batches)
    batch = stack([course] * M)
    measure(  # does sharing the models out over the cores help? (prange vs one thread)
        f"compiled, {M} models, 1 thread", M,
        lambda: kernels.train_loop_compiled(X, Y, batch, hyper(M), None, n, parallel=False), plain_loop,
    )

    print(f"reglab engines, [{', '.join(map(str, LAYERS))}] on {M_EXAMPLES} examples, {n} iterations, "
          f"median of {repeats}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; numba {numba.__version__} with "
          f"{numba.get_num_threads()} threads; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"BLAS: {blas_info()}")
    print(f"matmul rate {rate / 1e9:.1f} GFLOP/s; {matmul_flops(LAYERS, M_EXAMPLES) / 1e3:.1f} kflop of matrix "
          f"products per model-iteration -> floor {floor * 1e6:.2f} us")
    print()
    header = f"{'engine':<46} {'models':>6} {'seconds':>8} {'us/model-it':>11} {'x course':>9} {'x floor':>8}"
    print(header)
    print("-" * len(header))
    for name, M, seconds, per, speedup in rows:
        speedup = "" if speedup is None else f"{speedup:8.1f}x"
        print(f"{name:<46} {M:>6} {seconds:>8.3f} {per * 1e6:>11.2f} {speedup:>9} {per / floor:>7.1f}x")
    print()
    print("x course: per-model speed-up over the course-style loop (dropout rows: over its dropout loop), the median of")
    print("         per-repetition ratios, each repetition timing the loop right before the engine;")
    print(f"plain course-style loop {base * 1e6:.0f} us/iteration (without the cost at every iteration "
          f"{lean * 1e6:.0f}), with dropout {base_dropout * 1e6:.0f} us/iteration.")
    print("x floor: time over the arithmetic floor (matrix-product flops / measured matmul rate).")


if __name__ == "__main__":
    main()
