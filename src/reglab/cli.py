"""The ``reglab`` command: parse options, call the library, write files, print a summary.

No logic of its own: every command is a thin layer over ``reglab``'s functions. User errors
(bad options, unreadable files, diverging training) print one line on stderr and exit with 2.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import shlex
import sys
import time
from pathlib import Path

import click

from ._signals import report_interrupt

__all__ = ["main", "cli"]

EXIT_USAGE = 2
MAX_SEEDS = 1000  # of `compare --seeds`: 3000 models (a sweep asks for confirmation above 2000)
FIGURE_PROCESSES = 2  # processes that draw the figures of `reglab compare` (forked from one warmed-up server)


class _Fail(click.ClickException):
    exit_code = EXIT_USAGE


def _float_list(text: str, option: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"expected a number or comma-separated numbers; got {text!r}", param_hint=option) from None
    return values


def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 20,3; got {text!r}", param_hint=option) from None


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


def _training_options(function):
    options = [
        click.option("--hidden", default="20,3", show_default=True, metavar="N,N,...", help="Hidden layer sizes."),
        click.option("--lr", "learning_rate", type=float, default=0.3, show_default=True, help="Learning rate."),
        click.option("--iterations", type=int, default=30000, show_default=True, help="Full-batch iterations."),
        click.option("--seed", type=int, default=3, show_default=True, help="Seed of initialisation and fresh masks."),
        click.option("--init", type=click.Choice(["course", "fresh"]), default="course", show_default=True,
                     help="course: the notebook's initialisation; fresh: a seeded Generator."),
        click.option("--masks", "mask_mode", type=click.Choice(["course", "fresh"]), default="course", show_default=True,
                     help="course: the notebook's fixed dropout masks; fresh: new masks every iteration."),
        click.option("--engine", type=click.Choice(["compiled", "reference"]), default="compiled", show_default=True,
                     help="Training engine."),
        click.option("--weight-decay", type=float, default=0.0, show_default=True,
                     help="Decoupled weight decay per iteration: W <- (1 - wd) W - lr dW."),
        click.option("--max-norm", type=float, default=None, help="Max norm of each unit's incoming weights."),
        click.option("--early-stopping", is_flag=True,
                     help="Stop when the cost on a held-out part of the training points stops improving; keep the best weights."),
        click.option("--validation-fraction", type=float, default=0.1, show_default=True,
                     help="Share of the training points held out for --early-stopping."),
        click.option("--patience", type=int, default=10, show_default=True,
                     help="Record points (every 100 iterations) without improvement before stopping."),
        click.option("--min-delta", type=float, default=0.0, show_default=True,
                     help="Smallest decrease of the dev cost that counts as an improvement."),
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Run folder (default runs/<UTC time>-<command>/)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


# The library's parameter names and the options that set them, for errors in the user's terms.
_TRAINING_OPTIONS = {
    "hidden_layer_sizes": "--hidden", "learning_rate": "--lr", "n_iterations": "--iterations", "seed": "--seed",
    "l2": "--l2", "l1": "--l1", "keep_prob": "--keep-prob", "init": "--init", "mask_mode": "--masks",
    "weight_decay": "--weight-decay", "max_norm": "--max-norm", "validation_fraction": "--validation-fraction",
    "patience": "--patience", "min_delta": "--min-delta", "dev_fraction": "--dev-fraction",
    "batch_size": "--batch-size",
}
_DATA_OPTIONS = {"seed": "--data-seed", "n_samples": "--n-samples", "noise": "--noise", "test_fraction": "--test-fraction"}


@contextlib.contextmanager
def _options_named(options: dict):
    """Turn the library's error about a parameter into one about the option that set it."""
    try:
        yield
    except (TypeError, ValueError) as error:
        match = re.match(r"\w+", str(error))
        option = options.get(match.group(0)) if match else None
        if option is None:
            raise
        raise click.BadParameter(str(error), param_hint=option) from None


def _load_data(data, n_samples, noise, test_fraction, data_seed):
    from .datasets import resolve_data

    generator_options = {k: v for k, v in dict(n_samples=n_samples, noise=noise, test_fraction=test_fraction).items() if v is not None}
    with _options_named(_DATA_OPTIONS):
        dataset = resolve_data(data, seed=data_seed, **generator_options)
    from .runs.tables import describe_data

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
@_training_options
@click.option("--l2", "l2", type=float, default=0.7, show_default=True, help="lambd of the L2 model.")
@click.option("--keep-prob", default="0.86", show_default=True, metavar="P[,P...]",
              help="keep_prob of the dropout model: one value, or one per hidden layer.")
@click.option("--seeds", "n_seeds", type=click.IntRange(1, MAX_SEEDS), default=None, metavar="N",
              help=f"Also train each model with N seeds (fresh init and masks; N up to {MAX_SEEDS}) and report "
              "mean ± 95% interval.")
def compare(data, n_samples, noise, test_fraction, data_seed, standardize, hidden, learning_rate, iterations, seed, init, mask_mode,
            engine, weight_decay, max_norm, early_stopping, validation_fraction, patience, min_delta, out, l2, keep_prob,
            n_seeds):
    """Train the notebook's three models (plain, L2, dropout) and compare them.

    By default this reproduces the notebook exactly (course initialisation and dropout masks).
    """
    from .config import TrainConfig
    from .experiments.compare import compare as run_compare
    from .experiments.compare import compare_seeds, course_study_configs
    from .runs.figure_jobs import FigureWorker
    from .files import check_free_folder
    from .runs.compare import CompareRun, seed_text_table
    from .runs.tables import COURSE_MASKS_NOTE, count, default_run_dir, text_table, threads_note
    from .training import check_training_memory

    keep = _float_list(keep_prob, "--keep-prob")
    with _options_named(_TRAINING_OPTIONS):
        base = TrainConfig(hidden_layer_sizes=_int_list(hidden, "--hidden"), learning_rate=learning_rate,
                           n_iterations=iterations, init=init, mask_mode=mask_mode, seed=seed, weight_decay=weight_decay,
                           max_norm=max_norm, early_stopping=early_stopping, validation_fraction=validation_fraction,
                           patience=patience, min_delta=min_delta)
        configs = course_study_configs(base, l2=l2, keep_prob=keep[0] if len(keep) == 1 else keep)
    dataset = _load_data(data, n_samples, noise, test_fraction, data_seed)
    check_training_memory(list(configs.values()), dataset.X_train, record_every=100)  # as fit_many would, sooner
    out = check_free_folder(out or default_run_dir("compare"))
    study = None
    # The figure processes start once the input is known to be good (bad input is reported at once,
    # with no process to stop): they load matplotlib while this process loads numba and trains. Each
    # model's figure is queued as soon as that model is trained, while the others train.
    with FigureWorker(processes=FIGURE_PROCESSES) as figures, \
            CompareRun(out, dataset, command=_command_line(), figures=figures) as run:
        bar = _ProgressBar("training")
        try:
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
    if any(r.config.uses_dropout and r.config.mask_mode == "course" for r in result.results):
        click.echo(f"Note: {COURSE_MASKS_NOTE}")
    click.echo(f"Run folder: {out}")


@cli.command()
@_data_options
@_training_options
@click.option("--l2", "l2", type=float, default=0.0, show_default=True, help="L2 strength (the course's lambd).")
@click.option("--l1", "l1", type=float, default=0.0, show_default=True, help="L1 strength.")
@click.option("--keep-prob", default="1", show_default=True, metavar="P[,P...]",
              help="Dropout keep_prob: one value, or one per hidden layer.")
def train(data, n_samples, noise, test_fraction, data_seed, standardize, hidden, learning_rate, iterations, seed, init, mask_mode,
          engine, weight_decay, max_norm, early_stopping, validation_fraction, patience, min_delta, out, l2, l1, keep_prob):
    """Train one model and save it (model.npz) with its figures and report."""
    from .config import TrainConfig
    from .experiments.compare import measure
    from .runs.tables import default_run_dir, text_table
    from .runs.train import write_train_run
    from .training import fit

    keep = _float_list(keep_prob, "--keep-prob")
    with _options_named(_TRAINING_OPTIONS):
        config = TrainConfig(hidden_layer_sizes=_int_list(hidden, "--hidden"), learning_rate=learning_rate,
                             n_iterations=iterations, l2=l2, l1=l1, keep_prob=keep[0] if len(keep) == 1 else keep,
                             init=init, mask_mode=mask_mode, seed=seed, weight_decay=weight_decay, max_norm=max_norm,
                             early_stopping=early_stopping, validation_fraction=validation_fraction, patience=patience,
                             min_delta=min_delta)
    dataset = _load_data(data, n_samples, noise, test_fraction, data_seed)
    out = out or default_run_dir("train")
    bar = _ProgressBar("training")
    start = time.perf_counter()
    try:
        model = fit(dataset.X_train, dataset.y_train, config, engine=engine, progress=bar, standardize=standardize)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    write_train_run(model, dataset, out, command=_command_line(), seconds=seconds)
    click.echo(text_table([measure("model", model, dataset, seconds).row()]))
    click.echo(f"Run folder: {out} (model: {out / 'model.npz'})")


def _grid(text: str, option: str, axis: str, parse=float) -> tuple:
    """A grid axis: comma-separated values, each once; "/" separates per-layer values inside one value."""
    items = text.split(",")
    values = []
    for item in items:
        try:
            parts = tuple(parse(p) for p in item.split("/"))
        except ValueError:
            raise click.BadParameter(f"expected comma-separated values such as 0,0.1,0.7; got {text!r}", param_hint=option) from None
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


GRID_CONFIRM_LIMIT = 2000


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve() == folder.resolve() or folder.resolve() in path.resolve().parents


def _check_sweep_outputs(db: Path, csv_path: Path | None, out: Path) -> None:
    """Refuse, before training, a --csv that could not be written or would clash with --db or --out."""
    if _inside(db, out):
        raise click.BadParameter(f"the store {str(db)!r} is inside the --out folder {str(out)!r}; put it elsewhere",
                                 param_hint="--db")
    if csv_path is None:
        return
    if csv_path.resolve() == db.resolve():
        raise click.BadParameter(f"{str(csv_path)!r} is the --db store; give another file", param_hint="--csv")
    if _inside(csv_path, out):
        raise click.BadParameter(f"{str(csv_path)!r} is inside the --out folder {str(out)!r}; put it elsewhere",
                                 param_hint="--csv")
    folder = csv_path.absolute().parent
    while not folder.exists():  # the missing folders are created; the first existing one must take them
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise click.BadParameter(f"cannot write {str(csv_path)!r}: {str(folder)!r} is not a writable folder",
                                 param_hint="--csv")


@cli.command()
@_data_options
@click.option("--l2", default="0,0.1,0.7", show_default=True, help="Grid of L2 strengths (lambd), comma-separated.")
@click.option("--l1", default="0", show_default=True, help="Grid of L1 strengths.")
@click.option("--keep-prob", default="1,0.86", show_default=True,
              help="Grid of keep_prob; per hidden layer with '/', e.g. 1,0.9/0.8.")
@click.option("--lr", "learning_rate", default="0.3", show_default=True, help="Grid of learning rates.")
@click.option("--iterations", default="30000", show_default=True, help="Grid of iteration counts.")
@click.option("--hidden", "hidden", multiple=True, metavar="N,N,...",
              help="Hidden layer sizes; repeat the option for a grid (default 20,3).")
@click.option("--seeds", "n_seeds", type=int, default=5, show_default=True, help="Seeds per configuration (0..N-1).")
@click.option("--dev-fraction", type=float, default=0.25, show_default=True,
              help="Share of the training points held out as the dev set that chooses.")
@click.option("--masks", "mask_mode", type=click.Choice(["course", "fresh"]), default="fresh", show_default=True,
              help="Dropout masks (fresh: new every iteration, from each seed).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=Path("sweep.db"), show_default=True,
              help="SQLite results store: created if missing (or an empty file), resumed if present. A read-only "
              "store can only report a sweep it holds entirely.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write this sweep's rows, one per (configuration, seed), with every setting and metric "
              "(the test accuracy as test_accuracy_not_used_for_choice).")
@click.option("--batch-size", type=int, default=64, show_default=True, help="Models trained together.")
@click.option("--engine", type=click.Choice(["reference", "compiled"]), default="compiled", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder (default runs/<UTC time>-sweep/).")
@click.option("--yes", is_flag=True, help=f"Train grids of more than {GRID_CONFIRM_LIMIT} models without asking.")
def sweep(data, n_samples, noise, test_fraction, data_seed, standardize, l2, l1, keep_prob, learning_rate, iterations, hidden, n_seeds,
          dev_fraction, mask_mode, db, csv_path, batch_size, engine, out, yes):
    """Train a grid of models × seeds, store every result, choose on a dev set.

    Each list option is a grid axis; every combination is trained with every seed. Results go to
    the --db store as each batch finishes: run the same command again to resume.
    """
    from .config import TrainConfig
    from .files import check_free_folder
    from .runs.tables import count, default_run_dir
    from .experiments.store import ReadOnlyStoreError, ResultStore
    from .experiments.sweep import SweepSpec, check_memory, check_settings, run_sweep
    from .runs.sweep import describe_settings, summary_text, write_sweep_csv, write_sweep_run
    from .training import fit_many
    from .validation import check_int

    if n_seeds < 1:
        raise click.BadParameter(f"must be an integer >= 1; got {n_seeds}", param_hint="--seeds")
    axes = {
        "l2": _grid(l2, "--l2", "l2"),
        "l1": _grid(l1, "--l1", "l1"),
        "keep_prob": _grid(keep_prob, "--keep-prob", "keep_prob"),
        "learning_rate": _grid(learning_rate, "--lr", "learning_rate"),
        "n_iterations": _grid(iterations, "--iterations", "n_iterations", int),
        "hidden_layer_sizes": tuple(_int_list(h, "--hidden") for h in hidden) or ((20, 3),),
    }
    _check_once(axes["hidden_layer_sizes"], hidden, "--hidden", "hidden_layer_sizes")
    with _options_named(_TRAINING_OPTIONS):
        spec = SweepSpec(TrainConfig(init="fresh", mask_mode=mask_mode), axes, range(n_seeds), dev_fraction)
        check_settings(spec)  # every value is checked, and the size known, before the grid is built
        check_int("batch_size", batch_size, low=1)
    out = check_free_folder(out or default_run_dir("sweep"))
    _check_sweep_outputs(db, csv_path, out)
    dataset = _load_data(data, n_samples, noise, test_fraction, data_seed)
    if spec.n_models > GRID_CONFIRM_LIMIT and not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"the grid has {spec.n_models} models (more than {GRID_CONFIRM_LIMIT}); pass --yes to train it")
        click.confirm(f"Train {spec.n_models} models?", abort=True)
    check_memory(dataset, spec, batch_size=batch_size)
    click.echo(f"Grid: {count(spec.n_configurations, 'configuration')} × {count(n_seeds, 'seed')} = "
               f"{count(spec.n_models, 'model')}; store: {db}")
    bar = _ProgressBar("models")
    with ResultStore(db) as store:
        try:
            result = run_sweep(dataset, spec, store, engine=engine, batch_size=batch_size, progress=bar,
                               standardize=standardize)
        except ReadOnlyStoreError as error:
            raise click.BadParameter(f"{error}: make it writable or choose another --db", param_hint="--db") from None
        finally:
            bar.close()
        best = result.ranked()[:3]
        split = result.split
        best_configs = [TrainConfig.from_dict(dict(s.settings, seed=s.seeds[0])) for s in best]
        models = fit_many(split.X_fit, split.y_fit, best_configs, engine=engine, standardize=standardize)
        best_models = {f"#{k + 1}: {describe_settings(s.settings, spec.axes)}, seed {s.seeds[0]}": m
                       for k, (s, m) in enumerate(zip(best, models))}
        write_sweep_run(result, out, best_models=best_models, command=_command_line(), db_path=db,
                        standardized=standardize)
        if csv_path is not None:  # last: a run that fails writes no CSV
            write_sweep_csv(result, csv_path)
    click.echo(summary_text(result))
    b = result.best
    click.echo(f"Best on dev: {describe_settings(b.settings, spec.axes)}: dev {b.dev} ; test {b.test}")
    if csv_path is not None:
        click.echo(f"CSV: {csv_path}")
    click.echo(f"Run folder: {out}")


@cli.command()
@click.argument("model_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the predictions as CSV (x1,...,probability,prediction).")
def predict(model_file, data_file, out):
    """Apply a saved model to the points of a data file (.csv, .npz or course .mat)."""
    from .datasets import load_points
    from .files import atomic_write_text
    from .model import load_model

    model = load_model(model_file)
    X, y = load_points(data_file, n_features=model.n_features)
    probability = model.predict_proba(X)
    predicted = model.predict(X)
    click.echo(f"Predicted {len(X)} points of {data_file} with {model_file}")
    if y is not None:
        accuracy = model.accuracy(X, y)
        click.echo(f"Accuracy: {accuracy:.4f} ({int(round(accuracy * len(X)))}/{len(X)})")
    if out is not None:
        header = ",".join([f"x{i + 1}" for i in range(X.shape[1])] + ["probability", "prediction"])
        lines = [header] + [
            ",".join([*(repr(float(v)) for v in row), repr(float(p)), str(c)]) for row, p, c in zip(X, probability, predicted)
        ]
        atomic_write_text(out, "\n".join(lines) + "\n")
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

    dataset = _load_data(draw, n_samples, noise, test_fraction, seed)
    out = out or Path(f"{dataset.name}.png")
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


def main(argv=None) -> int:
    """Entry point: run the command; user errors become one line on stderr and exit status 2."""
    code = _run(argv)
    if argv is None:
        # As the `reglab` program the process ends next, and Python's last garbage collection would
        # walk every object numba made while loading compiled code (about 0.3 s) only to free memory
        # the system frees anyway. Frozen objects are left out of it; exit handlers still run.
        gc.freeze()
    return code


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
    except (ValueError, FileNotFoundError, FileExistsError, IsADirectoryError, PermissionError, MemoryError) as error:
        # (reglab.TrainingDivergedError, a too large learning rate, is a ValueError)
        message = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
        click.echo(f"reglab: error: {message}", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt as interrupt:
        return report_interrupt(interrupt)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
