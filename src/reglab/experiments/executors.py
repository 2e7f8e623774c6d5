"""Where chunks of models train: in this process (``LocalExecutor``) or on a Dask cluster (``DaskExecutor``).

An executor runs ``function(shared, chunk, **options)`` for every chunk and yields ``(index, result)``
as each chunk finishes. ``shared`` (the data) reaches every worker once; results come back to the
caller only, which alone writes the store. ``connect`` makes the executor the user asked for:

- nothing: ``LocalExecutor``, one chunk after the other in this process; Dask is never imported;
- ``"local:N"``: a ``LocalCluster`` of N worker processes on 127.0.0.1, one thread each by default;
- ``"tcp://HOST:PORT"`` (or ``"HOST:PORT"``), or a scheduler file: an existing cluster.

Before any work, every worker is checked to run the same code as this process (``environment``:
reglab, a digest of its training code, NumPy, numba, Python); a worker that differs is refused by
name. Each task checks its worker again (a worker may join later), and loads the compiled engine
there once. What a chunk is and how a grid is cut into chunks: ``chunks``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources
from typing import Any

from ..validation import check_int, check_real, describe

__all__ = [
    "ClusterError",
    "ClusterUnreachableError",
    "WorkerMismatchError",
    "Executor",
    "LocalExecutor",
    "DaskExecutor",
    "connect",
    "environment",
    "differences",
]

#: What must be equal on every worker and here for a cluster to give this process's numbers.
CHECKED = ("reglab", "engine", "numpy", "numba", "python")

#: The modules whose source decides a trained model's numbers: their digest is the ``engine`` entry.
ENGINE_SOURCES = ("engine", "training.py", "config.py", "settings.py", "model.py")


class ClusterError(ValueError):
    """A Dask cluster cannot be used as asked (the message says why and what to do)."""


class ClusterUnreachableError(ClusterError, ConnectionError):
    """The scheduler cannot be reached, or it has no workers within the timeout."""


class WorkerMismatchError(ClusterError):
    """A worker runs other code than this process (reglab, its training code, NumPy, numba or Python)."""


# ---- what a process runs -----------------------------------------------------------------------------
@functools.cache
def _engine_digest() -> str:
    """SHA-256 (16 hex digits) of the training code's source, as this process first read it."""
    digest = hashlib.sha256()
    package = resources.files("reglab")
    for name in ENGINE_SOURCES:
        entry = package.joinpath(name)
        files = sorted((f for f in entry.iterdir() if f.name.endswith(".py")), key=lambda f: f.name) \
            if entry.is_dir() else [entry]
        for file in files:
            digest.update(f"{name}/{file.name}\0".encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def environment() -> dict[str, str]:
    """What decides this process's numbers: reglab's version, the digest of its training code
    (``ENGINE_SOURCES``), NumPy's, numba's and Python's versions. numba is not imported."""
    import numpy

    from .. import __version__

    return {
        "reglab": __version__,
        "engine": _engine_digest(),
        "numpy": numpy.__version__,
        "numba": importlib.metadata.version("numba"),
        "python": platform.python_version(),
    }


def differences(here: Mapping[str, str], there: Mapping[str, str]) -> list[str]:
    """The checked entries (``CHECKED``) in which ``there`` differs from ``here``, in words."""
    return [f"{name} {there.get(name, 'missing')} (here: {here.get(name, 'missing')})"
            for name in CHECKED if here.get(name) != there.get(name)]


@functools.cache
def _worker_environment() -> tuple[tuple[str, str], ...]:
    """This worker's environment, computed once per process, after loading the compiled engine."""
    from ..engine.compiled import prepare

    prepare()  # compiles or loads numba's cache once per worker process: the first chunk does not pay it
    return tuple(environment().items())


def _probe() -> dict:
    """Run on each worker before any work: its environment, CPU count and process id."""
    start = time.perf_counter()
    found = dict(_worker_environment())
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {"environment": found, "cpus": cpus, "pid": os.getpid(), "prepare_seconds": time.perf_counter() - start}


def _run_chunk(function: Callable, shared: Any, chunk: Any, expected: dict[str, str], options: dict) -> Any:
    """A chunk on a worker: refuse if this worker runs other code than the client, else run it."""
    found = dict(_worker_environment())
    wrong = differences(expected, found)
    if wrong:
        from distributed import get_worker

        raise WorkerMismatchError(f"worker {get_worker().address} runs other code than the client: {'; '.join(wrong)}")
    return function(shared, chunk, **options)


# ---- executors ---------------------------------------------------------------------------------------
def _check_function(function) -> None:
    """A chunk function must be a top-level function: workers import it by name, with the checked code."""
    if not callable(function):
        raise TypeError(f"function must be a top-level function f(shared, chunk, **options); got {describe(function)}")
    name = getattr(function, "__qualname__", "")
    if "<" in name:  # <lambda>, <locals>
        raise TypeError(f"function must be a top-level function of an importable module (workers import it by "
                        f"name); got {name} from {getattr(function, '__module__', '?')}")


class Executor:
    """Runs ``function(shared, chunk, **options)`` for each chunk; see ``LocalExecutor`` and ``DaskExecutor``."""

    #: The dashboard's address (``http://...``), or None.
    dashboard: str | None = None
    #: The numba threads one chunk should use (``chunks.train_chunk(threads=...)``); None: numba's default.
    engine_threads: int | None = None

    @property
    def slots(self) -> int:
        """How many chunks run at once."""
        raise NotImplementedError

    def map(self, function: Callable, shared: Any, chunks: Sequence, **options) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, function(shared, chunks[index], **options))`` once per chunk, as each finishes.

        ``function`` is a top-level function of an importable module; ``shared`` reaches each worker
        once. An error in a chunk is raised here, and the chunks not yet finished are cancelled.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release what this executor started (nothing for ``LocalExecutor``)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class LocalExecutor(Executor):
    """In this process, one chunk after the other (the compiled engine shares each chunk over the cores)."""

    @property
    def slots(self) -> int:
        return 1

    def map(self, function, shared, chunks, **options):
        _check_function(function)
        chunks = list(chunks)
        return ((index, function(shared, chunk, **options)) for index, chunk in enumerate(chunks))

    def __repr__(self) -> str:
        return "LocalExecutor()"


class DaskExecutor(Executor):
    """Chunks on the workers of a Dask cluster; made by ``connect``, which checks the workers first.

    Attributes
    ----------
    client : distributed.Client
    cluster : distributed.LocalCluster or None
        The cluster this executor started (``local:N``), closed with it.
    workers : dict
        Per worker address (at connection): its ``environment``, ``cpus``, ``pid``, ``host``, ``nthreads``.
    engine_threads : int
        numba threads per chunk so that a host's chunks together use its CPUs and no more: the smallest,
        over the hosts, of CPUs // Dask threads on that host (at least 1).
    """

    def __init__(self, client, cluster=None, workers: Mapping[str, dict] | None = None):
        self.client = client
        self.cluster = cluster
        self.workers = dict(workers or {})
        self.expected = environment()
        self.engine_threads = _engine_threads(self.workers) if self.workers else 1
        try:
            self.dashboard = client.dashboard_link
        except (KeyError, AttributeError):  # a scheduler without a dashboard
            self.dashboard = None

    @property
    def slots(self) -> int:
        """Dask threads over all workers now: the chunks that run at once."""
        return max(1, sum(self.client.nthreads().values()))

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def map(self, function, shared, chunks, **options):
        _check_function(function)
        return self._map(function, shared, list(chunks), options)

    def _map(self, function, shared, chunks, options):
        from concurrent.futures import CancelledError  # Dask's FutureCancelledError is one

        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if not chunks:
            return
        client = self.client
        [data] = client.scatter([shared], broadcast=True, hash=False)  # a list: the mapping goes as one object
        token = uuid.uuid4().hex[:12]
        futures = {
            client.submit(_run_chunk, function, data, chunk, self.expected, options,
                          key=f"reglab-chunk-{token}-{index}"): index
            for index, chunk in enumerate(chunks)
        }
        try:
            for future in as_completed(list(futures)):
                # A chunk is one future, whichever workers ran it; popped, it cannot be yielded again.
                index = futures.pop(future, None)
                if index is None:
                    continue
                try:
                    result = future.result()
                except KilledWorker as error:
                    raise ClusterError(
                        f"chunk {index} was lost: the workers that ran it died ({error}); look at the workers' logs "
                        f"(memory, signals) or use smaller chunks") from None
                except CancelledError as error:
                    raise ClusterError(f"chunk {index} was cancelled on the cluster ({error}): the workers holding "
                                       f"the data may all have died, or the cluster was restarted") from None
                future.release()
                yield index, result
        finally:
            if client.status == "running":  # not after close()
                client.cancel(list(futures) + [data], force=True)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address!r}, workers={len(self.workers)}, engine_threads={self.engine_threads})"


def _engine_threads(workers: Mapping[str, dict]) -> int:
    hosts: dict[str, list[dict]] = {}
    for info in workers.values():
        hosts.setdefault(info["host"], []).append(info)
    return min(max(1, max(w["cpus"] for w in ws) // max(1, sum(w["nthreads"] for w in ws))) for ws in hosts.values())


# ---- connecting --------------------------------------------------------------------------------------
_LOCAL = re.compile(r"local:(\d+)")
_HOST_PORT = re.compile(r"[\w.\-\[\]:]+:\d+")


def _scheduler_address(scheduler: str) -> str | int:
    """The number of local workers (``local:N``) or a scheduler address with its protocol."""
    if not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be a string such as 'local:2' or 'tcp://HOST:PORT'; got {describe(scheduler)}")
    text = scheduler.strip()
    local = _LOCAL.fullmatch(text)
    if local:
        if not 1 <= int(local.group(1)) <= 1024:
            raise ValueError(f"scheduler 'local:N' needs N from 1 to 1024 worker processes; got {describe(scheduler)}")
        return int(local.group(1))
    if "://" in text and text.split("://", 1)[1]:
        return text
    if _HOST_PORT.fullmatch(text):
        return "tcp://" + text
    raise ValueError(f"scheduler must be 'local:N' (N worker processes on this machine) or a scheduler's address "
                     f"such as 'tcp://HOST:PORT'; got {describe(scheduler)}")


def connect(
    scheduler: str | None = None,
    scheduler_file: str | os.PathLike | None = None,
    *,
    timeout: float = 30.0,
    threads_per_worker: int = 1,
    check: bool = True,
) -> Executor:
    """The executor the user asked for: in-process, a ``LocalCluster``, or an existing Dask cluster.

    Parameters
    ----------
    scheduler : str, optional
        ``"local:N"``: start N worker processes on 127.0.0.1 (``threads_per_worker`` threads each),
        closed with the executor; ``"tcp://HOST:PORT"`` (``"HOST:PORT"``, or another Dask protocol such
        as ``tls://``): a running scheduler. None (with no ``scheduler_file``): ``LocalExecutor``.
    scheduler_file : path, optional
        The JSON file a scheduler writes (``dask scheduler --scheduler-file FILE``, dask-jobqueue).
    timeout : float
        Seconds to reach the scheduler, and again to wait for its first worker.
    threads_per_worker : int
        Dask threads per local worker process (``local:N`` only).
    check : bool
        Check every worker's ``environment`` against this process's before returning (on by default;
        each chunk checks its worker again anyway).

    Raises
    ------
    ClusterUnreachableError
        The scheduler cannot be reached, or has no worker within ``timeout`` (nothing was trained).
    WorkerMismatchError
        A worker runs other code than this process; the message names it and the difference.
    ClusterError
        Dask is not installed, or a worker did not answer the check.
    """
    if scheduler is not None and scheduler_file is not None:
        raise ValueError(f"scheduler and scheduler_file cannot be given together; got {describe(scheduler)} "
                         f"and {describe(str(scheduler_file))}")
    if scheduler is None and scheduler_file is None:
        return LocalExecutor()
    timeout = check_real("timeout", timeout, low=0, low_inclusive=False)
    threads_per_worker = check_int("threads_per_worker", threads_per_worker, low=1)
    if scheduler is not None:
        target, where = _scheduler_address(scheduler), None
    else:
        target = _address_in_file(scheduler_file)
        where = f"the Dask scheduler at {target} (from {str(scheduler_file)!r})"
    try:
        import distributed
    except ImportError as error:
        raise ClusterError(f"a Dask cluster needs Dask's distributed package ({error}); install it with "
                           f"pip install 'reglab[dask]', on the workers too") from None

    cluster = None
    client = None
    try:
        if isinstance(target, int):
            cluster = distributed.LocalCluster(
                n_workers=target, threads_per_worker=threads_per_worker, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # a free port: never clashes with another cluster's 8787
            )
            where = f"the local cluster of {target} workers"
            client = distributed.Client(cluster, timeout=timeout)
        else:
            where = where or f"the Dask scheduler at {target}"
            reason = _refused(target, timeout)
            if reason is None:
                try:
                    client = distributed.Client(target, timeout=timeout)
                except (OSError, TimeoutError) as error:
                    reason = str(error) or type(error).__name__
            if client is None:
                raise ClusterUnreachableError(
                    f"cannot reach {where}: {reason}; start a scheduler with `dask scheduler` (and workers with "
                    f"`dask worker ADDRESS`), or check the address, the port and that this machine may connect to it")
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ClusterUnreachableError(
                f"{where} has no workers after {timeout:g} s; start some with `dask worker {client.scheduler.address}`"
                f" (with the same reglab installed), or wait for the batch system to start them") from None
        workers = _check_workers(client, check, timeout)
        return DaskExecutor(client, cluster, workers)
    except BaseException:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        raise


def _address_in_file(scheduler_file) -> str:
    """The scheduler's address from the JSON file it wrote (``dask scheduler --scheduler-file FILE``)."""
    import json

    how = "the file a running scheduler wrote (dask scheduler --scheduler-file FILE)"
    try:
        with open(scheduler_file, encoding="utf-8") as file:
            address = json.load(file).get("address")
    except FileNotFoundError:
        raise ValueError(f"scheduler_file must be {how}; {str(scheduler_file)!r} does not exist") from None
    except (OSError, ValueError, AttributeError) as error:
        raise ValueError(f"scheduler_file must be {how}; {str(scheduler_file)!r} cannot be read as one "
                         f"({type(error).__name__}: {error})") from None
    if not isinstance(address, str) or "://" not in address:
        raise ValueError(f"scheduler_file must be {how}; {str(scheduler_file)!r} names no scheduler address "
                         f"(its 'address' is {describe(address)})")
    return address


def _refused(address: str, timeout: float) -> str | None:
    """Why a TCP scheduler address refuses connections right away, or None (reachable, or not plain TCP).

    Dask retries a refused connection until its timeout, which suits a scheduler that is starting;
    an address where nothing listens is said at once instead.
    """
    import socket

    from distributed.comm import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme != "tcp":
        return None
    try:
        host, port = parse_host_port(location)
        socket.create_connection((host, port), timeout=timeout).close()
    except ConnectionRefusedError:
        return f"nothing listens at {location} (connection refused)"
    except (OSError, ValueError, TypeError):  # unresolvable, unroutable, no port: Dask says it in its own words
        return None
    return None


def _check_workers(client, check: bool, timeout: float) -> dict[str, dict]:
    """Probe every worker (loading the compiled engine there) and refuse those that differ from here."""
    from distributed import wait

    info = client.scheduler_info(**_all_workers(client))["workers"]
    futures = {address: client.submit(_probe, workers=[address], allow_other_workers=False, pure=False,
                                      key=f"reglab-probe-{uuid.uuid4().hex[:12]}")
               for address in info}
    # Loading the engine takes a second; compiling it (first run after an install) can take a minute.
    answer_within = max(timeout, 300.0)
    try:
        wait(list(futures.values()), timeout=answer_within)
    except TimeoutError:
        silent = [address for address, future in futures.items() if not future.done()]
        client.cancel(list(futures.values()), force=True)
        raise ClusterError(f"worker{'s' if len(silent) > 1 else ''} {', '.join(silent)} did not answer the version "
                           f"check within {answer_within:g} s; are they busy with another client's work?") from None
    here = environment()
    install = (f"install the same reglab (pip install 'reglab[dask]=={here['reglab']}', or the same checkout) "
               f"and restart the workers")
    workers = {}
    for address, future in futures.items():
        name = info[address].get("name")
        named = f"worker {address}" + (f" (name {name})" if name is not None and str(name) != address else "")
        if future.status == "error":  # e.g. reglab or numba missing there: the probe cannot even start
            error = future.exception()
            raise WorkerMismatchError(f"{named} cannot run reglab's check ({type(error).__name__}: {error}); {install}")
        probed = future.result()
        wrong = differences(here, probed["environment"])
        if check and wrong:
            raise WorkerMismatchError(f"{named} runs other code than this process: {'; '.join(wrong)}; {install}")
        known = info[address]
        workers[address] = dict(probed, host=known.get("host", address), nthreads=known.get("nthreads", 1),
                                name=known.get("name"))
    return workers


def _all_workers(client) -> dict:
    """scheduler_info's argument for every worker: some Dask versions list only the first few by default."""
    import inspect

    return {"n_workers": -1} if "n_workers" in inspect.signature(client.scheduler_info).parameters else {}
