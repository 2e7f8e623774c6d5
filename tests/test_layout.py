"""The package's shape: imports go one way (no cycle) and no private name crosses a module.

Read from the source with ``ast``, imports inside functions included: a cycle through a lazy import
is still two modules that each need the other.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "reglab"


def _module_name(path: Path) -> str:
    parts = ("reglab", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (``from ..plots import x`` in reglab.runs.compare: reglab.plots)."""
    if node.level == 0:
        return node.module or ""
    package = importer if _is_package(importer) else importer.rpartition(".")[0]
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name: str) -> list[tuple[str, str | None, int]]:
    """(module imported, name imported from it or None, line) for every import of a reglab module in ``name``."""
    found = []
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names if alias.name.split(".")[0] == "reglab"]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node)
            if target.split(".")[0] != "reglab":
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.append((submodule, None, node.lineno) if submodule in MODULES else (target, alias.name, node.lineno))
    return found


@functools.lru_cache(maxsize=None)
def graph() -> dict[str, set[str]]:
    """Module -> the reglab modules it imports (a package's __init__ importing its own submodules included)."""
    edges = {}
    for name in MODULES:
        targets = set()
        for module, _, _ in imports(name):
            while module not in MODULES:  # `import reglab.engine.params` names a module; a name inside one is cut off
                module = module.rpartition(".")[0]
            if module != name:
                targets.add(module)
        edges[name] = targets
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_the_package_has_its_subpackages():
    packages = sorted(name for name in MODULES if _is_package(name))
    assert packages == ["reglab", "reglab.cli", "reglab.course", "reglab.datasets", "reglab.engine", "reglab.experiments",
                        "reglab.plots", "reglab.runs", "reglab.web"]


def test_only_the_serve_command_imports_the_web_package():
    # reglab.web needs the optional web extra: nothing else in the library may depend on it.
    users = {name for name, targets in graph().items() if not name.startswith("reglab.web")
             and any(t.startswith("reglab.web") for t in targets)}
    assert users <= {"reglab.cli.tools"}, sorted(users)


def test_imports_have_no_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_engine_imports_nothing_above_it():
    # The engine takes arrays: it knows neither TrainConfig, Model, the data sets nor the run folders.
    allowed = {"reglab.validation"}
    for name in (n for n in MODULES if n.startswith("reglab.engine")):
        outside = {m for m in graph()[name] if not m.startswith("reglab.engine") and m not in allowed}
        assert not outside, f"{name} imports {sorted(outside)}"


def test_no_private_name_is_imported_across_modules():
    crossing = []
    for name in MODULES:
        for module, imported, line in imports(name):
            if imported is not None and _private(imported):
                crossing.append(f"{name}:{line} imports {imported} from {module}")
        tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
        aliases = {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and _resolve(name, node).startswith("reglab")
                   or isinstance(node, ast.Import) and any(a.name.startswith("reglab") for a in node.names)
                   for alias in node.names}
        for node in ast.walk(tree):  # module._private, through a module imported under that name
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and _private(node.attr):
                crossing.append(f"{name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not crossing, "\n".join(crossing)


def test_the_checks_find_what_they_look_for():
    # The cycle finder and the walker are the test's own code: they must see what they are meant to.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    assert ("reglab.engine.params", None) in {(m, n) for m, n, _ in imports("reglab.training")} or \
        ("reglab.engine.params", "Params") in {(m, n) for m, n, _ in imports("reglab.training")}
    assert "reglab.engine.loop" in graph()["reglab.engine.compiled"]
    assert _private("_fused") and not _private("__version__")


@pytest.mark.parametrize("public", ["reglab.fit", "reglab.fit_many", "reglab.compare", "reglab.load_model",
                                    "reglab.TrainConfig", "reglab.Model", "reglab.datasets.make_dataset",
                                    "reglab.datasets.resolve_data", "reglab.plots.decision_boundary",
                                    "reglab.course.model", "reglab.course.plot_decision_boundary"])
def test_the_public_names_users_import_stay_where_the_readme_shows_them(public):
    import importlib

    module, _, attribute = public.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attribute))
