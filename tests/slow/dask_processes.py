"""A Dask cluster of real processes on 127.0.0.1, started as the README shows: `dask scheduler`, `dask worker`."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_cluster(folder: Path, n_workers: int = 2):
    """Start a scheduler (writing ``folder/scheduler.json``) and ``n_workers`` one-thread workers; yield the file.

    The processes' output goes to ``folder/scheduler.log`` and ``folder/worker.log``; they are stopped on exit.
    """
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    assert dask, "the dask command comes with the dask extra"
    scheduler_file = folder / "scheduler.json"
    logs = [open(folder / f"{name}.log", "w") for name in ("scheduler", "worker")]
    processes = []
    try:
        processes.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(free_port()), "--no-dashboard",
             "--scheduler-file", str(scheduler_file)], stdout=logs[0], stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scheduler_file.exists(), (folder / "scheduler.log").read_text()
        processes.append(subprocess.Popen(
            [dask, "worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1", "--nworkers",
             str(n_workers), "--nthreads", "1", "--no-dashboard"], stdout=logs[1], stderr=subprocess.STDOUT))
        yield scheduler_file
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()
