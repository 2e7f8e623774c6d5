"""A K-fold sweep against the single-split sweep of the same grid: is the cost only the extra models?

Run:  python benchmarks/bench_folds.py [--repeats 3] [--folds 5]

Each repetition runs the same grid (on the built-in `field` data, 200 training points) with a single
dev split and with K folds, each into a new store, alternating, and prints the wall times, their
ratio, and the ratio of the work each trained (models x iterations x points fitted on): a K-fold
sweep should cost about K times the single split's models and nothing more. A benchmark, not a
test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from reglab import TrainConfig
from reglab.datasets import make_dataset
from reglab.engine.compiled import prepare
from reglab.experiments.store import ResultStore
from reglab.experiments.sweep import SweepSpec, run_sweep


def work(result) -> float:
    """Model-iterations x points fitted on, of everything the sweep trained (its splits and its refit)."""
    total = 0.0
    for split in (*result.splits, result.refit):
        rows = [r for r in result.rows if r["dataset"] == split.fingerprint] if split is not result.refit else \
            [r for rows in result.refit_rows.values() for r in rows]
        total += sum(r["config"]["n_iterations"] for r in rows) * len(split.y_fit)
    return total


def timed(dataset, spec, folder: Path, name: str):
    with ResultStore(folder / f"{name}-{time.monotonic_ns()}.db") as store:
        start = time.perf_counter()
        result = run_sweep(dataset, spec, store)
        return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=3000)
    args = parser.parse_args()
    dataset = make_dataset("field", seed=0)
    base = TrainConfig(init="fresh", mask_mode="fresh", n_iterations=args.iterations)
    grid = {"l2": (0.0, 0.1, 0.3, 0.7), "keep_prob": (1.0, 0.86)}
    single = SweepSpec(base, grid, seeds=range(4), folds=1)
    folded = SweepSpec(base, grid, seeds=range(4), folds=args.folds)
    prepare()
    times = {"single": [], "folds": []}
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            for name, spec in (("single", single), ("folds", folded)):
                seconds, results[name] = timed(dataset, spec, Path(folder), name)
                times[name].append(seconds)
    ratios = [f / s for f, s in zip(times["folds"], times["single"])]
    work_ratio = work(results["folds"]) / work(results["single"])
    print(f"grid: 8 configurations x 4 seeds, {args.iterations} iterations, field (200 training points); "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"single dev split:  median {statistics.median(times['single']):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in times['single'])}); {len(results['single'].rows)} models + refit")
    print(f"{args.folds} folds:           median {statistics.median(times['folds']):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in times['folds'])}); {len(results['folds'].rows)} models + refit")
    print(f"time ratio (folds / single): median {statistics.median(ratios):.2f} "
          f"(per repetition {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"work ratio (model-iterations x points fitted on): {work_ratio:.2f}; time over work: "
          f"{statistics.median(ratios) / work_ratio:.2f} (1.00: no overhead beyond the extra models)")


if __name__ == "__main__":
    main()
