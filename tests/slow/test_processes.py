"""The ``reglab`` program as a process: what it loads at start-up, its exit statuses, and Ctrl-C or SIGTERM
at any moment leaving nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..cli_runner import process_env, reaped


def test_the_command_line_loads_numpy_and_the_training_code_only_for_a_command_that_needs_them():
    # `reglab --help` answers at once; the package's names load on first use.
    code = (
        "import sys, reglab.cli; print(sorted(m for m in sys.modules if m == 'numpy' or m.startswith('reglab')))\n"
        "import reglab; print(reglab.fit.__module__, reglab.Model.__module__, reglab.TrainConfig.__module__)\n"
        "print(sorted(set(reglab.__all__) - set(dir(reglab))))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    loaded, homes, missing = completed.stdout.splitlines()
    assert loaded == str(['reglab', 'reglab._signals', 'reglab._version', 'reglab.cli', 'reglab.cli.group', 'reglab.cli.options',
                             'reglab.cli.paths', 'reglab.cli.sweeping', 'reglab.cli.tools', 'reglab.cli.training',
                             'reglab.settings'])
    assert homes == "reglab.training reglab.model reglab.config"
    assert missing == "[]"
    import reglab

    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        reglab.fitt


def test_python_m_reglab_ends_with_status_130_after_a_handled_ctrl_c_inside_exec(tmp_path):
    # CPython marks a KeyboardInterrupt raised inside exec()'d code as unhandled even when it is
    # handled, and `python -m` then ended the process by SIGINT. Here the command's main is replaced
    # (through sitecustomize, before reglab/__main__ imports it) by one that meets exactly that.
    (tmp_path / "sitecustomize.py").write_text(
        "import reglab.cli\n"
        "def main():\n"
        "    try:\n"
        "        exec('raise KeyboardInterrupt')\n"
        "    except KeyboardInterrupt:\n"
        "        return 130\n"
        "reglab.cli.main = main\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    completed = subprocess.run([sys.executable, "-m", "reglab"], env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 130, (completed.returncode, completed.stderr)


def test_a_ctrl_c_while_the_command_line_loads_ends_with_one_line_and_status_130(tmp_path):
    # A Ctrl-C in the program's first instants lands while click is imported. Here it is made to
    # land exactly there: a finder placed first (through sitecustomize) raises it on `import click`.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'click':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    program = Path(sys.executable).with_name("reglab")  # the console script, as installed
    commands = [[sys.executable, "-m", "reglab", "--help"]] + ([[str(program), "--help"]] if program.exists() else [])
    for command in commands:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert completed.returncode == 130, (command, completed.returncode, completed.stderr)
        assert completed.stderr == "reglab: interrupted; nothing half-written was left behind\n", command
        assert completed.stdout == ""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="lists processes through /proc (Linux)")
@pytest.mark.parametrize("moment", [".run.*", ".run.*/model-*.npz"], ids=["training", "files"])
@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_during_training_or_writing_leaves_no_folder_and_no_process(tmp_path, moment, stop):
    # The run folder is staged before the models train; a model's files appear when it is trained
    # (its figure is drawn while the others train). Ctrl-C in a terminal reaches every process of the group; SIGTERM (kill,
    # timeout, a cancelled CI job) only the program.
    out = tmp_path / "run"
    with reaped(subprocess.Popen(
        [sys.executable, "-m", "reglab", "compare", "--data", "field", "--iterations", "300", "--out", str(out)],
        cwd=tmp_path, env=process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )) as process:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(moment)) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert process.poll() is None, "compare finished before it could be interrupted"
        if stop == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.terminate()
        _, stderr = process.communicate(timeout=60)
    status, said = (130, "interrupted") if stop == "ctrl-c" else (143, "terminated")
    assert process.returncode == status, stderr
    assert stderr.strip() == f"reglab: {said}; nothing half-written was left behind"
    assert list(tmp_path.iterdir()) == []  # no run folder, no staging folder
    assert _session_processes(process.pid) == []


def _session_processes(session: int) -> list[str]:
    """Live processes of a session (the group a terminal's Ctrl-C reaches), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(entry.name)
    return found
