"""The ``reglab`` command: parse options, call the library, write files, print a summary.

No logic of its own: every command is a thin layer over ``reglab``'s functions. User errors
(bad options, unreadable files, diverging training) print one line on stderr and exit with 2.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import shlex
import sys
import threading
import time
from pathlib import Path

import click

from ._signals import report_interrupt
from .settings import SETTINGS, Setting, setting

__all__ = ["main", "cli"]

EXIT_USAGE = 2
MAX_SEEDS = 1000  # of `compare --seeds`: 3000 models (a sweep asks for confirmation above 2000)


def _numbers(text: str, option: str, parse=float) -> tuple:
    """Comma-separated numbers, e.g. a per-layer keep_prob ``0.9,0.8`` or layer sizes ``20,3``."""
    try:
        return tuple(parse(part) for part in text.split(","))
    except ValueError:
        example = "20,3" if parse is int else "0.9,0.8"
        raise click.BadParameter(f"expected a number or comma-separated numbers such as {example}; got {text!r}",
                                 param_hint=option) from None


def _grid(text: str, option: str, axis: str, parse=float) -> tuple:
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
    _check_once(values, items, option, axis)
    return tuple(values)


def _check_once(values, shown, option: str, axis: str) -> None:
    """Refuse a grid value given twice (it would be counted twice and stored once)."""
    from .experiments.sweep import find_repeat

    repeat = find_repeat(axis, values)
    if repeat is not None:
        first, again = (shown[i] for i in repeat)
        same = f"{again!r} again" if again == first else f"{again!r}, the same setting as {first!r}"
        raise click.BadParameter(f"each grid value must be given once; got {same}", param_hint=option)


def _shown(value) -> str:
    """A setting's value as it is typed on the command line."""
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _setting_option(declared: Setting, *, default=None, help: str | None = None, grid: bool = False):
    """The click option of a declared training setting (a grid axis when ``grid``)."""
    default = declared.default if default is None else default
    text = help or declared.help
    common = dict(help=text)
    if declared.kind == "flag":
        return click.option(declared.flag, declared.name, is_flag=True, default=default, **common)
    if grid and declared.kind == "layers":
        return click.option(declared.flag, declared.name, multiple=True, metavar="N,N,...",
                            help=f"{text} Repeat the option for a grid (default {_shown(default)}).")
    if grid:
        shown = ",".join(_shown(v) for v in default) if isinstance(default, list) else _shown(default)
        extra = " Per hidden layer with '/', e.g. 1,0.9/0.8." if declared.kind == "keep_prob" else ""
        extra += " 'none' turns it off." if declared.optional else ""
        return click.option(declared.flag, declared.name, default=shown, show_default=True, metavar="V[,V...]",
                            help=f"{text} Comma-separated: a grid axis.{extra}")
    if declared.kind == "choice":
        return click.option(declared.flag, declared.name, type=click.Choice(declared.choices), default=default,
                            show_default=True, **common)
    if declared.kind in ("layers", "keep_prob"):
        metavar = "N,N,..." if declared.kind == "layers" else "P[,P...]"
        return click.option(declared.flag, declared.name, default=_shown(default), show_default=True, metavar=metavar,
                            **common)
    kind = int if declared.kind == "int" else float
    return click.option(declared.flag, declared.name, type=kind, default=default,
                        show_default=default is not None, **common)


def _setting_options(*, skip=(), defaults=None, helps=None, grid: bool = False):
    """Options for every declared training setting but ``skip``; ``defaults``/``helps`` per command.

    With ``grid``, the settings that can be grid axes take lists (``reglab sweep``).
    """
    defaults, helps = dict(defaults or {}), dict(helps or {})

    def decorate(function):
        for declared in reversed(SETTINGS):
            if declared.name not in skip:
                function = _setting_option(declared, default=defaults.get(declared.name), help=helps.get(declared.name),
                                           grid=grid and declared.grid)(function)
        return function

    return decorate


def _setting_values(options: dict, *, grid: bool = False) -> dict:
    """The declared settings among parsed ``options``, as the library takes them (grid axes as tuples)."""
    values = {}
    for declared in SETTINGS:
        if declared.name not in options:
            continue
        value = options.pop(declared.name)
        if grid and declared.grid:
            if declared.kind == "layers":
                value = tuple(_numbers(v, declared.flag, int) for v in value) or (declared.default,)
                _check_once(value, [_shown(v) for v in value], declared.flag, declared.name)
            else:
                value = _grid(value, declared.flag, declared.name, int if declared.kind == "int" else float)
        elif declared.kind == "layers":
            value = _numbers(value, declared.flag, int)
        elif declared.kind == "keep_prob":
            value = _numbers(value, declared.flag)
            value = value[0] if len(value) == 1 else value
        values[declared.name] = value
    return values


# Options of the commands that are not training settings, for errors in the user's terms.
_OTHER_OPTIONS = {"dev_fraction": "--dev-fraction", "batch_size": "--batch-size", "seeds": "--seeds",
                  "standardize": "--standardize"}
_DATA_OPTIONS = {"seed": "--data-seed", "n_samples": "--n-samples", "noise": "--noise", "test_fraction": "--test-fraction"}


@contextlib.contextmanager
def _options_named(options: dict | None = None):
    """Turn the library's error about a parameter into one about the option that set it.

    ``options`` maps parameter names to options; by default, the training settings' own and ``_OTHER_OPTIONS``.
    """
    from .validation import ParameterError

    try:
        yield
    except ParameterError as error:
        name = error.parameter.split("[")[0]
        flags = options if options is not None else {**{s.name: s.flag for s in SETTINGS}, **_OTHER_OPTIONS}
        if name not in flags:
            raise
        raise click.BadParameter(str(error), param_hint=flags[name]) from None


def _data_options(function):
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


def _run_options(command: str):
    """--engine and --out, the options every training command has besides its settings."""
    def decorate(function):
        function = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                                help=f"Run folder (default runs/<UTC time>-{command}/).")(function)
        return click.option("--engine", type=click.Choice(["compiled", "reference"]), default="compiled",
                            show_default=True, help="Training engine.")(function)
    return decorate


@contextlib.contextmanager
def _about(option: str):
    """The checks of an output named by ``option``: a ValueError they raise becomes an error about that option."""
    try:
        yield
    except (ValueError, FileExistsError) as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def _data_inputs(data) -> list[tuple[str, Path]]:
    """The data file a command reads (as ``--data``, ``./datasets/data.mat`` or ``$REGLAB_COURSE_DATA``), if any."""
    from .datasets.resolve import COURSE_ENV_VAR, COURSE_LOCAL_PATH, data_file
    from .files import same_file

    path = data_file(data)
    if path is None:
        return []
    how = "--data" if data is not None else (
        str(COURSE_LOCAL_PATH) if same_file(path, COURSE_LOCAL_PATH) else f"${COURSE_ENV_VAR}")
    return [(f"the data file ({how})", path)]


def _refuse_inputs(option: str, output: Path, inputs: list[tuple[str, Path]], *, folder: bool = False) -> None:
    """Refuse an output that is one of the command's inputs (links resolved) or, for a folder, holds one.

    ``inputs``: (what it is, e.g. "the data file (--data)", path).
    """
    from .files import inside, same_file

    for what, path in inputs:
        if same_file(output, path):
            named = what if str(output) == str(path) else f"{what} {str(path)!r}"  # the same file by links or another path
            raise click.BadParameter(f"{str(output)!r} is {named}; reglab never writes over an input of the "
                                     f"command: choose another {'folder' if folder else 'file'}", param_hint=option)
        if folder and inside(path, output):
            raise click.BadParameter(f"{str(output)!r} holds {what} {str(path)!r}; reglab never writes over an input "
                                     f"of the command: choose another folder", param_hint=option)


def _check_out_folder(out: Path, inputs: list[tuple[str, Path]], *, replaceable: bool = False) -> Path:
    """A run folder (--out) checked before any work: not an input nor holding one, free (or replaceable), writable."""
    from .files import check_output_folder

    _refuse_inputs("--out", out, inputs, folder=True)
    with _about("--out"):
        return check_output_folder(out, replaceable=replaceable)


def _check_out_file(option: str, path: Path, inputs: list[tuple[str, Path]]) -> Path:
    """An output file checked before any work: not an input, not a folder, writable (an existing file is
    replaced once the new one is complete)."""
    from .files import check_output_file

    _refuse_inputs(option, path, inputs)
    with _about(option):
        return check_output_file(path)


@contextlib.contextmanager
def _writing(path):
    """Name ``path`` in a full disk's error raised without a file name (a write through an open file)."""
    try:
        yield
    except OSError as error:
        if error.errno in _FULL and error.filename is None:
            raise OSError(error.errno, error.strerror or os.strerror(error.errno), str(path)) from None
        raise


def _say_where(requested: Path, got: Path, chosen: bool) -> None:
    """Say on stderr that the run folder the user chose was taken by another run meanwhile, and where this one is."""
    if chosen and got != requested:
        click.echo(f"reglab: {str(requested)!r} was taken by another run while this one worked; this run's folder "
                   f"is {str(got)!r}", err=True)


def _load_data(options: dict):
    """The data set the data options name (they are taken out of ``options``), after saying which it is."""
    from .datasets import resolve_data
    from .runs.tables import describe_data

    data = options.pop("data")
    generator_options = {k: v for k in ("n_samples", "noise", "test_fraction") if (v := options.pop(k)) is not None}
    seed = options.pop("data_seed")
    with _options_named(_DATA_OPTIONS):
        dataset = resolve_data(data, seed=seed, **generator_options)
    click.echo(describe_data(dataset))
    return dataset


class _ProgressBar:
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


def _command_line() -> str:
    return "reglab " + " ".join(shlex.quote(a) for a in sys.argv[1:])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reglab")
def cli():
    """reglab: regularization (L2, L1, dropout) in small neural networks, from the course notebook to grids of models."""


@cli.command()
@_data_options
@_setting_options(skip=("l1",), defaults={"l2": 0.7, "keep_prob": 0.86},
                  helps={"l2": "lambd of the L2 model.", "keep_prob": "keep_prob of the dropout model: one value, or one "
                         "per hidden layer."})
@_run_options("compare")
@click.option("--seeds", "n_seeds", type=click.IntRange(1, MAX_SEEDS), default=None, metavar="N",
              help=f"Also train each model with N seeds (fresh init and masks; N up to {MAX_SEEDS}) and report "
              "mean ± 95% interval.")
def compare(**options):
    """Train the notebook's three models (plain, L2, dropout) and compare them.

    By default this reproduces the notebook exactly (course initialisation and dropout masks).
    """
    from .config import TrainConfig
    from .experiments.compare import compare as run_compare
    from .experiments.compare import compare_seeds, course_study_configs
    from .runs.compare import CompareRun, difference_lines, seed_text_table
    from .runs.tables import COURSE_MASKS_NOTE, count, default_run_dir, text_table, threads_note
    from .training import check_training_memory

    settings = _setting_values(options)
    with _options_named():
        l2, keep_prob = settings.pop("l2"), settings.pop("keep_prob")
        configs = course_study_configs(TrainConfig(**settings), l2=l2, keep_prob=keep_prob)
    engine, standardize, n_seeds = options["engine"], options["standardize"], options["n_seeds"]
    out = _check_out_folder(options["out"] or default_run_dir("compare"), _data_inputs(options["data"]))
    dataset = _load_data(options)
    check_training_memory(list(configs.values()), dataset.X_train, record_every=100)  # as fit_many would, sooner
    _prepare(engine)
    study = None
    # Each model's figure is drawn as soon as that model is trained, while the others train.
    with _writing(out), CompareRun(out, dataset, command=_command_line()) as run:
        bar = _ProgressBar("training")
        try:
            with _options_named():  # e.g. --standardize on features too large to scale
                if n_seeds is None:
                    result = run_compare(dataset, configs, engine=engine, progress=bar, standardize=standardize,
                                         on_result=run.add)
                else:
                    study = compare_seeds(dataset, configs, range(n_seeds), engine=engine, progress=bar,
                                          standardize=standardize, on_result=run.add)
                    result = study.single
        finally:
            bar.close()
        run.finish(result, seed_study=study)
    click.echo(text_table(result.rows()))
    if result.threads > 1:
        click.echo(threads_note(result.threads))
    if study is not None:
        click.echo("")
        click.echo(f"Over {count(n_seeds, 'seed')} (fresh initialisation and masks):")
        click.echo(seed_text_table(study))
        click.echo("Paired differences in test accuracy over the same seeds:")
        for line in difference_lines(study):
            click.echo(f"  {line}")
    if any(r.config.uses_dropout and r.config.mask_mode == "course" for r in result.results):
        click.echo(f"Note: {COURSE_MASKS_NOTE}")
    _say_where(out, run.out, chosen=options["out"] is not None)
    click.echo(f"Run folder: {run.out}")


@cli.command()
@_data_options
@_setting_options()
@_run_options("train")
def train(**options):
    """Train one model and save it (model.npz) with its figures and report."""
    from .config import TrainConfig
    from .experiments.compare import measure
    from .runs.tables import default_run_dir, text_table
    from .runs.train import write_train_run
    from .training import fit

    with _options_named():
        config = TrainConfig(**_setting_values(options))
    engine, standardize = options["engine"], options["standardize"]
    out = _check_out_folder(options["out"] or default_run_dir("train"), _data_inputs(options["data"]))
    dataset = _load_data(options)
    _prepare(engine)
    bar = _ProgressBar("training")
    start = time.perf_counter()
    try:
        with _options_named():
            model = fit(dataset.X_train, dataset.y_train, config, engine=engine, progress=bar, standardize=standardize)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    with _writing(out):
        folder = write_train_run(model, dataset, out, command=_command_line(), seconds=seconds, refuse_taken=False)
    click.echo(text_table([measure("model", model, dataset, seconds).row()]))
    _say_where(out, folder, chosen=options["out"] is not None)
    click.echo(f"Run folder: {folder} (model: {folder / 'model.npz'})")


def _prepare(engine: str, notice_after: float = 2.0) -> None:
    """Load the compiled engine before anything is timed. If that takes longer than ``notice_after`` seconds
    (loading it takes a fraction of a second), say what is happening; if it was compiled, say so when done."""
    if engine != "compiled":
        return
    from .engine import compiled

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


GRID_CONFIRM_LIMIT = 2000
STORE_WAIT = 2.0  # seconds SQLite waits for another process's write before the sweep says it is waiting
STORE_WAIT_REPEAT = 60.0  # seconds between the lines that say it is still waiting


class _StoreWaitNotice:
    """Says on stderr that a sweep waits for its store, locked by another process: once, then every minute."""

    def __init__(self, db: Path):
        self._db = db
        self._said = None  # seconds waited when it was last said

    def __call__(self, wait) -> None:
        from .runs.tables import count

        if wait.stored:
            click.echo(f"reglab: stored in {str(self._db)!r} after waiting {wait.seconds:.0f} s", err=True)
            self._said = None
        elif self._said is None:
            click.echo(f"reglab: the store {str(self._db)!r} is locked by another program; waiting to store "
                       f"{count(wait.models, 'trained model')} (Ctrl-C gives up this batch; the batches already "
                       "stored stay)", err=True)
            self._said = wait.seconds
        elif wait.seconds - self._said >= STORE_WAIT_REPEAT:
            click.echo(f"reglab: still waiting for the store {str(self._db)!r} ({wait.seconds / 60:.0f} min)", err=True)
            self._said = wait.seconds


def _check_sweep_outputs(db: Path, csv_path: Path | None, out: Path, inputs: list[tuple[str, Path]]) -> None:
    """Refuse, before training, a --db or --csv that is the data, could not be written or would clash with --out."""
    from .files import inside

    _refuse_inputs("--db", db, inputs)  # the store is read and written: never the data file
    if inside(db, out):
        raise click.BadParameter(f"the store {str(db)!r} is inside the --out folder {str(out)!r}; put it elsewhere",
                                 param_hint="--db")
    if csv_path is None:
        return
    _refuse_inputs("--csv", csv_path, [*inputs, ("the --db store", db)])
    if inside(csv_path, out):
        raise click.BadParameter(f"{str(csv_path)!r} is inside the --out folder {str(out)!r}; put it elsewhere",
                                 param_hint="--csv")
    _check_out_file("--csv", csv_path, [])


def _sweep_data_options(function):
    """The data options of ``sweep``: several data sets, and lists of points and noise (data conditions)."""
    options = [
        click.option("--data", "data", multiple=True, metavar="FILE|NAME",
                     help="A .mat (course layout), .csv or .npz file, or a built-in data set name; repeat it for several "
                     "data sets. Default: ./datasets/data.mat, else $REGLAB_COURSE_DATA, else 'field'."),
        click.option("--n-samples", default=None, metavar="N[,N...]",
                     help="Points of a built-in data set; a list sweeps them as data conditions."),
        click.option("--noise", default=None, metavar="X[,X...]",
                     help="Noise of a built-in data set; a list sweeps them as data conditions."),
        click.option("--test-fraction", type=float, default=None, help="Test share of a built-in data set."),
        click.option("--data-seed", type=int, default=0, show_default=True, help="Seed of a built-in data set."),
        click.option("--standardize", is_flag=True,
                     help="Centre and scale each feature by the training points' mean and standard deviation."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _conditions(options: dict) -> list[tuple[str, object]]:
    """Every data condition the options name, as (label, data set): data sets x points x noise; said one a line."""
    import itertools

    from .datasets import resolve_data
    from .runs.tables import describe_data

    data = list(options.pop("data")) or [None]
    n_samples = _grid(options.pop("n_samples"), "--n-samples", "n_samples", int) if options["n_samples"] else (None,)
    noise = _grid(options.pop("noise"), "--noise", "noise") if options["noise"] else (None,)
    options.pop("n_samples", None)
    options.pop("noise", None)
    test_fraction, seed = options.pop("test_fraction"), options.pop("data_seed")
    conditions = []
    for name, n, z in itertools.product(data, n_samples, noise):
        generator = {k: v for k, v in dict(n_samples=n, noise=z, test_fraction=test_fraction).items() if v is not None}
        with _options_named(_DATA_OPTIONS):
            dataset = resolve_data(name, seed=seed, **generator)
        parts = [dataset.name] if len(data) > 1 else []
        parts += [f"n_samples={n}"] if len(n_samples) > 1 else []
        parts += [f"noise={z:g}"] if len(noise) > 1 else []
        conditions.append((", ".join(parts) or dataset.name, dataset))
        click.echo(describe_data(dataset))
    return conditions


def _folds(text: str) -> int | None:
    """--folds: 'auto' (None) or a whole number >= 1."""
    if text == "auto":
        return None
    try:
        folds = int(text)
    except ValueError:
        raise click.BadParameter(f"expected 'auto' or a whole number >= 1 (1: a single dev set); got {text!r}",
                                 param_hint="--folds") from None
    if folds < 1:
        raise click.BadParameter(f"expected 'auto' or a whole number >= 1 (1: a single dev set); got {folds}",
                                 param_hint="--folds")
    return folds


@cli.command()
@_sweep_data_options
@_setting_options(skip=("seed",), grid=True, defaults={"l2": [0.0, 0.1, 0.7], "keep_prob": [1.0, 0.86],
                                                       "init": "fresh", "mask_mode": "fresh"})
@click.option("--seeds", "n_seeds", type=int, default=5, show_default=True, help="Seeds per configuration (0..N-1).")
@click.option("--folds", default="auto", show_default=True, metavar="auto|K",
              help="Stratified K-fold cross-validation of the training points chooses; 1: a single dev set of "
              "--dev-fraction. auto: 5 folds for up to 1000 training points (where one dev set is a few dozen points), "
              "else 1.")
@click.option("--repeats", type=int, default=1, show_default=True,
              help="Draw the folds (or the dev set) this many times with other split seeds: more units to choose on, "
              "and how often each configuration would be chosen over the splits.")
@click.option("--dev-fraction", type=float, default=0.25, show_default=True,
              help="Share of the training points held out as the dev set, with --folds 1.")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=Path("sweep.db"), show_default=True,
              help="SQLite results store: created if missing (or an empty file), resumed if present. A read-only "
              "store can only report a sweep it holds entirely.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write this sweep's rows, one per (configuration, seed, split) and the refits, with every "
              "setting and metric (the test accuracy as test_accuracy_not_used_for_choice).")
@click.option("--batch-size", type=int, default=64, show_default=True, help="Models trained together in this process.")
@click.option("--scheduler", default=None, metavar="local:N|tcp://HOST:PORT",
              help="Train on a Dask cluster: local:N starts N worker processes here; tcp://HOST:PORT is a running "
              "scheduler (needs reglab[dask]).")
@click.option("--scheduler-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Train on the Dask cluster whose scheduler wrote this file (dask scheduler --scheduler-file).")
@click.option("--chunk-size", type=int, default=None,
              help="Most models of a chunk on a cluster (default: from the grid and the workers).")
@_run_options("sweep")
@click.option("--yes", is_flag=True, help=f"Train grids of more than {GRID_CONFIRM_LIMIT} models without asking.")
def sweep(**options):
    """Train a grid of models × seeds on folds of the training points, store every result, choose honestly.

    Each list option is a grid axis; every combination is trained with every seed on every fold. The
    dev accuracies choose (ties shown as ties, the one-standard-error rule among them); the chosen
    configuration is then trained on all the training points and measured on the test set. Results go
    to the --db store as each chunk finishes: run the same command again to resume.
    """
    from .config import TrainConfig
    from .experiments.executors import connect
    from .experiments.store import ReadOnlyStoreError, ResultStore
    from .experiments.sweep import AllDivergedError, SweepSpec, check_memory, check_settings, run_sweeps
    from .runs.sweep import (describe_settings, diverged_text, free_sweep_folder, headline, refit_lines, summary_text,
                             sweep_folder_mark, write_sweep_csv, write_sweep_run)
    from .runs.tables import count, default_run_dir
    from .training import fit_many
    from .validation import check_int

    n_seeds, db, csv_path = options["n_seeds"], options["db"], options["csv_path"]
    engine, standardize, batch_size = options["engine"], options["standardize"], options["batch_size"]
    if n_seeds < 1:
        raise click.BadParameter(f"must be an integer >= 1; got {n_seeds}", param_hint="--seeds")
    if options["scheduler"] is not None and options["scheduler_file"] is not None:
        raise click.BadParameter("give --scheduler or --scheduler-file, not both", param_hint="--scheduler-file")
    settings = _setting_values(options, grid=True)
    axes = {name: settings.pop(name) for name in list(settings) if setting(name).grid}
    with _options_named({**{s.name: s.flag for s in SETTINGS}, **_OTHER_OPTIONS, "folds": "--folds",
                         "repeats": "--repeats", "chunk_size": "--chunk-size"}):
        spec = SweepSpec(TrainConfig(**settings), axes, range(n_seeds), options["dev_fraction"],
                         folds=_folds(options["folds"]), repeats=options["repeats"])
        check_settings(spec)  # every value is checked, and the size known, before the grid is built
        check_int("batch_size", batch_size, low=1)
        if options["chunk_size"] is not None:
            check_int("chunk_size", options["chunk_size"], low=1)
    inputs = [item for name in (options["data"] or (None,)) for item in _data_inputs(name)]
    out = options["out"] or default_run_dir("sweep")
    _refuse_inputs("--out", out, inputs, folder=True)
    with _about("--out"):
        out, replaces = free_sweep_folder(out), sweep_folder_mark(out)
    _check_sweep_outputs(db, csv_path, out, inputs)
    conditions = _conditions(options)
    labels, datasets = [c[0] for c in conditions], [c[1] for c in conditions]
    n_models = sum(spec.n_models * spec.n_splits(d) for d in datasets)
    if n_models > GRID_CONFIRM_LIMIT and not options["yes"]:
        if not sys.stdin.isatty():
            raise click.UsageError(f"the grid has {n_models} models (more than {GRID_CONFIRM_LIMIT}); pass --yes to "
                                   "train it")
        click.confirm(f"Train {n_models} models?", abort=True)
    for dataset in datasets:
        with _options_named({"folds": "--folds", "repeats": "--repeats"}):
            check_memory(dataset, spec, batch_size=batch_size, n_datasets=len(datasets))
    splits = sorted({spec.n_splits(d) for d in datasets})
    click.echo(f"Grid: {count(spec.n_configurations, 'configuration')} × {count(n_seeds, 'seed')} × "
               f"{'/'.join(map(str, splits))} split{'s' if splits != [1] else ''}"
               + (f" × {count(len(datasets), 'data condition')}" if len(datasets) > 1 else "")
               + f" = {count(n_models, 'model')}, and the chosen ones' refit; store: {db}")
    with _about("--scheduler-file" if options["scheduler_file"] is not None else "--scheduler"):
        executor = connect(options["scheduler"], options["scheduler_file"])
    with executor:
        if getattr(executor, "dashboard", None):
            click.echo(f"Dask cluster: {executor.slots} worker threads; dashboard {executor.dashboard}")
        if options["scheduler"] is None and options["scheduler_file"] is None:
            _prepare(engine)
        bar = _ProgressBar("models")
        # Made a store only with its first batch: a sweep that fails before leaves no new, empty store behind.
        with ResultStore(db, timeout=STORE_WAIT, defer_create=True) as store:
            try:
                with _options_named({"dev_fraction": "--dev-fraction", "folds": "--folds"}):
                    results = run_sweeps(datasets, spec, store, engine=engine, batch_size=batch_size, progress=bar,
                                         standardize=standardize, on_busy=_StoreWaitNotice(db), executor=executor,
                                         chunk_size=options["chunk_size"])
            except ReadOnlyStoreError as error:
                raise click.BadParameter(f"{error}: make it writable or choose another --db", param_hint="--db") from None
            finally:
                bar.close()
            for result in results:
                if result.choice is None:  # every configuration diverged: said with the first one's likely cause
                    first = result.diverged_rows()[0]
                    shown = describe_settings({k: v for k, v in first["config"].items() if k != "seed"}, spec.axes)
                    raise AllDivergedError(result.divergence(first, every=True, settings=shown))
            models = []
            for result in results:  # the chosen and the least regularized, trained on all the points, one seed
                picked = {"chosen": result.chosen, "least regularized": result.baseline}
                picked = {name: s for name, s in picked.items() if name == "chosen" or s is not result.chosen}
                configs = [TrainConfig.from_dict(dict(s.settings, seed=s.seeds[0])) for s in picked.values()]
                trained = fit_many(result.refit.X_fit, result.refit.y_fit, configs, engine=engine,
                                   standardize=standardize)
                models.append({f"{name}: {describe_settings(s.settings, spec.axes)}, seed {s.seeds[0]}": m
                               for (name, s), m in zip(picked.items(), trained)})
            with _writing(out):
                folder = write_sweep_run(results, out, labels=labels, models=models, command=_command_line(),
                                         db_path=db, standardized=standardize, replaces=replaces, refuse_taken=False)
            if csv_path is not None:  # last: a run that fails writes no CSV
                with _writing(csv_path):
                    write_sweep_csv(results, csv_path, labels)
    for label, result in zip(labels, results):
        if len(results) > 1:
            click.echo(f"\n== {label} ==")
        click.echo(headline(result))
        click.echo(summary_text(result))
        if result.diverged:
            click.echo(f"Diverged: {count(len(result.diverged), 'configuration')} (stored as diverged, ranked last, "
                       "never chosen; running the sweep again does not train them again):")
            for line in diverged_text(result, named=_flag, valued=_flag_value):
                click.echo(f"  {line}")
        for line in refit_lines(result):
            click.echo(line)
    if csv_path is not None:
        click.echo(f"CSV: {csv_path}")
    _say_where(out, folder, chosen=options["out"] is not None)
    click.echo(f"Run folder: {folder}")


@cli.command()
@click.argument("model_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the predictions as CSV (x1,...,probability,prediction).")
def predict(model_file, data_file, out):
    """Apply a saved model to the points of a data file (.csv, .npz or course .mat).

    Files of any size are read and predicted a chunk of points at a time.
    """
    from .datasets.loaders import iter_points
    from .files import atomic_path
    from .model import load_model

    if out is not None:
        _check_out_file("--out", out, [("the model file (MODEL_FILE)", model_file), ("the data file (DATA_FILE)", data_file)])
    model = load_model(model_file)
    n_points = n_correct = 0
    labelled, unknown = False, []
    with contextlib.ExitStack() as stack:
        handle = None
        if out is not None:
            stack.enter_context(_writing(out))
            handle = stack.enter_context(open(stack.enter_context(atomic_path(out)), "w", encoding="utf-8"))
        for X, y in iter_points(data_file, n_features=model.n_features):
            probability = model.predict_proba(X)  # (k,)
            predicted = model.classes[(probability > 0.5).astype(int)]
            if handle is not None:
                if n_points == 0:
                    handle.write(",".join([f"x{i + 1}" for i in range(X.shape[1])] + ["probability", "prediction"]) + "\n")
                handle.write("".join(",".join([*(repr(float(v)) for v in row), repr(float(p)), str(c)]) + "\n"
                                     for row, p, c in zip(X, probability, predicted)))
            if y is not None:
                labelled = True
                unknown += [label for label in model.unknown_labels(y) if label not in unknown]
                n_correct += model.agreement(predicted, y)
            n_points += len(X)
    click.echo(f"Predicted {n_points} points of {data_file} with {model_file}")
    if unknown:
        shown = ", ".join(map(repr, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        classes = ", ".join(repr(c.item() if hasattr(c, "item") else c) for c in model.classes)
        click.echo(f"reglab: warning: the labels of {str(data_file)!r} include {shown}, which are not the model's "
                   f"classes ({classes}): no accuracy is given", err=True)
    elif labelled:
        click.echo(f"Accuracy: {n_correct / n_points:.4f} ({n_correct}/{n_points})")
    if out is not None:
        click.echo(f"Predictions: {out}")


@cli.command()
@click.option("--draw", "draw", default=None, metavar="NAME", help="Draw this data set to a PNG.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="PNG path for --draw (default NAME.png).")
@click.option("--n-samples", type=int, default=None, help="Points of the drawn data set.")
@click.option("--noise", type=float, default=None, help="Noise of the drawn data set.")
@click.option("--test-fraction", type=float, default=None, help="Test share of the drawn data set.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the drawn data set.")
def datasets(draw, out, n_samples, noise, test_fraction, seed):
    """List the built-in data sets, or draw one (or a data file) to a PNG."""
    from .datasets import DEFAULT_DATASET, GENERATORS

    if draw is None:
        if out is not None:
            raise click.BadParameter("--out needs --draw NAME", param_hint="--out")
        width = max(len(name) for name in GENERATORS)
        for name, description in GENERATORS.items():
            marker = " (default)" if name == DEFAULT_DATASET else ""
            click.echo(f"{name.ljust(width)}  {description}{marker}")
        click.echo("Files: --data path/to/file.mat|.csv|.npz (the course's data.mat: keys X, y, Xval, yval).")
        return
    from . import plots
    from .datasets.resolve import data_file

    drawn = [] if data_file(draw) is None else [("the data file (--draw)", data_file(draw))]
    if out is not None:
        _check_out_file("--out", out, drawn)
        if out.suffix.lower().lstrip(".") not in plots.FIGURE_FORMATS:  # before the data is read
            raise click.BadParameter(f"must end in one of {', '.join('.' + f for f in plots.FIGURE_FORMATS)}; got "
                                     f"{str(out)!r}", param_hint="--out")
    dataset = _load_data(dict(data=draw, n_samples=n_samples, noise=noise, test_fraction=test_fraction,
                              data_seed=seed))
    if out is None:
        out = _check_out_file("--out", Path(f"{dataset.name}.png"), drawn)
    with _writing(out):
        plots.save_figure(plots.dataset_figure(dataset), out)
    click.echo(f"Figure: {out}")


@cli.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random test problem.")
def gradcheck(seed):
    """Check the network's gradients against central differences (pass: relative error < 1e-7)."""
    from .engine.gradcheck import run_gradchecks

    results = run_gradchecks(seed=seed)
    width = max(len(r.name) for r in results)
    click.echo(f"{'check'.ljust(width)}  relative error  result")
    for r in results:
        click.echo(f"{r.name.ljust(width)}  {r.relative_error:14.3e}  {'pass' if r.passed else 'FAIL'}")
    failed = [r.name for r in results if not r.passed]
    if failed:
        click.echo(f"{len(failed)} of {len(results)} checks failed: {', '.join(failed)}", err=True)
        sys.exit(1)
    click.echo(f"all {len(results)} checks pass (threshold {results[0].threshold:g})")


SERVE_PORT = 8470  # reglab.web.server.DEFAULT_PORT, written here so that `reglab --help` does not load the web package


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help=f"Port to serve on (default {SERVE_PORT}; when it is taken, a free port, and the address says which).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address makes the page reachable from other machines.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the web browser.")
def serve(port, host, open_browser):
    """Start the web playground: train, watch and compare models live in a browser (Ctrl-C stops it)."""
    import importlib

    for package in ("starlette", "uvicorn"):  # the web extra, loaded here only
        try:
            importlib.import_module(package)
        except ImportError:
            raise click.UsageError(f'the web playground needs the web extra: pip install "reglab[web]" ({package} '
                                   f"is missing)") from None
    from .web import server

    if not server.is_loopback(host):
        click.echo(f"reglab: warning: --host {host} makes the playground reachable from other machines: anyone who "
                   f"can reach this address can start trainings here", err=True)
    try:
        sock, fell_back = server.bind(host, port)
    except OSError as error:
        raise click.BadParameter(f"cannot listen on {host}:{port or server.DEFAULT_PORT}: {error.strerror or error}",
                                 param_hint="--port" if port else "--host") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{bound}/"
    if fell_back:
        click.echo(f"Port {port or server.DEFAULT_PORT} is in use; serving on port {bound} instead.")

    def ready():
        click.echo(f"reglab playground: {url}  (Ctrl-C stops it)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        server.serve(sock, host, on_ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    click.echo("reglab playground stopped.")


def main(argv=None) -> int:
    """Entry point: run the command; user errors become one line on stderr and exit status 2."""
    code = _run(argv)
    if argv is None:
        # The process ends next: Python's last garbage collection would walk every object numba and
        # matplotlib made only to free memory the system frees anyway. Frozen objects are left out of
        # it (measured: `reglab compare` ends 0.3 s sooner, 1.9 s against 2.2 s); exit handlers still run.
        gc.freeze()
    return code


def _flag(name: str) -> str:
    """The option that sets a training setting (``learning_rate`` -> ``--lr``); the data's standardisation too."""
    return "--standardize" if name == "standardize" else setting(name).flag


def _flag_value(name: str, value) -> str:
    return f"{_flag(name)} {value:g}"


def _first_line(error: BaseException) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)


#: Errors of a full disk (or a full quota): what they mean for a run, and what to do.
_FULL = (errno.ENOSPC, errno.EDQUOT)


def _os_error_line(error: OSError) -> str:
    """An OSError as one line naming the file the user knows (not a hidden ``.partial`` name) and what to do."""
    from .files import shown_path

    if error.errno is None or error.filename is None:  # reglab's own message, which names its file
        text = _first_line(error)
    else:
        text = f"{error.strerror}: {shown_path(error.filename)!r}"
    if error.errno in _FULL:
        text += "; nothing half-written was left behind: free some space (or write elsewhere) and run the command again"
    return text


def _run(argv) -> int:
    try:
        cli.main(args=argv, prog_name="reglab", standalone_mode=False)
    except click.exceptions.Abort as error:
        # click turns a Ctrl-C (or SIGTERM) during a command, or at a prompt, into Abort, as it does a
        # declined confirmation: status 1 for that, not 130 (an interrupt) nor 2 (a usage error)
        interrupt = error.__cause__ or error.__context__
        if isinstance(interrupt, KeyboardInterrupt):
            return report_interrupt(interrupt)
        click.echo("reglab: aborted", err=True)
        return 1
    except click.ClickException as error:
        click.echo(f"reglab: error: {error.format_message()}", err=True)
        return EXIT_USAGE
    except (ValueError, MemoryError) as error:
        # reglab.TrainingDivergedError is a ValueError: said with the options that set what is at fault
        divergences = getattr(error, "divergences", ())
        text = divergences[0].message(named=_flag, valued=_flag_value) if divergences else _first_line(error)
        click.echo(f"reglab: error: {text}", err=True)
        return EXIT_USAGE
    except OSError as error:  # a file that cannot be read or written, a full disk: the machine's limits
        click.echo(f"reglab: error: {_os_error_line(error)}", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt as interrupt:
        return report_interrupt(interrupt)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
