"""The commands around training: ``predict``, ``datasets``, ``gradcheck`` and ``serve``."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from .group import cli
from .options import load_data
from .paths import check_out_file, writing


@cli.command()
@click.argument("model_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the predictions as CSV (x1,...,probability,prediction).")
def predict(model_file, data_file, out):
    """Apply a saved model to the points of a data file (.csv, .npz or course .mat).

    Files of any size are read and predicted a chunk of points at a time.
    """
    from ..datasets.loaders import iter_points
    from ..files import atomic_path
    from ..model import load_model

    if out is not None:
        check_out_file("--out", out, [("the model file (MODEL_FILE)", model_file), ("the data file (DATA_FILE)", data_file)])
    model = load_model(model_file)
    n_points = n_correct = 0
    labelled, unknown = False, []
    with contextlib.ExitStack() as stack:
        handle = None
        if out is not None:
            stack.enter_context(writing(out))
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
    from ..datasets import DEFAULT_DATASET, GENERATORS

    if draw is None:
        if out is not None:
            raise click.BadParameter("--out needs --draw NAME", param_hint="--out")
        width = max(len(name) for name in GENERATORS)
        for name, description in GENERATORS.items():
            marker = " (default)" if name == DEFAULT_DATASET else ""
            click.echo(f"{name.ljust(width)}  {description}{marker}")
        click.echo("Files: --data path/to/file.mat|.csv|.npz (the course's data.mat: keys X, y, Xval, yval).")
        return
    from .. import plots
    from ..datasets.resolve import data_file

    drawn = [] if data_file(draw) is None else [("the data file (--draw)", data_file(draw))]
    if out is not None:
        check_out_file("--out", out, drawn)
        if out.suffix.lower().lstrip(".") not in plots.FIGURE_FORMATS:  # before the data is read
            raise click.BadParameter(f"must end in one of {', '.join('.' + f for f in plots.FIGURE_FORMATS)}; got "
                                     f"{str(out)!r}", param_hint="--out")
    dataset = load_data(dict(data=draw, n_samples=n_samples, noise=noise, test_fraction=test_fraction,
                              data_seed=seed))
    if out is None:
        out = check_out_file("--out", Path(f"{dataset.name}.png"), drawn)
    with writing(out):
        plots.save_figure(plots.dataset_figure(dataset), out)
    click.echo(f"Figure: {out}")


@cli.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random test problem.")
def gradcheck(seed):
    """Check the network's gradients against central differences (pass: relative error < 1e-7)."""
    from ..engine.gradcheck import run_gradchecks

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
    from ..web import server

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
