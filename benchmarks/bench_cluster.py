"""Scale-out of a sweep's chunks on a local Dask cluster, against one process, side by side.

Run:  python benchmarks/bench_cluster.py [--models 2000] [--iterations 500] [--repeats 5] [--workers 2]

A grid of [2,20,3,1] networks (l2 x keep_prob x seeds, fresh masks) on 211 training points is trained
three ways, in alternating order within each repetition so that all three see the same moment of a
shared machine:

- ``one process, 1 thread``: ``LocalExecutor`` with numba on one thread (as NUMBA_NUM_THREADS=1);
- ``one process, N threads``: ``LocalExecutor`` with numba on all the CPUs (the default local sweep);
- ``local:W``: ``DaskExecutor`` on W worker processes of one thread each (started once, before timing).

Printed: the median time of each, the medians of the per-repetition ratios (a) 1 thread / local:W,
the scale-out speed-up, and (b) local:W / N threads, the cluster's overhead on one machine; the load
average around each repetition. The CPU seconds each way uses (this process's, plus the workers' for
local:W) say what a shared machine hides: their ratio to the one-thread run is the work the cluster
adds, whatever other programs take of the cores. Then the per-chunk scheduling overhead (chunks of a function that does
nothing), and from it, on paper, the chunk duration, chunk size and grid size at which 100 workers
stay at least 90% busy. This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time


def nothing(shared, chunk):
    """A chunk that does no work: what remains of its time is scheduling."""
    return len(chunk)


def grid(n_models: int, n_iterations: int):
    from reglab.config import TrainConfig

    settings = [(l2, keep) for l2 in (0.0, 0.01, 0.1, 0.3, 0.7) for keep in (1.0, 0.9, 0.8, 0.7)]
    n_seeds = math.ceil(n_models / len(settings))
    return [TrainConfig(n_iterations=n_iterations, init="fresh", mask_mode="fresh", l2=l2, keep_prob=keep, seed=seed)
            for l2, keep in settings for seed in range(n_seeds)]


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def cpu_seconds(client=None) -> float:
    """CPU seconds used so far by this process (all its threads) and, with a client, by its workers."""
    used = time.process_time()
    if client is not None:
        used += sum(user + system for user, system, *_ in client.run(os.times).values())
    return used


def busy_fraction(workers: int, chunk_seconds: float, chunks_per_worker: float, overhead: float) -> float:
    """Share of the workers' time spent training, for chunks of ``chunk_seconds`` and ``overhead`` s per chunk.

    The scheduler hands out chunks one after the other (at most 1 / overhead a second, so W workers are fed
    while chunk_seconds >= W * overhead); each chunk costs its worker ``overhead`` besides the training; and the
    last round ends unevenly, on average half a chunk idle per worker.
    """
    fed = min(1.0, chunk_seconds / (workers * overhead))
    return fed * chunk_seconds / (chunk_seconds + overhead) * chunks_per_worker / (chunks_per_worker + 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trivial-chunks", type=int, default=2000)
    args = parser.parse_args()

    import numba

    from reglab.datasets import make_dataset
    from reglab.engine.compiled import prepare
    from reglab.experiments.chunks import plan_chunks, train_chunk
    from reglab.experiments.executors import LocalExecutor, connect

    data = make_dataset("field", n_samples=422, seed=0)  # 211 training points, as the course's
    shared = {"X_train": data.X_train, "y_train": data.y_train, "X_test": data.X_test, "y_test": data.y_test}
    n_examples, n_features = data.X_train.shape
    configs = grid(args.models, args.iterations)
    all_threads = numba.config.NUMBA_NUM_THREADS
    prepare()
    print(f"reglab cluster benchmark: {len(configs)} models [2,20,3,1], {args.iterations} iterations, "
          f"{n_examples} examples; {os.cpu_count()} CPUs, numba {numba.__version__} ({all_threads} threads), "
          f"Python {platform.python_version()}")

    start = time.perf_counter()
    executor = connect(f"local:{args.workers}", timeout=120)
    started = time.perf_counter() - start
    print(f"local:{args.workers} started and checked in {started:.2f} s; engine threads per chunk: "
          f"{executor.engine_threads}; dashboard {executor.dashboard}")
    local = LocalExecutor()
    plans = {
        "one process, 1 thread": plan_chunks(configs, n_examples=n_examples, n_features=n_features, slots=1, threads=1),
        f"one process, {all_threads} threads": plan_chunks(configs, n_examples=n_examples, n_features=n_features,
                                                           slots=1, threads=all_threads),
        f"local:{args.workers}": plan_chunks(configs, n_examples=n_examples, n_features=n_features,
                                             slots=executor.slots, threads=executor.engine_threads),
    }
    names = list(plans)

    def run(name):
        if name == names[0]:
            numba.set_num_threads(1)
            result = list(local.map(train_chunk, shared, plans[name]))
        elif name == names[1]:
            numba.set_num_threads(all_threads)
            result = list(local.map(train_chunk, shared, plans[name]))
        else:
            result = list(executor.map(train_chunk, shared, plans[name], threads=executor.engine_threads))
        assert sum(len(rows) for _, rows in result) == len(configs)

    for name in names:
        sizes = [len(chunk) for chunk in plans[name]]
        print(f"  {name}: {len(sizes)} chunks of {min(sizes)}-{max(sizes)} models")
    run(names[2])  # warm-up: each worker's first chunk, the process's first batch
    times = {name: [] for name in names}
    cpu = {name: [] for name in names}
    for repeat in range(args.repeats):
        order = names if repeat % 2 == 0 else names[::-1]  # alternate, so no configuration always goes first
        load_before = os.getloadavg()[0]
        for name in order:
            client = executor.client if name == names[2] else None
            cpu_before = cpu_seconds(client)
            times[name].append(timed(lambda: run(name)))
            cpu[name].append(cpu_seconds(client) - cpu_before)
        measured = ", ".join(f"{n} {times[n][-1]:.2f} s ({cpu[n][-1]:.1f} CPU s)" for n in names)
        print(f"  repetition {repeat + 1}: {measured}; load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}")
    numba.set_num_threads(all_threads)
    print("\nmedian times:")
    for name in names:
        print(f"  {name:>24}: {statistics.median(times[name]):7.2f} s "
              f"({statistics.median(times[name]) / len(configs) * 1e3:.2f} ms per model), "
              f"{statistics.median(cpu[name]):.1f} CPU s")
    added = statistics.median(c / one for c, one in zip(cpu[names[2]], cpu[names[0]]))
    print(f"CPU seconds of local:{args.workers} / one thread: {added:.2f} (the work the cluster adds; on "
          f"{args.workers} free cores the speed-up would be about {args.workers / added:.2f}x)")
    speedup = statistics.median(a / b for a, b in zip(times[names[0]], times[names[2]]))
    overhead = statistics.median(b / a for a, b in zip(times[names[1]], times[names[2]]))
    print(f"(a) scale-out speed-up, 1 thread / local:{args.workers}: {speedup:.2f}x (target >= 1.7x on two cores)")
    print(f"(b) cluster overhead on one machine, local:{args.workers} / {all_threads} threads: {overhead:.2f}x "
          f"(target <= 1.25x)")

    # Scheduling overhead: chunks of a function that does nothing, the shared data scattered as above.
    trivial = [[k] for k in range(args.trivial_chunks)]
    per_chunk = statistics.median(timed(lambda: list(executor.map(nothing, shared, trivial))) / len(trivial)
                                  for _ in range(3))
    print(f"\nscheduling overhead: {per_chunk * 1e3:.2f} ms per chunk ({len(trivial)} empty chunks on "
          f"{args.workers} workers, end to end; median of 3)")
    executor.close()

    # On paper: 100 workers. Chunks long enough that the scheduler is at most half loaded (t >= 2 W o), and enough
    # of them per worker that the uneven last round costs little.
    workers = 100
    model_seconds = statistics.median(times[names[0]]) / len(configs)  # one model on one thread
    chunk_seconds = 2 * workers * per_chunk
    per_worker = next(k for k in range(1, 10000) if busy_fraction(workers, chunk_seconds, k, per_chunk) >= 0.9)
    chunk_models = math.ceil(chunk_seconds / model_seconds)
    print(f"on paper, {workers} workers >= 90% busy (busy = min(1, t / (W o)) * t / (t + o) * K / (K + 1/2), "
          f"o = {per_chunk * 1e3:.2f} ms):")
    print(f"  chunks of t >= 2 W o = {chunk_seconds:.2f} s, i.e. {chunk_models} of these models "
          f"({model_seconds * 1e3:.2f} ms each on one thread), K >= {per_worker} chunks per worker: a grid of "
          f">= {workers * per_worker * chunk_models:,} models "
          f"(busy {busy_fraction(workers, chunk_seconds, per_worker, per_chunk):.1%})")
    factor = 30000 / args.iterations  # the course's models train 30000 iterations
    print(f"  for models of 30000 iterations ({factor:g}x longer), the same t is "
          f"{max(1, math.ceil(chunk_seconds / (factor * model_seconds)))} models per chunk")


if __name__ == "__main__":
    main()
