"""The web playground's JSON API through a test client: every route, limit and refusal.

The trainings it starts are the library's: the accuracies it reports are ``reglab.fit``'s for the same
configuration, its results.json is the CLI's format and its model.npz loads with ``load_model``.
"""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web extra (starlette, uvicorn) is not installed")
pytest.importorskip("httpx2", reason="starlette's test client needs httpx2 (the test extra)")

from starlette.testclient import TestClient  # noqa: E402

import reglab  # noqa: E402
from reglab.datasets import make_dataset  # noqa: E402
from reglab.experiments.compare import compare_seeds  # noqa: E402
from reglab.settings import SETTINGS  # noqa: E402
from reglab.web import create_app, limits  # noqa: E402
from reglab.web.jobs import Jobs  # noqa: E402

from .web_helpers import read_events  # noqa: E402

BASE = "http://127.0.0.1:8470"
SMALL = {"n_iterations": 600}
CSV = "x1,x2,label\n" + "\n".join(f"{np.sin(i):.4f},{np.cos(3 * i):.4f},{'yes' if np.sin(i) > 0 else 'no'}"
                                  for i in range(60)) + "\n"


@pytest.fixture()
def client():
    jobs = Jobs()
    with TestClient(create_app(jobs=jobs, prepare=False), base_url=BASE) as c:
        c.jobs = jobs
        yield c


def run(client, body, url="/api/train"):
    """Start a training (or comparison) and read its events to the end."""
    answer = client.post(url, json=body)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    with client.stream("GET", f"/api/events/{job_id}") as stream:
        events = read_events(stream.iter_lines())
    return job_id, events


def final(events):
    name, data = events[-1]
    assert name == "done", events[-1]
    return data


# ---- the page and what describes it --------------------------------------------------------
def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script type="module" src="/static/js/main.js">' in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    for name in ("js/main.js", "js/page.js", "js/compare.js", "js/plot.js", "js/chart.js", "js/form.js", "js/api.js",
                 "js/state.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/nothing").json() == {"error": "no such page or API route", "field": None}


def test_the_page_weighs_less_than_500_kb():
    from reglab.web.app import STATIC

    assert sum(f.stat().st_size for f in STATIC.rglob("*") if f.is_file()) < 500 * 1024


def test_the_form_is_the_declaration_of_the_settings(client):
    answer = client.get("/api/settings").json()
    assert answer["settings"] == [s.to_json() for s in SETTINGS]
    assert answer["limits"]["max_upload_bytes"] == 5 * 2**20
    assert answer["course_models"]["L2 (lambd=0.7)"]["l2"] == 0.7


def test_datasets_say_whether_the_course_data_is_found(client, monkeypatch, tmp_path, course_data_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGLAB_COURSE_DATA", raising=False)
    answer = client.get("/api/datasets").json()
    assert [b["name"] for b in answer["builtin"]] == ["field", "circle", "xor", "gauss", "spiral", "moons"]
    assert not answer["course"]["found"] and "REGLAB_COURSE_DATA is not set" in answer["course"]["message"]
    refused = client.post("/api/data", json={"kind": "course"})
    assert refused.status_code == 404 and "not found" in refused.json()["error"]
    monkeypatch.setenv("REGLAB_COURSE_DATA", str(course_data_path))
    course = client.get("/api/datasets").json()["course"]
    assert course["found"] and course["message"].endswith("(via $REGLAB_COURSE_DATA)")
    data = client.post("/api/data", json={"kind": "course"}).json()
    assert (data["n_train"], data["n_test"], len(data["train"])) == (211, 200, 211)


def test_built_in_data_and_its_errors(client):
    data = client.post("/api/data", json={"kind": "builtin", "name": "moons", "n_samples": 100, "test_fraction": 0.3})
    assert data.status_code == 200
    expected = make_dataset("moons", n_samples=100, test_fraction=0.3)
    assert data.json()["train"][0][:2] == expected.X_train[0].tolist() and len(data.json()["test"]) == 30
    for spec, field, message in [
        ({"name": "spirals"}, "name", "data set must be one of field, circle"),
        ({"n_samples": 2}, "n_samples", "n_samples must be"),
        ({"n_samples": limits.MAX_POINTS + 1}, "n_samples", f"at most {limits.MAX_POINTS}"),
        ({"noise": 3}, "noise", "noise must be"),
        ({"kind": "elsewhere"}, "kind", "data kind must be builtin, course, upload or points"),
    ]:
        answer = client.post("/api/data", json={"kind": "builtin", **spec})
        assert answer.status_code == 400 and answer.json()["field"] == field and message in answer.json()["error"]


def test_drawn_points_are_a_data_set(client):
    points = [[0.1 * k, 0.05 * k, k % 2, int(k % 3 == 0)] for k in range(12)]
    data = client.post("/api/data", json={"kind": "points", "points": points}).json()
    assert (data["n_train"], data["n_test"]) == (8, 4)
    one_class = [[0.1, 0.2, 1, 0], [0.3, 0.1, 1, 0], [0.2, 0.2, 0, 1]]
    answer = client.post("/api/data", json={"kind": "points", "points": one_class})
    assert answer.status_code == 400 and "draw training points of both classes" in answer.json()["error"]
    answer = client.post("/api/data", json={"kind": "points", "points": [[0, 0, 2, 0]]})
    assert answer.status_code == 400 and answer.json()["field"] == "points"


# ---- uploads ------------------------------------------------------------------------------------
def test_an_uploaded_csv_is_parsed_in_memory_by_the_library(client, tmp_path):
    answer = client.post("/api/upload?name=points.csv", content=CSV.encode(), headers={"content-type": "text/csv"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    path = tmp_path / "points.csv"
    path.write_text(CSV)
    expected = reglab.datasets.load_file(path)
    assert body["n_train"] == len(expected.y_train) and body["classes"] == ["no", "yes"]
    assert body["source"].startswith("uploaded file points.csv")
    again = client.post("/api/upload", content=CSV.encode(), headers={"content-type": "text/csv", "x-filename": "p.csv"})
    assert again.json()["upload"] == body["upload"]  # the same bytes, the same id: a shared link finds it
    split = client.post("/api/data", json={"kind": "upload", "upload": body["upload"], "test_fraction": 0.25}).json()
    assert split["n_test"] == 15
    gone = client.post("/api/data", json={"kind": "upload", "upload": "0" * 16})
    assert gone.status_code == 404 and "upload it again" in gone.json()["error"]


@pytest.mark.parametrize("content, name, content_type, message", [
    (b"x1,x2,label\n1,oops,a\n2,3,b\n", "bad.csv", "text/csv", "bad.csv: row 2, 'x2' holds 'oops', which is not a number"),
    (b"a,b,c,d\n1,2,3,0\n2,3,4,1\n3,4,5,0\n", "wide.csv", "text/csv", "wide.csv has 3 features; the page plots two"),
    (b"1,2,0\n", "notes.txt", "text/plain", "cannot tell the type of 'notes.txt'"),
    (b"", "empty.csv", "text/csv", "the upload is empty"),
])
def test_a_bad_upload_says_what_is_wrong(client, content, name, content_type, message):
    answer = client.post(f"/api/upload?name={name}", content=content, headers={"content-type": content_type})
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_the_type_of_an_upload_comes_from_its_content_type(client):
    buffer = io.BytesIO()
    np.savez(buffer, X=np.random.default_rng(0).normal(size=(20, 2)), y=np.arange(20) % 2)
    answer = client.post("/api/upload?name=blob", content=buffer.getvalue(), headers={"content-type": "application/x-npz"})
    assert answer.status_code == 200 and answer.json()["name"] == "blob"


def test_an_upload_that_declares_arrays_too_big_for_memory_says_so(client):
    import zipfile

    header = repr({"descr": "<f8", "fortran_order": False, "shape": (10**12, 2)}).encode("latin1")
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # a few hundred bytes whose X says it holds 15 TiB
        archive.writestr("X.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
    answer = client.post("/api/upload?name=huge.npz", content=buffer.getvalue(),
                         headers={"content-type": "application/x-npz"})
    assert answer.status_code == 400 and "declares arrays of 15 TiB" in answer.json()["error"]


def test_an_upload_over_5_mb_is_refused_with_413_by_its_declared_length(client):
    answer = client.post("/api/upload?name=big.csv", content=b"0" * 16,
                         headers={"content-type": "text/csv", "content-length": str(limits.MAX_UPLOAD_BYTES + 1)})
    assert answer.status_code == 413 and "larger than the limit of 5 MB" in answer.json()["error"]
    answer = client.post("/api/upload?name=big.csv", content=b"0" * (limits.MAX_UPLOAD_BYTES + 1),
                         headers={"content-type": "text/csv"})
    assert answer.status_code == 413


# ---- training ------------------------------------------------------------------------------------
def test_a_training_streams_its_progress_and_ends_at_fits_model(client):
    _train_l2(client)


def _train_l2(client):
    config = reglab.TrainConfig(l2=0.7, n_iterations=3000)
    job_id, events = run(client, {"settings": {"l2": 0.7, "n_iterations": 3000}, "data": {"kind": "builtin"}})
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done" and "progress" in names
    first = next(data for name, data in events if name == "progress")
    assert first["iteration"] == 0  # the first boundary: the initial weights
    assert "params" in events[-1][1]  # (older events lose their parameters once newer ones come: bounded memory)
    done = final(events)
    data = make_dataset("field")
    model = reglab.fit(data.X_train, data.y_train, config)
    assert done["train_accuracy"] == model.accuracy(data.X_train, data.y_train)
    assert done["test_accuracy"] == model.accuracy(data.X_test, data.y_test)
    assert done["params"]["W"][0] == model.params.weights[0][0].tolist()
    iterations = [i for name, d in events if "history" in d for i in d["history"]["iterations"]]
    assert iterations == model.history.iterations.tolist()  # every record point, once
    results = client.get(f"/api/results/{job_id}")
    payload = json.loads(results.text)
    assert payload["kind"] == "train" and payload["models"][0]["metrics"]["test_accuracy"] == done["test_accuracy"]
    assert payload["models"][0]["config"]["l2"] == 0.7 and payload["models"][0]["files"] == {}
    return client.get(f"/api/model/{job_id}").content, model


def test_the_model_file_loads_and_predicts_as_the_trained_model(client, tmp_path):
    saved, model = _train_l2(client)
    path = tmp_path / "model.npz"
    path.write_bytes(saved)
    loaded = reglab.load_model(path)
    data = make_dataset("field")
    np.testing.assert_array_equal(loaded.predict_proba(data.X_test), model.predict_proba(data.X_test))
    assert loaded.config == model.config


def test_bad_settings_are_refused_naming_the_setting(client):
    for settings, field, message in [
        ({"l2": -1}, "l2", "l2 must be a real number >= 0; got -1"),
        ({"keep_prob": [0.5, 0.5, 0.5]}, "keep_prob", "keep_prob"),
        ({"n_iterations": limits.MAX_ITERATIONS + 1}, "n_iterations", f"at most {limits.MAX_ITERATIONS} in the page"),
        ({"hidden_layer_sizes": [limits.MAX_UNITS + 1]}, "hidden_layer_sizes", "at most"),
        ({"lambd": 0.7}, "lambd", "unknown training setting(s) lambd"),
        ({"mask_mode": "sometimes"}, "mask_mode", "mask_mode must be"),
    ]:
        answer = client.post("/api/train", json={"settings": settings})
        assert answer.status_code == 400, settings
        assert answer.json()["field"] == field and message in answer.json()["error"], answer.json()
    assert client.post("/api/train", content=b"l2=1", headers={"content-type": "application/x-www-form-urlencoded"}
                       ).status_code == 415
    assert client.post("/api/train", content=b"{", headers={"content-type": "application/json"}).status_code == 400


def test_a_diverging_training_ends_with_its_message(client):
    _, events = run(client, {"settings": {"learning_rate": 1e6, "n_iterations": 500}})
    name, data = events[-1]
    assert name == "failed" and "training diverged" in data["message"] and "smaller learning_rate" in data["message"]
    assert data["field"] == "learning_rate"  # the page shows it beside the learning rate


def wait_for(predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_pause_step_change_resume_and_the_same_from_a_schedule(client):
    job = client.post("/api/train", json={"settings": {"n_iterations": 1000, "init": "fresh", "seed": 2,
                                                       "keep_prob": 0.9, "mask_mode": "fresh"}, "paused": True})
    job_id = job.json()["id"]
    running = client.jobs.get(job_id)
    wait_for(lambda: running.state == "paused")
    assert client.post(f"/api/step/{job_id}", json={"iterations": 300}).status_code == 200
    wait_for(lambda: running.trainer.iteration == 300)
    refused = client.post(f"/api/update/{job_id}", json={"settings": {"seed": 4}})
    assert refused.status_code == 400 and "seed cannot change during training" in refused.json()["error"]
    bad = client.post(f"/api/update/{job_id}", json={"settings": {"l2": -2}})
    assert bad.status_code == 400 and bad.json()["field"] == "l2"
    for _ in range(2):  # the second changes nothing, and says so
        assert client.post(f"/api/update/{job_id}", json={"settings": {"l2": 0.5, "keep_prob": 0.8}}).status_code == 200
    wait_for(lambda: sum(event["event"] == "changed" for event in running.events) == 2)
    assert client.post(f"/api/resume/{job_id}").status_code == 200
    with client.stream("GET", f"/api/events/{job_id}") as stream:
        events = read_events(stream.iter_lines())
    changed = [d for name, d in events if name == "changed"]
    assert changed[0]["iteration"] == 300 and changed[0]["changes"] == {"l2": 0.5, "keep_prob": [0.8, 0.8]}
    assert changed[1]["iteration"] == 300 and changed[1]["changes"] == {}
    done = final(events)
    payload = json.loads(client.get(f"/api/results/{job_id}").text)
    assert payload["models"][0]["changes"] == [{"iteration": 300, "settings": {"l2": 0.5, "keep_prob": [0.8, 0.8]}}]
    assert client.post(f"/api/pause/{job_id}").status_code == 409  # it has ended
    # A link replays the same: the change as a schedule
    _, replay = run(client, {"settings": {"n_iterations": 1000, "init": "fresh", "seed": 2, "keep_prob": 0.9,
                                          "mask_mode": "fresh"},
                             "schedule": [{"at": 300, "set": {"l2": 0.5, "keep_prob": [0.8, 0.8]}}]})
    assert final(replay)["params"] == done["params"]
    assert final(replay)["test_accuracy"] == done["test_accuracy"]


def test_changes_need_a_pause_and_a_stop_keeps_the_model(client):
    job_id = client.post("/api/train", json={"settings": {"n_iterations": 200000}, "pace": 2000}).json()["id"]
    running = client.jobs.get(job_id)
    wait_for(lambda: running.state == "running")
    refused = client.post(f"/api/update/{job_id}", json={"settings": {"l2": 0.1}})
    assert refused.status_code == 409 and "pause the training" in refused.json()["error"]
    assert client.post(f"/api/stop/{job_id}").status_code == 200
    with client.stream("GET", f"/api/events/{job_id}") as stream:
        done = final(read_events(stream.iter_lines()))
    assert done["state"] == "stopped" and 0 < done["iteration"] < 200000
    assert client.get(f"/api/model/{job_id}").status_code == 200
    assert client.post("/api/stop/0000").status_code == 404
    for unknown in (f"/api/results/{job_id}", f"/api/model/{job_id}", f"/api/rewind/{job_id}"):  # nothing is done
        answer = client.post(unknown)
        assert answer.status_code == 404 and answer.json()["error"] == "no such page or API route", unknown


def test_too_many_trainings_get_429_with_a_retry_hint():
    jobs = Jobs(max_live=1)
    with TestClient(create_app(jobs=jobs, prepare=False), base_url=BASE) as client:
        first = client.post("/api/train", json={"settings": SMALL, "paused": True})
        assert first.status_code == 202
        second = client.post("/api/train", json={"settings": SMALL})
        assert second.status_code == 429 and second.headers["retry-after"] == str(limits.RETRY_AFTER_SECONDS)
        assert "the limit is 1" in second.json()["error"] and "stop one" in second.json()["error"]
        client.post(f"/api/stop/{first.json()['id']}")
        wait_for(lambda: jobs.live_count() == 0)
        assert client.post("/api/train", json={"settings": SMALL}).status_code == 202


def test_a_training_no_page_listens_to_is_cancelled():
    jobs = Jobs(idle_seconds=0.5)
    with TestClient(create_app(jobs=jobs, prepare=False), base_url=BASE) as client:
        job_id = client.post("/api/train", json={"settings": SMALL, "paused": True}).json()["id"]
        wait_for(lambda: jobs.get(job_id).state == "cancelled", timeout=10)
        with client.stream("GET", f"/api/events/{job_id}") as stream:
            assert final(read_events(stream.iter_lines()))["state"] == "cancelled"


# ---- comparison ------------------------------------------------------------------------------------
def test_the_compare_view_is_compare_seeds(client):
    models = [{"name": "plain", "settings": {"n_iterations": 800}},
              {"name": "L2", "settings": {"n_iterations": 800, "l2": 0.7}}]
    job_id, events = run(client, {"models": models, "seeds": 3}, "/api/compare")
    done = final(events)
    data = make_dataset("field")
    configs = {m["name"]: reglab.TrainConfig(**m["settings"]) for m in models}
    study = compare_seeds(data, configs, range(3))
    for entry, row in zip(done["models"], study.summary()):
        assert entry["test_accuracy"] == row["single_test"]
        assert entry["seeds"]["test"] == [r.test_accuracy for r in study.runs[entry["name"]]]
        assert (entry["seeds"]["mean"], entry["seeds"]["low"], entry["seeds"]["high"]) == \
            (row["test"].mean, row["test"].low, row["test"].high)
    from reglab.runs.compare import difference_lines

    assert done["differences"] == difference_lines(study)
    payload = json.loads(client.get(f"/api/results/{job_id}").text)
    assert payload["seeds"]["differences"][0]["text"] == difference_lines(study)[0]
    assert payload["kind"] == "compare" and [m["name"] for m in payload["models"]] == ["plain", "L2"]
    assert payload["seeds"]["seeds"] == [0, 1, 2]
    assert client.get(f"/api/model/{job_id}?name=L2").status_code == 200
    assert client.get(f"/api/model/{job_id}?name=nope").status_code == 404


def test_compare_refuses_what_it_cannot_do(client):
    for body, field in [({"models": []}, "models"), ({"models": [{"name": "a"}], "seeds": 0}, "seeds"),
                        ({"models": [{"name": "a"}, {"name": "a"}]}, "models"),
                        ({"models": [{"name": f"m{k}"} for k in range(limits.MAX_COMPARE_MODELS + 1)]}, "models"),
                        ({"models": [{"name": "a", "settings": {"l1": -1}}]}, "l1")]:
        answer = client.post("/api/compare", json=body)
        assert answer.status_code == 400 and answer.json()["field"] == field, answer.json()


# ---- security --------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8470", "127.0.0.1.nip.io:8470", ""])
def test_a_foreign_host_is_refused(client, host):
    answer = client.get("/api/settings", headers={"host": host})
    assert answer.status_code == 403 and "answers requests for its own address only" in answer.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:8470", "localhost:8470", "[::1]:8470", "192.168.1.7:8470"])
def test_loopback_names_and_addresses_are_served(client, host):
    assert client.get("/api/status", headers={"host": host}).status_code == 200


def test_cross_origin_writes_are_refused(client):
    evil = client.post("/api/train", json={"settings": SMALL}, headers={"origin": "http://evil.example"})
    assert evil.status_code == 403 and "writes from another site" in evil.json()["error"]
    upload = client.post("/api/upload?name=a.csv", content=CSV.encode(),
                         headers={"origin": "http://evil.example", "content-type": "text/plain"})
    assert upload.status_code == 403
    fetched = client.post("/api/data", json={}, headers={"sec-fetch-site": "cross-site"})
    assert fetched.status_code == 403
    same = client.post("/api/data", json={}, headers={"origin": BASE, "sec-fetch-site": "same-origin"})
    assert same.status_code == 200
    assert "access-control-allow-origin" not in same.headers
    preflight = client.options("/api/train", headers={"origin": "http://evil.example",
                                                      "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


# ---- the command -----------------------------------------------------------------------------------
def test_serve_has_a_documented_port_and_falls_back_to_a_free_one(monkeypatch):
    import socket

    from reglab import cli
    from reglab.web import server

    assert server.DEFAULT_PORT == cli.tools.SERVE_PORT == 8470
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        sock, fell_back = server.bind("127.0.0.1", taken.getsockname()[1])
        assert fell_back and sock.getsockname()[1] != taken.getsockname()[1]
        sock.close()
    finally:
        taken.close()
    assert server.is_loopback("127.0.0.1") and server.is_loopback("::1") and server.is_loopback("localhost")
    assert not server.is_loopback("0.0.0.0") and not server.is_loopback("example.org")


def test_serve_warns_when_not_on_loopback(monkeypatch, capsys):
    import socket

    from reglab import cli
    from reglab.web import server

    def bind(host, port):  # never listen beyond loopback in a test
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        return sock, False

    served = []
    monkeypatch.setattr(server, "bind", bind)
    monkeypatch.setattr(server, "serve", lambda sock, host, on_ready: (served.append(host), on_ready()))
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 0
    out, err = capsys.readouterr()
    assert "warning: --host 0.0.0.0 makes the playground reachable from other machines" in err
    assert "reglab playground: http://127.0.0.1:" in out and served == ["0.0.0.0"]


def test_serve_without_the_web_extra_says_how_to_get_it(monkeypatch, capsys):
    import sys

    from reglab import cli

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert cli.main(["serve"]) == 2
    assert 'the web playground needs the web extra: pip install "reglab[web]" (uvicorn is missing)' in capsys.readouterr().err


def test_a_training_whose_page_went_away_is_cancelled():
    jobs = Jobs(idle_seconds=0.5)
    with TestClient(create_app(jobs=jobs, prepare=False), base_url=BASE) as client:
        job_id = client.post("/api/train", json={"settings": SMALL, "paused": True}).json()["id"]
        with client.stream("GET", f"/api/events/{job_id}") as stream:
            lines = stream.iter_lines()
            assert read_events(lines, until=("progress",))[-1][1]["state"] == "paused"
            time.sleep(1.0)  # a page that listens keeps its training, paused or not
            assert jobs.get(job_id).state == "paused" and jobs.get(job_id).watchers == 1
        wait_for(lambda: jobs.get(job_id).state == "cancelled", timeout=10)  # the page closed: cancelled
