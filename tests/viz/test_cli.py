"""The chainrule command: draw, trace, demo, and the expression whitelist."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from viz.cli.main import main
from viz.cli.expression import ExpressionError, build, parse_assignments


def test_draw_writes_svg_with_values_and_gradients(tmp_path: Path, capsys) -> None:
    out = tmp_path / "g.svg"
    assert main(["draw", "tanh(x*w + b)", "--set", "x=0.5", "w=-1.5", "b=2", "-o", str(out)]) == 0
    svg = out.read_text()
    ET.fromstring(svg)                                   # well-formed XML
    value = math.tanh(0.5 * -1.5 + 2)
    assert f"{value:.4g}" in svg                         # the output's data
    assert f"{(1 - value ** 2) * 0.5:.4g}" in svg        # d out / d w = (1 - tanh^2) x
    assert "tanh" in svg
    assert "= 0.848284" in capsys.readouterr().out


def test_draw_writes_dot_by_suffix(tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    assert main(["draw", "x*y", "--set", "x=2", "y=3", "-o", str(out), "--rankdir", "TB"]) == 0
    text = out.read_text()
    assert text.lstrip().startswith("digraph") and "rankdir=TB" in text


def test_trace_formats(tmp_path: Path, capsys) -> None:
    assert main(["trace", "x*x + sigmoid(x)", "--set", "x=2"]) == 0
    text = capsys.readouterr().out
    sig = 1 / (1 + math.exp(-2))
    assert f"{2 * 2 + sig * (1 - sig):.4g}" in text       # dL/dx = 2x + σ(1-σ)
    assert main(["trace", "x*w", "--set", "x=2", "w=3", "--latex"]) == 0
    assert r"\partial" in capsys.readouterr().out
    assert main(["trace", "x*w", "--set", "x=2", "w=3", "--markdown"]) == 0
    assert "|" in capsys.readouterr().out
    html = tmp_path / "s.html"
    assert main(["trace", "x*w", "--set", "x=2", "w=3", "--html", str(html)]) == 0
    assert "<svg" in html.read_text()


@pytest.mark.parametrize("expr,message", [
    ("__import__('os').system('echo hacked')", "unknown function"),
    ("x.real", "Attribute"),
    ("x[0]", "Subscript"),
    ("open('f')", "unknown function 'open'"),
    ("lambda: 1", "Lambda"),
    ("tanh(x, y=1)", "keyword"),
    ("x +", "cannot parse"),
    ("y * 2", "variable 'y' has no value"),
    ("'abc'", "Constant"),
])
def test_rejected_expressions_exit_2_with_one_line(expr: str, message: str, capsys) -> None:
    assert main(["draw", expr, "--set", "x=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_expression_builder_matches_engine() -> None:
    root, variables = build("leaky_relu(x, 0.1) * -w ** 2 / (1 + exp(b))", {"x": -2, "w": 3, "b": 0.5})
    assert set(variables) == {"x", "w", "b"}
    assert root.data == pytest.approx(-0.2 * -(3 ** 2) / (1 + math.exp(0.5)))
    with pytest.raises(ExpressionError, match="NAME=NUMBER"):
        parse_assignments(["x"])
    with pytest.raises(ExpressionError, match="not a number"):
        parse_assignments(["x=abc"])


def test_demo_writes_its_files(tmp_path: Path, capsys) -> None:
    assert main(["demo", "--out", str(tmp_path), "--steps", "3"]) == 0
    out = capsys.readouterr().out
    for name in ("loss_curve.png", "decision_boundary.png", "training.html", "point_graph.svg",
                 "stepper.html", "trace.md"):
        assert (tmp_path / name).stat().st_size > 0, name
        assert name in out
    ET.fromstring((tmp_path / "point_graph.svg").read_text())
    assert (tmp_path / "loss_curve.png").read_bytes()[:4] == b"\x89PNG"


# -- no traceback, ever: every bad invocation is one line on stderr and exit status 2 -------------
def _one_line_error(capsys, argv: list[str], code: int = 2) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and err.startswith("chainrule")
    return err


def _sum(terms: int, name: str = "x") -> str:
    return "+".join([name] * terms)


@pytest.mark.parametrize("expr,message", [
    ("x*1" + "0" * 400, "too large"),                            # int too large for a float
    ("x*1e400", "too large"),
    (_sum(1000), "at most 1,000"),                                  # RecursionError before
    (_sum(5000), "characters; at most 5,000"),
    ("+".join(f"x{i}" for i in range(5000)), "characters; at most 5,000"),
    ("**".join(["x"] * 4000), "characters; at most 5,000"),         # MemoryError before
    ("**".join(["x"] * 600), "at most 1,000"),
    ("-" * 600 + "x", "nested 601 levels deep"),
    ("-" * 4999 + "x", ("nested too deeply", "at most 1,000")),     # the parser's limit, or ours
    ("(" * 300 + "x" + ")" * 300, "too many nested parentheses"),
    ("(" + _sum(300) + ").real", "Attribute"),
], ids=["int_400_digits", "float_overflow", "sum_1000", "sum_5000", "vars_5000", "pow_4000",
        "pow_600", "minus_600", "minus_4999", "parens_300", "deep_attribute"])
@pytest.mark.parametrize("command", ["draw", "trace"])
def test_oversized_expressions_are_refused_before_building(tmp_path, capsys, command, expr,
                                                           message):
    out = ["-o", str(tmp_path / "g.svg")] if command == "draw" else []
    values = [f"x{i}=1" for i in range(5000)] if "x4999" in expr else ["x=1"]
    err = _one_line_error(capsys, [command, expr, "--set", *values, *out])
    assert any(m in err for m in ((message,) if isinstance(message, str) else message)), err
    assert list(tmp_path.iterdir()) == []


def test_expression_bounds_are_checked_and_the_largest_allowed_builds() -> None:
    root, variables = build(_sum(500), {"x": 2.0})        # 999 nodes, nested 500 deep
    assert root.data == 1000.0
    root.backward()
    assert variables["x"].grad == 500.0
    deep, _ = build("-" * 499 + "x", {"x": 3.0})           # an odd number of minus signs
    assert deep.data == -3.0
    with pytest.raises(ExpressionError, match="1,001 numbers"):
        build(_sum(501), {"x": 1.0})


@pytest.mark.parametrize("command", ["draw", "trace"])
def test_graphs_over_max_nodes_name_the_option_that_raises_the_limit(tmp_path, capsys, command):
    out = ["-o", str(tmp_path / "g.dot")] if command == "draw" else ["--html", str(tmp_path / "t.html")]
    expr = _sum(260)             # 260 leaves of the one x... the graph: x, 259 sums, 259 ops
    err = _one_line_error(capsys, [command, expr, "--set", "x=1", *out])
    assert "--max-nodes 500" in err and "--max-nodes 519" in err and "collapse" not in err
    # with the limit raised the check passes (draw writes DOT, trace text: no slow layout)
    assert main([command, expr, "--set", "x=1", "--max-nodes", "519",
                 *(out if command == "draw" else [])]) == 0
    assert "written" in capsys.readouterr().out or command == "trace"
    err = _one_line_error(capsys, [command, "x*y", "--set", "x=2", "y=3", "--max-nodes", "3", *out])
    assert "4 nodes" in err and "--max-nodes 4" in err           # x, y, x*y and the * op
    assert "at least 1" in _one_line_error(capsys, [command, "x", "--max-nodes", "0"])


def test_output_paths_are_checked_before_any_work(tmp_path, capsys):
    err = _one_line_error(capsys, ["draw", "x", "--set", "x=1", "-o", str(tmp_path / "missing" / "x.svg")])
    assert "does not exist" in err
    err = _one_line_error(capsys, ["draw", "x", "--set", "x=1", "-o", str(tmp_path)])
    assert "is a directory" in err
    err = _one_line_error(capsys, ["trace", "x", "--set", "x=1", "--html", str(tmp_path)])
    assert "is a directory" in err
    (tmp_path / "file").write_text("")
    err = _one_line_error(capsys, ["draw", "x", "--set", "x=1", "-o", str(tmp_path / "file" / "x.svg")])
    assert "is not a directory" in err
    assert "must end in" in _one_line_error(capsys, ["draw", "x", "--set", "x=1", "-o",
                                                     str(tmp_path / "x.txt")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("argv,message", [
    (["--steps", "0"], "--steps: must be at least 1, got 0"),
    (["--steps", "-1"], "--steps: must be at least 1, got -1"),
    (["--steps", "ten"], "expected an integer"),
    (["--seed", "-1"], "--seed: must be at least 0, got -1"),
])
def test_demo_arguments_are_checked(tmp_path, capsys, argv, message):
    err = _one_line_error(capsys, ["demo", "--out", str(tmp_path / "out"), *argv])
    assert message in err and err.startswith("chainrule demo: error:")
    assert not (tmp_path / "out").exists()


def test_demo_out_naming_an_existing_file_is_refused_before_training(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    err = _one_line_error(capsys, ["demo", "--out", str(target), "--steps", "1"])
    assert "is a file, not a directory" in err
    err = _one_line_error(capsys, ["demo", "--out", str(target / "sub"), "--steps", "1"])
    assert "is a file, not a directory" in err
    assert target.read_text() == "keep me" and capsys.readouterr().out == ""


@pytest.mark.parametrize("argv", [
    ["trace", "-x*2", "--set", "x=1.5"],
    ["trace", "--set", "x=1.5", "-x*2"],
    ["trace", "--rankdir", "TB", "-x*2", "--set", "x=1.5"],
])
def test_an_expression_starting_with_minus_is_an_expression(argv, capsys):
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "v1 = -x" in text and "v2 = v1 * 2" in text         # parsed as (-x)*2
    assert text.rstrip().endswith("x.grad = -2 = ∂v2/∂x")         # d(-2x)/dx = -2


def test_draw_an_expression_starting_with_minus(tmp_path, capsys):
    out = tmp_path / "neg.svg"
    assert main(["draw", "-x*2", "--set", "x=1.5", "-o", str(out)]) == 0
    assert "-x*2 = -3;" in capsys.readouterr().out and out.stat().st_size > 0


@pytest.mark.parametrize("argv,message", [
    (["trace", "x", "--bogus"], "unrecognized arguments: --bogus"),
    (["trace"], "EXPR is required"),
    (["draw", "x", "y"], "unrecognized arguments: y"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_command_lines_are_one_line(argv, message, capsys):
    assert message in _one_line_error(capsys, argv)


def test_help_still_exits_zero(capsys):
    assert main(["trace", "--help"]) == 0
    assert "--max-nodes" in capsys.readouterr().out


def test_write_failures_and_unexpected_errors_are_one_line_exit_1(tmp_path, capsys, monkeypatch):
    import viz.drawing.graph

    def refuse(self, path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(viz.drawing.graph.Graph, "save", refuse)
    err = _one_line_error(capsys, ["draw", "x", "--set", "x=1", "-o", str(tmp_path / "g.svg")],
                          code=1)
    assert "Permission denied" in err and "g.svg" in err

    def broken(self, path):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(viz.drawing.graph.Graph, "save", broken)
    err = _one_line_error(capsys, ["draw", "x", "--set", "x=1", "-o", str(tmp_path / "g.svg")],
                          code=1)
    assert "internal error" in err and "RuntimeError: boom second line" in err


@pytest.mark.parametrize("argv", [
    ["trace", _sum(1000), "--set", "x=1"],
    ["draw", "x*1" + "0" * 400, "--set", "x=1", "-o", "x.svg"],
    ["demo", "--steps", "0"],
], ids=["sum_1000", "int_400_digits", "steps_0"])
def test_a_real_process_prints_one_line_and_exits_2(tmp_path, argv):
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "viz.cli", *argv], capture_output=True,
                          text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("chainrule ")
    assert list(tmp_path.iterdir()) == []


def test_demo_seeds_the_global_generator(monkeypatch):
    import autograd_core
    from viz.cli import demo

    state = autograd_core.default_generator().bit_generator.state
    try:
        _, X1, _, h1 = demo.train(steps=2, seed=5)
        assert autograd_core.initial_seed() == 5
        _, X2, _, h2 = demo.train(steps=2, seed=5)
        _, X3, _, h3 = demo.train(steps=2, seed=6)
    finally:
        autograd_core.default_generator().bit_generator.state = state
    np.testing.assert_array_equal(X1, X2)
    assert h1 == h2 and h1 != h3 and not np.array_equal(X1, X3)


def test_a_text_trace_lays_out_no_graph_so_it_has_no_node_limit(capsys):
    """Only a picture needs Graphviz: the text, Markdown and LaTeX traces of a 1,000-node graph
    work without --max-nodes."""
    assert main(["trace", _sum(500), "--set", "x=1"]) == 0
    out = capsys.readouterr().out
    assert "step 499" in out and "∂" in out
    assert main(["trace", _sum(500), "--set", "x=1", "--markdown"]) == 0


def test_functions_and_help_come_from_the_op_table(capsys):
    """Every one-operand op of the table is callable in an expression, with its parameters
    after the operand, and the help lists them all: nothing is listed by hand."""
    from autograd_core import ELEMENTWISE_OPS
    from viz.cli.expression import FUNCTIONS, build

    unary = {op.name for op in ELEMENTWISE_OPS if op.arity == 1} - {"neg"}
    assert set(FUNCTIONS) == unary
    root, _ = build("leaky_relu(x, 0.2)", {"x": -1.0})
    assert root.data == pytest.approx(-0.2) and root.params == {"slope": 0.2}
    try:
        main(["trace", "--help"])
    except SystemExit:
        pass
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(name in help_text for name in unary)


# -- constants, pipes and inf on the command line (issue 23, items 11-13) ------------------------
@pytest.mark.parametrize("expr,value", [("1", 1.0), ("2*3", 6.0), ("9**9**9", math.inf),
                                        ("tanh(0.5)", math.tanh(0.5))])
def test_a_constant_expression_is_drawn_without_gradients(tmp_path, capsys, expr, value):
    out = tmp_path / "c.svg"
    assert main(["draw", expr, "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert f"{expr} = {value:.6g} (a constant" in printed.out and printed.err == ""
    svg = out.read_text()
    ET.fromstring(svg)
    assert f"data {value:.4g}" in svg and "grad" not in svg


@pytest.mark.parametrize("expr", ["2*3", "9**9**9", "1", "exp(2) - 1"])
def test_a_constant_expression_has_no_trace_and_says_so(capsys, expr):
    err = _one_line_error(capsys, ["trace", expr])
    assert "is a constant" in err and "no step to trace" in err and "--set" in err


@pytest.mark.parametrize("argv,message", [
    (["--set", "x=1e999"], "--set x: 1e999 is too large"),
    (["--set", "x=-1e999"], "--set x: -1e999 is too large"),
    (["--set", "x=inf"], "--set x: inf is not a finite number"),
    (["--set", "x=-Infinity"], "--set x: -Infinity is not a finite number"),
    (["--set", "x=nan"], "--set x: nan is not a finite number"),
])
def test_inf_and_nan_are_refused_in_set_as_in_a_literal(capsys, argv, message):
    """One rule for numbers typed on the command line: finite. The literal 1e309 is refused,
    so is --set x=1e999 (which float() reads as inf)."""
    err = _one_line_error(capsys, ["trace", "x*2", *argv])
    assert message in err and "every number must be finite" in err
    literal = _one_line_error(capsys, ["trace", "x*1e309", "--set", "x=1"])
    assert "1e309 is too large" in literal and "every number must be finite" in literal


def test_a_result_may_still_overflow(tmp_path, capsys):
    assert main(["draw", "x*y", "--set", "x=1e308", "y=10", "-o", str(tmp_path / "g.svg")]) == 0
    assert "x*y = inf" in capsys.readouterr().out


def test_a_closed_pipe_stops_quietly_as_a_unix_tool(tmp_path):
    """`chainrule trace ... | head -n 2`: no "error: Broken pipe", exit status 141 (128 +
    SIGPIPE, what the shell reports for any tool cut off by head)."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    cli = subprocess.Popen([sys.executable, "-m", "viz.cli", "trace", _sum(400), "--set", "x=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    first = cli.stdout.readline()
    cli.stdout.close()                                  # the reader goes away, as head does
    try:
        err = cli.stderr.read()
        code = cli.wait(timeout=60)
    finally:
        cli.kill() if cli.poll() is None else None
        cli.stderr.close()
    assert first.startswith(b"step 0")
    assert err == b"", err
    assert code == 141


def test_the_command_starts_without_the_slow_optional_grammar() -> None:
    """jsonschema (under nbformat) builds 38 grammar parsers at import when rfc3987-syntax is
    installed; the command's process goes without: nbformat still reads and validates."""
    import subprocess
    import sys

    code = ("import sys; from viz.cli.main import skip_slow_optional_imports; "
            "skip_slow_optional_imports(); import nbformat; "
            "nbformat.validate(nbformat.v4.new_notebook()); "
            "print(sys.modules.get('rfc3987_syntax'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
