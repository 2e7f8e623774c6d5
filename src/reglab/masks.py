"""Where dropout masks come from.

A mask source is called once per training iteration with the shapes of the hidden activations
and returns one boolean mask per hidden layer, ``(M, n_l, m)``, True where a unit is kept.
A unit is kept where a uniform draw in [0, 1) is below its model's ``keep_prob`` for that layer,
so a layer with ``keep_prob = 1`` keeps everything.

- ``CourseMasks``: the notebook's behaviour. Its forward pass calls ``np.random.seed(1)`` and then
  draws ``rand(n_1, m)``, ``rand(n_2, m)``, ... in order, so *every iteration uses the same masks*.
  Reproduced with a private legacy ``RandomState(1)``; the global generator is not touched.
- ``FreshMasks``: new masks every iteration, from one ``np.random.Generator`` per model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["COURSE_MASK_SEED", "course_draws", "CourseMasks", "FreshMasks", "MASK_MODES"]

COURSE_MASK_SEED = 1
MASK_MODES = ("course", "fresh")


def course_draws(shapes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """The uniform draws of the course's dropout forward pass, one (n_l, m) array per layer."""
    legacy = np.random.RandomState(COURSE_MASK_SEED)
    return [legacy.rand(*shape) for shape in shapes]


class CourseMasks:
    """The notebook's fixed masks, thresholded by each model's keep_prob.

    keep_prob: (M, H) array, one value per model and hidden layer.
    """

    def __init__(self, keep_prob: np.ndarray):
        self._keep_prob = np.asarray(keep_prob, dtype=float)
        self._masks: list[np.ndarray] | None = None
        self._key: tuple | None = None

    def __call__(self, shapes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
        key = tuple(shapes)
        if self._key != key:  # the same draws every call: compute them once
            draws = course_draws(shapes)
            self._masks = [
                draw[None, :, :] < self._keep_prob[:, layer, None, None]
                for layer, draw in enumerate(draws)
            ]
            self._key = key
        return self._masks


class FreshMasks:
    """New masks every call, one ``Generator`` per model.

    keep_prob: (M, H); rngs: M generators (see ``model_streams``).
    """

    def __init__(self, keep_prob: np.ndarray, rngs: Sequence[np.random.Generator]):
        self._keep_prob = np.asarray(keep_prob, dtype=float)
        self._rngs = list(rngs)
        if len(self._rngs) != self._keep_prob.shape[0]:
            raise ValueError(
                f"one generator per model is needed: {self._keep_prob.shape[0]} models, "
                f"{len(self._rngs)} generators"
            )

    @property
    def rngs(self) -> tuple[np.random.Generator, ...]:
        """The per-model generators (the compiled engine draws from them directly)."""
        return tuple(self._rngs)

    def __call__(self, shapes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
        masks = []
        for layer, shape in enumerate(shapes):
            draws = np.stack([rng.random(shape) for rng in self._rngs])  # (M, n_l, m)
            masks.append(draws < self._keep_prob[:, layer, None, None])
        return masks
