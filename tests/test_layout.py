"""The house rules of the layout (CONTRIBUTING.md): no import circles, every layer imports only
downward, and the front-end code lives in files, not in Python strings.

The import graph is read from the source (every ``import``, at module level or inside a
function, resolved to the project's modules), so a lazy import inside a function counts too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd_core", "nn", "viz")


def modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        for path in (root / pkg).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports (a ``from package import submodule`` counts as the
    submodule; anything else as the module it comes from)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = name.split(".")[: None if is_package else -1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layer(module: str) -> int:
    """engine 0 <- checks 1; engine <- nn 1 <- viz 2 <- command line 3."""
    if module == "autograd_core.checks" or module.startswith("autograd_core.checks."):
        return 1
    if module.startswith("autograd_core"):
        return 0
    if module.startswith("nn"):
        return 1
    if module == "viz.cli" or module.startswith("viz.cli."):
        return 3
    return 2


def test_no_import_circles() -> None:
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle(tmp_path: Path) -> None:
    """The check itself: two modules that import each other (one lazily) are a circle."""
    (tmp_path / "viz").mkdir()
    (tmp_path / "viz" / "__init__.py").write_text("")
    (tmp_path / "viz" / "a.py").write_text("from .b import f\n")
    (tmp_path / "viz" / "b.py").write_text("def f():\n    from .a import g\n")
    for pkg in ("autograd_core", "nn"):
        (tmp_path / pkg).mkdir()
    assert circles(import_graph(tmp_path)) == [["viz.a", "viz.b"]]


def test_every_layer_imports_only_downward() -> None:
    """The engine imports neither the checks, nn nor viz; the checks and nn import no viz; the
    drawing, tracing and browser code of viz imports no command line; nn and the checks do not
    import each other."""
    wrong = []
    for module, targets in import_graph().items():
        if module in PACKAGES:
            continue             # a package's __init__ is its public face: it re-exports every layer
        for target in targets:
            up = layer(target) > layer(module)
            sideways = {module.split(".")[0], target.split(".")[0]} == {"nn", "autograd_core"} \
                and layer(module) == layer(target) == 1
            if up or sideways:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


@pytest.mark.parametrize("folder", ["viz", "autograd_core"])
def test_each_folder_holds_one_concern(folder: str) -> None:
    """viz is subpackages only (plus its public API: __init__.py and the plots submodule);
    autograd_core keeps its learner checks in their own subpackage."""
    top = {p.name for p in (ROOT / folder).glob("*.py")}
    if folder == "viz":
        assert top == {"__init__.py", "plots.py"}
        assert {p.name for p in (ROOT / "viz").iterdir() if p.is_dir() and p.name != "__pycache__"} \
            == {"drawing", "tracing", "browser", "cli"}
    else:
        assert not top & {"checks.py", "check_op.py", "diagnose.py", "slopes.py", "report.py",
                          "paths.py"}


def test_front_end_code_lives_in_files() -> None:
    """No Python string in the package holds JavaScript or a stylesheet; the scripts and styles
    are files in viz/browser/static, shipped as package data."""
    static = ROOT / "viz" / "browser" / "static"
    assert {p.suffix for p in static.iterdir()} == {".js", ".css"}
    for path in (ROOT / "viz").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.count("\n") >= 3:          # a one-line start-up call is data
                text = node.value
                assert not any(js in text for js in ("addEventListener", "querySelector",
                                                     "function (", "document.", "var ")), \
                    f"JavaScript in a string in {path}"
                assert not (".cr-" in text and "{" in text and ";" in text), \
                    f"CSS in a string in {path}"


def test_the_layers_are_ordered() -> None:
    """The layer function the downward rule uses: engine < checks, nn < viz < command line."""
    assert layer("autograd_core.value") < layer("autograd_core.checks.answers")
    assert layer("autograd_core.graph") < layer("nn.module") < layer("viz.tracing.trace")
    assert layer("viz.drawing.graph") < layer("viz.cli.main") == layer("viz.cli.grading.self_check")
