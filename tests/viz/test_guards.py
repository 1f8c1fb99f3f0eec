"""viz under the misconception guards: the draw-before-backward warning goes through the same
switch and warns once; traces tell what was accumulated whether guards are on or off."""
from __future__ import annotations

import warnings

import pytest

import nn
import viz
from autograd_core import MisconceptionWarning, Value, guards, set_guards
from viz.drawing.graph import GradientsNotComputedWarning

from .helpers import neuron


def test_drawing_before_backward_warns_once_at_the_callers_line(no_dot) -> None:
    assert issubclass(GradientsNotComputedWarning, MisconceptionWarning)
    out, _ = neuron()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        viz.draw_graph(out)
        viz.draw_graph(neuron()[0])                  # the same mistake again: already said
    found = [w for w in record if issubclass(w.category, GradientsNotComputedWarning)]
    assert len(found) == 1 and found[0].filename == __file__
    assert "set_guards(False)" in str(found[0].message)


def test_set_guards_false_silences_drawing_but_changes_no_picture(no_dot) -> None:
    out, _ = neuron()
    with pytest.warns(GradientsNotComputedWarning):
        warned = viz.draw_graph(out).source
    set_guards(False)
    guards.reset()                                     # not merely 'already warned'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert viz.draw_graph(out).source == warned


def accumulated_trace_text() -> str:
    x = Value(2.0, label="x")
    y = x * -3
    y.label = "y"
    y.backward()
    y.backward()                                       # x.grad = -6: two passes
    return viz.trace_backward(y).to_text()


def test_a_trace_after_a_backward_says_what_accumulated_with_guards_on_or_off() -> None:
    on = accumulated_trace_text()
    assert "note: x.grad holds -6, not this pass's -3: earlier backward passes added to it" in on
    assert "x.grad = -3 = ∂y/∂x" in on
    set_guards(False)
    assert accumulated_trace_text() == on              # the switch silences warnings, not facts


def test_a_trace_neither_warns_nor_disarms_the_zero_grad_guard() -> None:
    """Looking changes no flag: a trace after step() is one pass from zero, so it has nothing
    to warn about, and the learner's own next backward is still checked."""
    w = Value(0.5, label="w")
    opt = nn.optim.SGD([w], lr=0.1)
    (w * w).backward()
    opt.step()
    y = w * w
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = viz.trace_backward(y)
    assert "note: w.grad holds 1, not this pass's 0.8" in trace.to_text()
    with pytest.warns(MisconceptionWarning, match="zero_grad") as record:
        y.backward()                                   # this line, not viz's or nn's
    assert record[0].filename == __file__
