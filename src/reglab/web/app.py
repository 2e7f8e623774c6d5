"""The web playground's application: the JSON API, the event streams and the static page.

Every route answers JSON (errors too: ``{"error": message, "field": name or null}`` with the status
that fits). Requests pass ``Guard`` first: a ``Host`` that is neither a loopback name, the served
host nor an IP address is refused (DNS rebinding), and so is a write whose ``Origin`` or
``Sec-Fetch-Site`` says it comes from another site. The API takes JSON bodies only (an upload takes
the file's bytes), so another site's page cannot send it a request without the browser asking
first, and no answer here allows that.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..config import TrainConfig
from ..experiments.compare import course_study_configs
from ..settings import SETTINGS, SETTING_NAMES
from ..training import CHANGEABLE
from . import limits
from .data import DataError, Uploads, builtins_json, course_status, dataset_from_spec, points_json
from .jobs import CompareJob, Jobs, TooManyJobs, TrainJob, config_json

__all__ = ["create_app", "ApiError"]

CONTROLS = ("pause", "resume", "step", "update")  # what POST /api/<action>/<id> does to a training
STATIC = Path(__file__).parent / "static"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                                 b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
]


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, headers


def _error(status: int, message: str, field: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status, headers=headers)


def _hostname(host_header: str) -> str:
    """The host of a ``Host`` header without its port (``[::1]:8470`` -> ``::1``)."""
    if host_header.startswith("["):
        return host_header[1:].split("]")[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def host_allowed(host_header: str, served_host: str) -> bool:
    """A loopback name, the host the server was started on, or an IP address (which no DNS can rebind)."""
    name = _hostname(host_header.strip().lower())
    if not name:
        return False
    if name in LOOPBACK_NAMES or name == served_host.lower():
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Guard:
    """ASGI middleware: the Host and cross-origin checks (module docstring) and security headers."""

    def __init__(self, app, served_host: str):
        self.app = app
        self.served_host = served_host

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not host_allowed(host, self.served_host):
            response = _error(403, f"this server answers requests for its own address only (127.0.0.1 or localhost); "
                                   f"the Host {host!r} is not one of them")
            return await response(scope, receive, send)
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            site = headers.get("sec-fetch-site")
            if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
                return await _error(403, f"writes from another site ({origin}) are refused")(scope, receive, send)
            if site is not None and site not in ("same-origin", "none"):
                return await _error(403, f"writes from another site (Sec-Fetch-Site: {site}) are refused")(
                    scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _body(request: Request, limit: int, what: str) -> bytes:
    """The request's body, refused with 413 as soon as it is known to exceed ``limit`` (before reading it whole)."""
    declared = request.headers.get("content-length")
    too_big = f"{what} is larger than the limit of {limit // 2**20} MB" if limit >= 2**20 else \
        f"{what} is larger than the limit of {limit // 2**10} KB"
    if declared is not None:
        try:
            if int(declared) > limit:
                raise ApiError(413, too_big)
        except ValueError:
            raise ApiError(400, "Content-Length must be a number") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, too_big)
        chunks.append(chunk)
    return b"".join(chunks)


async def _json(request: Request) -> dict:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, f"send JSON (Content-Type: application/json); got {content_type or 'no content type'}")
    body = await _body(request, limits.MAX_JSON_BYTES, "the request")
    try:
        value = json.loads(body or b"{}")
    except ValueError as error:
        raise ApiError(400, f"the request is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "the request must be a JSON object")
    return value


def parse_config(values, what: str = "settings") -> TrainConfig:
    """A ``TrainConfig`` from the page's values, within the page's limits; errors name the setting."""
    if not isinstance(values, dict):
        raise ApiError(400, f"{what} must be an object of training settings")
    unknown = sorted(set(values) - set(SETTING_NAMES))
    if unknown:
        raise ApiError(400, f"unknown training setting(s) {', '.join(unknown)}; settings: {', '.join(SETTING_NAMES)}",
                       unknown[0])
    try:
        config = TrainConfig.from_dict(values)
    except (ValueError, TypeError) as error:
        raise ApiError(400, str(error), getattr(error, "parameter", "settings").split("[")[0]) from None
    check_page_limits(config)
    return config


def check_page_limits(config: TrainConfig) -> None:
    sizes = config.hidden_layer_sizes
    if len(sizes) > limits.MAX_HIDDEN_LAYERS or max(sizes) > limits.MAX_UNITS:
        raise ApiError(400, f"hidden_layer_sizes must be at most {limits.MAX_HIDDEN_LAYERS} layers of at most "
                            f"{limits.MAX_UNITS} units in the page; got {','.join(map(str, sizes))}", "hidden_layer_sizes")
    if config.n_iterations > limits.MAX_ITERATIONS:
        raise ApiError(400, f"n_iterations must be at most {limits.MAX_ITERATIONS} in the page; got "
                            f"{config.n_iterations} (use `reglab train` for longer runs)", "n_iterations")


def _changes(values, config: TrainConfig) -> dict:
    """Settings to change during a training, checked against ``config``."""
    if not isinstance(values, dict) or not values:
        raise ApiError(400, f"give the settings to change, e.g. {{\"l2\": 0.7}}; can change: {', '.join(CHANGEABLE)}")
    fixed = sorted(set(values) - set(CHANGEABLE))
    if fixed:
        raise ApiError(400, f"{', '.join(fixed)} cannot change during training; can change: {', '.join(CHANGEABLE)}",
                       fixed[0])
    changed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    parse_config({**config.to_dict(), **changed})
    return changed


def create_app(*, served_host: str = "127.0.0.1", jobs: Jobs | None = None, prepare: bool = True) -> Starlette:
    """The application. ``served_host`` is the address it listens on (the Host check accepts it)."""
    jobs = jobs if jobs is not None else Jobs()
    uploads = Uploads()

    async def dataset_of(spec):
        return await asyncio.to_thread(dataset_from_spec, spec, uploads)

    async def index(request):
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})

    async def settings(request):
        return JSONResponse({"settings": [s.to_json() for s in SETTINGS], "changeable": list(CHANGEABLE),
                             "limits": limits.as_json(),
                             "course_models": {name: config_json(c) for name, c in course_study_configs().items()}})

    async def datasets(request):
        return JSONResponse({"builtin": builtins_json(), "course": await asyncio.to_thread(course_status)})

    async def data(request):
        spec = await _json(request)
        return JSONResponse(points_json(await dataset_of(spec)))

    async def upload(request):
        name = request.query_params.get("name") or request.headers.get("x-filename", "")
        content = await _body(request, limits.MAX_UPLOAD_BYTES, "the uploaded file")
        if not content:
            raise ApiError(400, "the upload is empty: send the file's bytes as the request body", "file")
        upload_id, dataset = await asyncio.to_thread(uploads.add, content, name,
                                                     request.headers.get("content-type", ""))
        return JSONResponse({"upload": upload_id, "name": dataset.name, **points_json(dataset)})

    async def train(request):
        body = await _json(request)
        config = parse_config(body.get("settings", {}))
        schedule = []
        for item in body.get("schedule") or []:
            if not isinstance(item, dict) or not isinstance(item.get("at"), int) or item["at"] < 0:
                raise ApiError(400, "schedule items must be {\"at\": iteration, \"set\": {setting: value}}", "schedule")
            schedule.append((item["at"], _changes(item.get("set"), config)))
        stop_at = body.get("stop_at")
        if stop_at is not None and (not isinstance(stop_at, int) or stop_at < 0):
            raise ApiError(400, f"stop_at must be an iteration (an integer >= 0); got {stop_at!r}", "stop_at")
        pace = body.get("pace")
        if pace is not None and (not isinstance(pace, (int, float)) or pace <= 0):
            raise ApiError(400, f"pace must be iterations per second (> 0) or null; got {pace!r}", "pace")
        dataset = await dataset_of(body.get("data", {}))
        job = _add(TrainJob(dataset, config, schedule=schedule, stop_at=stop_at, pace=pace,
                            paused=bool(body.get("paused", False))))
        return JSONResponse({"id": job.id, "events": f"/api/events/{job.id}"}, status_code=202)

    async def compare(request):
        body = await _json(request)
        models = body.get("models")
        if not isinstance(models, list) or not models:
            raise ApiError(400, "models must be a list of {\"name\": ..., \"settings\": {...}}", "models")
        if len(models) > limits.MAX_COMPARE_MODELS:
            raise ApiError(400, f"compare at most {limits.MAX_COMPARE_MODELS} models; got {len(models)}", "models")
        configs = {}
        for k, item in enumerate(models):
            name = str(item.get("name") or f"model {k + 1}") if isinstance(item, dict) else ""
            if not name or name in configs:
                raise ApiError(400, f"each model needs its own name; {name or 'an empty name'!r} is given twice or "
                                    f"is not an object", "models")
            configs[name] = parse_config(item.get("settings", {}), f"the settings of {name!r}")
        seeds = body.get("seeds", 1)
        if not isinstance(seeds, int) or isinstance(seeds, bool) or not 1 <= seeds <= limits.MAX_SEEDS:
            raise ApiError(400, f"seeds must be an integer in [1, {limits.MAX_SEEDS}]; got {seeds!r}", "seeds")
        dataset = await dataset_of(body.get("data", {}))
        job = _add(CompareJob(dataset, configs, seeds))
        return JSONResponse({"id": job.id, "events": f"/api/events/{job.id}"}, status_code=202)

    def _add(job):
        try:
            return jobs.add(job)
        except TooManyJobs as error:
            raise ApiError(429, str(error), headers={"Retry-After": str(limits.RETRY_AFTER_SECONDS)}) from None

    def _job(request, kind=None):
        job = jobs.get(request.path_params["job_id"])
        if job is None or (kind is not None and job.kind != kind):
            raise ApiError(404, "no such training on this server (it may have ended long ago, or the server "
                                "restarted): train again")
        job.touch()
        return job

    async def events(request):
        job = _job(request)
        try:
            last = int(request.headers.get("last-event-id", "-1"))
        except ValueError:
            last = -1

        async def stream():
            nonlocal last
            loop, wake = asyncio.get_running_loop(), asyncio.Event()
            job.listen(loop, wake)  # set by the training thread at each new event: no polling, no delay
            try:
                yield "retry: 1000\n\n"
                while True:
                    wake.clear()
                    for event in job.events_after(last):
                        last = event["id"]
                        yield f"id: {event['id']}\nevent: {event['event']}\ndata: {json.dumps(event['data'])}\n\n"
                    job.touch()
                    if job.closed and not job.events_after(last):
                        return
                    try:
                        await asyncio.wait_for(wake.wait(), timeout=10)
                    except asyncio.TimeoutError:  # a comment now and then: the browser keeps the stream open
                        yield ": still here\n\n"
            finally:
                job.unlisten(loop, wake)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-cache", "x-accel-buffering": "no"})

    async def control(request):  # POST /api/{pause,resume,step,update}/<id> (stop: stop_any)
        action = request.path_params["action"]
        if action not in CONTROLS:
            raise ApiError(404, "no such page or API route")
        job = _job(request, "train")
        body = await _json(request) if action in ("step", "update") else {}
        if job.finished:
            raise ApiError(409, f"this training has ended ({job.state}): start a new one")
        if action in ("pause", "resume"):
            job.command(action)
        elif action == "step":
            n = body.get("iterations", 100)
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= limits.MAX_ITERATIONS:
                raise ApiError(400, f"iterations must be an integer in [1, {limits.MAX_ITERATIONS}]; got {n!r}",
                               "iterations")
            job.command("step", n)
        elif action == "update":
            if job.state != "paused":
                raise ApiError(409, "pause the training before changing its settings")
            job.command("update", _changes(body.get("settings"), job.trainer.config))
        return JSONResponse({"id": job.id, "state": job.state, "action": action})

    async def stop_any(request):  # POST /api/stop/<id>: trainings and comparisons
        job = _job(request)
        if not job.finished:
            job.cancel("stopped")
        return JSONResponse({"id": job.id, "state": job.state, "action": "stop"})

    async def results(request):
        job = _job(request)
        if job.state not in ("done", "stopped") or (job.kind == "compare" and job.result is None) or \
                (job.kind == "train" and not len(job.trainer.history.iterations)):
            raise ApiError(409, "the results are ready when the training has finished")
        text = await asyncio.to_thread(job.results_json)
        return Response(text, media_type="application/json",
                        headers={"content-disposition": f'attachment; filename="results-{job.id}.json"'})

    async def model(request):
        job = _job(request)
        if job.state not in ("done", "stopped") or (job.kind == "compare" and job.result is None):
            raise ApiError(409, "the model is ready when the training has finished")
        if job.kind == "compare":
            name = request.query_params.get("name", "")
            if name not in job.configs:
                raise ApiError(404, f"no model named {name!r}; models: {', '.join(job.configs)}", "name")
            content = await asyncio.to_thread(job.model_npz, name)
        else:
            content = await asyncio.to_thread(job.model_npz)
        return Response(content, media_type="application/octet-stream",
                        headers={"content-disposition": f'attachment; filename="model-{job.id}.npz"'})

    async def status(request):
        return JSONResponse({"live": jobs.live_count(), "max_live": jobs.max_live})

    async def api_error(request, error: ApiError):
        return _error(error.status, error.message, error.field, error.headers)

    async def data_error(request, error: DataError):
        return _error(error.status, str(error), error.field)

    async def not_found(request, error):
        return _error(getattr(error, "status_code", 404), "no such page or API route" if getattr(
            error, "status_code", 404) == 404 else str(getattr(error, "detail", error)))

    async def unexpected(request, error):
        return _error(500, f"internal error ({type(error).__name__}: {error}); please report it")

    routes = [
        Route("/", index),
        Route("/api/settings", settings),
        Route("/api/datasets", datasets),
        Route("/api/data", data, methods=["POST"]),
        Route("/api/upload", upload, methods=["POST"]),
        Route("/api/train", train, methods=["POST"]),
        Route("/api/compare", compare, methods=["POST"]),
        Route("/api/events/{job_id}", events),
        Route("/api/stop/{job_id}", stop_any, methods=["POST"]),
        Route("/api/{action:str}/{job_id}", control, methods=["POST"]),
        Route("/api/results/{job_id}", results),
        Route("/api/model/{job_id}", model),
        Route("/api/status", status),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        import threading

        from .jobs import prepare_engine

        if prepare:
            threading.Thread(target=prepare_engine, name="reglab-web-prepare", daemon=True).start()
        else:
            from .jobs import engine_ready

            engine_ready.set()
        yield
        await asyncio.to_thread(jobs.close)

    from starlette.exceptions import HTTPException

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        ApiError: api_error, DataError: data_error, HTTPException: not_found, Exception: unexpected})
    app.add_middleware(Guard, served_host=served_host)
    return app
