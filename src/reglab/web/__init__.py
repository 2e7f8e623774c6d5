"""``reglab serve``: a local web playground over the library (routes, limits, events, static page).

- ``limits``: every limit of the page and the API, with its documented value;
- ``data``: the data sets the page can use (built-ins, the course's file, uploads held in memory, drawn points);
- ``jobs``: trainings and comparisons running on threads, their events, pause/resume/step/stop, idle cancelling;
- ``app``: the Starlette application (JSON API, server-sent events, the checks of Host and Origin);
- ``server``: choosing the port and running uvicorn;
- ``static/``: the page (HTML, CSS, JavaScript modules; no build step, nothing from the internet).

Nothing here trains by itself: trainings go through ``reglab.training.Trainer`` and
``reglab.experiments.compare``. Needs the ``web`` extra (``pip install "reglab[web]"``).
"""

__all__ = ["create_app"]


def __getattr__(name):
    if name == "create_app":  # Starlette loads with the application, not with `reglab.web.server`
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'reglab.web' has no attribute {name!r}")
