"""Drawing a run folder's figures: here, or in a separate process started before the work that needs them.

Loading matplotlib and setting up its fonts takes about a second. ``FigureWorker`` starts a process at
once that does that while the caller trains, then draws and writes the figures it is handed. A job is
plain data: a figure function of ``reglab.plots`` (or ``reglab.statplots``), its arguments (arrays,
titles, ``Model`` objects, which pickle by value) and the path to write. The worker runs the very
functions a caller would run in-process, so its PNG files are the same bytes.

``InProcess`` has the same interface and draws at once; ``reglab.report.write_compare_run`` uses it
when no worker is given. ``KnownPredictions`` lets a model's 400 x 400 decision-boundary grid be
computed once (by the caller, which has numpy loaded and is otherwise waiting) and reused by every
figure that shows it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .validation import check_int

__all__ = ["FigureWorker", "InProcess", "KnownPredictions", "boundary_predictions", "draw", "warm_up"]

_log = logging.getLogger(__name__)

_JOIN_SECONDS = 5.0  # how long a stopped worker process may take to end before it is killed


# ---- jobs (these run in the worker) ------------------------------------------------------------
def draw(path, make_figure: Callable[..., Any], /, *args, **kwargs) -> Path:
    """Build a figure with ``make_figure(*args, **kwargs)`` and save it to ``path`` (``plots.save_figure``).

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its folder must already exist (a job never re-creates a run folder that was
        removed because the run failed or was interrupted).
    make_figure : callable
        A function returning a matplotlib Figure, e.g. ``reglab.plots.decision_boundary``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from .plots import save_figure

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write figure {path.name!r}: its folder {str(path.parent)!r} no longer exists")
    return save_figure(make_figure(*args, **kwargs), path)


def warm_up() -> None:
    """Load matplotlib and set up fonts and mathtext with a throwaway figure (nothing is written).

    Also makes the process ignore Ctrl-C: the process that started it stops it.
    """
    _ignore_interrupts()
    import io

    from matplotlib.figure import Figure

    from . import plots  # noqa: F401  (loaded now, not when the first job arrives)

    fig = Figure(figsize=(2.0, 1.5))
    ax = fig.add_subplot()
    ax.plot([0.0, 1.0], [0.0, 1.0], label="warm-up")
    ax.set_xlabel("$x_1$")
    ax.set_title("warm-up", fontsize="medium")
    ax.legend(fontsize="small")
    fig.savefig(io.BytesIO(), format="png", dpi=40)


def _started() -> bool:
    """A job that does nothing: submitting it starts a worker process."""
    return True


def _ignore_interrupts() -> None:
    """Ctrl-C reaches every process of the terminal's group; a worker leaves it to its parent."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# ---- predictions computed once -----------------------------------------------------------------
def _points_key(points: np.ndarray) -> tuple:
    """Identity of a set of points (k, 2) by content: shape, dtype and a hash of the values."""
    points = np.ascontiguousarray(points)
    return points.shape, points.dtype.str, hashlib.blake2b(points.tobytes(), digest_size=20).digest()


class KnownPredictions:
    """A model whose predictions at some sets of points were computed in advance.

    ``predict_proba`` returns the stored values for those points (a copy) and asks the model for any
    other points, so figures drawn with it are the ones drawn with the model itself. It pickles with
    its stored values, which is how a worker process receives them.

    Parameters
    ----------
    model : object
        With ``predict_proba(points (k, n_features)) -> (k,)``, e.g. ``reglab.Model``.
    """

    def __init__(self, model):
        self.model = model
        self._known: dict[tuple, np.ndarray] = {}  # key of the points -> values (k,)

    def add(self, points: np.ndarray) -> None:
        """Compute and keep the model's predictions at ``points`` (k, n_features), once."""
        key = _points_key(points)
        if key not in self._known:
            self._known[key] = np.asarray(self.model.predict_proba(points))

    def predict_proba(self, points) -> np.ndarray:
        """The model's probabilities at ``points`` (k, n_features): (k,)."""
        array = np.asarray(points)
        values = self._known.get(_points_key(array)) if array.dtype != object else None
        return self.model.predict_proba(points) if values is None else values.copy()

    def __len__(self) -> int:
        return len(self._known)


def boundary_predictions(model, X, y, X_test=None, y_test=None) -> KnownPredictions:
    """``model`` with its predictions on the default decision-boundary grids computed in advance.

    Parameters
    ----------
    model : object
        With ``predict_proba(points (k, 2)) -> (k,)``, e.g. ``reglab.Model``.
    X, y : arrays of shape (n, 2) and (n,)
        The training points the figures will be given.
    X_test, y_test : arrays of shape (k, 2) and (k,), optional
        The test points the figures will be given.

    Returns
    -------
    KnownPredictions
        Holding the 400 x 400 grid of ``plots.decision_boundary`` (the view of all points, train
        and test) and that of ``plots.models_side_by_side`` (the view of the training points): one
        grid when the two views agree.
    """
    from .drawing import boundary_grid, check_data, data_limits

    data = check_data(X, y, X_test, y_test)
    known = KnownPredictions(model)
    for show_test in (True, False):
        known.add(boundary_grid(*data_limits(data, show_test))[2])
    return known


# ---- where the jobs run ------------------------------------------------------------------------
class InProcess:
    """Draws each figure at once, in this process: the interface of ``FigureWorker`` without a worker."""

    def draw(self, path, make_figure: Callable[..., Any], /, *args, **kwargs) -> None:
        """Draw and save the figure now (see ``draw``)."""
        draw(path, make_figure, *args, **kwargs)

    def wait(self) -> None:
        """Nothing to wait for: every figure is written when ``draw`` returns."""

    def cancel(self) -> None:
        """Nothing to cancel."""

    def close(self) -> None:
        """Nothing to stop."""

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class _Job:
    future: Future
    path: Path
    make_figure: Callable[..., Any]
    args: tuple
    kwargs: dict


class FigureWorker:
    """Processes that draw and write figures, started at once so that matplotlib loads meanwhile.

    Each process starts with ``multiprocessing``'s "spawn" method (a fresh interpreter: no copy of
    the caller's numba or BLAS threads), loads matplotlib and draws a throwaway figure
    (``warm_up``), then waits for jobs. ``draw`` queues a figure and returns at once; ``wait``
    returns when every queued figure is written, or raises the first job's error (the others are
    then cancelled). If the processes cannot start, or one dies, figures are drawn in this process
    instead. Use it as a context manager, or call ``close``, so that no process is left behind.

    A worker started from a script needs the script's own work under ``if __name__ == "__main__":``,
    as every "spawn" process pool does (the new interpreter imports the main module).

    Parameters
    ----------
    processes : int
        Worker processes (>= 1). Figures are shared among them in the order they are queued.

    Examples
    --------
    >>> with FigureWorker() as figures:  # doctest: +SKIP
    ...     model = reglab.fit(X, y)  # matplotlib loads in the worker meanwhile
    ...     write_compare_run(result, "runs/study", figures=figures)
    """

    def __init__(self, processes: int = 1):
        self.processes = check_int("processes", processes, low=1)
        self._jobs: list[_Job] = []
        self._pool: ProcessPoolExecutor | None = None
        try:
            with _interrupts_ignored():  # the processes ignore Ctrl-C from their first instruction
                pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=warm_up
                )
                for _ in range(self.processes):  # a "spawn" pool starts one process per job: start them now
                    pool.submit(_started)
        except Exception as error:  # whatever the platform refuses, the figures are still drawn
            _log.warning("figure worker did not start (%s); figures are drawn in this process", error)
        else:
            self._pool = pool

    @property
    def running(self) -> bool:
        """Whether figures go to worker processes (False: they are drawn in this process)."""
        return self._pool is not None

    def draw(self, path, make_figure: Callable[..., Any], /, *args, **kwargs) -> None:
        """Queue a figure: ``make_figure(*args, **kwargs)`` saved to ``path`` (see ``draw``).

        The arguments must pickle; the figure is written by the time ``wait`` returns.
        """
        if self._pool is not None:
            try:
                future = self._pool.submit(draw, path, make_figure, *args, **kwargs)
            except (BrokenProcessPool, RuntimeError) as error:  # a worker died, or the pool was shut down
                self._lost(error)
            else:
                self._jobs.append(_Job(future, Path(path), make_figure, args, kwargs))
                return
        draw(path, make_figure, *args, **kwargs)

    def wait(self) -> None:
        """Return when every queued figure is written; raise the first failed job's error.

        After an error (or Ctrl-C) the jobs still queued are cancelled and the worker is stopped
        (``cancel``), so that nothing writes into the run folder once the caller removes it.
        """
        jobs, self._jobs = self._jobs, []
        try:
            for k, job in enumerate(jobs):
                try:
                    job.future.result()
                except BrokenProcessPool as error:  # the worker died (killed, or could not start): draw here
                    self._lost(error)
                    for lost in jobs[k:]:
                        draw(lost.path, lost.make_figure, *lost.args, **lost.kwargs)
                    return
        except BaseException:
            self._jobs = jobs
            self.cancel()
            raise

    def cancel(self) -> None:
        """Drop the queued figures and stop the worker processes now; later figures are drawn here.

        A figure being written when this is called is left as a temporary ``.partial`` file (never
        under its own name), for the caller to remove with the run folder.
        """
        jobs, self._jobs = self._jobs, []
        for job in jobs:
            job.future.cancel()
        self._stop()

    def close(self) -> None:
        """Wait for the queued figures (as ``wait``), then end the worker processes; safe to call twice."""
        try:
            self.wait()
        finally:
            # Every figure is written: ending the idle processes at once spares the wait for their
            # interpreters to tear matplotlib down (about 0.2 s).
            self._stop()

    def __enter__(self) -> FigureWorker:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.cancel()

    def _lost(self, error: BaseException) -> None:
        _log.warning("figure worker stopped (%s); drawing the remaining figures in this process", error)
        self._stop()

    def _stop(self) -> None:
        """End the worker processes now (queued jobs are cancelled) and wait until they are gone."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # The pool's own list of its processes: concurrent.futures has no public way to end them
        # before Python 3.14 (ProcessPoolExecutor.terminate_workers, which does what follows).
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(_JOIN_SECONDS)
            if process.is_alive():  # SIGTERM did not end it
                process.kill()
                process.join()
        pool.shutdown(wait=True)


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while processes start (they inherit it); restore the handler after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
