"""Checks of a learner's own engine (a micrograd-style ``Value`` class they wrote), against
chainrule's engine on the same expression.

* :func:`check_learner_gradients`: the gradients the learner's backward pass gives on one graph
  (what :func:`~autograd_core.checks.answers.check_gradients` does when it is given a learner's
  node and no answers);
* :func:`check_engine`: a learner's class on the fixed expressions of
  :data:`~autograd_core.checks.learner_probe.EXPRESSIONS` that use the ops it has so far, one
  stage of writing an engine at a time;
* :func:`check_topological_sort`: a learner's topological sort.

Each reads the learner's objects into data first (:mod:`~autograd_core.checks.learner_probe`)
and judges that data (:mod:`~autograd_core.checks.learner_engine`), so ``chainrule check`` can
record a student's engine in the student's kernel and judge it in the teacher's: a class or
function carrying such a record (``_chainrule_record``, set by the grader) is judged from it.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .learner_engine import (LearnerGraphError, close, engine_truth, judge_pass, learner_names,
                             mirror, read_live, ref, shape_of)
from .learner_probe import EXPRESSIONS, SORT_GRAPHS, engine_record, expected_graph, sort_record
from .report import MISTAKES, Report, not_answered
from .stages import staged

RECORD_ATTRIBUTE = "_chainrule_record"
"""Where the grader puts a student's recorded engine or sort on the object it stands for
(``viz/cli/grading/wire.py`` spells it too: a test ties the two)."""

ENGINE_OPS = ("+", "*", "tanh", "exp", "**")


def judge_graph(graph: Mapping[str, Any], recorded: Mapping[str, Any], *, what: str,
                exercise: str | None = None, ops: Mapping[str, Callable[..., Any]] | None = None
                ) -> Report:
    """The report on one recorded graph and pass (see :func:`check_learner_gradients`)."""
    mirrored = mirror(graph, ops)
    names = learner_names(mirrored.nodes)
    if recorded["own"] and not recorded["calls"] and recorded["error"] is None \
            and all(g == 0 for g in recorded["grads"]):
        return not_answered(f"{what} (backward() did nothing)", exercise)
    findings = judge_pass(mirrored, recorded, names)
    truth, _ = engine_truth(mirrored)
    got = recorded["grads"]
    order = list(reversed(range(len(names))))
    lines = [f"{'✓' if close(got[i], truth[i]) else '✗'} {ref(names[i])}.grad = {got[i]:g}"
             for i in order]
    wrong = [i for i in order if not close(got[i], truth[i])]
    if not findings and not wrong:
        return Report(True, f"{what}: all {len(names)} gradients match chainrule's engine",
                      lines, None, exercise)
    if findings:
        node, mistake, why = findings[0].node, findings[0].mistake, findings[0].why
    else:       # every step adds what the chain rule says, yet the totals differ: the seed
        node, mistake = len(names) - 1, "seed"
        why = (f"{ref(names[node])}.grad starts the pass at {got[node]:g}; backward() must "
               "start it at 1 (∂L/∂L = 1)")
    expected = [f"chainrule's engine: {ref(names[i])}.grad = {truth[i]:g}" for i in wrong]
    return Report(False, f"{what}: {ref(names[node])} is where they first depart from "
                  f"chainrule's engine: {MISTAKES[mistake]}", [why, *lines], mistake, exercise,
                  reveals=expected)


def check_learner_gradients(root: Any, *, exercise: str | None = None,
                            ops: Mapping[str, Callable[..., Any]] | None = None,
                            use_own_backward: bool | None = None) -> Report:
    """Run the learner's backward pass from ``root`` (watched; every ``grad`` is put back
    afterwards) and compare every node's gradient with chainrule's engine on the same graph.

    The report names the first place, in the order the learner's pass ran, where it departs:
    a wrong forward value, a ``_backward`` that raised, overwrote a gradient (``=`` where
    ``+=`` belongs), left out a local derivative, swapped the operands' locals, got a sign or
    a factor wrong, ran before its node's gradient was complete or twice (the topological
    order), or never ran. ``use_own_backward``: see
    :func:`~autograd_core.checks.learner_probe.record_pass`; ``ops`` maps an op string
    chainrule does not know to the same op on chainrule's Values.
    """
    live = read_live(root, ops, use_own_backward)
    return staged(judge_graph(live.graph, live.recorded, what="your engine's gradients",
                              exercise=exercise, ops=ops))


def check_engine(cls: type, ops: tuple[str, ...] | list[str] = ("+", "*"), *,
                 exercise: str | None = None, use_own_backward: bool | None = None) -> Report:
    """Check a learner's ``Value`` class on every expression of
    :data:`~autograd_core.checks.learner_probe.EXPRESSIONS` that uses only ``ops`` (``"+"``,
    ``"*"``, ``"tanh"``, ``"exp"``, ``"**"``): the forward values and the gradients of the
    learner's pass, against chainrule's engine on the same expression.
    ``use_own_backward=True`` requires the class's ``backward()`` (the topological sort and the
    loop); ``False`` calls ``_backward`` in chainrule's order; ``None`` uses ``backward()`` when
    the class has one.

    Not answered while a method the expressions need still returns ``None`` (its body is
    ``...``); the report names the first expression whose numbers are wrong, and where.
    """
    unknown = sorted(set(ops) - set(ENGINE_OPS))
    if unknown:
        raise ValueError(f"check_engine knows the ops {', '.join(map(repr, ENGINE_OPS))}; got {unknown}")
    record = getattr(cls, RECORD_ATTRIBUTE, None)
    if record is None:
        if not isinstance(cls, type):
            raise TypeError(f"check_engine needs your Value class (not an instance); got "
                            f"{type(cls).__name__}")
        record = engine_record(cls)
    return staged(judge_engine(record, tuple(ops), exercise=exercise,
                               use_own_backward=use_own_backward))


def judge_engine(record: Mapping[str, Any], ops: tuple[str, ...], *, exercise: str | None = None,
                 use_own_backward: bool | None = None) -> Report:
    """The report on a recorded class (:func:`~autograd_core.checks.learner_probe.engine_record`)."""
    if record.get("unanswered"):
        return not_answered("your Value", exercise)
    own = record["has_backward"] if use_own_backward is None else use_own_backward
    if own and not record["has_backward"]:
        return not_answered("backward()", exercise)
    lines: list[str] = []
    chosen = [name for name, (needs, _) in EXPRESSIONS.items() if set(needs) <= set(ops)]
    for name in chosen:
        entry = record["expressions"][name]
        if entry["status"] == "built" and shape_of(entry["graph"]) != shape_of(expected_graph(name)):
            return Report(False, f"{name}: your Value built a graph of another shape",
                          ["each op must make one node (its _op the op's name, _prev its "
                           "operands), with the leaves' data and labels as given"], "shape",
                          exercise)
        if entry["status"] == "unanswered":
            return not_answered(f"your Value (building {name})", exercise)
        if entry["status"] == "raised":
            return Report(False, f"building {name} with your Value raised an error",
                          [entry["error"]], "raised", exercise)
        try:
            report = judge_graph(entry["graph"], entry["passes"]["own" if own else "engine_order"],
                                 what=name, exercise=exercise)
        except LearnerGraphError as error:
            return Report(False, f"{name}: chainrule can't read your graph", [str(error)],
                          "wrong", exercise)
        if not report.passed:
            return report
        lines.append(f"✓ {name}: data and every gradient as chainrule's engine")
    return Report(True, f"your Value is right on all {len(chosen)} expressions", lines, None,
                  exercise)


def check_topological_sort(sort: Callable[[Any], Any], *, exercise: str | None = None) -> Report:
    """Check a learner's topological sort ``sort(root) -> list of nodes`` on small graphs (a
    chain, a diamond, a node used twice and three times), made of minimal micrograd-style
    nodes: every node ``root`` depends on must appear exactly once, after all its operands."""
    record = getattr(sort, RECORD_ATTRIBUTE, None)
    if record is None:
        if not callable(sort):
            raise TypeError(f"check_topological_sort needs your sort function; got "
                            f"{type(sort).__name__}")
        record = sort_record(sort)
    return staged(judge_sort(record, exercise=exercise))


def judge_sort(record: Mapping[str, Any], *, exercise: str | None = None) -> Report:
    """The report on a recorded sort (:func:`~autograd_core.checks.learner_probe.sort_record`)."""
    if record.get("unanswered"):
        return not_answered("your topological sort", exercise)
    for name in SORT_GRAPHS:
        entry = record[name]
        if entry["status"] == "unanswered":
            return not_answered("your topological sort", exercise)
        if entry["status"] == "raised":
            return Report(False, f"sort(root) raised an error on {name}", [entry["error"]],
                          "raised", exercise)
        if shape_of(entry["graph"]) != shape_of(expected_graph(name)):
            return Report(False, f"{name}: the sort was run on another graph", [], "shape",
                          exercise)
        nodes = entry["graph"]["nodes"]
        names = learner_names(nodes)
        got = entry["order"]
        counts = {i: got.count(i) for i in set(got)}
        repeated = sorted(names[i] for i, c in counts.items() if c > 1 and i >= 0)
        missing = [names[i] for i in range(len(nodes)) if i not in counts]
        if repeated:
            return Report(False, f"{name}: {', '.join(repeated)} listed more than once",
                          ["a node reached twice must be listed once: keep a set of the nodes "
                           "already visited"], "order", exercise)
        if missing or -1 in counts:
            what = (f"{', '.join(missing)} missing" if missing else
                    "something listed that the root does not depend on")
            return Report(False, f"{name}: {what}", ["the sort must list every node the root "
                          "depends on, the root last"], "order", exercise)
        position = {i: k for k, i in enumerate(got)}
        early = [(i, k) for i, node in enumerate(nodes) for k in node["prev"]
                 if position[k] > position[i]]
        if early:
            i, k = early[0]
            return Report(False, f"{name}: {ref(names[i])} comes before its operand "
                          f"{ref(names[k])}", ["visit a node's operands first, then append the "
                                                 "node (post-order)"], "order", exercise)
    return Report(True, "your topological sort lists every node once, each after its operands",
                  [], None, exercise)
