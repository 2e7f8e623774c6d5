"""Drawing a run folder's figures: here, or in a separate process started before the work that needs them.

Loading matplotlib and setting up its fonts takes about a second. ``FigureWorker`` starts processes at
once that do that (once, in a fork server they are forked from) while the caller trains, then draw and
write the figures they are handed. A job is plain data: a figure function of ``reglab.plots`` (or
``reglab.statplots``), its arguments (arrays, titles, ``Model`` objects, which pickle by value) and the
path to write. The workers run the very functions a caller would run in-process, so their PNG files are
the same bytes.

``InProcess`` has the same interface and draws at once; ``reglab.report.write_compare_run`` uses it
when no worker is given.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .._signals import interrupts_deferred
from ..validation import check_int

__all__ = ["FigureWorker", "InProcess", "draw", "prepare_worker", "warm_up"]

_log = logging.getLogger(__name__)

_FORKSERVER = "forkserver"
_WARM_MODULE = "reglab.runs._figure_server"  # imported by the fork server: prepares it once for all workers
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
    from ..plots import save_figure

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write figure {path.name!r}: its folder {str(path.parent)!r} no longer exists")
    return save_figure(make_figure(*args, **kwargs), path)


def warm_up() -> None:
    """Load matplotlib and set up fonts and mathtext with a throwaway figure (nothing is written)."""
    import io

    from matplotlib.figure import Figure

    from .. import plots  # noqa: F401  (loaded now, not when the first job arrives)

    fig = Figure(figsize=(2.0, 1.5))
    ax = fig.add_subplot()
    ax.plot([0.0, 1.0], [0.0, 1.0], label="warm-up")
    ax.set_xlabel("$x_1$")
    ax.set_title("warm-up", fontsize="medium")
    ax.legend(fontsize="small")
    fig.savefig(io.BytesIO(), format="png", dpi=40)


_prepared = False  # set in a process prepared by prepare_worker (and so in every process forked from it)


def prepare_worker() -> None:
    """Make this process a figure worker: Ctrl-C ignored, one BLAS thread, matplotlib warmed up.

    The process that started the worker handles Ctrl-C and stops it. Several workers draw side by
    side, one per core: BLAS threads of their own (numpy's matrix products of the boundary grids)
    would only compete for the same cores, and OpenBLAS's idle threads spin while they wait (with
    two threads per worker on 2 cores, ``reglab compare`` took about 10% longer). A process forked
    from a prepared one (the fork server's workers) inherits all of this and returns at once.

    A worker ends by itself if the program that started it ends without stopping it (killed, say):
    it would otherwise wait for jobs forever, and keep the fork server alive too.
    """
    global _prepared
    _ignore_interrupts()
    _end_with_program()
    if _prepared:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    warm_up()
    _prepared = True


def _end_with_program() -> None:
    """In a worker process: exit as soon as the program that started it has ended."""
    program = multiprocessing.parent_process()  # for the fork server's workers too, the program
    if program is None or program.sentinel is None:  # not a worker (the fork server itself)
        return

    def watch() -> None:
        multiprocessing.connection.wait([program.sentinel])  # ready when the program is gone
        os._exit(1)

    threading.Thread(target=watch, name="reglab-watch-program", daemon=True).start()


def _started() -> bool:
    """A job that does nothing: submitting it starts a worker process."""
    return True


def _start(pool: ProcessPoolExecutor, processes: int) -> None:
    """Start the pool's processes now (a pool otherwise starts them as jobs arrive)."""
    for _ in range(processes):
        pool.submit(_started)


def _ignore_interrupts() -> None:
    """Ctrl-C reaches every process of the terminal's group; a worker leaves it to its parent."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


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

    Where the platform has it (Linux, macOS), the processes are forked from ``multiprocessing``'s
    fork server, a fresh interpreter (no copy of the caller's numba or BLAS threads) that loads
    matplotlib and draws a throwaway figure once (``prepare_worker``) before it forks them: two
    processes cost the warm-up of one. Elsewhere each process is a fresh interpreter that prepares
    itself ("spawn"). Each process uses one BLAS thread. They then wait for jobs. ``draw`` queues
    a figure and returns at once; ``wait`` returns when every queued figure is written, or raises
    the first job's error (the others are then cancelled). If the processes cannot start, or one
    dies, figures are drawn in this process instead. Use it as a context manager, or call
    ``close``, so that no process is left behind.

    A worker started from a script needs the script's own work under ``if __name__ == "__main__":``,
    as every "spawn" or "forkserver" process pool does (the new process imports the main module).
    The fork server is the one of ``multiprocessing``, shared by the whole program: the first
    ``FigureWorker`` starts it with matplotlib loaded, unless something else started it before.

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
        self._queueing = threading.Lock()  # draw() may be called from several threads
        self._pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._start_error: BaseException | None = None
        try:
            forked = _FORKSERVER in multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context(_FORKSERVER if forked else "spawn")
            with _interrupts_ignored():  # the processes (and the fork server) ignore Ctrl-C from their first instruction
                pool = ProcessPoolExecutor(self.processes, mp_context=context, initializer=prepare_worker)
                if forked:
                    context.set_forkserver_preload([_WARM_MODULE])  # no effect on a server already running
                    multiprocessing.forkserver.ensure_running()
                else:  # a "spawn" pool starts one process per job: start them now
                    _start(pool, self.processes)
        except Exception as error:  # whatever the platform refuses, the figures are still drawn
            _log.warning("figure worker did not start (%s); figures are drawn in this process", error)
            return
        self._pool = pool
        if forked:
            # Starting a process waits until the server has warmed up (about a second): in the background.
            starting = threading.Thread(target=self._start_forked, name="reglab-figure-start", daemon=True)
            try:
                with interrupts_deferred():  # once started, it is known (and joined when the worker stops)
                    starting.start()
                    self._starting = starting
            except BaseException:  # a Ctrl-C held back above: no worker is left behind
                self._stop()
                raise

    def _start_forked(self) -> None:
        try:
            _start(self._pool, self.processes)
        except BaseException as error:  # noqa: BLE001  (handed to the thread that draws: see _started_pool)
            self._start_error = error

    def _started_pool(self) -> ProcessPoolExecutor | None:
        """The pool once its processes are started (None if they could not be: figures are drawn here)."""
        if self._starting is not None:
            self._starting.join()
            self._starting = None
            if self._start_error is not None:
                self._lost(self._start_error)
        return self._pool

    @property
    def running(self) -> bool:
        """Whether figures go to worker processes (False: they are drawn in this process)."""
        return self._pool is not None

    def draw(self, path, make_figure: Callable[..., Any], /, *args, **kwargs) -> None:
        """Queue a figure: ``make_figure(*args, **kwargs)`` saved to ``path`` (see ``draw``).

        The arguments must pickle; the figure is written by the time ``wait`` returns. Several
        threads may queue figures at the same time (``wait`` belongs to one of them).
        """
        with self._queueing:
            pool = self._started_pool()
            if pool is not None:
                try:
                    future = pool.submit(draw, path, make_figure, *args, **kwargs)
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
        if self._starting is not None:  # every process started is one to end
            self._starting.join()
            self._starting = None
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # The pool's own list of its processes: concurrent.futures has no public way to end them
        # before Python 3.14 (ProcessPoolExecutor.terminate_workers, which does what follows).
        processes = list((getattr(pool, "_processes", None) or {}).values())
        # ... and its manager thread, which a shutdown without waiting lets go: it is joined below, so
        # that the pool's queues are released here and not by that thread while the program exits
        # (their named semaphores were then unlinked without the resource tracker hearing of it, which
        # printed a "leaked semaphore" warning now and then).
        manager = getattr(pool, "_executor_manager_thread", None)
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
        if manager is not None:
            manager.join()


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
