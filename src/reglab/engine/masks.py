"""Where dropout masks come from.

A mask source is called once per training iteration with the shapes of the hidden activations
and returns one boolean mask per hidden layer, ``(M, n_l, m)``, True where a unit is kept.
A unit is kept where a uniform number in [0, 1) is below its model's ``keep_prob`` for that
layer, so a layer with ``keep_prob = 1`` keeps everything.

- ``CourseMasks``: the notebook's behaviour. Its forward pass calls ``np.random.seed(1)`` and then
  draws ``rand(n_1, m)``, ``rand(n_2, m)``, ... in order, so *every iteration uses the same masks*.
  Reproduced with a private legacy ``RandomState(1)``; the global generator is not touched.
- ``FreshMasks``: new masks every iteration, from a counter-based hash (below), so that the
  compiled engine computes the very same masks inside its loop, in any order, without a
  sequential generator.

Fresh masks, exactly. All arithmetic is on unsigned integers, modulo 2**64 or 2**32::

    key      one uint64 per model: the next raw 64-bit output of that model's
             Generator (``rng.bit_generator.random_raw()``), taken when FreshMasks is made
    S        number of hidden units of the network (n_1 + ... + n_H); hidden unit r counts
             the units of layer 1 first (r = 0 .. n_1 - 1), then layer 2, ...
    t        the iteration, 0, 1, 2, ... (FreshMasks counts its calls)

    row seed  s = splitmix64(key + (t * S + r + 1) * 0x9E3779B97F4A7C15)          (mod 2**64)
              splitmix64(z): z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27;
                             z *= 0x94D049BB133111EB; z ^= z >> 31
    example e x = ((s mod 2**32) + e * 0x9E3779B9 mod 2**32) XOR (s >> 32)          (32 bits)
              h = lowbias32(x): x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15;
                                x *= 0x846CA68B; x ^= x >> 16                        (mod 2**32)
    keep      unit r of example e is kept in iteration t  iff  h / 2**32 < keep_prob

The row seed is SplitMix64 (Steele, Lea and Flood 2014) started at the model's key and read at
position t * S + r + 1: every (iteration, unit) of a model gets its own well-mixed 64-bit seed,
and models with different keys get unrelated seeds. Within a row, the examples hash a Weyl
sequence with Wellons' ``lowbias32`` (two multiplies, cheap in vector registers). Masks are thus
deterministic per key (per seed, through ``params.model_streams``) and independent between
models, iterations, units and examples as far as the statistical tests in ``tests/test_kernels.py``
can tell. ``keep_prob`` acts at a resolution of 2**-32.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "COURSE_MASK_SEED",
    "course_draws",
    "CourseMasks",
    "FreshMasks",
    "MASK_MODES",
    "model_keys",
    "fresh_hashes",
    "fresh_masks",
]

COURSE_MASK_SEED = 1
MASK_MODES = ("course", "fresh")

# Constants of the fresh-mask hash (see the module docstring).
GOLDEN_64 = 0x9E3779B97F4A7C15  # SplitMix64's increment, 2**64 / golden ratio, odd
GOLDEN_32 = 0x9E3779B9  # the same for 32 bits: the step between examples
_MIX_64 = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
_MIX_32 = (0x7FEB352D, 0x846CA68B)


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


def model_keys(rngs: Sequence[np.random.Generator]) -> np.ndarray:
    """One fresh-mask key per model, (M,) uint64: the next raw 64-bit output of each generator."""
    return np.array([rng.bit_generator.random_raw() for rng in rngs], dtype=np.uint64)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(_MIX_64[0])
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(_MIX_64[1])
    return z ^ (z >> np.uint64(31))


def _lowbias32(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(_MIX_32[0])
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(_MIX_32[1])
    return x ^ (x >> np.uint32(16))


def fresh_hashes(keys: np.ndarray, iteration: int, n_hidden_units: int, m: int) -> np.ndarray:
    """The 32-bit hashes h of the module docstring for one iteration, (M, S, m) uint32.

    Parameters
    ----------
    keys : ndarray of shape (M,), uint64
        One key per model (see ``model_keys``).
    iteration : int
        The iteration t, >= 0.
    n_hidden_units : int
        S, the hidden units of all hidden layers together.
    m : int
        Number of examples.
    """
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
    counters = np.arange(1, n_hidden_units + 1, dtype=np.uint64) + np.uint64(iteration * n_hidden_units)  # (S,)
    seeds = _splitmix64(keys[:, None] + counters[None, :] * np.uint64(GOLDEN_64))  # (M, S), wraps mod 2**64
    low = (seeds & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    high = (seeds >> np.uint64(32)).astype(np.uint32)
    steps = np.arange(m, dtype=np.uint32) * np.uint32(GOLDEN_32)  # (m,), wraps mod 2**32
    return _lowbias32((low[:, :, None] + steps) ^ high[:, :, None])  # (M, S, m)


def fresh_masks(
    keys: np.ndarray, keep_prob: np.ndarray, shapes: Sequence[tuple[int, int]], iteration: int
) -> list[np.ndarray]:
    """The fresh masks of one iteration: one boolean (M, n_l, m) per hidden layer, True = kept.

    keys (M,) uint64; keep_prob (M, H); shapes [(n_1, m), ..., (n_H, m)]; iteration t >= 0.
    """
    keep_prob = np.asarray(keep_prob, dtype=float)
    sizes = [int(n) for n, _ in shapes]
    m = int(shapes[0][1])
    hashes = fresh_hashes(keys, iteration, sum(sizes), m)  # (M, S, m)
    # h / 2**32 < keep_prob, compared exactly: both sides are exact in float64.
    thresholds = keep_prob * 2.0**32  # (M, H)
    bounds = np.cumsum([0] + sizes)
    return [
        hashes[:, bounds[layer] : bounds[layer + 1]] < thresholds[:, layer, None, None]
        for layer in range(len(sizes))
    ]


class FreshMasks:
    """New masks every call, from each model's key and an iteration counter (module docstring).

    keep_prob: (M, H); rngs: M generators (see ``params.model_streams``), each advanced by one
    64-bit draw to make its model's key. The first call gives iteration ``start``'s masks, the
    next call the following iteration's, and so on.
    """

    def __init__(self, keep_prob: np.ndarray, rngs: Sequence[np.random.Generator], start: int = 0):
        self._keep_prob = np.asarray(keep_prob, dtype=float)
        rngs = list(rngs)
        if len(rngs) != self._keep_prob.shape[0]:
            raise ValueError(
                f"one generator per model is needed: {self._keep_prob.shape[0]} models, "
                f"{len(rngs)} generators"
            )
        self._keys = model_keys(rngs)
        self._iteration = int(start)

    @property
    def keys(self) -> np.ndarray:
        """The per-model keys, (M,) uint64 (a copy)."""
        return self._keys.copy()

    @property
    def iteration(self) -> int:
        """The iteration whose masks the next call returns."""
        return self._iteration

    def advance(self, n_iterations: int) -> None:
        """Skip ``n_iterations`` iterations, as that many calls would (the compiled engine does this)."""
        self._iteration += int(n_iterations)

    def __call__(self, shapes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
        masks = fresh_masks(self._keys, self._keep_prob, shapes, self._iteration)
        self._iteration += 1
        return masks
