"""Figures: decision boundaries, cost curves, data sets, spread over seeds and sweep summaries.

Every function builds a whole matplotlib ``Figure`` with the object-oriented API and returns it:
nothing is registered with pyplot, shown or printed (``draw_decision_boundary`` draws on axes you
pass). matplotlib is imported inside the functions, so ``import reglab`` stays fast. Colours keep
the course's meaning: red is class 0, blue is class 1.

- ``drawing``: a classifier's regions, boundary and points on given axes, and the pieces of it;
- ``figures``: the figures of one model or a comparison, and ``save_figure``;
- ``summaries``: figures of repeated measurements (seeds, sweeps).
"""

from .drawing import SHADINGS, draw_decision_boundary
from .figures import FIGURE_FORMATS, cost_curves, dataset_figure, decision_boundary, models_side_by_side, save_figure
from .summaries import accuracy_against, choice_against_data, dev_heatmap, seed_spread

__all__ = [
    "draw_decision_boundary",
    "decision_boundary",
    "models_side_by_side",
    "cost_curves",
    "dataset_figure",
    "save_figure",
    "seed_spread",
    "dev_heatmap",
    "accuracy_against",
    "choice_against_data",
    "SHADINGS",
    "FIGURE_FORMATS",
]
