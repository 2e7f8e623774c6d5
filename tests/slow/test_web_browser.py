"""The playground in a real browser: Debian's chromium driven by Playwright, against ``reglab serve`` in its own process.

What the page shows must be the library's numbers: the accuracies after training equal ``reglab.fit``'s,
the boundary it computes in JavaScript equals the library's probabilities (to 1e-12), a shared link
reproduces the view, the compare view equals ``compare_seeds``. Screenshots (1366x768, and in large type)
are saved in each test's temporary folder. Without chromium or Playwright these tests are skipped with the
reason, and fail in CI (CI=true), where they must run.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

import reglab
from reglab.datasets import load_course, make_dataset
from reglab.experiments.compare import compare_seeds

from ..conftest import _missing
from ..web_helpers import ServerProcess

CHROMIUM = Path(os.environ.get("REGLAB_CHROMIUM", "/usr/bin/chromium"))
VIEWPORT = {"width": 1366, "height": 768}
# Playwright's waits evaluate strings, which the page's Content-Security-Policy (no 'unsafe-eval') refuses: the test's
# browser context bypasses the policy for its own scripts (the page itself is unchanged).
CONTEXT = {"viewport": VIEWPORT, "bypass_csp": True, "accept_downloads": True}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright's Python package is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        _missing(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium; `make test` does as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server():
    running = ServerProcess()
    yield running
    status, _, err = running.stop()
    assert status == 0, err  # Ctrl-C stops it cleanly


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(**CONTEXT)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()


def open_page(page, server, query: str = ""):
    page.goto(f"{server.url}/{query}")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def url_query(**state) -> str:
    return "?" + "&".join(f"{key}={quote(json.dumps(value) if not isinstance(value, str) else value)}"
                          for key, value in state.items())


def train_and_wait(page, click: bool = True) -> dict:
    if click:
        page.click("#train-button")
    page.wait_for_function("['Finished.', 'Stopped.'].includes(document.querySelector('#train-status').textContent)"
                           " || !document.querySelector('#message').hidden", timeout=120_000)
    assert page.is_hidden("#message"), page.inner_text("#message")
    return metrics(page)


def metrics(page) -> dict:
    return {name: page.get_attribute(f"#m-{name}", "data-value") for name in ("iteration", "train", "test", "cost")}


def shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    keep = os.environ.get("REGLAB_SCREENSHOTS")  # a folder to collect them in, for looking at them
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
    return path


def test_the_page_loads_with_the_form_made_from_the_settings(page, server, tmp_path):
    open_page(page, server)
    assert page.title() == "reglab playground"
    from reglab.settings import SETTINGS

    for declared in SETTINGS:
        assert page.locator(f'.field[data-name="{declared.name}"]').count() == 1
    assert page.input_value("#setting-learning_rate") == "0.3" and page.input_value("#data-kind") == "field"
    assert "200 train / 200 test" in page.inner_text("#data-source")
    shot(page, tmp_path, "load")
    assert page.errors == []


def test_the_notebooks_l2_model_on_the_default_data_shows_fits_accuracies(page, server, tmp_path):
    open_page(page, server, url_query(settings={"l2": 0.7}))
    shown = train_and_wait(page)
    data = make_dataset("field")
    model = reglab.fit(data.X_train, data.y_train, reglab.TrainConfig(l2=0.7))
    assert float(shown["train"]) == model.accuracy(data.X_train, data.y_train)
    assert float(shown["test"]) == model.accuracy(data.X_test, data.y_test)
    assert shown["iteration"] == "30000"
    shot(page, tmp_path, "l2-field")
    # The boundary is computed in the page from the streamed weights: the library's probabilities, to 1e-12.
    xs = np.linspace(-1.5, 1.5, 41)
    grid = [[float(a), float(b)] for a in xs for b in xs]
    params = page.evaluate("window.reglab.app.params")
    assert params["W"][0] == model.params.weights[0][0].tolist()
    in_page = np.array(page.evaluate("([p, g]) => window.reglab.predict(p, g, {})", [params, grid]))
    np.testing.assert_allclose(in_page, model.predict_proba(np.array(grid)), rtol=0, atol=1e-12)
    # ... and with standardised inputs, as a model trained with standardize=True has them
    scaled = reglab.fit(data.X_train * 10 + 3, data.y_train, reglab.TrainConfig(n_iterations=500), standardize=True)
    scaling = {"input_mean": scaled.input_mean.tolist(), "input_scale": scaled.input_scale.tolist()}
    in_page = np.array(page.evaluate("([p, g, s]) => window.reglab.predict(p, g, s)", [
        {"W": [W[0].tolist() for W in scaled.params.weights], "b": [b[0, :, 0].tolist() for b in scaled.params.biases]},
        grid, scaling]))
    np.testing.assert_allclose(in_page, scaled.predict_proba(np.array(grid)), rtol=0, atol=1e-12)
    assert "test accuracy 0.8900 (178/200)" in page.inner_text("#announce")  # said to a screen reader
    with page.expect_download() as download:  # the figure as PNG
        page.click("#export-png")
    png = Path(download.value.path()).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    # A shared link reproduces the view: the same data, settings and numbers in a new page
    link = page.url
    assert "run=1" in link
    other = page.context.new_page()
    open_page(other, server, link[len(server.url) + 1:])
    assert train_and_wait(other, click=False) == shown
    assert other.evaluate("window.reglab.app.params") == params
    shot(other, tmp_path, "l2-field-shared")
    other.close()
    assert page.errors == []


def test_the_notebooks_l2_model_on_the_course_data(page, server, tmp_path, course_data_path):
    if not os.environ.get("REGLAB_COURSE_DATA"):
        pytest.skip("the server finds the course data through REGLAB_COURSE_DATA")
    open_page(page, server, url_query(settings={"l2": 0.7}, data={"kind": "course"}))
    assert "course data from" in page.inner_text("#data-source")
    shown = train_and_wait(page)
    data = load_course(course_data_path)
    model = reglab.fit(data.X_train, data.y_train, reglab.TrainConfig(l2=0.7))
    assert float(shown["train"]) == model.accuracy(data.X_train, data.y_train) == 0.9383886255924171
    assert float(shown["test"]) == model.accuracy(data.X_test, data.y_test) == 0.93
    assert page.inner_text("#m-test") == "0.9300 (186/200)"
    shot(page, tmp_path, "l2-course")
    page.check("#large-type")
    page.wait_for_timeout(200)
    page.locator("#boundary").scroll_into_view_if_needed()
    shot(page, tmp_path, "l2-course-large")


def test_upload_a_csv_and_train_on_it(page, server, tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "up", "down")
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,label\n" + "\n".join(f"{a:.5f},{b:.5f},{c}" for (a, b), c in zip(X, y)) + "\n")
    open_page(page, server, url_query(settings={"n_iterations": 3000}))
    page.select_option("#data-kind", "upload")
    page.set_input_files("#upload-file", str(path))
    page.wait_for_function("document.querySelector('#data-source').textContent.includes('uploaded file points.csv')")
    assert page.inner_text("#legend-c0") == "down" and page.inner_text("#legend-c1") == "up"  # the file's labels
    shown = train_and_wait(page)
    data = reglab.datasets.load_file(path)
    model = reglab.fit(data.X_train, data.y_train, reglab.TrainConfig(n_iterations=3000))
    assert float(shown["test"]) == model.accuracy(data.X_test, data.y_test)
    shot(page, tmp_path, "upload")


def test_a_bad_upload_shows_its_message(page, server, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,label\n1,2,a\n3,oops,b\n")
    open_page(page, server)
    page.select_option("#data-kind", "upload")
    page.set_input_files("#upload-file", str(path))
    page.wait_for_selector("#message:not([hidden])")
    text = page.inner_text("#message")
    assert "bad.csv: row 3, 'x2' holds 'oops', which is not a number" in text and text.startswith("Upload:")
    shot(page, tmp_path, "bad-upload")


def test_a_bad_setting_is_named_beside_its_field(page, server, tmp_path):
    open_page(page, server)
    page.fill("#setting-learning_rate", "-1")
    page.click("#train-button")
    page.wait_for_selector('.field[data-name="learning_rate"].invalid')
    assert "learning_rate must be a real number > 0; got -1" in page.inner_text('.field[data-name="learning_rate"] .field-error')
    shot(page, tmp_path, "bad-setting")


def test_draw_points_of_both_classes_and_train_on_them(page, server, tmp_path):
    open_page(page, server, url_query(settings={"n_iterations": 4000, "hidden_layer_sizes": [8]}))
    page.select_option("#data-kind", "points")
    box = page.locator("#boundary").bounding_box()
    rng = np.random.default_rng(0)
    for k in range(16):  # class 0 on the left, class 1 (shift-click) on the right
        left = k % 2 == 0
        x = box["width"] * (0.25 if left else 0.75) + rng.uniform(-40, 40)
        y = box["height"] * 0.5 + rng.uniform(-120, 120)
        page.locator("#boundary").click(position={"x": x, "y": y}, modifiers=[] if left else ["Shift"])
    page.focus("#boundary")  # and with the keyboard: move the cursor, Enter adds a point
    for key in ["ArrowRight"] * 6 + ["Enter", "ArrowUp", "Shift+Enter"]:
        page.keyboard.press(key)
    assert page.inner_text("#data-source") == "10 training and 8 test points drawn."  # each class: 5 train, 4 test
    drawn = page.evaluate("window.reglab.app.drawn")
    assert sorted({p[2] for p in drawn}) == [0, 1]
    shown = train_and_wait(page)
    train = np.array([p for p in drawn if not p[3]])
    test = np.array([p for p in drawn if p[3]])
    model = reglab.fit(train[:, :2], train[:, 2], reglab.TrainConfig(n_iterations=4000, hidden_layer_sizes=(8,)))
    assert float(shown["train"]) == model.accuracy(train[:, :2], train[:, 2])
    assert float(shown["test"]) == model.accuracy(test[:, :2], test[:, 2])
    shot(page, tmp_path, "drawn")


def test_pause_change_lambda_and_resume_is_marked_on_the_curve(page, server, tmp_path):
    open_page(page, server, url_query(settings={"n_iterations": 200000}, pace="20000"))
    page.click("#train-button")
    page.wait_for_function("Number(document.querySelector('#m-iteration').dataset.value) > 2000")
    page.click("#pause-button")
    page.wait_for_function("document.querySelector('#train-status').textContent === 'Paused.'")
    page.fill("#setting-l2", "2")
    page.click("#step-button")
    page.wait_for_function("window.reglab.app.marks.length === 1")
    assert page.evaluate("window.reglab.app.marks[0].label") == "l2=2"
    page.click("#stop-button")
    page.wait_for_function("document.querySelector('#train-status').textContent === 'Stopped.'")
    shot(page, tmp_path, "changed")
    state = page.evaluate("[window.reglab.app.schedule, window.reglab.app.stopAt]")
    assert state[0][0]["set"] == {"l2": 2} and state[1] > state[0][0]["at"]
    assert "schedule=" in page.url and "stop=" in page.url


def test_the_compare_view_with_three_seeds(page, server, tmp_path):
    open_page(page, server, url_query(view="compare", seeds="3"))
    page.click("#compare-button")
    page.wait_for_function("document.querySelector('#compare-status').textContent.startsWith('Finished')",
                           timeout=180_000)
    assert page.is_visible("#seeds-chart")
    cards = page.locator("#compare-results .card")
    assert cards.count() == 3
    data = make_dataset("field")
    study = compare_seeds(data, None, range(3))
    for k, row in enumerate(study.summary()):
        card = cards.nth(k)
        assert card.locator("h3").inner_text() == row["model"]
        assert float(card.locator(".accuracies span").nth(1).get_attribute("data-value")) == row["single_test"]
        assert f"test over 3 seeds: {row['test']}" in card.inner_text()
    assert "the notebook's settings, one run" in page.inner_text("#seeds-caption")
    from reglab.runs.compare import difference_lines

    assert page.locator("#differences li").all_inner_texts() == difference_lines(study)
    shot(page, tmp_path, "compare-seeds")
    link = page.url  # the comparison's link gives the same view: the same models, seeds and numbers
    assert "compared=1" in link and "seeds=3" in link
    other = page.context.new_page()
    open_page(other, server, link[len(server.url) + 1:])
    other.wait_for_function("document.querySelector('#compare-status').textContent.startsWith('Finished')",
                            timeout=180_000)
    assert other.locator("#compare-results .card").all_inner_texts() == cards.all_inner_texts()
    assert other.locator("#differences li").all_inner_texts() == page.locator("#differences li").all_inner_texts()
    other.close()
    page.check("#large-type")
    page.click("#hide-settings")  # as a teacher shows the results on a projector
    page.wait_for_timeout(200)
    page.locator("#compare-results").scroll_into_view_if_needed()
    shot(page, tmp_path, "compare-seeds-large")


def test_the_keyboard_alone_reaches_and_starts_training(page, server):
    open_page(page, server, url_query(settings={"n_iterations": 1000}))
    page.focus("#view-compare")
    page.keyboard.press("Shift+Tab")  # the view buttons and the form are in the tab order
    page.focus("#train-button")
    page.keyboard.press("Enter")
    train_and_wait(page, click=False)
    assert page.get_attribute("#m-iteration", "data-value") == "1000"


def test_step_from_rest_starts_paused_and_steps(page, server):
    open_page(page, server, url_query(settings={"n_iterations": 1000}))
    page.click("#step-button")  # a paused training at the initial weights
    page.wait_for_function("document.querySelector('#train-status').textContent === 'Paused.'")
    assert page.get_attribute("#m-iteration", "data-value") == "0"
    page.select_option("#step-size", "100")
    page.click("#step-button")
    page.wait_for_function("document.querySelector('#m-iteration').dataset.value === '100'")
    page.click("#resume-button")
    train_and_wait(page, click=False)
    data = make_dataset("field")
    model = reglab.fit(data.X_train, data.y_train, reglab.TrainConfig(n_iterations=1000))
    assert float(page.get_attribute("#m-test", "data-value")) == model.accuracy(data.X_test, data.y_test)
