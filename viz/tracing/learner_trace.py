"""The trace of a learner's own backward pass: their engine's ``_backward`` calls, one step each,
set beside what the chain rule adds.

:func:`trace_learner_backward` (which :func:`viz.trace_backward` calls for a node of a learner's
micrograd-style engine) runs the learner's pass watched
(:func:`autograd_core.checks.learner_engine.record_learner_pass`: every ``grad`` is put back
afterwards) and records, per ``node._backward()`` call, what it did to each operand's ``grad``
and what the chain rule adds, ``node.grad · ∂node/∂operand`` (from chainrule's engine on the
same graph). A step that departs is marked ✗ with the reason; the text, the frames and the
stepper are those of every trace.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from autograd_core.checks.learner_engine import (Finding, engine_truth, judge_pass,
                                                 learner_names, mirror, record_learner_pass)

from ..browser.stepper import Frame, Steps
from ..drawing.graph import draw_graph, learner_grad_field
from ..drawing.style import (DEFAULT_NUMBER_FORMAT, NumberFormat, format_number, in_formula,
                             validate_number_format)
from .trace_views import _TraceViews, _index_of, _num, local_symbol

_OK, _WRONG = "✓", "✗"


@dataclass(frozen=True)
class OperandChange:
    """What one ``_backward`` call did to one operand's ``grad`` (``before`` → ``after``) and
    what the chain rule adds: ``upstream · local``, the local derivative written ``symbol``
    (per operand slot, ``∂(a * b)/∂(1st operand)``, summed when the operand fills both)."""

    operand: Any
    name: str
    symbol: str
    before: float
    after: float
    local: float
    chain_rule: float

    @property
    def right(self) -> bool:
        return _close(self.after - self.before, self.chain_rule)


@dataclass(frozen=True)
class LearnerStep:
    """One step of the learner's pass: ``kind`` is ``"seed"`` (the root's starting ``grad``)
    or ``"call"`` (one ``node._backward()``); ``finding`` says what is wrong there, if
    anything."""

    index: int
    kind: str
    node: Any
    name: str
    upstream: float
    changes: tuple[OperandChange, ...]
    finding: Finding | None
    formula: str = ""


def _close(a: float, b: float) -> bool:
    return a == b or abs(a - b) <= 1e-9 + 1e-6 * max(abs(a), abs(b))


class LearnerTrace(_TraceViews):
    """The steps of a learner's own backward pass (see :func:`trace_learner_backward`).

    ``findings`` lists everything that departs from the chain rule, in the order the pass ran
    (empty when the learner's engine is right); ``grads`` maps each learner node to the
    ``grad`` their pass left in it (``grads[id(node)]``).
    """

    def __init__(self, root: Any, steps: list[LearnerStep], findings: list[Finding],
                 grads: dict[int, float], names: dict[int, str], graph: Callable[[], Any],
                 engine_ids: Mapping[int, Any], number_format: NumberFormat) -> None:
        self.root = root
        self.steps = steps
        self.findings = findings
        self.grads = grads
        self.names = names
        self._graph = graph
        self._engine = engine_ids
        self.number_format = number_format
        L = in_formula(names[id(root)])
        self.title = f"your backward pass from {L}: each _backward() beside the chain rule"

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        verdict = "right" if not self.findings else f"{len(self.findings)} finding(s)"
        return f"<LearnerTrace of {self.names[id(self.root)]}: {len(self.steps)} steps, {verdict}>"

    def _n(self, x: float) -> str:
        return format_number(x, self.number_format)

    def _step_lines(self, step: LearnerStep) -> list[str]:
        n = self._n
        if step.kind == "seed":
            lines = [f"seed: {in_formula(step.name)}.grad = {n(step.upstream)}"]
            if step.finding is not None:
                lines.append(f"{_WRONG} {step.finding.why}")
            return lines
        node = in_formula(step.name)
        lines = [f"{node}._backward()   ({step.name} = {step.formula}, "
                 f"{node}.grad = {n(step.upstream)})"]
        for c in step.changes:
            added = c.after - c.before
            mark = _OK if c.right else _WRONG
            lines.append(f"  {in_formula(c.name)}.grad: {n(c.before)} → {n(c.after)}  (added "
                         f"{n(added)}; chain rule: {node}.grad · {c.symbol} = "
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
        base: dict[str, str] = {}
        for node_id, engine_node in self._engine.items():
            vid = ids.get(engine_node)
            if vid:
                base[f"{vid}:grad"] = "grad 0"
        frames: list[Frame] = []
        for k, step in enumerate(self.steps):
            engine_node = self._engine[id(step.node)]
            vid = ids.get(engine_node)
            oid = op_ids.get(engine_node)
            mark = f" {_WRONG}" if step.finding is not None else ""
            if step.kind == "seed":
                frames.append(Frame(title=f"step {k}: seed {step.name}.grad{mark}",
                                    equation="\n".join(self._step_lines(step)),
                                    active=[vid] if vid else [],
                                    texts={f"{vid}:grad": f"grad {n(step.upstream)}{mark}"}))
                continue
            i = _index_of(vid, oid)
            frame = Frame(title=f"step {k}: {step.name}._backward(){mark}",
                          equation="\n".join(self._step_lines(step)),
                          active=[x for x in (vid, oid, f"e{i}" if i is not None else None) if x])
            for c in step.changes:
                operand = self._engine[id(c.operand)]
                pid = ids.get(operand)
                if i is not None:
                    frame.edges.extend(f"e{i}_{slot}" for slot, p in enumerate(engine_node.parents)
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
    ``node.grad · ∂node/∂operand``. Every ``grad`` is as it was afterwards.

    ``ops`` maps an op string chainrule does not know to the same op on chainrule's Values;
    ``use_own_backward`` as in
    :func:`~autograd_core.checks.learner_engine.record_learner_pass`.
    """
    mirrored = mirror(root, ops)
    names = learner_names(mirrored.order)
    recorded = record_learner_pass(root, mirrored, use_own_backward)
    findings = judge_pass(mirrored, recorded, names)
    _, locals_ = engine_truth(mirrored)
    fmt = validate_number_format(number_format)
    by_call = {id(f.node): f for f in findings}
    steps: list[LearnerStep] = []
    first = recorded.calls[0] if recorded.calls else None
    seed = first.upstream if first is not None and first.node is root else recorded.grads[id(root)]
    seed_finding = None if _close(seed, 1.0) else Finding(
        root, "wrong", f"{names[id(root)]}.grad must start the pass at 1 (∂L/∂L = 1)")
    steps.append(LearnerStep(0, "seed", root, names[id(root)], seed, (), seed_finding))
    told: set[int] = set()
    for call in recorded.calls:
        if not call.operands:
            continue
        engine_node = mirrored.engine[id(call.node)]
        operand_names = [in_formula(names[id(o)]) for o in mirrored.operands[id(call.node)]]
        formula = engine_node.op.formula(operand_names, params=engine_node.params)
        changes = []
        for o, before, after in zip(call.operands, call.before, call.after):
            local = locals_.get(id(call.node), {}).get(id(o), 0.0)
            slots = [k for k, p in enumerate(mirrored.operands[id(call.node)]) if p is o]
            symbol = " + ".join(local_symbol(formula, k) for k in slots)
            changes.append(OperandChange(o, names[id(o)], symbol, before, after, local,
                                         local * call.upstream))
        finding = by_call.get(id(call.node)) if id(call.node) not in told else None
        if finding is not None:
            told.add(id(call.node))
        if finding is None and not all(c.right for c in changes):
            finding = Finding(call.node, "wrong", "this call adds something other than the "
                              "chain rule's product")
        steps.append(LearnerStep(len(steps), "call", call.node, names[id(call.node)],
                                 call.upstream, tuple(changes), finding, formula))
    engine = {id(n): mirrored.engine[id(n)] for n in mirrored.order}
    final = {mirrored.engine[id(n)]: recorded.grads[id(n)] for n in mirrored.order}

    def drawing() -> Any:        # the same mirror, so the frames' node ids are its ids
        field, note = learner_grad_field(mirrored, final, fmt)
        return draw_graph(mirrored.root, rankdir=rankdir, show_local=show_local,
                          number_format=fmt, title=title, _grads=final, _third_field=field,
                          _grad_note=note)
    return LearnerTrace(root, steps, findings, recorded.grads, names, drawing, engine, fmt)
