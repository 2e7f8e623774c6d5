"""The limits of the web playground, each with the message it gives (README, "Web playground")."""

from __future__ import annotations

MAX_UPLOAD_BYTES = 5 * 2**20  # an uploaded data file; larger ones get 413 before their body is read
MAX_JSON_BYTES = 2**20  # any other request body (drawn points travel in it)
MAX_POINTS = 10_000  # points of a data set used in the page (train + test)
MAX_HIDDEN_LAYERS = 5
MAX_UNITS = 100  # units of one hidden layer
MAX_ITERATIONS = 200_000  # of one training (the notebook's model needs 30000)
MAX_COMPARE_MODELS = 6
MAX_SEEDS = 20  # seeds of the compare view's spread
MAX_LIVE_JOBS = 4  # trainings and comparisons running or paused at once; more get 429 with Retry-After
RETRY_AFTER_SECONDS = 5
IDLE_SECONDS = 30.0  # a training no page has listened to for this long is cancelled
KEPT_FINISHED_JOBS = 16  # finished jobs kept for their exports (the oldest go first)
KEPT_UPLOADS = 8  # uploaded files kept in memory (the oldest go first)
SNAPSHOTS_PER_SECOND = 12  # at most this many boundary updates per second are sent while training (>= 10 asked)


def as_json() -> dict:
    """The limits, for the page (it checks them as the user types, the server checks them again)."""
    return {name.lower(): value for name, value in globals().items() if name.isupper()}
