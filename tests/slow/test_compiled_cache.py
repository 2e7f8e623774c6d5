"""The compiled engine gives the same numbers in the process that compiles it and in the ones that load it.

numba runs code it has just compiled through its JIT and writes object code to its cache for
later processes; with fused multiply-adds left to LLVM the two placed them differently and long
runs ended at different models. This test compiles the engine afresh in one process (its own
numba cache folder) and loads it in a second, and compares the trained weights bit for bit.
Slow: it compiles the float64 loop once (about a minute).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

SCRIPT = """
import sys
import numpy as np
from reglab import fit_many
from reglab.config import TrainConfig
from reglab.datasets import make_dataset
data = make_dataset("field", seed=0)
configs = [TrainConfig(n_iterations=3000), TrainConfig(n_iterations=3000, keep_prob=0.86, mask_mode="fresh", seed=5)]
models = [fit_many(data.X_train, data.y_train, [c])[0] for c in configs]
weights = np.concatenate([w.ravel() for m in models for w in m.params.weights + m.params.biases])
np.save(sys.argv[1], weights)
from reglab.engine.compiled import cache_misses
print("compiled here" if cache_misses() else "loaded")
"""


def test_the_compiling_process_and_a_loading_process_train_the_same_weights(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    runs, said = [], []
    for name in ("compiles", "loads"):
        out = tmp_path / f"{name}.npy"
        completed = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env, check=True, timeout=900,
                                   capture_output=True, text=True)
        said.append(completed.stdout.strip())
        runs.append(np.load(out))
    assert said == ["compiled here", "loaded"]  # what `reglab` tells its user after loading the engine
    cached = list((tmp_path / "numba-cache").rglob("*.nbi"))
    assert cached, "the first process wrote nothing to numba's cache, so the second did not load anything"
    assert runs[0].shape == runs[1].shape
    assert np.array_equal(runs[0], runs[1]), f"largest difference {np.max(np.abs(runs[0] - runs[1])):.3g}"
