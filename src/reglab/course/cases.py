"""The inputs of the notebook's four graded-function checks (its ``testCases`` module).

The course builds them with ``np.random.seed(1)`` followed by ``randn`` draws, and writes the rest
as literals printed to 8 decimals. The draws are reproduced with a private ``RandomState(1)``, so
the global generator is left alone; every call returns new arrays. Layout as in ``reglab.course``:
(features x examples), parameters as a dict, the cache as the course's tuple.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "compute_cost_with_regularization_test_case",
    "backward_propagation_with_regularization_test_case",
    "forward_propagation_with_dropout_test_case",
    "backward_propagation_with_dropout_test_case",
]

_Y_ASSESS = [[1, 1, 0, 1, 0]]
_A3_ASSESS = [[0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402]]
_Z1 = [[-1.52855314, 3.32524635, 2.13994541, 2.60700654, -0.75942115], [-1.98043538, 4.1600994, 0.79051021, 1.46493512, -0.45506242]]
_W1 = [[-1.09989127, -0.17242821, -0.87785842], [0.04221375, 0.58281521, -1.10061918]]
_B1 = [[1.14472371], [0.90159072]]
_W2 = [[0.50249434, 0.90085595], [-0.68372786, -0.12289023], [-0.93576943, -0.26788808]]
_B2 = [[0.53035547], [-0.69166075], [-0.39675353]]
_W3 = [[-0.6871727, -0.84520564, -0.67124613]]
_B3 = [[-0.0126646]]


def _draw_parameters(legacy: np.random.RandomState) -> dict[str, np.ndarray]:
    """W1 (2, 3), b1, W2 (3, 2), b2, W3 (1, 3), b3 drawn in that order with randn."""
    shapes = {"W1": (2, 3), "b1": (2, 1), "W2": (3, 2), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}
    return {key: legacy.randn(*shape) for key, shape in shapes.items()}


def _cache(hidden_1: list, hidden_2: list, output: list) -> tuple[np.ndarray, ...]:
    """The course's cache tuple from each layer's varying arrays plus the fixed W and b literals."""
    return (
        *map(np.array, hidden_1), np.array(_W1), np.array(_B1),
        *map(np.array, hidden_2), np.array(_W2), np.array(_B2),
        *map(np.array, output), np.array(_W3), np.array(_B3),
    )


def compute_cost_with_regularization_test_case() -> tuple[np.ndarray, np.ndarray, dict]:
    """``(A3 (1, 5), Y (1, 5), parameters)`` of the course's check of ``compute_cost_with_regularization``."""
    parameters = _draw_parameters(np.random.RandomState(1))
    return np.array(_A3_ASSESS), np.array(_Y_ASSESS), parameters


def backward_propagation_with_regularization_test_case() -> tuple[np.ndarray, np.ndarray, tuple]:
    """``(X (3, 5), Y (1, 5), cache)`` of the course's check of ``backward_propagation_with_regularization``.

    The cache is ``(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)``.
    """
    X = np.random.RandomState(1).randn(3, 5)
    cache = _cache(
        [_Z1, [[0.0, 3.32524635, 2.13994541, 2.60700654, 0.0], [0.0, 4.1600994, 0.79051021, 1.46493512, 0.0]]],
        [
            [[0.53035547, 5.94892323, 2.31780174, 3.16005701, 0.53035547],
             [-0.69166075, -3.47645987, -2.25194702, -2.65416996, -0.69166075],
             [-0.39675353, -4.62285846, -2.61101729, -3.22874921, -0.39675353]],
            [[0.53035547, 5.94892323, 2.31780174, 3.16005701, 0.53035547], [0.0] * 5, [0.0] * 5],
        ],
        [[[-0.3771104, -4.10060224, -1.60539468, -2.18416951, -0.3771104]], _A3_ASSESS],
    )
    return X, np.array(_Y_ASSESS), cache


def forward_propagation_with_dropout_test_case() -> tuple[np.ndarray, dict]:
    """``(X (3, 5), parameters)`` of the course's check of ``forward_propagation_with_dropout``."""
    legacy = np.random.RandomState(1)
    X = legacy.randn(3, 5)
    return X, _draw_parameters(legacy)


def backward_propagation_with_dropout_test_case() -> tuple[np.ndarray, np.ndarray, tuple]:
    """``(X (3, 5), Y (1, 5), cache)`` of the course's check of ``backward_propagation_with_dropout``.

    The cache is ``(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)``; D1 and D2 are bool masks.
    """
    X = np.random.RandomState(1).randn(3, 5)
    cache = _cache(
        [
            _Z1,
            [[True, False, True, True, True], [True, True, True, True, False]],
            [[0.0, 0.0, 4.27989081, 5.21401307, 0.0], [0.0, 8.32019881, 1.58102041, 2.92987024, 0.0]],
        ],
        [
            [[0.53035547, 8.02565606, 4.10524802, 5.78975856, 0.53035547],
             [-0.69166075, -1.71413186, -3.81223329, -4.61667916, -0.69166075],
             [-0.39675353, -2.62563561, -4.82528105, -6.0607449, -0.39675353]],
            [[True, False, True, False, True], [False, True, False, True, True], [False, False, True, False, False]],
            [[1.06071093, 0.0, 8.21049603, 0.0, 1.06071093], [0.0] * 5, [0.0] * 5],
        ],
        [
            [[-0.7415562, -0.0126646, -5.65469333, -0.0126646, -0.7415562]],
            [[0.32266394, 0.49683389, 0.00348883, 0.49683389, 0.32266394]],
        ],
    )
    return X, np.array(_Y_ASSESS), cache
