"""Trainings and comparisons of the page: each runs on its own thread and leaves a list of events.

A ``TrainJob`` trains one model with ``reglab.training.Trainer`` on the compiled engine (whose loop
releases the GIL, so jobs run on the machine's cores side by side) and can be paused, resumed,
stepped, changed while paused and stopped. A ``CompareJob`` runs ``reglab.compare`` or
``compare_seeds``. Both append events (``Job.emit``), which the page reads as server-sent events;
events are numbered, so a reconnecting page gets what it missed. ``Jobs`` holds them, enforces the
number running at once, and cancels those no page has listened to for ``IDLE_SECONDS``.
"""

from __future__ import annotations

import io
import secrets
import threading
import time

import numpy as np

from ..config import TrainConfig
from ..engine.loop import History, TrainingDivergedError
from ..experiments.compare import compare, compare_seeds, measure
from ..model import Model
from ..runs.compare import compare_payload, difference_lines
from ..runs.tables import json_text
from ..runs.train import train_payload
from ..training import Trainer
from . import limits

__all__ = ["Job", "TrainJob", "CompareJob", "Jobs", "TooManyJobs", "params_json", "engine_ready"]

FINISHED = ("done", "stopped", "failed", "cancelled")

#: Set once the compiled engine is loaded (compiled on the first run after installation): jobs wait for it.
engine_ready = threading.Event()


def prepare_engine() -> None:
    from ..engine.compiled import prepare

    try:
        prepare()
    finally:
        engine_ready.set()


class TooManyJobs(Exception):
    """More trainings than ``MAX_LIVE_JOBS`` at once."""


class _Cancelled(Exception):
    """Ends a comparison's training from its progress callback."""


def params_json(model_params) -> dict:
    """One network's weights and biases as nested lists: W[l] (n_out, n_in), b[l] (n_out,)."""
    return {"W": [W[0].tolist() for W in model_params.weights], "b": [b[0, :, 0].tolist() for b in model_params.biases]}


def _scaling_json(model: Model) -> dict:
    return {"input_mean": None if model.input_mean is None else model.input_mean.tolist(),
            "input_scale": None if model.input_scale is None else model.input_scale.tolist()}


class Job:
    """Events, state and the time a page last listened; subclasses run the work in ``_work``."""

    kind = "job"

    def __init__(self, dataset):
        self.id = secrets.token_hex(8)
        self.dataset = dataset
        self.state = "queued"
        self.created = time.monotonic()
        self.last_seen = self.created
        self.watchers = 0
        self.events: list[dict] = []
        self._waiters: set = set()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"reglab-web-{self.kind}-{self.id}", daemon=True)

    # ---- events ------------------------------------------------------------------------------
    def emit(self, event: str, data: dict) -> None:
        with self._lock:
            if self.events and "params" in self.events[-1]["data"] and self.events[-1]["event"] == "progress":
                # only the newest boundary is worth replaying to a page that reconnects: memory stays bounded
                self.events[-1]["data"] = {k: v for k, v in self.events[-1]["data"].items() if k != "params"}
            self.events.append({"id": len(self.events), "event": event, "data": data})
            waiters = list(self._waiters)
        for loop, wake in waiters:  # the streams waiting in the server's event loop
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # that loop has closed
                pass

    def listen(self, loop, wake) -> None:
        """Have ``wake`` (an asyncio.Event of ``loop``) set whenever an event is added."""
        with self._lock:
            self._waiters.add((loop, wake))
            self.watchers += 1

    def unlisten(self, loop, wake) -> None:
        with self._lock:
            self._waiters.discard((loop, wake))
            self.watchers -= 1
        self.touch()

    def events_after(self, last_id: int) -> list[dict]:
        with self._lock:
            return self.events[last_id + 1:]

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def live(self) -> bool:
        return not self.finished

    # ---- running -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def cancel(self, state: str = "cancelled") -> None:
        self._cancel_state = state
        self._cancel.set()
        self._wake()

    def _wake(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _main(self) -> None:
        try:
            if not engine_ready.is_set():
                self.emit("status", {"message": "loading the compiled engine (the first run after installation "
                                                "compiles it: a minute or two)"})
                engine_ready.wait()
            self.state = "running"
            self._work()
        except _Cancelled:
            self._end("done", self._final() | {"state": getattr(self, "_cancel_state", "cancelled")},
                      getattr(self, "_cancel_state", "cancelled"))
        except (ValueError, TypeError, MemoryError) as error:  # diverged training, a bad setting: the user's to fix
            field = "learning_rate" if isinstance(error, TrainingDivergedError) else getattr(error, "parameter", None)
            self._end("failed", {"message": str(error), "field": field}, "failed")
        except Exception as error:  # noqa: BLE001 - never a silent nothing: the page shows what happened
            self._end("failed", {"message": f"internal error ({type(error).__name__}: {error}); please report it"},
                      "failed")

    def _end(self, event: str, data: dict, state: str) -> None:
        """The final state (its exports are ready from then on), then the last event (``closed``)."""
        self.state = state
        self.emit(event, data)

    @property
    def closed(self) -> bool:
        """The last event has been emitted: a stream that has sent it ends."""
        with self._lock:
            return bool(self.events) and self.events[-1]["event"] in ("done", "failed")

    def _work(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _final(self) -> dict:
        return {}

    def results_json(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class TrainJob(Job):
    """One model trained live: snapshots of its parameters, costs and accuracies as it goes.

    ``schedule`` [(iteration, {setting: value}), ...] changes settings at those iterations (a shared
    link replays the changes made while paused); ``pace`` (iterations per second, or None) slows
    training down so that a class can watch the boundary form.
    """

    kind = "train"

    def __init__(self, dataset, config: TrainConfig, *, schedule=(), stop_at: int | None = None,
                 pace: float | None = None, paused: bool = False):
        super().__init__(dataset)
        self.config = config
        self.schedule = sorted(schedule, key=lambda item: item[0])
        self.stop_at = stop_at
        self.pace = pace
        self.trainer: Trainer | None = None
        self.seconds = 0.0
        self._condition = threading.Condition()
        self._paused = paused
        self._commands: list[tuple] = []
        self._sent = 0  # history points already sent
        self._last_snapshot = 0.0

    # ---- control (from the request handlers) ---------------------------------------------------
    def command(self, name: str, *args) -> None:
        with self._condition:
            if name == "pause":
                self._paused = True
            elif name == "resume":
                self._paused = False
            else:
                self._commands.append((name, *args))
            self._condition.notify_all()

    def _wake(self) -> None:
        with self._condition:
            self._condition.notify_all()

    # ---- the training thread ---------------------------------------------------------------------
    def _work(self) -> None:
        data = self.dataset
        start = time.perf_counter()
        self.trainer = trainer = Trainer(data.X_train, data.y_train, self.config, engine="compiled")
        self.emit("start", {"config": config_json(self.config), "layer_sizes": list(trainer.params.layer_sizes),
                            **_scaling_json(trainer.model()), "n_iterations": self.config.n_iterations})
        schedule = list(self.schedule)
        clock = [time.perf_counter(), 0]  # pace: (time, iteration) training (re)started at
        while True:
            if self._cancel.is_set():
                raise _Cancelled
            with self._condition:
                commands, self._commands = self._commands, []
                paused = self._paused
            for name, *args in commands:
                if name == "update":
                    self._update(args[0])
                elif name == "step":
                    self._segment(args[0], clock, paused=True)
            if self.stop_at is not None and trainer.iteration >= self.stop_at:
                break
            if trainer.remaining == 0:
                break
            if paused:
                if self.state != "paused":
                    self.state = "paused"
                    self.emit("progress", self._snapshot(trainer.params) | {"state": "paused"})
                with self._condition:
                    if not self._commands and self._paused and not self._cancel.is_set():
                        self._condition.wait(timeout=1.0)
                clock[:] = [time.perf_counter(), trainer.iteration]
                continue
            self.state = "running"
            while schedule and schedule[0][0] <= trainer.iteration:
                self._update(schedule.pop(0)[1])
            limit = trainer.remaining
            if schedule:
                limit = min(limit, schedule[0][0] - trainer.iteration)
            if self.stop_at is not None:
                limit = min(limit, self.stop_at - trainer.iteration)
            self._segment(limit, clock, paused=False)
        self.seconds = time.perf_counter() - start
        self._end("done", self._final() | {"state": "done"}, "done")

    def _update(self, changes: dict) -> None:
        before = len(self.trainer.changes)
        self.trainer.update(**changes)
        made = self.trainer.changes[before:]  # [(iteration, {setting: value})] if anything changed, else []
        self.emit("changed", {"iteration": self.trainer.iteration,
                              "changes": {k: _plain(v) for k, v in made[0][1].items()} if made else {},
                              "config": config_json(self.trainer.config)})

    def _segment(self, n_iterations: int, clock: list, *, paused: bool) -> None:
        trainer = self.trainer

        def watch(iteration, params, cost):
            if self._cancel.is_set():
                return True
            if self.pace:  # wait until the pace allows this iteration
                due = clock[0] + (iteration - clock[1]) / self.pace
                while (delay := due - time.perf_counter()) > 0 and not self._cancel.is_set():
                    time.sleep(min(delay, 0.05))
            now = time.perf_counter()
            if iteration == 0 or now - self._last_snapshot >= 1 / limits.SNAPSHOTS_PER_SECOND:
                self._last_snapshot = now
                self.emit("progress", self._snapshot(params, iteration) | {"state": "running"})
            with self._condition:
                return not paused and (self._paused or bool(self._commands))

        trainer.run(n_iterations, watch=watch)
        if paused:  # a step: show where it ended
            self.emit("progress", self._snapshot(trainer.params) | {"state": "paused"})

    def _snapshot(self, params, iteration: int | None = None) -> dict:
        trainer = self.trainer
        model = trainer.snapshot(params)
        history = trainer.history
        new = slice(self._sent, None)
        self._sent = len(history.iterations)
        return {
            "iteration": trainer.iteration if iteration is None else iteration,
            "params": params_json(params),
            "history": _history_json(history, new),
            "train_accuracy": model.accuracy(self.dataset.X_train, self.dataset.y_train),
            "test_accuracy": model.accuracy(self.dataset.X_test, self.dataset.y_test),
        }

    def _final(self) -> dict:
        trainer = self.trainer
        if trainer is None:
            return {}
        model = trainer.model()
        history = trainer.history
        if not len(history.iterations):  # stopped before its first record point
            return {"iteration": trainer.iteration, "params": params_json(model.params), "config": config_json(model.config)}
        row = measure("model", model, self.dataset, self.seconds).row()
        return {
            "iteration": trainer.iteration, "params": params_json(model.params),
            "history": _history_json(history, slice(self._sent, None)), "final_cost": row["final_cost"],
            "train_accuracy": row["train_accuracy"], "test_accuracy": row["test_accuracy"], "seconds": self.seconds,
            "best_iteration": None if not history.early_stopped else history.best_iteration,
            "stopped_early": bool(trainer.stopped), "config": config_json(model.config),
        }

    def model(self) -> Model | None:
        return None if self.trainer is None else self.trainer.model()

    def results_json(self) -> str:
        model = self.model()
        row = measure("model", model, self.dataset, self.seconds).row()
        payload = train_payload(model, self.dataset, row, "reglab serve (web page)", files=False)
        payload["models"][0]["iterations_done"] = self.trainer.iteration
        payload["models"][0]["changes"] = [{"iteration": at, "settings": _plain(changes)}
                                           for at, changes in self.trainer.changes]
        return json_text(payload)

    def model_npz(self) -> bytes:
        buffer = io.BytesIO()
        self.model().save(buffer)
        return buffer.getvalue()


class CompareJob(Job):
    """Named models trained side by side (``reglab.compare``), and with ``seeds`` > 1 each over seeds too."""

    kind = "compare"

    def __init__(self, dataset, configs: dict[str, TrainConfig], seeds: int = 1):
        super().__init__(dataset)
        self.configs = configs
        self.seeds = seeds
        self.result = None
        self.study = None

    def _work(self) -> None:
        last = [0.0]

        def progress(done, total):
            if self._cancel.is_set():
                raise _Cancelled
            now = time.perf_counter()
            if now - last[0] >= 0.1 or done == total:
                last[0] = now
                self.emit("progress", {"done": done, "total": total})

        if self.seeds > 1:
            self.study = compare_seeds(self.dataset, self.configs, range(self.seeds), progress=progress)
            self.result = self.study.single
        else:
            self.result = compare(self.dataset, self.configs, progress=progress)
        self._end("done", self._final() | {"state": "done"}, "done")

    def _final(self) -> dict:
        if self.result is None:
            return {}
        models = []
        over_seeds = {} if self.study is None else {row["model"]: row["test"] for row in self.study.summary()}
        for r in self.result.results:
            entry = {"name": r.name, "config": config_json(r.config), "params": params_json(r.model.params),
                     **_scaling_json(r.model), "train_accuracy": r.train_accuracy, "test_accuracy": r.test_accuracy,
                     "final_cost": r.final_cost, "seconds": r.seconds,
                     "history": _history_json(r.model.history, slice(None))}
            if self.study is not None:
                runs = self.study.runs[r.name]
                interval = over_seeds[r.name]
                entry["seeds"] = {"seeds": list(self.study.seeds), "test": [x.test_accuracy for x in runs],
                                  "train": [x.train_accuracy for x in runs], "mean": interval.mean,
                                  "low": interval.low, "high": interval.high, "text": str(interval)}
            models.append(entry)
        differences = [] if self.study is None else difference_lines(self.study)  # as `compare --seeds` says them
        return {"models": models, "seeds": self.seeds, "differences": differences}

    def results_json(self) -> str:
        return json_text(compare_payload(self.result, "reglab serve (web page: compare)", self.study, files=False))

    def model_npz(self, name: str) -> bytes:
        buffer = io.BytesIO()
        self.result[name].model.save(buffer)
        return buffer.getvalue()


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return list(value)
    return value


def config_json(config: TrainConfig) -> dict:
    """A configuration's settings as JSON values (tuples as lists)."""
    return {k: _plain(v) for k, v in config.to_dict().items()}


def _history_json(history: History, part: slice) -> dict:
    out = {"iterations": history.iterations[part].tolist(), "cost": np.asarray(history.cost)[part].tolist()}
    if history.early_stopped:
        out["dev_cost"] = [None if not np.isfinite(v) else v for v in np.asarray(history.dev_cost)[part].tolist()]
    return out


class Jobs:
    """The server's jobs: at most ``MAX_LIVE_JOBS`` running or paused; finished ones kept for their exports."""

    def __init__(self, max_live: int = limits.MAX_LIVE_JOBS, idle_seconds: float = limits.IDLE_SECONDS):
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self.max_live = max_live
        self.idle_seconds = idle_seconds
        self._closing = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="reglab-web-reaper", daemon=True)
        self._reaper.start()

    def add(self, job: Job) -> Job:
        with self._lock:
            live = sum(1 for j in self._jobs.values() if j.live)
            if live >= self.max_live:
                raise TooManyJobs(f"{live} trainings are already running or paused on this server (the limit is "
                                  f"{self.max_live}): wait for one to finish, or stop one, and try again")
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.finished]
            for old in finished[: max(0, len(finished) - limits.KEPT_FINISHED_JOBS)]:
                del self._jobs[old.id]
        job.start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def live_count(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.live)

    def _reap(self) -> None:
        while not self._closing.wait(1.0):
            now = time.monotonic()
            with self._lock:
                idle = [j for j in self._jobs.values() if j.live and j.watchers == 0
                        and now - j.last_seen > self.idle_seconds]
            for job in idle:
                job.cancel("cancelled")

    def close(self, timeout: float = 5.0) -> None:
        """Cancel every job and wait (up to ``timeout`` seconds in all) for their threads."""
        self._closing.set()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        end = time.monotonic() + timeout
        for job in jobs:
            job.join(max(0.0, end - time.monotonic()))

