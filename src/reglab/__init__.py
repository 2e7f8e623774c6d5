"""reglab: a laboratory for regularization (L2, L1, dropout) in small neural networks.

The notebook's three-model study, exactly, and what it only mentions: tuning on a dev set,
combining regularizers, the spread over seeds. Nothing here prints or shows figures: functions
return results and matplotlib figures.

The package's map: ``settings``/``config`` (what a training run is), ``training`` and ``model`` (training
and trained networks), ``engine/`` (the numerics), ``datasets/``, ``experiments/`` (compare, sweep,
store), ``plots/``, ``runs/`` (run folders), ``course/`` (the notebook's names), ``cli`` and
``sklearn``.
"""

from ._version import __version__

__all__ = [
    "__version__",
    "COURSE_CONFIGS",
    "CompareResult",
    "compare",
    "History",
    "Model",
    "TrainConfig",
    "TrainingDivergedError",
    "fit",
    "fit_many",
    "load_model",
]

# Names load on first use (PEP 562): `reglab --help` does not wait for NumPy and the training code.
_HOMES = {
    "COURSE_CONFIGS": "config",
    "TrainConfig": "config",
    "CompareResult": "experiments.compare",
    "compare": "experiments.compare",
    "History": "model",
    "Model": "model",
    "load_model": "model",
    "TrainingDivergedError": "engine.loop",
    "fit": "training",
    "fit_many": "training",
}
_SUBMODULES = ("course", "datasets", "engine", "experiments", "plots", "runs", "sklearn", "stats")


def __getattr__(name):
    import importlib

    if name in _HOMES:
        value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
        globals()[name] = value  # found directly from now on
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'reglab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
