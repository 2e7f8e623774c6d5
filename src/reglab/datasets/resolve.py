"""Which data a command uses: a file the user names, a built-in set, or the course's data.mat.

``resolve_data`` looks for the course's file first (``./datasets/data.mat``, then
``$REGLAB_COURSE_DATA``) and falls back to the built-in default, saying in the data set's
``source`` which it used and why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from .dataset import Dataset
from .generators import DEFAULT_DATASET, GENERATORS, make_dataset
from .loaders import FILE_SUFFIXES, load_course, load_file

__all__ = ["COURSE_ENV_VAR", "COURSE_LOCAL_PATH", "data_file", "find_course_file", "resolve_data"]

COURSE_ENV_VAR = "REGLAB_COURSE_DATA"
COURSE_LOCAL_PATH = Path("datasets") / "data.mat"  # the course's folder layout


def _course_file(cwd, environ) -> Path | None:
    """The course file by the search order, or None; a set but missing variable is an error."""
    local = Path.cwd() if cwd is None else Path(cwd)
    candidate = local / COURSE_LOCAL_PATH
    if candidate.is_file():
        return candidate
    environ = os.environ if environ is None else environ
    value = environ.get(COURSE_ENV_VAR)
    if value:
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(
                f"${COURSE_ENV_VAR} is set to {value!r}, which is not an existing file; "
                f"point it at the course's data.mat or unset it"
            )
        return path
    return None


def find_course_file(cwd=None, environ: Mapping[str, str] | None = None) -> Path:
    """Locate the course's data.mat: ``<cwd>/datasets/data.mat``, else ``$REGLAB_COURSE_DATA``.

    Parameters
    ----------
    cwd : str or os.PathLike, optional
        Folder to search from; default the current working directory.
    environ : mapping, optional
        Environment variables; default ``os.environ``.

    Raises
    ------
    FileNotFoundError
        When neither place holds the file (the message names both), or when the variable is set
        to a path that does not exist.
    """
    path = _course_file(cwd, environ)
    if path is None:
        local = (Path.cwd() if cwd is None else Path(cwd)) / COURSE_LOCAL_PATH
        raise FileNotFoundError(
            f"the course's data.mat was not found: looked for {local} and in ${COURSE_ENV_VAR} "
            f"(not set); copy it there or set {COURSE_ENV_VAR}=/path/to/data.mat"
        )
    return path


def resolve_data(data=None, *, cwd=None, environ: Mapping[str, str] | None = None, **generator_options) -> Dataset:
    """The data set a command should use.

    Parameters
    ----------
    data : str, os.PathLike or None
        None: the course's ``<cwd>/datasets/data.mat`` if present, else ``$REGLAB_COURSE_DATA``
        if set (set but missing is a ``FileNotFoundError``), else the built-in
        ``DEFAULT_DATASET``. A built-in name (see ``GENERATORS``; names win over files of the
        same name, write ``./field`` for such a file): ``make_dataset``. Anything else: a path
        for ``load_file``.
    cwd, environ
        Where to search and which environment to read; default the process's own.
    **generator_options
        ``n_samples``, ``noise``, ``test_fraction``, ``seed`` for ``make_dataset``; a value of
        None means the default. Files use only ``test_fraction`` and ``seed``; the course file
        uses neither.

    Returns
    -------
    Dataset
        Its ``source`` says which data set was used and why.
    """
    allowed = ("n_samples", "noise", "test_fraction", "seed")
    unknown = sorted(set(generator_options) - set(allowed))
    if unknown:
        raise TypeError(f"resolve_data got unknown option(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    options = {k: v for k, v in generator_options.items() if v is not None}
    if data is None:
        course = _course_file(cwd, environ)
        if course is not None:
            _refuse_generator_options(options, "the course data")
            dataset = load_course(course)
            via = f" (via ${COURSE_ENV_VAR})" if course != (Path.cwd() if cwd is None else Path(cwd)) / COURSE_LOCAL_PATH else ""
            return replace(dataset, source=dataset.source + via)
        dataset = make_dataset(DEFAULT_DATASET, **options)
        reason = f"no {COURSE_LOCAL_PATH} here and ${COURSE_ENV_VAR} not set"
        return replace(dataset, source=f"{dataset.source}; {reason}")
    if isinstance(data, str) and data in GENERATORS:
        return make_dataset(data, **options)
    if not isinstance(data, (str, os.PathLike)):
        raise TypeError(
            f"data must be a built-in data set name ({', '.join(GENERATORS)}) or a file path; "
            f"got {type(data).__name__}"
        )
    if isinstance(data, str) and not Path(data).suffix and not Path(data).exists():
        raise ValueError(
            f"data must be a built-in data set name ({', '.join(GENERATORS)}) or the path of a "
            f"{'/'.join(FILE_SUFFIXES)} file; got {data!r}, which is neither"
        )
    _refuse_generator_options(options, "a data file")
    return load_file(data, **{k: options[k] for k in ("test_fraction", "seed") if k in options})


def data_file(data=None, *, cwd=None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The file ``resolve_data(data)`` would read (None for a built-in data set), without reading it.

    For checking a command's outputs against its inputs before any work: the course's file found by the
    search order (``./datasets/data.mat``, ``$REGLAB_COURSE_DATA``) counts as much as a named one.
    """
    if data is None:
        try:
            return _course_file(cwd, environ)
        except FileNotFoundError:  # reported by resolve_data, with its own message
            return None
    if isinstance(data, str) and data in GENERATORS:
        return None
    return Path(data) if isinstance(data, (str, os.PathLike)) else None


def _refuse_generator_options(options: dict, what: str) -> None:
    for key in ("n_samples", "noise"):
        if key in options:
            raise ValueError(f"{key} applies to built-in data sets only; got {key}={options[key]!r} with {what}")
