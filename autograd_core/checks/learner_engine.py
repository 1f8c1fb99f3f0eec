"""Judging a learner's own engine against chainrule's: the graph a learner built (read as data by
:mod:`~autograd_core.checks.learner_probe`) rebuilt on chainrule's ``Value``, and the learner's
backward pass compared with the chain rule, call by call.

:func:`mirror` rebuilds a snapshot with chainrule's ``Value`` (same numbers, same labels), so
the engine gives the true local derivatives and gradients; :func:`judge_pass` compares each
recorded ``_backward`` call with the chain rule and names every place where the learner's pass
departs. Nodes are numbered as in the snapshot (the root last).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .. import scalar_math
from ..graph import Node, observe_backward
from ..value import Value
from .learner_probe import order_of, record_pass, snapshot

_POWER = re.compile(r"^\*\*\s*\(?\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\)?$")

BUILTIN_OPS: dict[str, Callable[..., Any]] = {
    "+": lambda a, b: a + b,
    "*": lambda a, b: a * b,
    "-": lambda a, b=None: -a if b is None else a - b,
    "/": lambda a, b: a / b,
    "neg": lambda a: -a,
    "tanh": lambda a: a.tanh(),
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "ReLU": lambda a: a.relu(),
    "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(),
}
"""Learner op string -> the same op on chainrule's Values (``'**k'`` is read separately)."""

_ARITY = {"+": (2,), "*": (2,), "-": (2, 1), "/": (2,)}


class LearnerGraphError(ValueError):
    """A learner's graph that can't be mirrored (names the node and the reason)."""


def is_learner_node(obj: Any) -> bool:
    """True for a node of a learner's own engine: it has ``data``, ``grad``, ``_prev`` and
    ``_op`` and is not one of chainrule's own nodes."""
    return not isinstance(obj, Node) and all(hasattr(obj, a) for a in ("data", "grad", "_prev", "_op"))


def learner_names(nodes: Sequence[Mapping[str, Any]], longest: int = 16) -> list[str]:
    """A name per snapshot node: its label; else its formula over its operands' names
    (``a*b``, ``tanh(n)``) while that stays within ``longest`` characters; else ``v1``, ``v2``,
    ... in topological order."""
    names: list[str] = []
    for i, node in enumerate(nodes):
        name = node["label"] or None
        if name is None:
            operands = [names[k] for k in node["prev"]]
            op = node["op"]
            if len(operands) == 2 and op in ("+", "*", "-", "/"):
                formula = f"{ref(operands[0])}{op}{ref(operands[1])}"
            elif len(operands) == 1 and op in ("+", "*"):
                formula = f"{ref(operands[0])}{op}{ref(operands[0])}"
            elif len(operands) == 1 and op.startswith("**"):
                formula = f"{ref(operands[0])}{op}"
            elif len(operands) == 1 and op:
                formula = f"{op}({operands[0]})"
            else:
                formula = ""
            name = formula if formula and len(formula) <= longest else f"v{i + 1}"
        names.append(name)
    return names


def ref(name: str) -> str:
    """A node's name as it stands before ``.grad``: in parentheses when it holds an operator."""
    return f"({name})" if any(c in name for c in "+-*/ ") else name


@dataclass
class Mirror:
    """A snapshot rebuilt on chainrule's ``Value``: ``engine[i]`` stands for node ``i`` (same
    data, same label), ``operands[i]`` lists node ``i``'s operands in the engine's operand
    order (``(a, a)`` for ``a + a``), and ``forward_errors`` the nodes whose ``data`` differs
    from what their op gives on their operands' data: ``(i, held, computed)``."""

    nodes: list[dict[str, Any]]
    engine: list[Value]
    operands: list[tuple[int, ...]]
    forward_errors: list[tuple[int, float, float]] = field(default_factory=list)

    @property
    def root(self) -> Value:
        return self.engine[-1]


def _op_function(op: str, count: int, ops: Mapping[str, Callable[..., Any]]
                 ) -> tuple[Callable[..., Any], tuple[int, ...]]:
    if op in ops:
        return ops[op], (count,)
    power = _POWER.match(op)
    if power:
        exponent = float(power.group(1))
        return (lambda a: a ** exponent), (1,)
    if op in BUILTIN_OPS:
        return BUILTIN_OPS[op], _ARITY.get(op, (1,))
    known = ", ".join(sorted(BUILTIN_OPS)) + ", **k"
    raise LearnerGraphError(f"chainrule does not know the op {op!r} (it knows {known}); "
                            f"pass ops={{{op!r}: lambda x: ...}}, the same op on chainrule's "
                            "Values, to check or draw it")


def close(a: float, b: float) -> bool:
    """The one test of "the same number" for a learner's engine (its checks, its trace and its
    drawing agree): equal, or finite and within a relative 1e-6 (absolute 1e-9)."""
    return a == b or (math.isfinite(a) and math.isfinite(b) and
                      math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9))


def mirror(graph: Mapping[str, Any], ops: Mapping[str, Callable[..., Any]] | None = None) -> Mirror:
    """Rebuild a snapshot (:func:`~autograd_core.checks.learner_probe.snapshot`) with
    chainrule's ``Value``.

    Each node becomes an engine node of the same op on the mirrored operands, with the
    learner's ``data`` and ``label``. Two operands of an op whose operand order matters (``-``,
    ``/``) are put in the order that reproduces the learner's ``data``; one operand for ``+`` or
    ``*`` means ``a + a`` or ``a * a``. A node whose ``data`` no order reproduces is listed in
    ``forward_errors`` (its forward is wrong) and keeps the learner's number, so everything
    drawn is what the learner's objects hold.
    """
    ops = dict(ops or {})
    nodes = [dict(n) for n in graph["nodes"]]
    engine: list[Value] = []
    operands: list[tuple[int, ...]] = []
    errors: list[tuple[int, float, float]] = []
    for i, node in enumerate(nodes):
        data, inputs = float(node["data"]), list(node["prev"])
        label = node["label"] or None
        if not inputs:
            if node["op"]:
                raise LearnerGraphError(f"a node made by {node['op']!r} has no operands in _prev")
            engine.append(Value(data, label=label))
            operands.append(())
            continue
        function, arities = _op_function(node["op"], len(inputs), ops)
        candidates = _orderings(inputs, arities, node["op"])
        for candidate in candidates:
            made = function(*(engine[k] for k in candidate))
            if not isinstance(made, Value):
                raise LearnerGraphError(f"ops[{node['op']!r}] must return a chainrule Value, got "
                                        f"{type(made).__name__}")
            if close(float(made.data), data):
                break
        else:
            candidate = candidates[0]
            made = function(*(engine[k] for k in candidate))
            errors.append((i, data, float(made.data)))
        made.data = data
        if label:
            made.label = label
        engine.append(made)
        operands.append(tuple(candidate))
    return Mirror(nodes, engine, operands, errors)


def _orderings(inputs: list[int], arities: tuple[int, ...], op: str) -> list[tuple[int, ...]]:
    n = len(inputs)
    out: list[tuple[int, ...]] = []
    for arity in arities:
        if arity == n:
            out.append(tuple(inputs))
            if n == 2:
                out.append((inputs[1], inputs[0]))
        elif arity == 2 and n == 1:
            out.append((inputs[0], inputs[0]))        # a + a: micrograd's _prev is the set {a}
    if not out:
        raise LearnerGraphError(f"the op {op!r} takes {' or '.join(map(str, arities))} "
                                f"operand(s) but a node made by it has {n} in _prev")
    return out


def engine_truth(mirrored: Mirror) -> tuple[list[float], dict[int, dict[int, float]]]:
    """The engine's pass on the mirror: ``∂L/∂node`` per node, and per node the local
    derivative to each operand (summed over slots when an operand fills both, as in ``a*a``)."""
    edges, totals = observe_backward(mirrored.root)
    position = {node: i for i, node in enumerate(mirrored.engine)}
    grads = [float(totals.get(node, 0.0)) for node in mirrored.engine]
    locals_: dict[int, dict[int, float]] = {}
    for e in edges:
        per = locals_.setdefault(position[e.node], {})
        per[position[e.parent]] = per.get(position[e.parent], 0.0) + float(e.local)
    for i, node in enumerate(mirrored.engine):     # nodes the pass never reached
        if i not in locals_ and mirrored.operands[i]:
            per = locals_.setdefault(i, {})
            for slot, local in zip(mirrored.operands[i], node.op.local_derivatives(node)):
                per[slot] = per.get(slot, 0.0) + float(local)
    return grads, locals_


@dataclass
class Finding:
    """What is wrong at one place of the learner's pass: the node (its index), the mistake
    class (a key of :data:`autograd_core.checks.report.MISTAKES`) and the sentence that says
    why."""

    node: int
    mistake: str
    why: str


def judge_pass(mirrored: Mirror, recorded: Mapping[str, Any], names: Sequence[str]
               ) -> list[Finding]:
    """Every place where a recorded pass (:func:`~autograd_core.checks.learner_probe.record_pass`)
    departs from the chain rule, in the order the pass ran: a forward value that is wrong, a
    ``_backward`` that raised, ran before its node's gradient was complete or twice (the
    topological order), or added the wrong amount (a ``=`` where ``+=`` belongs, a local
    derivative left out, the operands' locals swapped, the input used for the output, a
    wrong sign or factor), and an op node whose ``_backward`` never ran."""
    findings: list[Finding] = []
    for i, held, computed in mirrored.forward_errors:
        findings.append(Finding(i, "forward", f"{ref(names[i])}.data is {held:g}, but "
                                f"{mirrored.nodes[i]['op']!r} of its operands gives {computed:g}: "
                                "the forward pass of this op is wrong"))
    truth, locals_ = engine_truth(mirrored)
    final = recorded["grads"]
    called: set[int] = set()
    for call in recorded["calls"]:
        i = call["node"]
        name = ref(names[i])
        if call["error"] is not None:
            findings.append(Finding(i, "raised", f"{name}._backward() raised {call['error']}"))
            continue
        first_time = i not in called
        called.add(i)
        if not call["operands"]:
            continue
        if not first_time:
            findings.append(Finding(i, "order", f"{name}._backward() ran a second time: a node "
                                    "must be visited once (the topological sort needs a set of "
                                    "visited nodes)"))
            continue
        upstream = call["upstream"]
        if not close(upstream, truth[i]) and close(final[i], truth[i]):
            findings.append(Finding(i, "order", f"{name}._backward() ran when {name}.grad was "
                                    f"{upstream:g}, before every node that uses {name} had passed "
                                    f"its gradient back ({name}.grad ends at {final[i]:g}): the "
                                    "nodes must be visited in reverse topological order"))
            continue
        for k, before, after in zip(call["operands"], call["before"], call["after"]):
            local = locals_.get(i, {}).get(k, 0.0)
            added, want = after - before, local * upstream
            if close(added, want):
                continue
            uses = sum(1 for s in mirrored.operands[i] if s == k)
            finding = _wrong_addition(mirrored, i, k, names, upstream, local, before, added,
                                      want, uses)
            findings.append(finding)
            break
    if recorded["error"] is not None:
        findings.append(Finding(len(mirrored.nodes) - 1, "raised",
                                f"backward() raised {recorded['error']}"))
    elif recorded["calls"] or not recorded["own"]:
        unseen = set(recorded.get("unwatched", ()))
        for i in reversed(range(len(mirrored.nodes))):
            if i not in called and i not in unseen and mirrored.operands[i]:
                findings.append(Finding(i, "not_called", f"{ref(names[i])}._backward() never "
                                        "ran: the topological order left it out, so nothing "
                                        "passed its gradient on to its operands"))
    return findings


def _wrong_addition(mirrored: Mirror, i: int, k: int, names: Sequence[str], upstream: float,
                    local: float, before: float, added: float, want: float, uses: int) -> Finding:
    name, operand, op = ref(names[i]), ref(names[k]), mirrored.nodes[i]["op"]
    after = before + added
    says = (f"{name}._backward() changed {operand}.grad by {added:g}; the chain rule adds "
            f"{name}.grad times the local derivative of {op!r} with respect to {operand}")
    if uses == 2 and want != 0 and close(added, want / 2):
        return Finding(i, "overwrite", f"{name} uses {operand} twice ({name} = {operand} {op} "
                       f"{operand}), but {name}._backward() counted one use: the second "
                       "assignment to the same grad overwrote the first. Use += (the "
                       "contributions of the two uses add)")
    if before != 0 and close(after, want):
        return Finding(i, "overwrite", f"{name}._backward() set {operand}.grad to {after:g} and "
                       f"lost the {before:g} it already held: use += (a node used twice gets a "
                       "gradient from each use, and they add)")
    if added == 0 and want != 0:
        return Finding(i, "no_backward", f"{name}._backward() added nothing to {operand}.grad: "
                       "is the op's _backward assigned to its output (out._backward = "
                       "_backward), and does it add to every operand?")
    if not close(local, 1.0) and close(added, upstream):
        return Finding(i, "dropped_local", f"{says}: it passed {name}.grad on unchanged, "
                       "without the local derivative")
    slip = _slip(mirrored, i, k, names, upstream, added)
    if slip is not None:
        return slip
    if want != 0 and close(added, -want):
        return Finding(i, "sign", f"{says}: the sign is wrong")
    ratio = added / want if want != 0 else 0.0
    if ratio and math.isfinite(ratio) and close(ratio, round(ratio)):
        return Finding(i, "factor", f"{says}: a constant factor off")
    return Finding(i, "wrong", says)


def _slip(mirrored: Mirror, i: int, k: int, names: Sequence[str], upstream: float,
          added: float) -> Finding | None:
    """A wrong addition that a classic slip explains: the two operands' local derivatives
    swapped (``a.grad += a.data * out.grad`` for ``*``), or a rule that needs the op's output
    given its input (``1 - x²`` for tanh's ``1 - t²``)."""
    node = mirrored.engine[i]
    op = node.op
    if op is None or op.derivatives is None:
        return None
    slots = mirrored.operands[i]
    data = [float(mirrored.nodes[s]["data"]) for s in slots]
    name, operand, symbol = ref(names[i]), ref(names[k]), mirrored.nodes[i]["op"]
    try:
        rules = [rule(scalar_math, float(node.data), *data, **node.params)
                 for rule in op.derivatives]
        if len(slots) == 2 and slots[0] != slots[1]:
            other = 1 if slots[0] == k else 0
            if not close(rules[0], rules[1]) and close(added, rules[other] * upstream):
                return Finding(i, "swapped_locals", f"{name}._backward() gave {operand} the "
                               f"local derivative of the other operand: for {symbol!r} each "
                               "operand has its own (for *, each gets the *other's* value)")
        if len(slots) == 1:
            as_input = op.derivatives[0](scalar_math, data[0], data[0], **node.params)
            if not close(as_input, rules[0]) and close(added, as_input * upstream):
                return Finding(i, "swapped_output", f"{name}._backward() used the input "
                               f"{operand}.data where the local derivative of {symbol!r} is "
                               f"written with the output {name}.data")
    except (ArithmeticError, ValueError, TypeError):
        return None
    return None


def _op_key(op: str) -> str:
    """An op string as the shape comparison reads it: a power by its exponent as a float
    (``'**2'`` and ``'**2.0'`` are one op)."""
    power = _POWER.match(op)
    return f"**{float(power.group(1))!r}" if power else op


def shape_of(graph: Mapping[str, Any]) -> Any:
    """The shape of a snapshot, whatever its node order: a node's op, a leaf's data, and the
    shapes of its operands (as a sorted tuple), recursively. Intermediate data is left out (a
    wrong forward value is a finding, not another graph), and so are labels (optional in the
    protocol)."""
    nodes = graph["nodes"]
    shapes: list[Any] = []
    for i, node in enumerate(nodes):
        prev = [int(k) for k in node["prev"]]
        if any(not 0 <= k < i for k in prev):
            raise LearnerGraphError("a recorded graph whose operands do not come before the "
                                    "nodes that use them")
        leaf = float(node["data"]) if not prev else None
        shapes.append((_op_key(str(node["op"])), leaf,
                       tuple(sorted((shapes[k] for k in prev), key=repr))))
    return shapes[-1] if shapes else None


# -- the live path: a learner's root, read, mirrored and watched --------------------------
@dataclass
class LiveRead:
    """A learner's graph read now: its nodes (``order``, the root last), the snapshot, the
    mirror, the recorded pass and the names."""

    order: list[Any]
    graph: dict[str, Any]
    mirrored: Mirror
    recorded: dict[str, Any]
    names: list[str]

    def index(self, node: Any) -> int:
        """The number of a learner's node in this read."""
        for i, n in enumerate(self.order):
            if n is node:
                return i
        raise KeyError(f"{node!r} is not in this graph")


def read_live(root: Any, ops: Mapping[str, Callable[..., Any]] | None = None,
              use_own_backward: bool | None = None, run_pass: bool = True) -> LiveRead:
    """Read the learner's graph under ``root``, mirror it, and (``run_pass``) record their
    backward pass (every ``grad`` is put back afterwards)."""
    order = order_of(root)
    graph = snapshot(root, order)
    mirrored = mirror(graph, ops)
    recorded = record_pass(root, order, use_own_backward) if run_pass else {}
    return LiveRead(order, graph, mirrored, recorded, learner_names(graph["nodes"]))
