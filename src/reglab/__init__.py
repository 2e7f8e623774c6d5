"""reglab: a laboratory for regularization (L2, L1, dropout) in small neural networks.

The notebook's three-model study, exactly, and what it only mentions: tuning on a dev set,
combining regularizers, the spread over seeds. Nothing here prints or shows figures: functions
return results and matplotlib figures.
"""

__version__ = "0.1.0"

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

# Every name and submodule loads on first use (PEP 562): `import reglab.cli`, and so `reglab --help`,
# does not wait for NumPy and the training code, and the `reglab` command starts its figure
# processes before it loads them.
_HOMES = {
    "COURSE_CONFIGS": "config",
    "TrainConfig": "config",
    "CompareResult": "experiments",
    "compare": "experiments",
    "History": "model",
    "Model": "model",
    "load_model": "model",
    "TrainingDivergedError": "train",
    "fit": "train",
    "fit_many": "train",
}
_SUBMODULES = ("course", "datasets", "experiments", "gradcheck", "plots", "report", "stats", "store")

# typing.TYPE_CHECKING without importing typing (20 ms before the `reglab` program handles Ctrl-C); type
# checkers read a name TYPE_CHECKING as true
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from .config import COURSE_CONFIGS, TrainConfig
    from .experiments import CompareResult, compare
    from .model import History, Model, load_model
    from .train import TrainingDivergedError, fit, fit_many
del TYPE_CHECKING


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
