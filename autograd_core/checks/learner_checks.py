"""Checks of a learner's own engine (a micrograd-style ``Value`` class they wrote), against
chainrule's engine on the same expression.

* :func:`check_learner_gradients`: the gradients the learner's backward pass gives on one graph
  (what :func:`~autograd_core.checks.answers.check_gradients` does when it is given a learner's
  node and no answers);
* :func:`check_engine`: a learner's class on a set of expressions built with the ops it has so
  far, one stage of writing an engine at a time;
* :func:`check_topological_sort`: a learner's topological sort.

Each names the first node where the learner's numbers depart from the engine's, and why (see
:func:`~autograd_core.checks.learner_engine.judge_pass`).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

from .learner_engine import (LearnerGraphError, engine_truth, judge_pass, learner_name,
                             learner_names, learner_order, mirror, name_of, record_learner_pass)
from .report import MISTAKES, Report, is_unanswered, not_answered


def _close(a: float, b: float) -> bool:
    return a == b or (math.isfinite(a) and math.isfinite(b)
                      and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9))


def check_learner_gradients(root: Any, *, exercise: str | None = None,
                            ops: Mapping[str, Callable[..., Any]] | None = None,
                            use_own_backward: bool | None = None, what: str | None = None
                            ) -> Report:
    """Run the learner's backward pass from ``root`` (watched; every ``grad`` is put back
    afterwards) and compare every node's gradient with chainrule's engine on the same graph.

    The report names the first place, in the order the learner's pass ran, where it departs:
    a wrong forward value, a ``_backward`` that raised, overwrote a gradient (``=`` where
    ``+=`` belongs), left out a local derivative, got a sign or a factor wrong, ran before its
    node's gradient was complete or twice (the topological order), or never ran.
    ``use_own_backward``: see :func:`~autograd_core.checks.learner_engine.record_learner_pass`.
    """
    what = what or "your engine's gradients"
    mirrored = mirror(root, ops)
    names = learner_names(mirrored.order)
    recorded = record_learner_pass(root, mirrored, use_own_backward)
    if recorded.own_backward and not recorded.calls and recorded.error is None \
            and all(g == 0 for g in recorded.grads.values()):
        return not_answered(f"{what} (backward() did nothing)", exercise)
    findings = judge_pass(mirrored, recorded, names)
    truth, _ = engine_truth(mirrored)
    lines = []
    for node in reversed(mirrored.order):
        got, want = recorded.grads[id(node)], truth[id(node)]
        mark = "✓" if _close(got, want) else "✗"
        lines.append(f"{mark} {name_of(node, names)}.grad = {got:g}")
    wrong = [n for n in mirrored.order if not _close(recorded.grads[id(n)], truth[id(n)])]
    if not findings and not wrong:
        return Report(True, f"{what}: all {len(mirrored.order)} gradients match chainrule's "
                      "engine", lines, None, exercise)
    if findings:
        first = findings[0]
        node, mistake, why = first.node, first.mistake, first.why
    else:       # every step adds what the chain rule says, yet a total differs: the seed
        node, mistake = mirrored.order[-1], "seed"
        why = (f"{name_of(node, names)}.grad starts the pass at {recorded.grads[id(node)]:g}; "
               "backward() must start it at 1 (∂L/∂L = 1)")
    summary = (f"{what}: {name_of(node, names)} is where they first depart from chainrule's "
               f"engine: {MISTAKES[mistake]}")
    expected = [f"chainrule's engine: {name_of(n, names)}.grad = {truth[id(n)]:g}"
                for n in reversed(mirrored.order) if n in wrong]
    return Report(False, summary, [why, *lines, *expected], mistake, exercise)


# -- a learner's class, stage by stage ----------------------------------------------------
class _NotAnswered(Exception):
    pass


def _leaf(cls: type, data: float, label: str) -> Any:
    node = cls(data)
    if is_unanswered(node):
        raise _NotAnswered
    try:
        node.label = label
    except AttributeError:
        pass
    return node


def _apply(result: Any) -> Any:
    if is_unanswered(result) or result is NotImplemented:
        raise _NotAnswered
    return result


EXPRESSIONS: dict[str, tuple[tuple[str, ...], Callable[[Callable[[float, str], Any]], Any]]] = {
    "d = a*b + c": (("+", "*"), lambda v: _apply(_apply(v(2.0, "a") * v(-3.0, "b")) + v(10.0, "c"))),
    "L = (a*b + c)*f": (("+", "*"), lambda v: _apply(
        _apply(_apply(v(2.0, "a") * v(-3.0, "b")) + v(10.0, "c")) * v(-2.0, "f"))),
    "b = a + a (a used twice)": (("+",), lambda v: _apply(_twice(v(3.0, "a"), "+"))),
    "y = e + e*c with e = a*b (e used twice)": (("+", "*"), lambda v: _shared(
        _apply(v(1.5, "a") * v(-2.0, "b")), v(4.0, "c"))),
    "y = a*a + a (a used three times)": (("+", "*"), lambda v: _reuse(v(-1.5, "a"))),
    "o = tanh(x1*w1 + x2*w2 + b)": (("+", "*", "tanh"), lambda v: _neuron(v)),
    "e = exp(a*b)": (("*", "exp"), lambda v: _apply(_apply(v(0.5, "a") * v(-1.2, "b")).exp())),
    "p = (a*b)**2": (("*", "**"), lambda v: _apply(_apply(v(1.5, "a") * v(-0.4, "b")) ** 2)),
}
"""The expressions :func:`check_engine` builds: name -> (the ops they need, builder). The
neuron's numbers are the micrograd lecture's (its output is about 0.7071)."""


def _named(node: Any, label: str) -> Any:
    node = _apply(node)
    try:
        node.label = label
    except AttributeError:
        pass
    return node


def _neuron(v: Callable[[float, str], Any]) -> Any:
    """micrograd lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), o ≈ 0.7071."""
    x1w1 = _named(v(2.0, "x1") * v(-3.0, "w1"), "x1*w1")
    x2w2 = _named(v(0.0, "x2") * v(1.0, "w2"), "x2*w2")
    n = _named(_named(x1w1 + x2w2, "x1*w1 + x2*w2") + v(6.8813735870195432, "b"), "n")
    return _named(n.tanh(), "o")


def _twice(a: Any, op: str) -> Any:
    return a + a if op == "+" else a * a


def _shared(e: Any, c: Any) -> Any:
    e = _named(e, "e")
    return _apply(e + _apply(e * c))


def _reuse(a: Any) -> Any:
    square = _apply(a * a)
    return _apply(square + a)


def check_engine(cls: type, ops: Sequence[str] = ("+", "*"), *, exercise: str | None = None,
                 use_own_backward: bool | None = None) -> Report:
    """Check a learner's ``Value`` class on every expression of :data:`EXPRESSIONS` that uses
    only ``ops`` (``"+"``, ``"*"``, ``"tanh"``, ``"exp"``, ``"**"``): the forward values and
    the gradients of the learner's pass (:func:`check_learner_gradients`), against chainrule's
    engine on the same expression. ``use_own_backward=True`` requires the class's
    ``backward()`` (the topological sort and the loop); ``False`` calls ``_backward`` in
    chainrule's order; ``None`` uses ``backward()`` when the class has one.

    Not answered while a method the expressions need still returns ``None`` (its body is
    ``...``); the report names the first expression whose gradients are wrong.
    """
    if not isinstance(cls, type):
        raise TypeError(f"check_engine needs your Value class (not an instance); got "
                        f"{type(cls).__name__}")
    unknown = sorted(set(ops) - {"+", "*", "tanh", "exp", "**"})
    if unknown:
        raise ValueError(f"check_engine knows the ops '+', '*', 'tanh', 'exp', '**'; got {unknown}")
    chosen = {name: build for name, (needs, build) in EXPRESSIONS.items() if set(needs) <= set(ops)}
    if use_own_backward and not callable(getattr(cls, "backward", None)):
        return not_answered("backward()", exercise)
    lines: list[str] = []
    for name, build in chosen.items():
        try:
            root = build(lambda data, label: _leaf(cls, data, label))
            if not learner_name(root):
                root = _named(root, name.split(" = ")[0])
        except _NotAnswered:
            return not_answered(f"your Value (building {name})", exercise)
        except Exception as error:
            return Report(False, f"building {name} with your Value raised "
                          f"{type(error).__name__}", [str(error)], "raised", exercise)
        try:
            report = check_learner_gradients(root, use_own_backward=use_own_backward, what=name)
        except LearnerGraphError as error:
            return Report(False, f"{name}: chainrule can't read your graph",
                          [str(error)], "wrong", exercise)
        if not report.answered:
            return Report(False, report.summary, report.details, report.mistake, exercise,
                          answered=False)
        if not report.passed:
            return Report(False, report.summary, report.details, report.mistake, exercise)
        lines.append(f"✓ {name}: data and every gradient as chainrule's engine")
    return Report(True, f"your Value is right on all {len(chosen)} expressions", lines, None,
                  exercise)


def check_topological_sort(sort: Callable[[Any], Sequence[Any]], cls: type, *,
                           exercise: str | None = None) -> Report:
    """Check a learner's topological sort ``sort(root) -> list of nodes`` on graphs built with
    their class ``cls`` (a diamond, a node used twice, a chain): every node ``root`` depends
    on appears exactly once, and after all of its operands."""
    if not callable(sort):
        raise TypeError(f"check_topological_sort needs your sort function; got {type(sort).__name__}")
    for name, (needs, build) in EXPRESSIONS.items():
        if not set(needs) <= {"+", "*"}:
            continue
        try:
            root = build(lambda data, label: _leaf(cls, data, label))
        except _NotAnswered:
            return not_answered("your Value's + and * (needed to build graphs)", exercise)
        try:
            got = sort(root)
        except Exception as error:
            return Report(False, f"sort(root) raised {type(error).__name__} on {name}",
                          [str(error)], "raised", exercise)
        if is_unanswered(got):
            return not_answered("your topological sort", exercise)
        try:
            got = list(got)
        except TypeError:
            return Report(False, f"sort(root) should return a list of nodes; got "
                          f"{type(got).__name__}", [], "not_a_number", exercise)
        truth = learner_order(root)
        names = learner_names(truth)
        ids = [id(n) for n in got]
        want = {id(n) for n in truth}
        repeated = sorted({name_of(n, names) for n in got if ids.count(id(n)) > 1})
        missing = [name_of(n, names) for n in truth if id(n) not in set(ids)]
        extra = [n for n in got if id(n) not in want]
        position = {i: k for k, i in enumerate(ids)}
        early = [(name_of(n, names), name_of(o, names)) for n in truth for o in n._prev
                 if id(n) in position and id(o) in position and position[id(o)] > position[id(n)]]
        if repeated:
            return Report(False, f"{name}: {', '.join(repeated)} listed more than once",
                          ["a node used twice must be visited once: keep a set of the nodes "
                           "already visited"], "order", exercise)
        if missing or extra:
            what = (f"{', '.join(missing)} missing" if missing else
                    f"{len(extra)} node(s) that {name.split(' = ')[0]} does not depend on")
            return Report(False, f"{name}: {what}", ["the sort must list every node the root "
                          "depends on, the root last"], "order", exercise)
        if early:
            node, operand = early[0]
            return Report(False, f"{name}: {node} comes before its operand {operand}",
                          ["visit a node's operands first, then append the node (post-order)"],
                          "order", exercise)
    return Report(True, "your topological sort lists every node once, each after its operands",
                  [], None, exercise)
