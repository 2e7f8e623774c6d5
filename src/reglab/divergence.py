"""Why training diverged: which model, the setting most likely at fault, and what to try.

The engines report that a model's cost became NaN or infinite, or rose far above where it started
(``engine.loop.check_finite``). ``explain`` turns that into a ``Divergence``, which names the
setting most likely at fault, checked in this order:

- ``l2``: gradient descent on the L2 term alone multiplies the weights by 1 - learning_rate·l2/m at
  every step, which grows them without bound once learning_rate·l2/m > 2 (m training points);
- ``l1``: the L1 term moves every weight by learning_rate·l1/m at every step; above 1 that is more
  than the weights' own size (they start below 1), and they swing ever further;
- the data's scale: features far from [-1, 1] (largest |x| above 10) make the steps grow with
  their square; standardising them is the cure. When the rate is too large as well, the larger
  excess is blamed: |x|² against learning_rate / 0.3 (the course's rate, made for features of order 1);
- ``learning_rate``, otherwise.

``Divergence.message`` says it in the library's terms (``l2=1e+06``) or, given the names of the
options, in a command line's (``--l2 1e+06``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .config import TrainConfig
from .engine.loop import TrainingDivergedError

__all__ = ["Divergence", "explain", "diverged_error", "about", "LARGE_FEATURES"]

#: Largest |feature| above which an unstandardised data set may be the cause of a divergence.
LARGE_FEATURES = 10.0
#: The course's learning rate, which suits features of order 1: a rate's excess is measured against it.
COURSE_LEARNING_RATE = 0.3


def _library_name(setting: str) -> str:
    return "standardize=True" if setting == "standardize" else setting


def _library_value(setting: str, value) -> str:
    return f"{setting}={value:g}"


@dataclass(frozen=True)
class Divergence:
    """One model that diverged, and why it most likely did.

    ``index``: its position among the configurations trained together; ``cause``: ``"l2"``, ``"l1"``,
    ``"standardize"`` (the data's scale) or ``"learning_rate"``; ``subject``: how messages name the model
    (default ``the model of configs[index]``), e.g. ``model 'L2 (lambd=0.7)'``.
    """

    index: int
    config: TrainConfig
    iteration: int
    cost: float | None  # None: not known (a divergence read back from a results store)
    start_cost: float | None
    n_examples: int
    largest_feature: float
    cause: str
    subject: str | None = None

    def message(self, *, named: Callable[[str], str] = _library_name,
                valued: Callable[[str, float], str] = _library_value) -> str:
        """The divergence in one line: the model, what happened, the likely cause, what to try.

        ``named(setting)`` and ``valued(setting, value)`` write a setting as the reader types it
        (``setting="standardize"``: the standardisation of the inputs).
        """
        c, m = self.config, self.n_examples
        lr = c.learning_rate
        model = self.subject or f"the model of configs[{self.index}]"
        if self.cost is None:
            what = model
        elif self.start_cost is not None and math.isfinite(self.cost):
            what = (f"the cost of {model} rose from {self.start_cost:.4g} at iteration 0 to {self.cost:.4g} by "
                    f"iteration {self.iteration}")
        else:
            what = f"the cost of {model} became {self.cost} by iteration {self.iteration}"
        if self.cause == "l2":
            why = (f"the likely cause is {valued('l2', c.l2)}: with {valued('learning_rate', lr)} on m = {m} training "
                   f"points each step multiplies the weights by 1 - lr·l2/m = {1 - lr * c.l2 / m:.4g}, which grows "
                   f"them without bound; try {named('l2')} below {2 * m / lr:.4g} (2·m/lr) or a smaller "
                   f"{named('learning_rate')}")
        elif self.cause == "l1":
            why = (f"the likely cause is {valued('l1', c.l1)}: with {valued('learning_rate', lr)} on m = {m} training "
                   f"points each step moves every weight by lr·l1/m = {lr * c.l1 / m:.4g}, more than the weights' own "
                   f"size; try {named('l1')} below {m / lr:.4g} (m/lr) or a smaller {named('learning_rate')}")
        elif self.cause == "standardize":
            why = (f"the likely cause is the data's scale: its features reach |x| = {self.largest_feature:.3g}, and the "
                   f"steps grow with their square; try {named('standardize')} (or rescale the data to about [-1, 1]), "
                   f"or a smaller {named('learning_rate')}")
        else:
            why = (f"the likely cause is {valued('learning_rate', lr)}: steps that large overshoot; try a smaller "
                   f"{named('learning_rate')}, e.g. {lr / 10:g}")
        return f"training diverged: {what}; {why}"


def explain(index: int, config: TrainConfig, *, iteration: int, cost: float | None, start_cost: float | None,
            X: np.ndarray, standardized: bool) -> Divergence:
    """The ``Divergence`` of the model ``config`` (trained on X (n_examples, n_features), after scaling)."""
    m = X.shape[0]
    largest = float(np.max(np.abs(X))) if X.size else 0.0
    lr = config.learning_rate
    if lr * config.l2 / m > 2:
        cause = "l2"
    elif lr * config.l1 / m > 1:
        cause = "l1"
    elif not standardized and largest > LARGE_FEATURES and largest > math.sqrt(lr / COURSE_LEARNING_RATE):
        cause = "standardize"  # the steps grow with |x|^2 times the rate: the larger excess is blamed
    else:
        cause = "learning_rate"
    return Divergence(index, config, iteration, None if cost is None else float(cost),
                      None if start_cost is None else float(start_cost), m, largest, cause)


def diverged_error(error: TrainingDivergedError, positions: Sequence[int], configs: Sequence[TrainConfig], *,
                   X: np.ndarray, standardized: bool) -> TrainingDivergedError:
    """The engine's ``error`` about a batch, as a TrainingDivergedError about the configurations that diverged.

    ``positions[k]`` is the position in ``configs`` of the batch's model k. The new error's ``divergences``
    lists every model that diverged at that check (``Divergence.index``: its position in ``configs``); its
    message is the first one's.
    """
    found = []
    for k, cost, start in zip(error.models, error.costs, error.start_costs or [None] * len(error.models)):
        index = positions[k]
        found.append(explain(index, configs[index], iteration=error.iteration, cost=cost, start_cost=start, X=X,
                             standardized=standardized))
    if not found:  # an engine error without details: kept as it is
        return error
    return TrainingDivergedError(found[0].message(), models=tuple(d.index for d in found), iteration=error.iteration,
                                 costs=tuple(d.cost for d in found), start_costs=error.start_costs, divergences=found)


def about(error: TrainingDivergedError, subjects: Callable[[int], str]) -> TrainingDivergedError:
    """``error`` with its models named: ``subjects(index)`` names the configuration at ``index``.

    For callers that know the models by name (``compare``: ``model 'L2 (lambd=0.7)'``).
    """
    if not error.divergences:
        return error
    found = tuple(dataclasses.replace(d, subject=subjects(d.index)) for d in error.divergences)
    return TrainingDivergedError(found[0].message(), models=error.models, iteration=error.iteration, costs=error.costs,
                                 start_costs=error.start_costs, divergences=found)
