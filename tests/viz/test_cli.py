"""The chainrule command: draw, trace, demo, and the expression whitelist."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from viz.cli import main
from viz.expression import ExpressionError, build, parse_assignments


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
    for name in ("loss_curve.png", "decision_boundary.png", "point_graph.svg", "stepper.html", "trace.md"):
        assert (tmp_path / name).stat().st_size > 0, name
        assert name in out
    ET.fromstring((tmp_path / "point_graph.svg").read_text())
    assert (tmp_path / "loss_curve.png").read_bytes()[:4] == b"\x89PNG"
