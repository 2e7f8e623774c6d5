"""What the web playground costs: time to the first boundary, updates per second, the notebook's model in the
page against the library alone, page weight, server memory under load.

Run:  python benchmarks/bench_web.py [--repeats 5]

It starts ``reglab serve`` in its own process on a free loopback port and measures, side by side in one run
(each repetition times the library and the page one right after the other, and the medians are reported):

- the library's own time for the notebook's model (``reglab.fit``, [2, 20, 3, 1], 30000 iterations, the
  built-in ``field`` data) and the same training through the page's API (POST /api/train, then its event
  stream read to the end), and, with chromium, in the page itself (Train clicked to "Finished." shown);
- the time from pressing Train to the first boundary drawn (in chromium), and from POST to the first
  snapshot of the parameters (API);
- boundary updates per second while training: snapshots streamed per second of training, at full speed
  and at the page's slowest pace;
- the page's weight (every file it loads);
- the server's resident memory before, at the peak of, and after 20 simultaneous trainings.

A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import reglab
from reglab.datasets import make_dataset

CHROMIUM = Path(os.environ.get("REGLAB_CHROMIUM", "/usr/bin/chromium"))
STATIC = Path(reglab.__file__).parent / "web" / "static"


class Server:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "reglab", "serve", "--port", "0"], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        for line in self.process.stdout:
            found = re.search(r"(http://[^ ]+)/", line)
            if found:
                self.url = found.group(1)
                return
        raise RuntimeError(self.process.stderr.read())

    def rss(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.communicate(timeout=30)


def post(url, body):
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def train_via_api(server, settings, pace=None):
    """(seconds to the first parameters, seconds to the end, snapshots with parameters, seconds training)."""
    start = time.perf_counter()
    status, body = post(f"{server.url}/api/train", {"settings": settings, "pace": pace})
    assert status == 202, body
    first = None
    snapshots, began = 0, None
    with urllib.request.urlopen(server.url + body["events"], timeout=300) as stream:
        name = None
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name in ("progress", "done"):
                data = json.loads(line[6:])
                if "params" in data:
                    now = time.perf_counter()
                    first = first if first is not None else now - start
                    began = began if began is not None else now
                    snapshots += 1
                if name == "done":
                    end = time.perf_counter()
                    return first, end - start, snapshots, end - began


def browser_times(server, repeats, library):
    """Medians from Train to the first boundary drawn, to "Finished." in chromium, and of the ratio to ``library()``
    (the library's time, measured right before each page run); None without chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not CHROMIUM.is_file():
        return None
    first, whole, ratios = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                                   "--disable-background-networking", "--disable-component-update"])
        page = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True).new_page()
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        for _ in range(repeats):
            alone = library()
            times = page.evaluate("""async () => {
                const app = window.reglab.app, t0 = performance.now();
                document.querySelector('#train-button').click();
                while (app.state !== 'starting' && app.state !== 'running') await new Promise(r => setTimeout(r, 1));
                while (!app.params) await new Promise(r => setTimeout(r, 1));
                const first = performance.now() - t0;
                while (document.querySelector('#train-status').textContent !== 'Finished.') await new Promise(r => setTimeout(r, 2));
                return [first / 1000, (performance.now() - t0) / 1000];
            }""")
            first.append(times[0])
            whole.append(times[1])
            ratios.append(times[1] / alone)
        browser.close()
    return statistics.median(first), statistics.median(whole), statistics.median(ratios)


def memory_under_load(server, n=20):
    before = server.rss()
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.wait(0.02):
            peak[0] = max(peak[0], server.rss())

    sampler = threading.Thread(target=sample)
    sampler.start()
    outcomes = []

    def client(k):
        status, body = post(f"{server.url}/api/train", {"settings": {"n_iterations": 3000, "seed": k, "init": "fresh"}})
        if status == 202:
            with urllib.request.urlopen(server.url + body["events"], timeout=120) as stream:
                stream.read()
        outcomes.append(status)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    return before, peak[0], server.rss(), outcomes.count(202), outcomes.count(429)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = make_dataset("field")
    reglab.fit(data.X_train, data.y_train, reglab.TrainConfig(n_iterations=10))  # load the compiled engine
    server = Server()
    try:
        train_via_api(server, {"n_iterations": 10})  # the server's engine loaded too
        library, api, ratios, firsts = [], [], [], []

        def alone():
            start = time.perf_counter()
            reglab.fit(data.X_train, data.y_train, reglab.TrainConfig())
            return time.perf_counter() - start

        for _ in range(args.repeats):
            library.append(alone())
            first, total, _, _ = train_via_api(server, {})
            api.append(total)
            firsts.append(first)
            ratios.append(total / library[-1])
        _, _, fast_snapshots, fast_seconds = train_via_api(server, {"n_iterations": 200_000})  # long enough to count
        _, _, slow_snapshots, slow_seconds = train_via_api(server, {}, pace=1000)
        in_browser = browser_times(server, args.repeats, alone)
        weight = sum(f.stat().st_size for f in STATIC.rglob("*") if f.is_file())
        before, peak, after, accepted, refused = memory_under_load(server)
    finally:
        server.stop()
    mib = 2**20
    print(f"reglab {reglab.__version__}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
          f"medians of {args.repeats} repetitions")
    print(f"notebook's model (30000 iterations), the library alone (reglab.fit):  {statistics.median(library):.3f} s")
    print(f"  the same through the page's API (POST to the last event):          {statistics.median(api):.3f} s "
          f"(ratio {statistics.median(ratios):.2f}x, median of per-repetition ratios)")
    if in_browser is not None:
        print(f"  the same in the page (Train clicked to 'Finished.' shown):          {in_browser[1]:.3f} s "
              f"(ratio {in_browser[2]:.2f}x, median of per-repetition ratios)")
        print(f"first boundary drawn after Train (chromium):                         {in_browser[0] * 1000:.0f} ms")
    else:
        print("chromium or Playwright missing: the in-page times were not measured")
    print(f"first parameters after POST /api/train (API):                        {statistics.median(firsts) * 1000:.0f} ms")
    print(f"boundary updates per second while training: full speed (200000 iterations) "
          f"{fast_snapshots / fast_seconds:.1f}/s "
          f"({fast_snapshots} in {fast_seconds:.2f} s); at 1000 it/s {slow_snapshots / slow_seconds:.1f}/s "
          f"({slow_snapshots} in {slow_seconds:.1f} s)")
    print(f"page weight (every file the page loads):                             {weight / 1024:.0f} KB")
    print(f"server memory: {before / mib:.0f} MiB before, {peak / mib:.0f} MiB at the peak of 20 simultaneous "
          f"trainings ({accepted} accepted, {refused} refused with 429), {after / mib:.0f} MiB after")


if __name__ == "__main__":
    main()
