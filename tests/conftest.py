"""Shared fixtures: the course's files are read in place from ../shared, never copied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # tests never open windows

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REGLAB_SHARED", REPO.parent / "shared"))


def _missing(reason: str):
    """Skip locally; in CI (CI=true) a missing course file is a failure, never a silent skip."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must run the course-data tests)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def course_data_path() -> Path:
    """The course's data.mat, from $REGLAB_COURSE_DATA (set by .ci/run)."""
    value = os.environ.get("REGLAB_COURSE_DATA")
    if not value:
        _missing("REGLAB_COURSE_DATA is not set: it must point at the course's data.mat")
    path = Path(value)
    if not path.is_file():
        _missing(f"REGLAB_COURSE_DATA={value} does not exist")
    return path


@pytest.fixture(scope="session")
def course_notebook() -> str:
    """The text of the course notebook's export (shared/seed), read in place."""
    path = SHARED / "seed" / "Regularization-v2.py.txt"
    if not path.is_file():
        _missing(f"{path} not found: the shared folder must sit beside the checkout")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def course_vectors() -> dict:
    """Inputs and expected outputs of the notebook's graded functions."""
    path = SHARED / "reference" / "course_test_vectors.json"
    if not path.is_file():
        _missing(f"{path} not found: the shared folder must sit beside the checkout")
    return json.loads(path.read_text())


@pytest.fixture(scope="session", autouse=True)
def compiled_engine() -> float:
    """The compiled engine loaded once per session, before any test trains: compiling it (the first run after an
    install, or after its code changed) shows up here, in the setup of the first test, and nowhere else."""
    from reglab.engine.compiled import prepare

    return prepare()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
