"""Every training setting, declared once: name, kind, default, allowed values, help, option name.

``SETTINGS`` is the one list a new setting is added to. Everything that shows or takes settings is
made from it: ``TrainConfig``'s fields and checks (``reglab.config``), the ``reglab`` command's
options (``reglab.cli``), the scikit-learn estimator's parameters and constraints
(``reglab.sklearn``) and the web page's form. A setting checks a value with ``Setting.check``,
whose errors name the setting, what is allowed and what was given. This module uses the standard
library only, so that the command line can make its options without loading NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Setting", "SETTINGS", "SETTING_NAMES", "setting", "MAX_ITERATIONS", "MAX_SEED", "INIT_MODES",
           "MASK_MODES"]

MAX_ITERATIONS = 10**9  # iterations of one model: about 2 hours of the compiled engine for the course's model
MAX_SEED = 2**32 - 1
INIT_MODES = ("course", "fresh")
MASK_MODES = ("course", "fresh")

#: The kinds of setting and the Python type of their values.
KINDS = {"int": "int", "real": "float", "choice": "str", "flag": "bool", "layers": "tuple[int, ...]",
         "keep_prob": "float | tuple[float, ...]"}
SAME = "same"  # an estimator_default that is the setting's own default


@dataclass(frozen=True)
class Setting:
    """One training setting.

    Attributes
    ----------
    name : str
        The ``TrainConfig`` field (and the library's name in messages).
    kind : {"int", "real", "choice", "flag", "layers", "keep_prob"}
        "layers": one or more integers >= 1 (hidden layer sizes); "keep_prob": a number in (0, 1], or
        one per hidden layer.
    default
        The value ``TrainConfig`` takes when it is not given.
    help : str
        One sentence, for ``--help``, docstrings and the web form.
    flag : str
        The ``reglab`` command's option, e.g. ``"--lr"``.
    group : str
        "model", "regularization" or "early stopping": how forms and help group settings.
    low, high, low_inclusive, high_inclusive
        Bounds of an "int" or "real" setting (None: none).
    choices : tuple of str
        The values of a "choice" setting.
    optional : bool
        None is allowed too (it means "off", e.g. no max-norm constraint).
    estimator : str, optional
        The scikit-learn estimator's name for it, where that differs from ``name`` (``max_iter``).
    estimator_default
        The estimator's default, where it differs from ``default`` (the estimator draws fresh
        initialisations and masks, as scikit-learn's estimators do); ``SAME`` otherwise.
    grid : bool
        Whether ``reglab sweep`` takes a list of values for it (a grid axis).
    needs : tuple of (name, value) pairs
        Other settings that must be so for this one to act, e.g. ``(("early_stopping", True),)``
        (forms show it as depending on them).
    stronger : {"larger", "smaller"} or None
        For a regularizer, which way regularizes more; sweeps choose the most regularized of the
        configurations as good as the best (``reglab.experiments.selection``), in the order of ``SETTINGS``.
    """

    name: str
    kind: str
    default: Any
    help: str
    flag: str
    group: str = "model"
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    choices: tuple[str, ...] = ()
    optional: bool = False
    estimator: str | None = None
    estimator_default: Any = SAME
    grid: bool = False
    needs: tuple[tuple[str, Any], ...] = ()
    stronger: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}")

    def check(self, value, *, n_hidden: int | None = None):
        """``value`` checked and normalised (a tuple for "layers" and "keep_prob"); a user error otherwise.

        ``n_hidden`` is the number of hidden layers, which a "keep_prob" value must match.
        """
        from . import validation  # NumPy: loaded when a value is checked, not when `reglab --help` lists the options

        if self.optional and value is None:
            return None
        if self.kind == "int":
            return validation.check_int(self.name, value, low=self.low, high=self.high)
        if self.kind == "real":
            return validation.check_real(self.name, value, low=self.low, high=self.high, low_inclusive=self.low_inclusive,
                              high_inclusive=self.high_inclusive)
        if self.kind == "choice":
            return validation.check_choice(self.name, value, self.choices)
        if self.kind == "flag":
            return validation.check_bool(self.name, value)
        if self.kind == "layers":
            return validation.check_layer_sizes(self.name, value)
        return validation.check_keep_prob(value, 1 if n_hidden is None else n_hidden)

    @property
    def annotation(self) -> str:
        return KINDS[self.kind] + (" | None" if self.optional else "")

    @property
    def estimator_name(self) -> str:
        return self.estimator or self.name

    @property
    def estimator_value(self):
        """The estimator's default."""
        return self.default if self.estimator_default == SAME else self.estimator_default

    def allowed(self) -> str:
        """What values are allowed, in words, e.g. ``"a real number in [0, 1)"``."""
        if self.kind in ("int", "real"):
            noun = "an integer" if self.kind == "int" else "a real number"
            number = (lambda v: str(int(v))) if self.kind == "int" else (lambda v: f"{v:g}")
            low = None if self.low is None else number(self.low)
            high = None if self.high is None else number(self.high)
            if low is not None and high is not None:
                left = "[" if self.low_inclusive else "("
                right = "]" if self.high_inclusive else ")"
                text = f"{noun} in {left}{low}, {high}{right}"
            elif low is not None:
                text = f"{noun} {'>=' if self.low_inclusive else '>'} {low}"
            else:
                text = noun
        elif self.kind == "choice":
            text = " or ".join(self.choices)
        elif self.kind == "flag":
            text = "on or off"
        elif self.kind == "layers":
            text = "one or more integers >= 1"
        else:
            text = "a number in (0, 1], or one per hidden layer"
        return text + (" (or none)" if self.optional else "")

    def to_json(self) -> dict:
        """The declaration as plain data (for the web page's form)."""
        return {
            "name": self.name, "kind": self.kind, "default": list(self.default) if isinstance(self.default, tuple)
            else self.default, "help": self.help, "flag": self.flag, "group": self.group, "low": self.low,
            "high": self.high, "low_inclusive": self.low_inclusive, "high_inclusive": self.high_inclusive,
            "choices": list(self.choices), "optional": self.optional, "allowed": self.allowed(),
            "needs": dict(self.needs), "grid": self.grid,
        }


SETTINGS: tuple[Setting, ...] = (
    Setting("hidden_layer_sizes", "layers", (20, 3), "Units of each hidden (ReLU) layer; the course's is 20,3.",
            "--hidden", grid=True),
    Setting("learning_rate", "real", 0.3, "Gradient-descent step.", "--lr", low=0, low_inclusive=False, grid=True),
    Setting("n_iterations", "int", 30000, "Full-batch gradient-descent iterations.", "--iterations", low=1,
            high=MAX_ITERATIONS, estimator="max_iter", grid=True),
    Setting("l2", "real", 0.0, "L2 strength, the course's lambd: the cost gains l2/(2m) times the sum of squared "
            "weights.", "--l2", group="regularization", low=0, grid=True, stronger="larger"),
    Setting("l1", "real", 0.0, "L1 strength: the cost gains l1/m times the sum of absolute weights.", "--l1",
            group="regularization", low=0, grid=True, stronger="larger"),
    Setting("keep_prob", "keep_prob", 1.0, "Inverted-dropout keep probability of the hidden units, one value or "
            "one per hidden layer; 1 keeps every unit.", "--keep-prob", group="regularization", grid=True,
            stronger="smaller"),
    Setting("init", "choice", "course", "Initial weights: course, the notebook's draws (seed 3 gives its weights); "
            "fresh, drawn from a generator seeded by the seed.", "--init", choices=INIT_MODES,
            estimator_default="fresh"),
    Setting("mask_mode", "choice", "course", "Dropout masks: course, the notebook's fixed masks (the same every "
            "iteration); fresh, new masks every iteration from the seed.", "--masks", group="regularization",
            choices=MASK_MODES, estimator_default="fresh", needs=(("keep_prob", 0.8),)),
    Setting("seed", "int", 3, "Seed of the initialisation and of fresh dropout masks.", "--seed", low=0,
            high=MAX_SEED, estimator="random_state", estimator_default=None),
    Setting("weight_decay", "real", 0.0, "Decoupled weight decay per iteration: W <- (1 - weight_decay) W - lr dW.",
            "--weight-decay", group="regularization", low=0, high=1, high_inclusive=False, grid=True,
            stronger="larger"),
    Setting("max_norm", "real", None, "After every step, rescale each unit's incoming weights to at most this norm.",
            "--max-norm", group="regularization", low=0, low_inclusive=False, optional=True, grid=True,
            stronger="smaller"),
    Setting("early_stopping", "flag", False, "Stop when the cost on held-out training points has not improved for "
            "patience record points (every 100 iterations); keep the best weights.", "--early-stopping",
            group="early stopping"),
    Setting("validation_fraction", "real", 0.1, "Share of the training points held out for early stopping.",
            "--validation-fraction", group="early stopping", low=0, high=1, low_inclusive=False,
            high_inclusive=False, needs=(("early_stopping", True),)),
    Setting("patience", "int", 10, "Record points without improvement before early stopping stops.", "--patience",
            group="early stopping", low=1, estimator="n_iter_no_change", needs=(("early_stopping", True),)),
    Setting("min_delta", "real", 0.0, "Smallest decrease of the held-out cost that counts as an improvement.",
            "--min-delta", group="early stopping", low=0, estimator="tol", needs=(("early_stopping", True),)),
)

SETTING_NAMES = tuple(s.name for s in SETTINGS)
_BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> Setting:
    """The declaration of the setting ``name`` (``"keep_prob[1]"`` names ``keep_prob``)."""
    base = name.split("[")[0]
    if base not in _BY_NAME:
        raise KeyError(f"no training setting named {name!r}; settings: {', '.join(SETTING_NAMES)}")
    return _BY_NAME[base]
