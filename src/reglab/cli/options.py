"""The options the commands share: the declared training settings, data options, and the pieces of
output every training command prints (progress bar, engine loading, option names in errors)."""

from __future__ import annotations

import contextlib
import shlex
import sys
import threading
import time
from pathlib import Path

import click

from ..settings import SETTINGS, Setting, setting


def numbers(text: str, option: str, parse=float) -> tuple:
    """Comma-separated numbers, e.g. a per-layer keep_prob ``0.9,0.8`` or layer sizes ``20,3``."""
    try:
        return tuple(parse(part) for part in text.split(","))
    except ValueError:
        example = "20,3" if parse is int else "0.9,0.8"
        raise click.BadParameter(f"expected a number or comma-separated numbers such as {example}; got {text!r}",
                                 param_hint=option) from None


def grid_values(text: str, option: str, axis: str, parse=float) -> tuple:
    """A grid axis: comma-separated values, each once; "/" separates per-layer values inside one value."""
    items = text.split(",")
    values = []
    for item in items:
        if item.strip().lower() == "none":  # an optional setting switched off, e.g. --max-norm none,2
            values.append(None)
            continue
        try:
            parts = tuple(parse(p) for p in item.split("/"))
        except ValueError:
            raise click.BadParameter(f"expected comma-separated values such as 0,0.1,0.7; got {text!r}",
                                     param_hint=option) from None
        values.append(parts[0] if len(parts) == 1 else parts)
    check_once(values, items, option, axis)
    return tuple(values)


def check_once(values, shown, option: str, axis: str) -> None:
    """Refuse a grid value given twice (it would be counted twice and stored once)."""
    from ..experiments.sweep import find_repeat

    repeat = find_repeat(axis, values)
    if repeat is not None:
        first, again = (shown[i] for i in repeat)
        same = f"{again!r} again" if again == first else f"{again!r}, the same setting as {first!r}"
        raise click.BadParameter(f"each grid value must be given once; got {same}", param_hint=option)


def as_typed(value) -> str:
    """A setting's value as it is typed on the command line."""
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def setting_option(declared: Setting, *, default=None, help: str | None = None, grid: bool = False):
    """The click option of a declared training setting (a grid axis when ``grid``)."""
    default = declared.default if default is None else default
    text = help or declared.help
    common = dict(help=text)
    if declared.kind == "flag":
        return click.option(declared.flag, declared.name, is_flag=True, default=default, **common)
    if grid and declared.kind == "layers":
        return click.option(declared.flag, declared.name, multiple=True, metavar="N,N,...",
                            help=f"{text} Repeat the option for a grid (default {as_typed(default)}).")
    if grid:
        shown = ",".join(as_typed(v) for v in default) if isinstance(default, list) else as_typed(default)
        extra = " Per hidden layer with '/', e.g. 1,0.9/0.8." if declared.kind == "keep_prob" else ""
        extra += " 'none' turns it off." if declared.optional else ""
        return click.option(declared.flag, declared.name, default=shown, show_default=True, metavar="V[,V...]",
                            help=f"{text} Comma-separated: a grid axis.{extra}")
    if declared.kind == "choice":
        return click.option(declared.flag, declared.name, type=click.Choice(declared.choices), default=default,
                            show_default=True, **common)
    if declared.kind in ("layers", "keep_prob"):
        metavar = "N,N,..." if declared.kind == "layers" else "P[,P...]"
        return click.option(declared.flag, declared.name, default=as_typed(default), show_default=True, metavar=metavar,
                            **common)
    kind = int if declared.kind == "int" else float
    return click.option(declared.flag, declared.name, type=kind, default=default,
                        show_default=default is not None, **common)


def setting_options(*, skip=(), defaults=None, helps=None, grid: bool = False):
    """Options for every declared training setting but ``skip``; ``defaults``/``helps`` per command.

    With ``grid``, the settings that can be grid axes take lists (``reglab sweep``).
    """
    defaults, helps = dict(defaults or {}), dict(helps or {})

    def decorate(function):
        for declared in reversed(SETTINGS):
            if declared.name not in skip:
                function = setting_option(declared, default=defaults.get(declared.name), help=helps.get(declared.name),
                                           grid=grid and declared.grid)(function)
        return function

    return decorate


def setting_values(options: dict, *, grid: bool = False) -> dict:
    """The declared settings among parsed ``options``, as the library takes them (grid axes as tuples)."""
    values = {}
    for declared in SETTINGS:
        if declared.name not in options:
            continue
        value = options.pop(declared.name)
        if grid and declared.grid:
            if declared.kind == "layers":
                value = tuple(numbers(v, declared.flag, int) for v in value) or (declared.default,)
                check_once(value, [as_typed(v) for v in value], declared.flag, declared.name)
            else:
                value = grid_values(value, declared.flag, declared.name, int if declared.kind == "int" else float)
        elif declared.kind == "layers":
            value = numbers(value, declared.flag, int)
        elif declared.kind == "keep_prob":
            value = numbers(value, declared.flag)
            value = value[0] if len(value) == 1 else value
        values[declared.name] = value
    return values


# Options of the commands that are not training settings, for errors in the user's terms.
OTHER_OPTIONS = {"dev_fraction": "--dev-fraction", "batch_size": "--batch-size", "seeds": "--seeds",
                  "standardize": "--standardize"}
DATA_OPTIONS = {"seed": "--data-seed", "n_samples": "--n-samples", "noise": "--noise", "test_fraction": "--test-fraction"}


@contextlib.contextmanager
def options_named(options: dict | None = None):
    """Turn the library's error about a parameter into one about the option that set it.

    ``options`` maps parameter names to options; by default, the training settings' own and ``OTHER_OPTIONS``.
    """
    from ..validation import ParameterError

    try:
        yield
    except ParameterError as error:
        name = error.parameter.split("[")[0]
        flags = options if options is not None else {**{s.name: s.flag for s in SETTINGS}, **OTHER_OPTIONS}
        if name not in flags:
            raise
        raise click.BadParameter(str(error), param_hint=flags[name]) from None


def data_options(function):
    options = [
        click.option("--data", "data", default=None, metavar="FILE|NAME",
                     help="A .mat (course layout), .csv or .npz file, or a built-in data set name "
                     "(see `reglab datasets`). Default: ./datasets/data.mat, else $REGLAB_COURSE_DATA, else 'field'."),
        click.option("--n-samples", type=int, default=None, help="Points of a built-in data set."),
        click.option("--noise", type=float, default=None, help="Noise of a built-in data set."),
        click.option("--test-fraction", type=float, default=None, help="Test share of a built-in data set."),
        click.option("--data-seed", type=int, default=0, show_default=True, help="Seed of a built-in data set."),
        click.option("--standardize", is_flag=True,
                     help="Centre and scale each feature by the training points' mean and standard deviation "
                     "(the course's data is unscaled; off by default, as in the notebook)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def run_options(command: str):
    """--engine and --out, the options every training command has besides its settings."""
    def decorate(function):
        function = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                                help=f"Run folder (default runs/<UTC time>-{command}/).")(function)
        return click.option("--engine", type=click.Choice(["compiled", "reference"]), default="compiled",
                            show_default=True, help="Training engine.")(function)
    return decorate


def load_data(options: dict):
    """The data set the data options name (they are taken out of ``options``), after saying which it is."""
    from ..datasets import resolve_data
    from ..runs.tables import describe_data

    data = options.pop("data")
    generator_options = {k: v for k in ("n_samples", "noise", "test_fraction") if (v := options.pop(k)) is not None}
    seed = options.pop("data_seed")
    with options_named(DATA_OPTIONS):
        dataset = resolve_data(data, seed=seed, **generator_options)
    click.echo(describe_data(dataset))
    return dataset


class ProgressBar:
    """A tqdm bar on stderr that appears only when the work lasts more than about a second.

    tqdm itself (about 0.05 s to import) is loaded only then: most runs with cached compiled code
    end sooner.
    """

    DELAY = 1.0  # seconds of work before the bar appears

    def __init__(self, description: str):
        self._description = description
        self._start = time.monotonic()
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.monotonic() - self._start < self.DELAY:
                return
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self._description, unit="it", unit_scale=True, leave=False,
                             file=sys.stderr, disable=None)  # None: no bar when stderr is not a terminal
        if self._bar.total != total:
            self._bar.total = total
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def command_line() -> str:
    return "reglab " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def prepare_engine(engine: str, notice_after: float = 2.0) -> None:
    """Load the compiled engine before anything is timed. If that takes longer than ``notice_after`` seconds
    (loading it takes a fraction of a second), say what is happening; if it was compiled, say so when done."""
    if engine != "compiled":
        return
    from ..engine import compiled

    notice = threading.Timer(notice_after, lambda: click.echo(
        "Loading the training engine (compiled once, the first time after installing reglab)...", err=True))
    notice.daemon = True
    notice.start()
    try:
        compiled_before = compiled.cache_misses()
        seconds = compiled.prepare()
    finally:
        notice.cancel()
    if compiled.cache_misses() > compiled_before:
        click.echo(f"Compiled the training engine in {seconds:.0f} s (cached for later runs).", err=True)


def flag(name: str) -> str:
    """The option that sets a training setting (``learning_rate`` -> ``--lr``); the data's standardisation too."""
    return "--standardize" if name == "standardize" else setting(name).flag


def flag_value(name: str, value) -> str:
    return f"{flag(name)} {value:g}"
