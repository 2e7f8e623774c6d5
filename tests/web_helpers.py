"""Helpers of the web tests: reading a server-sent event stream, a real server in its own process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path


def read_events(lines, until=("done", "failed")) -> list[tuple[str, dict]]:
    """(event, data) pairs of a text/event-stream, up to and including the first event named in ``until``."""
    events, name = [], None
    for line in lines:
        if line.startswith("event: "):
            name = line[len("event: "):]
        elif line.startswith("data: ") and name is not None:
            events.append((name, json.loads(line[len("data: "):])))
            if name in until:
                return events
            name = None
    return events


class ServerProcess:
    """``reglab serve --port 0`` in its own process (the real console entry, uvicorn and all)."""

    def __init__(self, *args: str, env: dict | None = None):
        environment = dict(os.environ, **(env or {}))
        environment.setdefault("PYTHONUNBUFFERED", "1")
        self.process = subprocess.Popen([sys.executable, "-m", "reglab", "serve", "--port", "0", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                                        cwd=Path(__file__).parent)  # no datasets/data.mat there: the course data only through the environment
        deadline = time.monotonic() + 120
        self.url = None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            found = re.search(r"(http://[^ ]+/)", line)
            if found:
                self.url = found.group(1).rstrip("/")
                break
        if self.url is None:
            self.process.kill()
            raise RuntimeError(f"reglab serve did not start: {self.process.stderr.read()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self, timeout: float = 20) -> tuple[int, str, str]:
        """Ctrl-C (SIGINT), as a user stops it; returns (status, stdout rest, stderr)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return self.process.returncode, out, err
