"""reglab: a laboratory for regularization (L2, L1, dropout) in small neural networks.

The notebook's three-model study, exactly, and what it only mentions: tuning on a dev set,
combining regularizers, the spread over seeds. Nothing here prints or shows figures: functions
return results and matplotlib figures.
"""

__version__ = "0.1.0"

from .config import COURSE_CONFIGS, TrainConfig  # noqa: E402
from .experiments import CompareResult, compare  # noqa: E402
from .model import History, Model, load_model  # noqa: E402
from .train import TrainingDivergedError, fit, fit_many  # noqa: E402

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

_SUBMODULES = ("course", "datasets", "experiments", "gradcheck", "plots", "report", "stats", "store")


def __getattr__(name):
    # Submodules that pull in matplotlib or SQLite load on first use, keeping `import reglab` light.
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'reglab' has no attribute {name!r}")
