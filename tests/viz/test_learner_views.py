"""Bring your own Value: draw_graph, trace_backward and the stepper on a learner's own
micrograd-style engine (``tests/autograd_core/learner_values.py``), showing what the learner's
code did and where it departs from the chain rule."""
from __future__ import annotations

import html
import re

import pytest

import viz
from autograd_core.checks.learner_probe import order_of as learner_order
from viz.tracing.learner_trace import LearnerTrace

from ..autograd_core.learner_values import make_value_class
from .conftest import served


def lecture_graph(bug: str | None = None):
    """micrograd lecture's first graph with ``a`` also added to ``e`` (a used twice):
    L = (a*b + a) * f."""
    V = make_value_class(bug)
    a, b, f = V(2.0, label="a"), V(-3.0, label="b"), V(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + a
    d.label = "d"
    L = d * f
    L.label = "L"
    return L, {"a": a, "b": b, "e": e, "d": d, "f": f, "L": L}


def grad_line(svg: str, name: str) -> str:
    """The grad line of the value box titled ``name`` in a drawing."""
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    i = texts.index(name)
    return next(t for t in texts[i + 1:i + 4] if t.startswith("grad"))


def test_drawing_a_learners_graph_shows_their_numbers_and_marks_the_wrong_ones() -> None:
    L, nodes = lecture_graph("overwrite")
    L.backward()                               # the learner's own pass: a.grad overwritten
    assert nodes["a"].grad == 6.0              # right: ∂L/∂a = f·(b + 1) = 4
    svg = viz.draw_graph(L).svg()
    assert grad_line(svg, "a") == "grad 6 ✗"
    assert grad_line(svg, "b") == "grad -4"
    assert "where it is not ∂L/∂(value)" in svg
    right, _ = lecture_graph()
    right.backward()
    svg = viz.draw_dot(right).svg()
    assert grad_line(svg, "a") == "grad 4" and "✗" not in svg
    assert "= ∂L/∂(value) everywhere" in svg


def test_drawing_before_backward_says_so_and_claims_no_derivative() -> None:
    L, _ = lecture_graph()
    svg = viz.draw_graph(L).svg()
    assert "your backward has not run" in svg and "∂L/∂(value)" not in svg


def test_drawing_is_the_same_whatever_the_set_order() -> None:
    """``_prev`` is a set: its order changes from object to object; the picture must not."""
    svgs = {viz.draw_graph(lecture_graph()[0]).svg() for _ in range(6)}
    assert len(svgs) == 1


def test_the_trace_shows_each_backward_call_beside_the_chain_rule() -> None:
    L, nodes = lecture_graph("overwrite")
    for node in learner_order(L):
        node.grad = 0.0
    trace = viz.trace_backward(L)
    assert isinstance(trace, LearnerTrace)
    assert [s.name for s in trace.steps] == ["L", "L", "d", "e"]
    text = trace.to_text()
    assert "d._backward()   (d = e + a, d.grad = -2)" in text or \
        "d._backward()   (d = a + e, d.grad = -2)" in text
    assert "a.grad: -2 → 6  (added 8; chain rule: e.grad · ∂(a * b)/∂(1st operand) = -2 · (-3) = 6) ✗" in text
    assert "✗ e._backward() set a.grad to 6 and lost the -2 it already held" in text
    assert [f.mistake for f in trace.findings] == ["overwrite"]
    assert trace.findings[0].node == trace.live.index(nodes["e"])
    # looking changes nothing: every grad is as it was, and a second trace says the same
    assert all(node.grad == 0.0 for node in learner_order(L))
    assert viz.trace_backward(L).to_text() == text


def test_the_trace_of_a_right_engine_has_no_finding_and_totals_that_match() -> None:
    L, nodes = lecture_graph()
    trace = viz.trace_backward(L)
    assert trace.findings == [] and "✗" not in trace.to_text()
    assert trace.grad_of(nodes["a"]) == 4.0 and trace.grad_of(nodes["f"]) == -4.0


def test_the_trace_of_a_wrong_order_names_the_node_that_ran_too_early() -> None:
    L, nodes = lecture_graph("order")
    trace = viz.trace_backward(L)
    assert trace.findings[0].mistake == "order"
    assert trace.findings[0].node == trace.live.index(nodes["d"])
    assert "ran when d.grad was 0" in trace.to_text()


def test_trace_options_that_do_not_apply_are_refused() -> None:
    L, _ = lecture_graph()
    with pytest.raises(ValueError, match="collapse"):
        viz.trace_backward(L, collapse="neuron")


def test_the_stepper_walks_the_learners_pass(browser) -> None:
    L, nodes = lecture_graph("overwrite")
    trace = viz.trace_backward(L)
    a_id = trace.graph.ids[trace.engine_node(nodes["a"])]
    with served(browser, trace.to_html()) as (page, others):
        assert page.text_content(f"[data-cr='{a_id}:grad']") == "grad 0"
        for step in range(1, len(trace.steps)):
            page.click(".cr-next")
            assert page.get_attribute(".cr-stepper", "data-step") == str(step)
        assert page.text_content(f"[data-cr='{a_id}:grad']") == "grad 6 ✗"
        assert "lost the -2 it already held" in page.inner_text(".cr-eq")
        assert others == []
