"""A bounded load test of ``reglab serve`` on loopback, and what a real socket shows (413 before the body).

20 trainings are asked for at once: each completes or is refused with the documented limit (429,
Retry-After); the server then still answers the page, and its memory stays bounded.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("uvicorn", reason="the web extra (starlette, uvicorn) is not installed")

from reglab.web import limits  # noqa: E402

from ..web_helpers import ServerProcess, read_events  # noqa: E402

N_REQUESTS = 20


@pytest.fixture(scope="module")
def server():
    running = ServerProcess()
    yield running
    running.stop()


def post(url: str, body: dict, timeout: float = 60) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.load(answer), dict(answer.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error), dict(error.headers)


def events(url: str, timeout: float = 60) -> list:
    with urllib.request.urlopen(url, timeout=timeout) as stream:
        return read_events(line.decode().rstrip("\n") for line in stream)


def test_twenty_trainings_at_once_complete_or_are_refused_with_the_limit(server):
    urllib.request.urlopen(f"{server.url}/api/settings", timeout=60).read()  # the engine is loaded (compiled once)
    before = server.rss_bytes()
    outcomes = [None] * N_REQUESTS
    start = threading.Barrier(N_REQUESTS)

    def client(k):
        start.wait(timeout=30)
        status, body, headers = post(f"{server.url}/api/train",
                                     {"settings": {"n_iterations": 3000, "seed": k, "init": "fresh"}})
        if status == 202:
            outcomes[k] = ("accepted", events(server.url + body["events"]))
        else:
            outcomes[k] = (status, body, headers)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(N_REQUESTS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(not thread.is_alive() for thread in threads) and time.monotonic() - began < 120
    accepted = [o for o in outcomes if o[0] == "accepted"]
    refused = [o for o in outcomes if o[0] != "accepted"]
    assert 1 <= len(accepted) and len(accepted) + len(refused) == N_REQUESTS
    for _, stream in accepted:
        assert stream[-1][0] == "done" and stream[-1][1]["iteration"] == 3000
    for status, body, headers in refused:
        assert status == 429 and headers["retry-after"] == str(limits.RETRY_AFTER_SECONDS)
        assert f"(the limit is {limits.MAX_LIVE_JOBS})" in body["error"]
    # The server is still up and answers the page; its memory stayed bounded.
    assert server.process.poll() is None
    with urllib.request.urlopen(f"{server.url}/", timeout=30) as page:
        assert page.status == 200 and b"reglab playground" in page.read()
    assert server.rss_bytes() - before < 200 * 2**20


def test_an_upload_over_the_limit_is_refused_before_its_body_is_read(server):
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        size = 100 * 2**20  # declared; only a little is ever sent
        sock.sendall(f"POST /api/upload?name=big.csv HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/csv\r\n"
                     f"Content-Length: {size}\r\n\r\n".encode() + b"0" * 1024)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        answer = answer.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413") and "larger than the limit of 5 MB" in answer


def _length(head: bytes) -> int:
    for line in head.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def test_a_foreign_host_is_refused_on_the_wire(server):
    request = urllib.request.Request(f"{server.url}/api/settings", headers={"Host": "attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    refused.value.close()
    assert refused.value.code == 403
    cross = urllib.request.Request(f"{server.url}/api/train", data=b"{}", headers={
        "Content-Type": "application/json", "Origin": "http://attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(cross, timeout=30)
    refused.value.close()
    assert refused.value.code == 403
