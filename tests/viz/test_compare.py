"""compare_modes: forward mode (dual numbers) beside reverse mode on one graph."""
from __future__ import annotations

import math
from html.parser import HTMLParser

import pytest

import viz
from autograd_core import Value

from .conftest import served


def neuron() -> tuple[Value, Value, Value, Value]:
    x, w, b = Value(0.5, label="x"), Value(-1.5, label="w"), Value(2.0, label="b")
    y = (x * w + b).tanh()
    y.label = "y"
    return y, x, w, b


def test_both_modes_give_the_same_derivative_and_count_passes() -> None:
    y, x, w, b = neuron()
    c = viz.compare_modes(y, w)
    dy_dw = (1 - math.tanh(0.5 * -1.5 + 2.0) ** 2) * 0.5         # written out by hand
    assert c.forward_derivative == pytest.approx(dy_dw, rel=1e-12)
    assert c.reverse_derivative == pytest.approx(dy_dw, rel=1e-12)
    assert c.backward.grads[x] == pytest.approx((1 - math.tanh(1.25) ** 2) * -1.5)
    assert x.grad == w.grad == 0.0                    # looking changed no gradient
    assert (c.forward_passes, c.reverse_passes) == (3, 1)
    html = c.to_html()
    HTMLParser().feed(html)
    assert html.count('class="cr-stepper"') == 2 and "3 passes" in html


def test_wrt_must_be_a_leaf_of_the_graph() -> None:
    y, x, w, b = neuron()
    with pytest.raises(ValueError, match="leaf"):
        viz.compare_modes(y, y.parents[0])
    with pytest.raises(ValueError, match="leaves of this graph"):
        viz.compare_modes(y, Value(1.0, label="other"))


def test_the_two_steppers_move_independently(browser) -> None:
    y, x, w, b = neuron()
    c = viz.compare_modes(y, w)
    with served(browser, c.to_html()) as (page, others):
        nexts = page.locator(".cr-next")
        nexts.nth(0).click()
        nexts.nth(0).click()
        nexts.nth(1).click()
        steppers = page.locator(".cr-stepper")
        assert steppers.nth(0).get_attribute("data-step") == "2"
        assert steppers.nth(1).get_attribute("data-step") == "1"
        assert others == []


def test_reverse_derivative_is_this_pass_even_when_the_leaf_held_a_gradient() -> None:
    # After y.backward() (or backward(create_graph=True), which leaves a Value in .grad)
    # wrt.grad also holds the earlier gradient: the summary used to report 2·dy/dw (or fail
    # to format the Value) while its label says dy/dw.
    y, x, w, b = neuron()
    dy_dw = (1 - math.tanh(0.5 * -1.5 + 2.0) ** 2) * 0.5
    y.backward()
    c = viz.compare_modes(y, w)
    assert c.reverse_derivative == pytest.approx(dy_dw, rel=1e-12)
    assert w.grad == pytest.approx(dy_dw, rel=1e-12)            # as the backward left it
    assert f"reverse mode gives <b>{dy_dw:.6g}</b>" in c.summary_html()
    a = Value(1.5, label="a")
    (a * a * a).backward(create_graph=True)                      # a.grad = 3a² is a Value
    c = viz.compare_modes(a.grad, a)
    assert c.forward_derivative == pytest.approx(9.0) and c.reverse_derivative == pytest.approx(9.0)
    HTMLParser().feed(c.to_html())
    c = viz.compare_modes(a, a)                                  # the root is the leaf itself
    assert c.forward_derivative == c.reverse_derivative == 1.0


def test_summary_counts_read_in_the_singular_for_one() -> None:
    x = Value(1.0, label="x")
    text = viz.compare_modes(x * x, x).summary_html()
    assert "with respect to 1 input, forward mode needs 1 pass (one per input)" in text
    w = Value(3.0, label="w")
    assert "to 2 inputs, forward mode needs 2 passes" in viz.compare_modes(x * w, x).summary_html()
