"""Bring your own Value: chainrule's checks on a learner's own micrograd-style engine.

The learner engines are ``tests/autograd_core/learner_values.py``: a right one and one per
classic bug. The truth the checks use (chainrule's engine on a mirror of the learner's graph)
is itself checked against central finite differences of the learner's forward pass."""
from __future__ import annotations

import math

import pytest

from autograd_core import check_gradients
from autograd_core.checks.learner_checks import check_engine, check_topological_sort
from autograd_core.checks.learner_engine import LearnerGraphError, engine_truth, mirror
from autograd_core.checks.learner_probe import EXPRESSIONS, order_of, snapshot
from autograd_core.checks.report import MISTAKES

from .learner_values import make_value_class

ALL_OPS = ("+", "*", "tanh", "exp", "**")

# bug -> (the mistake class the check must name, a phrase its explanation must contain,
#         the expression where it first shows)
EXPECTED = {
    "overwrite": ("overwrite", "+=", "b = a + a"),
    "dropped_local": ("dropped_local", "without the local derivative", "d = a*b + c"),
    "order": ("order", "reverse topological order", "d = a*b + c"),
    # without a visited set, a node reached twice runs twice; which of its two runs shows first
    # depends on the set order of _prev (too early, or a second time): both are named "order"
    "no_visited": ("order", ("ran a second time", "reverse topological order"), "y = e + e*c"),
    "sign": ("sign", "the sign is wrong", "o = tanh"),
    "forward": ("forward", "forward pass of this op is wrong", "o = tanh"),
    "no_seed": ("seed", "must start it at 1", "d = a*b + c"),
    "unset_backward": ("no_backward", "added nothing", "o = tanh"),
}


def build(cls: type, name: str):
    return EXPRESSIONS[name][1](lambda data, label: _leaf(cls, data, label))


def _leaf(cls, data, label):
    v = cls(data)
    v.label = label
    return v


def leaves(root) -> list:
    return [n for n in order_of(root) if not n._prev]


def test_a_right_engine_passes_every_expression() -> None:
    report = check_engine(make_value_class(), ALL_OPS, exercise="00.9")
    assert report.passed, report.feedback
    assert report.summary == f"your Value is right on all {len(EXPRESSIONS)} expressions"


@pytest.mark.parametrize("bug", sorted(EXPECTED))
def test_each_bug_is_named_where_it_first_shows(bug: str) -> None:
    mistake, phrase, where = EXPECTED[bug]
    report = check_engine(make_value_class(bug), ALL_OPS)
    assert not report.passed and report.answered
    assert report.mistake == mistake, report.feedback
    assert MISTAKES[mistake] in report.summary
    assert report.summary.startswith(where), report.summary
    phrases = (phrase,) if isinstance(phrase, str) else phrase
    assert any(p in report.feedback for p in phrases), report.feedback


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_the_truth_matches_finite_differences_of_the_learners_forward(name: str) -> None:
    cls = make_value_class()
    root = build(cls, name)
    truth, _ = engine_truth(mirror(snapshot(root)))
    position = {id(n): i for i, n in enumerate(order_of(root))}
    for k, leaf in enumerate(leaves(root)):
        def f(delta: float) -> float:
            shifted = make_value_class()
            new_root = build(shifted, name)
            target = leaves(new_root)[k]
            target.data += delta
            return float(_recompute(new_root))
        h = 1e-6
        slope = (f(h) - f(-h)) / (2 * h)
        assert math.isclose(truth[position[id(leaf)]], slope, rel_tol=1e-5, abs_tol=1e-6), \
            (name, leaf.label)


def _recompute(root) -> float:
    """The learner graph's output recomputed from its leaves' data (the forward pass again)."""
    values = {}
    for node in order_of(root):
        ins = sorted(node._prev, key=lambda o: order_of(root).index(o))
        x = [values[id(o)] for o in ins]
        op = node._op
        if not op:
            values[id(node)] = node.data
        elif op in ("+", "*"):
            a, b = (x * 2)[:2] if len(x) == 1 else x
            values[id(node)] = a + b if op == "+" else a * b
        elif op == "tanh":
            values[id(node)] = math.tanh(x[0])
        elif op == "exp":
            values[id(node)] = math.exp(x[0])
        elif op.startswith("**"):
            values[id(node)] = x[0] ** float(op[2:])
    return values[id(root)]


def test_the_learners_own_gradients_match_the_truth() -> None:
    """The right learner engine's own backward gives the same numbers: an oracle the check's
    truth never sees."""
    cls = make_value_class()
    for name in EXPRESSIONS:
        root = build(cls, name)
        truth, _ = engine_truth(mirror(snapshot(root)))
        root.backward()
        for i, node in enumerate(order_of(root)):
            assert math.isclose(node.grad, truth[i], rel_tol=1e-9, abs_tol=1e-12), name


def test_checking_changes_no_grad_and_no_backward() -> None:
    cls = make_value_class("overwrite")
    root = build(cls, "L = (a*b + c)*f")
    for i, node in enumerate(order_of(root)):
        node.grad = 0.25 * i
    before = [(n, n.grad, n._backward) for n in order_of(root)]
    first = check_gradients(root)
    second = check_gradients(root)
    assert str(first) == str(second)
    for node, grad, backward in before:
        assert node.grad == grad and node._backward is backward


def test_a_tuple_prev_and_a_non_commutative_op_read_in_the_right_order() -> None:
    cls = make_value_class(prev_type=tuple)

    class WithSub(cls):
        def __sub__(self, other):
            out = WithSub(self.data - other.data, (other, self), "-")   # _prev order reversed

            def _backward():
                self.grad += out.grad
                other.grad -= out.grad
            out._backward = _backward
            return out
    a, b = WithSub(5.0), WithSub(2.0)
    a.label, b.label = "a", "b"
    root = (a - b) * a
    report = check_gradients(root)
    assert report.passed, report.feedback
    truth, _ = engine_truth(mirror(snapshot(root)))
    position = {id(n): i for i, n in enumerate(order_of(root))}
    assert (truth[position[id(a)]], truth[position[id(b)]]) == (2 * 5.0 - 2.0, -5.0)   # 2a - b


def test_an_unknown_op_needs_ops() -> None:
    cls = make_value_class()

    class WithSigmoid(cls):
        def sigmoid(self):
            s = 1 / (1 + math.exp(-self.data))
            out = WithSigmoid(s, (self,), "σ")

            def _backward():
                self.grad += s * (1 - s) * out.grad
            out._backward = _backward
            return out
    x = WithSigmoid(0.3)
    root = x.sigmoid() * x
    with pytest.raises(LearnerGraphError, match=r"'σ'.*ops="):
        check_gradients(root)
    assert check_gradients(root, ops={"σ": lambda v: v.sigmoid()}).passed


def test_an_object_without_the_protocol_is_refused_by_name() -> None:
    class Half:
        def __init__(self):
            self.data, self.grad, self._prev, self._op = 1.0, 0.0, set(), ""
    with pytest.raises(TypeError, match="_backward"):
        order_of(Half())
    with pytest.raises(TypeError, match="without answers"):
        check_gradients(build(make_value_class(), "d = a*b + c"), {"a": 1.0})


def test_a_class_still_being_written_is_not_answered() -> None:
    class Student:
        def __init__(self, data, _children=(), _op="", label=""):
            self.data, self.grad, self._prev, self._op = data, 0.0, set(_children), _op
            self._backward, self.label = (lambda: None), label

        def __add__(self, other):
            ...

        def __mul__(self, other):
            ...

        def backward(self):
            ...
    report = check_engine(Student, ("+", "*"))
    assert not report.answered and report.mistake == "not_answered"
    no_backward_yet = make_value_class()
    no_backward_yet.backward = lambda self: None       # its body is still ...
    report = check_engine(no_backward_yet, ("+", "*"), use_own_backward=True)
    assert not report.answered, report.feedback


def _sort_right(root):
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            for child in v._prev:
                visit(child)
            order.append(v)
    visit(root)
    return order


def _sort_no_visited(root):
    order = []

    def visit(v):
        for child in v._prev:
            visit(child)
        order.append(v)
    visit(root)
    return order


def _sort_pre_order(root):
    order, seen = [], set()

    def visit(v):
        if v not in seen:
            seen.add(v)
            order.append(v)
            for child in v._prev:
                visit(child)
    visit(root)
    return order


@pytest.mark.parametrize("sort, verdict", [(_sort_right, None), (_sort_no_visited, "more than once"),
                                           (_sort_pre_order, "comes before its operand"),
                                           (lambda root: None, "not answered")])
def test_check_topological_sort(sort, verdict) -> None:
    report = check_topological_sort(sort, exercise="00.3")
    if verdict is None:
        assert report.passed, report.feedback
    else:
        assert not report.passed and verdict in report.summary, report.summary


def test_a_slots_class_is_judged_by_its_totals_and_never_said_not_to_run() -> None:
    """A learner's class with __slots__ and _backward as a method: its calls cannot be
    watched, so the check judges the totals and claims no call was missing."""
    class Slotted:
        __slots__ = ("data", "grad", "_prev", "_op", "label", "_out")

        def __init__(self, data, children=(), op=""):
            self.data, self.grad, self._prev, self._op, self.label = data, 0.0, tuple(children), op, ""

        def _backward(self):
            if self._op == "*":
                a, b = self._prev
                a.grad += b.data * self.grad
                b.grad += a.data * self.grad

        def __mul__(self, other):
            return Slotted(self.data * other.data, (self, other), "*")

    a, b = Slotted(2.0), Slotted(-3.0)
    root = a * b
    report = check_gradients(root)
    assert report.passed, report.feedback
    assert (a.grad, b.grad) == (0.0, 0.0)
