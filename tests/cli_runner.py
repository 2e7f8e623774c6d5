"""Running the ``reglab`` command in tests: in this process by default, in a new one where the case is about processes."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUICK = ["--iterations", "300"]  # a command's training, short
SWEEP = ["sweep", "--folds", "1", "--l2", "0,0.5", "--keep-prob", "1", "--iterations", "60", "--seeds", "2"]  # a small one


class Completed(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(changes: dict, cwd) -> None:
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def run(*args, cwd=None, env_extra=None, check_ok=True) -> Completed:
    """``reglab ARGS`` through the command's entry function (``reglab.cli.main``), its output captured.

    As a user's shell would: without ``$REGLAB_COURSE_DATA`` unless ``env_extra`` sets it, in ``cwd``.
    """
    from reglab import cli

    out, err = io.StringIO(), io.StringIO()
    with _environment({"REGLAB_COURSE_DATA": None, **(env_extra or {})}, cwd), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    completed = Completed(code, out.getvalue(), err.getvalue())
    if check_ok:
        assert completed.returncode == 0, completed.stderr
    return completed


def process_env(extra=None) -> dict:
    """The environment of a ``reglab`` process started by a test: a user's shell's, without
    ``$REGLAB_COURSE_DATA`` (unless ``extra`` sets it), with figures drawn without a display."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("REGLAB_COURSE_DATA", None)
    env.update(extra or {})
    return env


@contextlib.contextmanager
def reaped(process: subprocess.Popen):
    """``process`` inside the block; killed and waited for at its end if still running (a failed assertion)."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def read_only_command(folder: Path, args, *, files_only: bool = False) -> list:
    """A command line running ``reglab ARGS`` while ``folder`` cannot be written.

    A non-root user gets ``chmod``: the folder 555, or with ``files_only`` each file in it 444 (a read-only
    file in a writable folder). Root may write anything, so the folder is then mounted read-only in a
    private mount namespace; where that cannot be done, the test is skipped.
    """
    command = [sys.executable, "-m", "reglab", *map(str, args)]
    if os.geteuid() != 0:
        for path in folder.iterdir() if files_only else [folder]:
            path.chmod(0o444 if files_only else 0o555)
        return command
    mount = f"mount --bind -o ro '{folder}' '{folder}'"
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "sh", "-c", mount], capture_output=True).returncode:
        pytest.skip("root cannot make a read-only folder here (no unshare -m with mount)")
    return ["unshare", "-m", "sh", "-c", f'{mount} && exec "$@"', "sh", *command]


def run_process(*args, cwd=None, env_extra=None, check_ok=True, **popen) -> subprocess.CompletedProcess:
    """``python -m reglab ARGS`` in a new process: for what is about processes (signals, exit statuses, start-up)."""
    env = process_env(env_extra)
    completed = subprocess.run([sys.executable, "-m", "reglab", *map(str, args)], capture_output=True, text=True,
                               cwd=cwd, env=env, timeout=600, **popen)
    if check_ok:
        assert completed.returncode == 0, completed.stderr
    return completed


def assert_png(path: Path, min_width: int = 400) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    with Image.open(path) as image:
        width, height = image.size
    assert width >= min_width and height >= 250, (path, image.size)
    assert width <= 5000 and height <= 5000, (path, image.size)


def assert_user_error(completed, *fragments) -> None:
    """Status 2 and one line on stderr holding every fragment, no traceback."""
    assert completed.returncode == 2, (completed.returncode, completed.stdout, completed.stderr)
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
