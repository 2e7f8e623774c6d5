"""End to end: `reglab compare` against the course-style loop training the same three models.

Run:  python benchmarks/bench_compare.py [--repeats 5] [--iterations 30000]

Each repetition times the course-style NumPy loop (benchmarks/course_style.py) training the
notebook's three models (plain, L2 0.7, dropout 0.86) on the built-in `field` data, then the
`reglab compare` command as a user runs it (a new process: start-up, training, five figures,
results.json, report.md and the model files), with its compiled code already cached. It prints
both times and the median of the per-repetition ratios. A benchmark, not a test: nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_style import course_parameters, course_style_loop

from reglab.datasets import make_dataset


def course_style_study(iterations: int) -> None:
    """The notebook's three models with its own style of loop (L2 as the course adds it to the gradient)."""
    data = make_dataset("field", seed=0)
    X, Y = data.X_train.T, data.y_train[None, :]
    parameters = course_parameters()
    course_style_loop(X, Y, parameters, 0.3, iterations)
    course_style_loop(X, Y, parameters, 0.3, iterations, l2=0.7)
    course_style_loop(X, Y, parameters, 0.3, iterations, keep_prob=0.86)


def reglab_compare(iterations: int, folder: Path, env: dict) -> None:
    out = folder / f"run-{time.monotonic_ns()}"
    subprocess.run([sys.executable, "-m", "reglab", "compare", "--data", "field", "--iterations", str(iterations),
                    "--out", str(out)], check=True, env=env, cwd=folder, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=30000)
    args = parser.parse_args()
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("REGLAB_COURSE_DATA", None)
    with tempfile.TemporaryDirectory() as folder:
        reglab_compare(100, Path(folder), env)  # compiled code loaded (or compiled) once before timing
        loops, commands, ratios = [], [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            course_style_study(args.iterations)
            loops.append(time.perf_counter() - start)
            start = time.perf_counter()
            reglab_compare(args.iterations, Path(folder), env)
            commands.append(time.perf_counter() - start)
            ratios.append(loops[-1] / commands[-1])
    print(f"the notebook's three models, {args.iterations} iterations each, on `field`; {args.repeats} repetitions; "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"course-style loop, three models:   median {statistics.median(loops):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in loops)})")
    print(f"reglab compare (whole command):    median {statistics.median(commands):6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in commands)})")
    print(f"speed-up of the command: median {statistics.median(ratios):.1f}x "
          f"(per repetition: {', '.join(f'{r:.1f}' for r in ratios)})")


if __name__ == "__main__":
    main()
