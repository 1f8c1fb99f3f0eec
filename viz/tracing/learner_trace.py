"""The trace of a learner's own backward pass: their engine's ``_backward`` calls, one step each,
set beside what the chain rule adds.

:func:`trace_learner_backward` (which :func:`viz.trace_backward` calls for a node of a learner's
micrograd-style engine) runs the learner's pass watched
(:func:`autograd_core.checks.learner_probe.record_pass`: every ``grad`` is put back afterwards)
and records, per ``node._backward()`` call, what it did to each operand's ``grad`` and what the
chain rule adds, ``node.grad · (local derivative)``, from chainrule's engine on the same graph.
A step that departs is marked ✗ with the reason; the text, the frames and the stepper are
those of every trace.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from autograd_core import checks

from ..browser.stepper import Frame, Steps
from ..drawing.graph import draw_graph, learner_grad_field
from ..drawing.style import (DEFAULT_NUMBER_FORMAT, NumberFormat, format_number, in_formula,
                             validate_number_format)
from .trace_views import _TraceViews, _index_of, _num, local_symbol

_OK, _WRONG = "✓", "✗"
_engine = checks.learner_engine          # reading and judging a learner's graph
Finding, LiveRead = _engine.Finding, _engine.LiveRead


@dataclass(frozen=True)
class OperandChange:
    """What one ``_backward`` call did to one operand's ``grad`` (``before`` → ``after``) and
    what the chain rule adds: ``upstream · local``, the local derivative written ``symbol``
    (per operand slot, ``∂(a * b)/∂(1st operand)``, summed when the operand fills both)."""

    operand: int
    name: str
    symbol: str
    before: float
    after: float
    local: float
    chain_rule: float

    @property
    def right(self) -> bool:
        return _engine.close(self.after - self.before, self.chain_rule)


@dataclass(frozen=True)
class LearnerStep:
    """One step of the learner's pass: ``kind`` is ``"seed"`` (the root's starting ``grad``)
    or ``"call"`` (one ``node._backward()``, ``node`` the node's number); ``finding`` says
    what is wrong there, if anything."""

    index: int
    kind: str
    node: int
    name: str
    upstream: float
    changes: tuple[OperandChange, ...]
    finding: Finding | None
    formula: str = ""


class LearnerTrace(_TraceViews):
    """The steps of a learner's own backward pass (see :func:`trace_learner_backward`).

    ``findings`` lists everything that departs from the chain rule, in the order the pass ran
    (empty when the learner's engine is right); :meth:`grad_of` gives the ``grad`` the pass
    left in a learner's node.
    """

    def __init__(self, live: LiveRead, steps: list[LearnerStep], findings: list[Finding],
                 graph: Callable[[], Any], number_format: NumberFormat) -> None:
        self.live = live
        self.root = live.order[-1]
        self.steps = steps
        self.findings = findings
        self.names = live.names
        self._graph = graph
        self.number_format = number_format
        self.title = (f"your backward pass from {in_formula(self.names[-1])}: each _backward() "
                      "beside the chain rule")

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        verdict = "right" if not self.findings else f"{len(self.findings)} finding(s)"
        return f"<LearnerTrace of {self.names[-1]}: {len(self.steps)} steps, {verdict}>"

    def grad_of(self, node: Any) -> float:
        """The ``grad`` the learner's pass left in ``node`` (one of their objects)."""
        return self.live.recorded["grads"][self.live.index(node)]

    def engine_node(self, node: Any) -> Any:
        """The node of the drawing that stands for the learner's ``node``."""
        return self.live.mirrored.engine[self.live.index(node)]

    def _n(self, x: float) -> str:
        return format_number(x, self.number_format)

    def _step_lines(self, step: LearnerStep) -> list[str]:
        n = self._n
        node = in_formula(step.name)
        if step.kind == "seed":
            lines = [f"seed: {node}.grad = {n(step.upstream)}"]
            if step.finding is not None:
                lines.append(f"{_WRONG} {step.finding.why}")
            return lines
        lines = [f"{node}._backward()   ({step.name} = {step.formula}, "
                 f"{node}.grad = {n(step.upstream)})"]
        for c in step.changes:
            mark = _OK if c.right else _WRONG
            lines.append(f"  {in_formula(c.name)}.grad: {n(c.before)} → {n(c.after)}  (added "
                         f"{n(c.after - c.before)}; chain rule: {node}.grad · {c.symbol} = "
                         f"{n(step.upstream)} · {_num(c.local, self.number_format, True)} = "
                         f"{n(c.chain_rule)}) {mark}")
        if step.finding is not None:
            lines.append(f"  {_WRONG} {step.finding.why}")
        return lines

    def to_markdown(self) -> str:
        """The steps as a Markdown list (one item per step, the lines in code spans)."""
        out = []
        for step in self.steps:
            lines = self._step_lines(step)
            out.append(f"{step.index}. `{lines[0]}`" + "".join(f"<br>`{line.strip()}`"
                                                              for line in lines[1:]))
        return "\n".join(out)

    def _steps(self) -> Steps:
        n, ids, op_ids = self._n, self.graph.ids, self.graph.op_ids
        engine = self.live.mirrored.engine
        base = {f"{ids[node]}:grad": "grad 0" for node in engine if node in ids}
        frames: list[Frame] = []
        for k, step in enumerate(self.steps):
            node = engine[step.node]
            vid, oid = ids.get(node), op_ids.get(node)
            mark = f" {_WRONG}" if step.finding is not None else ""
            if step.kind == "seed":
                frames.append(Frame(title=f"step {k}: seed {in_formula(step.name)}.grad{mark}",
                                    equation="\n".join(self._step_lines(step)),
                                    active=[vid] if vid else [],
                                    texts={f"{vid}:grad": f"grad {n(step.upstream)}{mark}"}))
                continue
            i = _index_of(vid, oid)
            frame = Frame(title=f"step {k}: {in_formula(step.name)}._backward(){mark}",
                          equation="\n".join(self._step_lines(step)),
                          active=[x for x in (vid, oid, f"e{i}" if i is not None else None) if x])
            for c in step.changes:
                operand = engine[c.operand]
                pid = ids.get(operand)
                if i is not None:
                    frame.edges.extend(f"e{i}_{slot}" for slot, p in enumerate(node.parents)
                                       if p is operand)
                if pid:
                    frame.targets.append(pid)
                    frame.texts[f"{pid}:grad"] = f"grad {n(c.after)}" + ("" if c.right else f" {_WRONG}")
            frames.append(frame)
        return Steps(base, {}, frames)


def trace_learner_backward(root: Any, *, rankdir: str = "LR", show_local: bool = False,
                           number_format: NumberFormat = DEFAULT_NUMBER_FORMAT,
                           title: str | None = None, ops: Mapping[str, Any] | None = None,
                           use_own_backward: bool | None = None) -> LearnerTrace:
    """Trace a learner's own backward pass from ``root``, a node of their micrograd-style
    engine: one step per ``_backward()`` call that has operands (a leaf's does nothing), in
    the order their ``backward()`` made them, each beside the chain rule's addition
    ``node.grad · (local derivative)``. Every ``grad`` is as it was afterwards.

    ``ops`` maps an op string chainrule does not know to the same op on chainrule's Values;
    ``use_own_backward`` as in :func:`~autograd_core.checks.learner_probe.record_pass`.
    """
    fmt = validate_number_format(number_format)
    live = _engine.read_live(root, ops, use_own_backward)
    mirrored, recorded, names = live.mirrored, live.recorded, live.names
    findings = _engine.judge_pass(mirrored, recorded, names)
    _, locals_ = _engine.engine_truth(mirrored)
    by_node = {f.node: f for f in findings}
    last = len(names) - 1
    calls = recorded["calls"]
    seed = calls[0]["upstream"] if calls and calls[0]["node"] == last else recorded["grads"][last]
    seed_finding = None if _engine.close(seed, 1.0) else Finding(
        last, "seed", f"{in_formula(names[last])}.grad must start the pass at 1 (∂L/∂L = 1)")
    steps: list[LearnerStep] = [LearnerStep(0, "seed", last, names[last], seed, (), seed_finding)]
    told: set[int] = set()
    for call in calls:
        if not call["operands"]:
            continue
        i = call["node"]
        node = mirrored.engine[i]
        formula = node.op.formula([in_formula(names[k]) for k in mirrored.operands[i]],
                                  params=node.params)
        changes = []
        for k, before, after in zip(call["operands"], call["before"], call["after"]):
            local = locals_.get(i, {}).get(k, 0.0)
            slots = [s for s, p in enumerate(mirrored.operands[i]) if p == k]
            symbol = " + ".join(local_symbol(formula, s) for s in slots)
            changes.append(OperandChange(k, names[k], symbol, before, after, local,
                                         local * call["upstream"]))
        finding = by_node.get(i) if i not in told else None
        if finding is not None:
            told.add(i)
        if finding is None and not all(c.right for c in changes):
            finding = Finding(i, "wrong", "this call adds something other than the chain "
                              "rule's product")
        steps.append(LearnerStep(len(steps), "call", i, names[i], call["upstream"],
                                 tuple(changes), finding, formula))
    final = dict(zip(mirrored.engine, recorded["grads"]))

    def drawing() -> Any:        # the same mirror, so the frames' node ids are its ids
        field, note = learner_grad_field(mirrored, final, fmt)
        return draw_graph(mirrored.root, rankdir=rankdir, show_local=show_local,
                          number_format=fmt, title=title, _grads=final, _third_field=field,
                          _grad_note=note)
    return LearnerTrace(live, steps, findings, drawing, fmt)
