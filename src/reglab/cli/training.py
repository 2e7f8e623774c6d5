"""``reglab compare`` and ``reglab train``."""

from __future__ import annotations

import time

import click

from .group import cli
from .options import (
    ProgressBar,
    command_line,
    data_options,
    load_data,
    options_named,
    prepare_engine,
    run_options,
    setting_options,
    setting_values,
)
from .paths import check_out_folder, data_inputs, say_where, writing

MAX_SEEDS = 1000  # of `compare --seeds`: 3000 models (a sweep asks for confirmation above 2000)


@cli.command()
@data_options
@setting_options(skip=("l1",), defaults={"l2": 0.7, "keep_prob": 0.86},
                  helps={"l2": "lambd of the L2 model.", "keep_prob": "keep_prob of the dropout model: one value, or one "
                         "per hidden layer."})
@run_options("compare")
@click.option("--seeds", "n_seeds", type=click.IntRange(1, MAX_SEEDS), default=None, metavar="N",
              help=f"Also train each model with N seeds (fresh init and masks; N up to {MAX_SEEDS}) and report "
              "mean ± 95% interval.")
def compare(**options):
    """Train the notebook's three models (plain, L2, dropout) and compare them.

    By default this reproduces the notebook exactly (course initialisation and dropout masks).
    """
    from ..config import TrainConfig
    from ..experiments.compare import compare as run_compare
    from ..experiments.compare import compare_seeds, course_study_configs
    from ..runs.compare import CompareRun, difference_lines, seed_text_table
    from ..runs.tables import COURSE_MASKS_NOTE, count, default_run_dir, text_table, threads_note
    from ..training import check_training_memory

    settings = setting_values(options)
    with options_named():
        l2, keep_prob = settings.pop("l2"), settings.pop("keep_prob")
        configs = course_study_configs(TrainConfig(**settings), l2=l2, keep_prob=keep_prob)
    engine, standardize, n_seeds = options["engine"], options["standardize"], options["n_seeds"]
    out = check_out_folder(options["out"] or default_run_dir("compare"), data_inputs(options["data"]))
    dataset = load_data(options)
    check_training_memory(list(configs.values()), dataset.X_train, record_every=100)  # as fit_many would, sooner
    prepare_engine(engine)
    study = None
    # Each model's figure is drawn as soon as that model is trained, while the others train.
    with writing(out), CompareRun(out, dataset, command=command_line()) as run:
        bar = ProgressBar("training")
        try:
            with options_named():  # e.g. --standardize on features too large to scale
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
    say_where(out, run.out, chosen=options["out"] is not None)
    click.echo(f"Run folder: {run.out}")


@cli.command()
@data_options
@setting_options()
@run_options("train")
def train(**options):
    """Train one model and save it (model.npz) with its figures and report."""
    from ..config import TrainConfig
    from ..experiments.compare import measure
    from ..runs.tables import default_run_dir, text_table
    from ..runs.train import write_train_run
    from ..training import fit

    with options_named():
        config = TrainConfig(**setting_values(options))
    engine, standardize = options["engine"], options["standardize"]
    out = check_out_folder(options["out"] or default_run_dir("train"), data_inputs(options["data"]))
    dataset = load_data(options)
    prepare_engine(engine)
    bar = ProgressBar("training")
    start = time.perf_counter()
    try:
        with options_named():
            model = fit(dataset.X_train, dataset.y_train, config, engine=engine, progress=bar, standardize=standardize)
    finally:
        bar.close()
    row = measure("model", model, dataset, time.perf_counter() - start).row()
    with writing(out):
        folder = write_train_run(model, dataset, out, command=command_line(), refuse_taken=False, row=row)
    click.echo(text_table([row]))
    say_where(out, folder, chosen=options["out"] is not None)
    click.echo(f"Run folder: {folder} (model: {folder / 'model.npz'})")
