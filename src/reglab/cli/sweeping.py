"""``reglab sweep``: a grid of models on folds of the training points, stored as it goes, chosen honestly."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..settings import SETTINGS, setting
from .group import cli
from .options import (
    DATA_OPTIONS,
    OTHER_OPTIONS,
    ProgressBar,
    command_line,
    flag,
    flag_value,
    grid_values,
    options_named,
    prepare_engine,
    run_options,
    setting_options,
    setting_values,
)
from .paths import about, check_out_file, data_inputs, refuse_inputs, say_where, writing

GRID_CONFIRM_LIMIT = 2000
STORE_WAIT = 2.0  # seconds SQLite waits for another process's write before the sweep says it is waiting
STORE_WAIT_REPEAT = 60.0  # seconds between the lines that say it is still waiting


class StoreWaitNotice:
    """Says on stderr that a sweep waits for its store, locked by another process: once, then every minute."""

    def __init__(self, db: Path):
        self._db = db
        self._said = None  # seconds waited when it was last said

    def __call__(self, wait) -> None:
        from ..runs.tables import count

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


def check_sweep_outputs(db: Path, csv_path: Path | None, out: Path, inputs: list[tuple[str, Path]]) -> None:
    """Refuse, before training, a --db or --csv that is the data, could not be written or would clash with --out."""
    from ..files import inside

    refuse_inputs("--db", db, inputs)  # the store is read and written: never the data file
    if inside(db, out):
        raise click.BadParameter(f"the store {str(db)!r} is inside the --out folder {str(out)!r}; put it elsewhere",
                                 param_hint="--db")
    if csv_path is None:
        return
    refuse_inputs("--csv", csv_path, [*inputs, ("the --db store", db)])
    if inside(csv_path, out):
        raise click.BadParameter(f"{str(csv_path)!r} is inside the --out folder {str(out)!r}; put it elsewhere",
                                 param_hint="--csv")
    check_out_file("--csv", csv_path, [])


def sweep_data_options(function):
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


def data_conditions(options: dict) -> list[tuple[str, object]]:
    """Every data condition the options name, as (label, data set): data sets x points x noise; said one a line."""
    import itertools

    from ..datasets import resolve_data
    from ..runs.tables import describe_data

    data = list(options.pop("data")) or [None]
    n_samples, noise = options.pop("n_samples"), options.pop("noise")
    n_samples = grid_values(n_samples, "--n-samples", "n_samples", int) if n_samples else (None,)
    noise = grid_values(noise, "--noise", "noise") if noise else (None,)
    test_fraction, seed = options.pop("test_fraction"), options.pop("data_seed")
    conditions = []
    for name, n, z in itertools.product(data, n_samples, noise):
        generator = {k: v for k, v in dict(n_samples=n, noise=z, test_fraction=test_fraction).items() if v is not None}
        with options_named(DATA_OPTIONS):
            dataset = resolve_data(name, seed=seed, **generator)
        parts = [dataset.name] if len(data) > 1 else []
        parts += [f"n_samples={n}"] if len(n_samples) > 1 else []
        parts += [f"noise={z:g}"] if len(noise) > 1 else []
        conditions.append((", ".join(parts) or dataset.name, dataset))
        click.echo(describe_data(dataset))
    return conditions


def folds_value(text: str) -> int | None:
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
@sweep_data_options
@setting_options(skip=("seed",), grid=True, defaults={"l2": [0.0, 0.1, 0.7], "keep_prob": [1.0, 0.86],
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
@run_options("sweep")
@click.option("--yes", is_flag=True, help=f"Train grids of more than {GRID_CONFIRM_LIMIT} models without asking.")
def sweep(**options):
    """Train a grid of models × seeds on folds of the training points, store every result, choose honestly.

    Each list option is a grid axis; every combination is trained with every seed on every fold. The
    dev accuracies choose (ties shown as ties, the one-standard-error rule among them); the chosen
    configuration is then trained on all the training points and measured on the test set. Results go
    to the --db store as each chunk finishes: run the same command again to resume.
    """
    from ..config import TrainConfig
    from ..experiments.executors import connect
    from ..experiments.store import ReadOnlyStoreError, ResultStore
    from ..experiments.sweep import AllDivergedError, SweepSpec, check_memory, check_settings, run_sweeps
    from ..runs.sweep import (
        describe_settings,
        diverged_text,
        free_sweep_folder,
        headline,
        refit_lines,
        summary_text,
        sweep_folder_mark,
        write_sweep_csv,
        write_sweep_run,
    )
    from ..runs.tables import count, default_run_dir
    from ..training import fit_many
    from ..validation import check_int

    n_seeds, db, csv_path = options["n_seeds"], options["db"], options["csv_path"]
    engine, standardize, batch_size = options["engine"], options["standardize"], options["batch_size"]
    if n_seeds < 1:
        raise click.BadParameter(f"must be an integer >= 1; got {n_seeds}", param_hint="--seeds")
    if options["scheduler"] is not None and options["scheduler_file"] is not None:
        raise click.BadParameter("give --scheduler or --scheduler-file, not both", param_hint="--scheduler-file")
    settings = setting_values(options, grid=True)
    axes = {name: settings.pop(name) for name in list(settings) if setting(name).grid}
    with options_named({**{s.name: s.flag for s in SETTINGS}, **OTHER_OPTIONS, "folds": "--folds",
                         "repeats": "--repeats", "chunk_size": "--chunk-size"}):
        spec = SweepSpec(TrainConfig(**settings), axes, range(n_seeds), options["dev_fraction"],
                         folds=folds_value(options["folds"]), repeats=options["repeats"])
        check_settings(spec)  # every value is checked, and the size known, before the grid is built
        check_int("batch_size", batch_size, low=1)
        if options["chunk_size"] is not None:
            check_int("chunk_size", options["chunk_size"], low=1)
    inputs = [item for name in (options["data"] or (None,)) for item in data_inputs(name)]
    out = options["out"] or default_run_dir("sweep")
    refuse_inputs("--out", out, inputs, folder=True)
    with about("--out"):
        out, replaces = free_sweep_folder(out), sweep_folder_mark(out)
    check_sweep_outputs(db, csv_path, out, inputs)
    conditions = data_conditions(options)
    labels, datasets = [c[0] for c in conditions], [c[1] for c in conditions]
    n_models = sum(spec.n_models * spec.n_splits(d) for d in datasets)
    if n_models > GRID_CONFIRM_LIMIT and not options["yes"]:
        if not sys.stdin.isatty():
            raise click.UsageError(f"the grid has {n_models} models (more than {GRID_CONFIRM_LIMIT}); pass --yes to "
                                   "train it")
        click.confirm(f"Train {n_models} models?", abort=True)
    for dataset in datasets:
        with options_named({"folds": "--folds", "repeats": "--repeats"}):
            check_memory(dataset, spec, batch_size=batch_size, n_datasets=len(datasets))
    splits = sorted({spec.n_splits(d) for d in datasets})
    click.echo(f"Grid: {count(spec.n_configurations, 'configuration')} × {count(n_seeds, 'seed')} × "
               f"{'/'.join(map(str, splits))} split{'s' if splits != [1] else ''}"
               + (f" × {count(len(datasets), 'data condition')}" if len(datasets) > 1 else "")
               + f" = {count(n_models, 'model')}, and the chosen ones' refit; store: {db}")
    with about("--scheduler-file" if options["scheduler_file"] is not None else "--scheduler"):
        executor = connect(options["scheduler"], options["scheduler_file"])
    with executor:
        if getattr(executor, "dashboard", None):
            click.echo(f"Dask cluster: {executor.slots} worker threads; dashboard {executor.dashboard}")
        if options["scheduler"] is None and options["scheduler_file"] is None:
            prepare_engine(engine)
        bar = ProgressBar("models")
        # Made a store only with its first batch: a sweep that fails before leaves no new, empty store behind.
        with ResultStore(db, timeout=STORE_WAIT, defer_create=True) as store:
            try:
                with options_named({"dev_fraction": "--dev-fraction", "folds": "--folds"}):
                    results = run_sweeps(datasets, spec, store, engine=engine, batch_size=batch_size, progress=bar,
                                         standardize=standardize, on_busy=StoreWaitNotice(db), executor=executor,
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
            with writing(out):
                folder = write_sweep_run(results, out, labels=labels, models=models, command=command_line(),
                                         db_path=db, standardized=standardize, replaces=replaces, refuse_taken=False)
            if csv_path is not None:  # last: a run that fails writes no CSV
                with writing(csv_path):
                    write_sweep_csv(results, csv_path, labels)
    for label, result in zip(labels, results):
        if len(results) > 1:
            click.echo(f"\n== {label} ==")
        click.echo(headline(result))
        click.echo(summary_text(result))
        if result.diverged:
            click.echo(f"Diverged: {count(len(result.diverged), 'configuration')} (stored as diverged, ranked last, "
                       "never chosen; running the sweep again does not train them again):")
            for line in diverged_text(result, named=flag, valued=flag_value):
                click.echo(f"  {line}")
        for line in refit_lines(result):
            click.echo(line)
    if csv_path is not None:
        click.echo(f"CSV: {csv_path}")
    say_where(out, folder, chosen=options["out"] is not None)
    click.echo(f"Run folder: {folder}")
