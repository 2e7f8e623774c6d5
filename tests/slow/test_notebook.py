"""The course notebook itself, run unchanged against reglab.course.

The notebook's text export (shared/seed, read in place, never copied) lost its Python
indentation. This test restores it, points the notebook's imports of ``reg_utils`` and
``testCases`` at ``reglab.course``, runs every code cell in order (the notebook's own graded
functions and ``model``, our helpers) and compares what it prints with the expected outputs
written in the notebook and the accuracies the course reports.
"""

from __future__ import annotations

import re
import sys
import types

import matplotlib.pyplot as plt
import numpy as np
import pytest

import reglab.course

CELL_MARK = re.compile(r"^# In\[(\d+)\]:\s*$")
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


# --------------------------------------------------------------------------- reading the file


def notebook_text(text: str) -> str:
    """The notebook's part of the export (the ``course_notebook`` fixture's text)."""
    # The export starts with a web page's chrome and line numbers; the notebook starts here.
    return text[text.index("# coding: utf-8") :]


def split_cells(text: str) -> list[tuple[str, list[str], list[str]]]:
    """(label, code lines, markdown lines after the code) for every ``# In[n]:`` cell.

    Code lines are the lines not starting with ``#``; comment lines inside code are dropped
    (their indentation is lost too, and they do nothing). The markdown that follows a cell
    holds the expected output of that cell.
    """
    cells: list[tuple[str, list[str], list[str]]] = []
    for line in text.splitlines():
        mark = CELL_MARK.match(line)
        if mark:
            cells.append((f"In[{mark.group(1)}]", [], []))
        elif cells:
            (cells[-1][2] if line.startswith("#") else cells[-1][1]).append(line)
    return cells


# ------------------------------------------------------------------------------ re-indenting


def _bracket_depth_change(line: str) -> int:
    """Opened minus closed brackets in a line, ignoring string literals and comments."""
    depth, quote, i = 0, None, 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 1
            elif line.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif ch == "#":
            break
        elif line.startswith(('"""', "'''"), i):
            quote = line[i : i + 3]
            i += 2
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        i += 1
    return depth


def reindent(code_lines: list[str]) -> str:
    """Restore the indentation of one cell, using the structure of this notebook's code.

    The export keeps one statement per line (and multi-line brackets), so indentation follows
    from a few facts that hold throughout this notebook and are checked as we go:

    - ``def`` appears only at top level, and a function's body runs until the cell's closing
      ``print("end...")`` (every function cell is wrapped in ``print("start...")`` /
      ``print("end...")``);
    - a docstring opened by a line starting with triple quotes runs to the line ending with
      them; lines inside it are text (``Arguments:`` is not a block header);
    - every ``if`` / ``elif`` / ``else`` body is exactly one statement, so the statement after
      it returns to the header's level (an ``elif``/``else`` then continues the same ``if``);
    - the one ``for`` loop (gradient descent in ``model``) runs until the function starts to
      plot or returns: no loop in the notebook plots (``plt.``) or returns;
    - a line inside open brackets continues its statement (indentation does not matter there).
    """
    out: list[str] = []
    depth = 0  # indentation level of the next statement
    in_def = in_loop = in_docstring = one_statement_body = False
    brackets = 0
    for raw in code_lines:
        text = raw.strip()
        if not text:
            continue
        if in_docstring:
            out.append("    " * depth + text)
            in_docstring = not text.endswith('"""')
            continue
        if brackets > 0:  # continuation of a bracketed statement
            out.append("    " * (depth + 1) + text)
            brackets += _bracket_depth_change(text)
            continue
        if in_def and text == 'print("end...")':
            depth, in_def, in_loop = 0, False, False
        elif in_loop and (text.startswith("plt.") or text.startswith("return")):
            depth, in_loop = depth - 1, False
        level = depth + 1 if one_statement_body else depth
        if one_statement_body:
            assert not text.endswith(":"), f"a one-statement body cannot open a block: {text!r}"
        out.append("    " * level + text)
        one_statement_body = False
        if text.startswith('"""'):
            in_docstring = text == '"""' or not text.endswith('"""')
        elif text.startswith("def "):
            assert depth == 0 and not in_def, f"nested def: {text!r}"
            depth, in_def = 1, True
        elif text.startswith("for "):
            assert text.endswith(":") and not in_loop, f"unexpected loop: {text!r}"
            depth, in_loop = depth + 1, True
        elif re.match(r"(if|elif|else)\b.*:$", text):
            one_statement_body = True
        elif text.endswith(":"):
            raise AssertionError(f"a block this re-indenter does not know: {text!r}")
        brackets = _bracket_depth_change(text)
    assert not (in_def or in_loop or in_docstring or brackets), "a block was left open at the end of the cell"
    return "\n".join(out) + "\n"


def test_reindent_restores_a_function_with_a_loop_and_branches():
    lines = [
        "def f(n):", '"""', "Arguments:", "n -- count", '"""', "total = {'a': 0,", "'b': 1}",
        "for i in range(n):", "if i % 2:", "total['a'] += i", "else:", "total['b'] += i", "total['b'] += 1",
        "plt.plot([])", "return total", 'print("end...")', "x = f(3)",
    ]
    expected = (
        "def f(n):\n    \"\"\"\n    Arguments:\n    n -- count\n    \"\"\"\n    total = {'a': 0,\n        'b': 1}\n"
        "    for i in range(n):\n        if i % 2:\n            total['a'] += i\n        else:\n"
        "            total['b'] += i\n        total['b'] += 1\n    plt.plot([])\n    return total\n"
        'print("end...")\nx = f(3)\n'
    )
    assert reindent(lines) == expected


def test_reindent_refuses_structure_it_does_not_know():
    with pytest.raises(AssertionError, match="does not know"):
        reindent(["while True:", "pass"])
    with pytest.raises(AssertionError, match="left open"):
        reindent(["def f():", "return 1"])


# ------------------------------------------------------------------------- expected outputs


def expected_outputs(markdown: list[str]) -> dict[str, tuple[list[float], int]]:
    """The notebook's ``**Expected Output**`` table: {name: (values, most decimals written)}."""
    text = "\n".join(line[1:].strip() for line in markdown)
    if "**Expected Output**" not in text:
        return {}
    table = text.split("**Expected Output**", 1)[1]
    found = {}
    for name, value in re.findall(r"\*\*(\w+)\*\*\s*</td>\s*<td>\s*(.*?)\s*</td>", table, flags=re.S):
        found[name] = _numbers(NUMBER.findall(value))
    return found


def printed_values(output: str, name: str) -> tuple[list[float], int]:
    """The numbers printed as ``name = ...`` and the most decimals any of them was printed with."""
    match = re.search(rf"^{name} = (\[\[.*?\]\]|\S+)", output, flags=re.S | re.M)
    assert match, f"{name} was not printed; output:\n{output}"
    return _numbers(NUMBER.findall(match.group(1)))


def _numbers(texts: list[str]) -> tuple[list[float], int]:
    return [float(t) for t in texts], max(len(t.split(".")[1]) if "." in t else 0 for t in texts)


# ---------------------------------------------------------------------------------- the run


def test_the_notebook_runs_unchanged_and_prints_the_courses_results(course_data_path, course_notebook, tmp_path,
                                                                   monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no datasets/ here: the data comes from $REGLAB_COURSE_DATA
    monkeypatch.setenv("REGLAB_COURSE_DATA", str(course_data_path))
    monkeypatch.setitem(sys.modules, "reg_utils", reglab.course)
    monkeypatch.setitem(sys.modules, "testCases", reglab.course)
    for name in ("sklearn", "sklearn.datasets"):  # imported by the notebook, never used
        if name not in sys.modules:
            monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    shown: list[list[str]] = []

    def show(*args, **kwargs):
        # The notebook's own model calls plt.show(); inline, that draws and closes the figures.
        shown.append([axes.get_title() for n in plt.get_fignums() for axes in plt.figure(n).axes])
        plt.close("all")

    monkeypatch.setattr(plt, "show", show)
    namespace = {"__name__": "__notebook__", "get_ipython": lambda: types.SimpleNamespace(magic=lambda line: None)}
    random_state = np.random.get_state()  # the notebook's own dropout re-seeds np.random

    cells = split_cells(notebook_text(course_notebook))
    assert len(cells) == 17
    outputs, checked = [], 0
    with plt.rc_context():  # the notebook sets rcParams
        for label, code, markdown in cells:
            source = reindent(code)
            exec(compile(source, f"<notebook {label}>", "exec"), namespace)
            output = capsys.readouterr().out
            outputs.append(output)
            show()  # the end of a cell: figures are displayed and closed
            for name, (expected, written) in expected_outputs(markdown).items():
                values, printed = printed_values(output, name)
                tolerance = 1.01 * 10.0 ** -min(written, printed)  # both sides are rounded
                np.testing.assert_allclose(values, expected, rtol=0, atol=tolerance, err_msg=f"{label} {name}")
                checked += 1
    np.random.set_state(random_state)
    assert checked == 7  # cost, dW1, dW2, dW3, A3, dA1, dA2

    # The notebook's own functions replaced ours in its namespace; the helpers are ours.
    assert namespace["model"] is not reglab.course.model
    assert namespace["predict"] is reglab.course.predict
    everything = "".join(outputs)
    assert re.findall(r"^Accuracy: (.*)$", everything, flags=re.M) == [
        "0.9478672985781991", "0.915", "0.9383886255924171", "0.93", "0.9289099526066351", "0.95",
    ]
    assert re.findall(r"^Cost after iteration (\d+): ", everything, flags=re.M) == ["0", "10000", "20000"] * 3
    titles = [title for figure in shown for title in figure]
    for title in ("Model without regularization", "Model with L2-regularization", "Model with dropout"):
        assert title in titles
    assert titles.count("Learning rate =0.3") == 3
