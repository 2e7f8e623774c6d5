"""Parameters of one or many networks, with a leading model axis.

A network with layer sizes ``[n_0, n_1, ..., n_L]`` (input, hidden..., output) has, for every
layer ``l = 1..L``, a weight matrix and a bias column in the course's (units x inputs) layout.
reglab stores M such networks of the same sizes together::

    weights[l-1]  # (M, n_l, n_{l-1})
    biases[l-1]   # (M, n_l, 1)

One network is M = 1: there is a single code path for one model and for a grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = ["Params", "init_course", "init_fresh", "model_streams", "stack", "copy"]


class Params(NamedTuple):
    """Weights and biases of M networks of identical layer sizes."""

    weights: tuple[np.ndarray, ...]  # weights[l]: (M, n_{l+1}, n_l)
    biases: tuple[np.ndarray, ...]  # biases[l]: (M, n_{l+1}, 1)

    @property
    def n_models(self) -> int:
        return self.weights[0].shape[0]

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n_0, n_1, ..., n_L)``: inputs, hidden units per layer, outputs."""
        return (self.weights[0].shape[2],) + tuple(W.shape[1] for W in self.weights)

    def model(self, i: int) -> Params:
        """The i-th network alone, as a batch of one (a view, not a copy)."""
        return Params(
            tuple(W[i : i + 1] for W in self.weights), tuple(b[i : i + 1] for b in self.biases)
        )


def _he_course_layer(draw, n_out: int, n_in: int) -> np.ndarray:
    # The course's scaling: standard normal divided by sqrt(fan-in).
    return draw((n_out, n_in)) / np.sqrt(n_in)


def init_course(layer_sizes: Sequence[int], seed: int = 3, n_models: int = 1) -> Params:
    """The course's initialisation, exactly.

    ``np.random.seed(seed)`` followed, layer by layer, by ``randn(n_l, n_{l-1}) / sqrt(n_{l-1})``
    and zero biases; ``seed=3`` gives the notebook's weights. The legacy ``RandomState`` is used
    on purpose (it is what the course used) but privately: the global generator is not touched.
    All ``n_models`` copies are identical.
    """
    legacy = np.random.RandomState(seed)
    weights, biases = [], []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        W = _he_course_layer(lambda shape: legacy.randn(*shape), n_out, n_in)
        weights.append(np.repeat(W[None], n_models, axis=0))
        biases.append(np.zeros((n_models, n_out, 1)))
    return Params(tuple(weights), tuple(biases))


def init_fresh(layer_sizes: Sequence[int], rngs: Sequence[np.random.Generator]) -> Params:
    """The course's scaling, drawn from one ``Generator`` per model (``len(rngs)`` models)."""
    per_model = []
    for rng in rngs:
        per_model.append(
            [
                _he_course_layer(rng.standard_normal, n_out, n_in)
                for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])
            ]
        )
    weights = tuple(np.stack(ws) for ws in zip(*per_model))
    biases = tuple(np.zeros((len(rngs), W.shape[1], 1)) for W in weights)
    return Params(weights, biases)


def stack(models: Sequence[Params]) -> Params:
    """Concatenate batches of networks of identical layer sizes along the model axis."""
    sizes = {p.layer_sizes for p in models}
    if len(sizes) != 1:
        raise ValueError(f"models to stack must have identical layer sizes; got {sorted(sizes)}")
    weights = tuple(np.concatenate(ws) for ws in zip(*(p.weights for p in models)))
    biases = tuple(np.concatenate(bs) for bs in zip(*(p.biases for p in models)))
    return Params(weights, biases)


def copy(params: Params) -> Params:
    """A deep copy (training updates parameters out of place, but callers may mutate)."""
    return Params(tuple(W.copy() for W in params.weights), tuple(b.copy() for b in params.biases))


def model_streams(seed: int, n_models: int = 1) -> tuple[list[np.random.Generator], list[np.random.Generator]]:
    """Independent (initialisation, mask) generators for ``n_models`` models sharing one seed."""
    children = np.random.SeedSequence(seed).spawn(2)
    init = [np.random.default_rng(s) for s in children[0].spawn(n_models)]
    mask = [np.random.default_rng(s) for s in children[1].spawn(n_models)]
    return init, mask
