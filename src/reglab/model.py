"""A trained network: its settings, parameters and cost history; prediction, saving, loading.

Saved models are ``.npz`` files that load with ``allow_pickle=False``: the weights ``W1..WL`` and
biases ``b1..bL`` in the course's (units x inputs) layout, the class labels, the cost history and
a JSON ``meta`` string (format version, reglab version, settings, layer sizes).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import npzfile
from ._version import __version__
from .engine import network, ops
from .config import TrainConfig
from .files import atomic_path
from .engine.loop import History
from .engine.params import Params
from .validation import check_X

__all__ = ["History", "Model", "load_model", "MODEL_FORMAT_VERSION"]

MODEL_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Model:
    """One trained network. Use ``reglab.fit`` to make one and ``load_model`` to read one."""

    config: TrainConfig
    params: Params = field(repr=False)  # M = 1 (the repr names the model, it does not print its arrays)
    history: History = field(repr=False)
    classes: np.ndarray  # (2,): the label predicted for output 0 and for output 1
    # Input standardisation learnt from the training points, applied before the network; None: none.
    input_mean: np.ndarray | None = None  # (n_features,)
    input_scale: np.ndarray | None = None  # (n_features,), > 0

    @property
    def n_features(self) -> int:
        return self.params.layer_sizes[0]

    @property
    def standardized(self) -> bool:
        return self.input_mean is not None

    def _network_inputs(self, X) -> np.ndarray:
        """Validated X (n_samples, n_features), standardised if the model was, in the engine's layout."""
        X = check_X(X, n_features=self.n_features)
        if self.input_mean is not None:
            X = (X - self.input_mean) / self.input_scale
        return X.T

    def _logits(self, X) -> np.ndarray:
        """The network's output before the sigmoid, (n_samples,); refuses X that overflows it."""
        X = check_X(X, n_features=self.n_features)
        # Values far outside the training range can overflow to inf - inf = NaN: refused below.
        with np.errstate(over="ignore", invalid="ignore"):
            logits = network.forward(self.params, self._network_inputs(X)).logits[0, 0, :]
        undefined = np.flatnonzero(np.isnan(logits))
        if undefined.size:
            raise ValueError(
                f"X holds values too large for this model: the network overflows on {undefined.size} row(s) "
                f"(first: row {undefined[0]}, largest |value| {np.max(np.abs(X[undefined[0]])):.3g}); "
                f"rescale X as the training data was"
            )
        return logits

    def predict_proba(self, X) -> np.ndarray:
        """Probability of ``classes[1]`` for each row of X (n_samples, n_features): (n_samples,)."""
        return ops.sigmoid(self._logits(X))

    def decision_function(self, X) -> np.ndarray:
        """The network's output before the sigmoid (logit of ``classes[1]``), (n_samples,)."""
        return self._logits(X)

    def predict(self, X) -> np.ndarray:
        """Predicted labels, (n_samples,): ``classes[1]`` where the probability is above 0.5."""
        return self.classes[(self.predict_proba(X) > 0.5).astype(int)]

    def accuracy(self, X, y) -> float:
        """Fraction of rows of X whose predicted label equals y."""
        predictions = self.predict(X)
        return self.agreement(predictions, y) / predictions.shape[0]

    def agreement(self, predictions, y) -> int:
        """How many ``predictions`` (labels, as ``predict`` gives them) equal the labels ``y``, as ``accuracy`` counts."""
        y = np.asarray(y).ravel()
        predictions = np.asarray(predictions)
        if y.shape[0] != predictions.shape[0]:
            raise ValueError(
                f"X and y must have the same number of samples; got {predictions.shape[0]} and {y.shape[0]}"
            )
        if y.dtype.kind in "biuf" and self.classes.dtype.kind in "biuf":
            matches = predictions == y  # numbers as numbers: no cast that could overflow or truncate
        else:
            matches = predictions.astype(str) == y.astype(str)  # text labels (or a mix) by their text
        return int(np.count_nonzero(matches))

    def unknown_labels(self, y) -> list:
        """The distinct labels of ``y`` that are not this model's classes (at most five), compared as ``accuracy``
        compares them; empty when every label is one of ``classes``."""
        labels = np.unique(np.asarray(y).ravel())
        if labels.dtype.kind in "biuf" and self.classes.dtype.kind in "biuf":
            unknown = labels[~np.isin(labels, self.classes)]
        else:
            unknown = labels[~np.isin(labels.astype(str), self.classes.astype(str))]
        return [value.item() if hasattr(value, "item") else value for value in unknown[:5]]

    def weight_norm(self) -> float:
        """Euclidean norm of all weights together (biases excluded)."""
        return float(np.sqrt(sum(np.sum(np.square(W)) for W in self.params.weights)))

    # ---- files -------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the model to ``path`` (``.npz``), atomically; returns the path.

        ``path`` may also be a binary file object (e.g. ``io.BytesIO``), which the ``.npz`` is written to
        (the web page sends a model this way, with no file on disk); it is returned as given.
        """
        target = path if hasattr(path, "write") else Path(path)
        meta = {
            "format": "reglab-model",
            "format_version": MODEL_FORMAT_VERSION,
            "reglab_version": __version__,
            "layer_sizes": list(self.params.layer_sizes),
            "config": self.config.to_dict(),
        }
        arrays = {"meta": np.array(json.dumps(meta)), "classes": np.asarray(self.classes)}
        for layer, (W, b) in enumerate(zip(self.params.weights, self.params.biases), start=1):
            arrays[f"W{layer}"] = W[0]
            arrays[f"b{layer}"] = b[0]
        if self.input_mean is not None:
            arrays["input_mean"], arrays["input_scale"] = self.input_mean, self.input_scale
        arrays["history_iterations"] = self.history.iterations
        arrays["history_cost"] = self.history.cost
        if self.history.early_stopped:
            arrays["history_dev_cost"] = self.history.dev_cost
            arrays["history_dev_accuracy"] = self.history.dev_accuracy
            arrays["history_best_stopped"] = np.array([self.history.best_iteration, self.history.stopped_iteration])
        if hasattr(path, "write"):  # a file object
            np.savez(path, **arrays)
            return path
        with atomic_path(target) as temporary:
            with open(temporary, "wb") as handle:
                np.savez(handle, **arrays)
        return target


def _model_error(path, detail: str) -> ValueError:
    return ValueError(f"model file {str(path)!r} is not a readable reglab model: {detail}")


def load_model(path) -> Model:
    """Read a model written by ``Model.save`` (or ``reglab train``), checking it thoroughly."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise _model_error(path, "not a complete .npz file (no zip archive found)")
    try:
        npzfile.check_declared(path, "model file")  # a small file may declare huge arrays: refused before reading
    except ValueError:  # malformed: np.load below says how
        pass
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise _model_error(path, "it holds object arrays, which reglab never writes") from None
        raise _model_error(path, str(error)) from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError, RuntimeError) as error:
        # zipfile: NotImplementedError for unknown versions or compression, RuntimeError for encryption
        raise _model_error(path, f"not a complete .npz file ({type(error).__name__}: {error})") from None
    if "meta" not in arrays:
        raise _model_error(path, "no 'meta' entry")
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as error:
        raise _model_error(path, f"its 'meta' entry is not JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != "reglab-model":
        raise _model_error(path, "its 'meta' entry does not describe a reglab model")
    version = meta.get("format_version")
    if version != MODEL_FORMAT_VERSION:
        raise _model_error(
            path, f"format version {version!r}; this reglab ({__version__}) reads version {MODEL_FORMAT_VERSION}"
        )
    try:
        config = TrainConfig.from_dict(meta["config"])
        sizes = [int(s) for s in meta["layer_sizes"]]
    except (KeyError, TypeError, ValueError) as error:
        raise _model_error(path, f"invalid settings in 'meta' ({error})") from None
    if sizes[1:-1] != list(config.hidden_layer_sizes) or sizes[-1] != 1 or len(sizes) < 2:
        raise _model_error(path, f"layer sizes {sizes} disagree with its settings {config.hidden_layer_sizes}")
    weights, biases = [], []
    for layer in range(1, len(sizes)):
        expected = {f"W{layer}": (sizes[layer], sizes[layer - 1]), f"b{layer}": (sizes[layer], 1)}
        for key, shape in expected.items():
            if key not in arrays:
                raise _model_error(path, f"missing array {key!r}")
            array = arrays[key]
            if array.shape != shape:
                raise _model_error(path, f"{key} has shape {array.shape}; its layer sizes {sizes} need {shape}")
            if array.dtype.kind != "f" or not np.all(np.isfinite(array)):
                raise _model_error(path, f"{key} must hold finite floating-point numbers")
        weights.append(arrays[f"W{layer}"].astype(np.float64)[None])
        biases.append(arrays[f"b{layer}"].astype(np.float64)[None])
    classes = arrays.get("classes")
    if classes is None or classes.shape != (2,):
        raise _model_error(path, "'classes' must hold the two class labels")
    iterations = arrays.get("history_iterations", np.zeros(0, dtype=int))
    cost = arrays.get("history_cost", np.zeros(0))
    if iterations.shape != cost.shape:
        raise _model_error(path, "its cost history has inconsistent shapes")
    history = History(iterations, cost)
    if "history_dev_cost" in arrays:
        dev_cost, dev_accuracy = arrays["history_dev_cost"], arrays.get("history_dev_accuracy")
        best_stopped = arrays.get("history_best_stopped")
        if dev_accuracy is None or dev_cost.shape != iterations.shape or dev_accuracy.shape != iterations.shape \
                or best_stopped is None or best_stopped.shape != (2,):
            raise _model_error(path, "its early-stopping history has inconsistent shapes")
        history = History(iterations, cost, dev_cost, dev_accuracy, int(best_stopped[0]), int(best_stopped[1]))
    scaling = [arrays.get("input_mean"), arrays.get("input_scale")]
    if (scaling[0] is None) != (scaling[1] is None):
        raise _model_error(path, "it holds only one of 'input_mean' and 'input_scale'")
    if scaling[0] is not None:
        for key, array in zip(("input_mean", "input_scale"), scaling):
            if array.shape != (sizes[0],) or array.dtype.kind != "f" or not np.all(np.isfinite(array)):
                raise _model_error(path, f"{key} must hold {sizes[0]} finite numbers; got shape {array.shape}")
        if np.any(scaling[1] <= 0):
            raise _model_error(path, "input_scale must be positive")
    return Model(config, Params(tuple(weights), tuple(biases)), history, classes, *scaling)
