"""Every Python snippet in README.md and docs/*.md runs, and the claims its comments make hold.

A document's ```python blocks run in order in one namespace (a page reads top to bottom, as a
notebook does); a ``>>>`` block runs as a doctest. A line ``expression   # <literal>...`` (a
comment that starts with a Python literal: ``# 'x * w'``, ``# (False, True, 2), as in
micrograd``, ``# True: order compares data``) claims the expression's value: it is evaluated
and compared with the literal. Blocks that import a package the test environment lacks (torch)
are skipped with the reason.
"""
from __future__ import annotations

import ast
import doctest
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(path.read_text(encoding="utf-8"))
            if m.group(1) == "python" or m.group(2).lstrip().startswith(">>>")]


def claimed_literal(comment: str) -> tuple[bool, Any]:
    """The Python literal a comment starts with (the longest prefix that parses), if any."""
    text = comment.strip()
    for end in range(len(text), 0, -1):
        head = text[:end].rstrip(" ,:;")
        try:
            return True, ast.literal_eval(head)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
    return False, None


def run_block(code: str, namespace: dict[str, Any]) -> Any:
    """Run ``code`` as a notebook cell: the value of a final expression is returned; every
    line with a claimed value is checked."""
    tree = ast.parse(code)
    lines = code.splitlines()
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    for stmt in tree.body:
        exec(compile(ast.Module([stmt], []), "<snippet>", "exec"), namespace)
        check_claim(stmt, lines, namespace)
    if last is None:
        return None
    value = eval(compile(ast.Expression(last.value), "<snippet>", "eval"), namespace)
    check_claim(last, lines, namespace, value)
    return value


_NOTHING = object()


def check_claim(stmt: ast.stmt, lines: list[str], namespace: dict[str, Any],
                value: Any = _NOTHING) -> None:
    if not isinstance(stmt, ast.Expr) or stmt.lineno != stmt.end_lineno:
        return
    line = lines[stmt.lineno - 1]
    if "#" not in line[stmt.end_col_offset:]:
        return
    ok, claimed = claimed_literal(line[stmt.end_col_offset:].split("#", 1)[1])
    if not ok:
        return
    if value is _NOTHING:
        value = eval(compile(ast.Expression(stmt.value), "<snippet>", "eval"), namespace)
    assert value == claimed, f"{line.strip()!r}: the snippet claims {claimed!r}, it gives {value!r}"


def missing_module(code: str) -> str | None:
    for name in re.findall(r"^\s*import (\w+)|^\s*from (\w+)", code, re.M):
        module = name[0] or name[1]
        if importlib.util.find_spec(module) is None:
            return module
    return None


@pytest.mark.parametrize("path", [p for p in DOCS if blocks(p)], ids=lambda p: p.name)
def test_every_snippet_runs_and_its_claims_hold(path: Path) -> None:
    namespace: dict[str, Any] = {"__name__": "__snippet__"}
    ran = 0
    for _, code in blocks(path):
        if code.lstrip().startswith(">>>"):
            test = doctest.DocTestParser().get_doctest(code, namespace, path.name, str(path), 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            runner.run(test)
            assert runner.failures == 0, f"a doctest in {path.name} failed (see the output)"
            ran += 1
            continue
        module = missing_module(code)
        if module is not None:
            pytest.skip(f"{path.name} needs {module}, which the test environment lacks")
        run_block(code, namespace)
        ran += 1
    assert ran > 0


def test_claims_are_read_and_can_fail() -> None:
    """The checker itself: a true claim passes, a false one fails."""
    run_block("x = 2\nx * 3                 # 6", {})
    with pytest.raises(AssertionError, match="claims 7"):
        run_block("x = 2\nx * 3                 # 7, says the comment", {})
    assert claimed_literal(" (False, True, 2), as in micrograd") == (True, (False, True, 2))
    assert claimed_literal(" ∂out/∂x, ∂out/∂w")[0] is False


def getting_started_cells() -> list[str]:
    text = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    section = text[text.index("## In a notebook"):]
    return [code for lang, code in blocks_of(section)]


def blocks_of(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text) if m.group(1) == "python"]


def test_getting_started_shows_one_backward_and_rerunning_changes_nothing() -> None:
    """The first page a learner reads, run as written, twice: the drawing shows one backward's
    gradients (x1 -1.5, w1 1, x2 0.5, w2 0, b 0.5), the stepper cell is displayed, and running
    the cells again shows the same pictures and leaves the same gradients."""
    import viz
    draw_cell, trace_cell = getting_started_cells()
    namespace: dict[str, Any] = {}
    shown = []
    for _ in range(2):
        graph = run_block(draw_cell, namespace)
        stepper = run_block(trace_cell, namespace)
        assert isinstance(graph, viz.Graph) and isinstance(stepper, viz.BackwardTrace)
        grads = {n: round(namespace[n].grad, 3) for n in ("x1", "w1", "x2", "w2", "b")}
        assert grads == {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
        source = graph.source.replace("\\ ", " ")
        for text in ("grad -1.5", "grad 1", "grad 0.5"):
            assert text in source
        stepper.to_html()                                   # displaying it changes nothing
        assert {n: round(namespace[n].grad, 3) for n in grads} == grads
        shown.append((graph.source, stepper.to_text()))
    assert shown[0] == shown[1]


def test_the_readme_gallery_is_what_its_quoted_commands_print(tmp_path, capsys) -> None:
    """The gallery's graph and trace table come from the very commands the README quotes."""
    import shlex

    from viz.cli.main import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    draw = re.search(r"^`chainrule (draw [^`]+)`:", readme, re.M).group(1)
    trace = re.search(r"^`chainrule (trace [^`]+)`", readme, re.M).group(1)
    assert main(shlex.split(trace)) == 0
    printed = capsys.readouterr().out
    assert printed == (ROOT / "docs" / "gallery" / "neuron_trace.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| ") and "∂v5/∂" in line]
    assert len(rows) >= 4 and all(row in printed.splitlines() for row in rows)
    svg = tmp_path / "graph.svg"
    assert main([*shlex.split(draw), "-o", str(svg)]) == 0
    assert svg.read_text() == (ROOT / "docs" / "gallery" / "neuron_graph.svg").read_text()
