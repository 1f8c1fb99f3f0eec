"""Bring your own Value: read a learner's micrograd-style graph, mirror it on the engine, and
watch the learner's own backward pass.

The protocol is micrograd's, and nothing else is read from the learner's objects:

* ``data``: the node's number;
* ``grad``: its gradient (set to 0 by the learner's constructor);
* ``_prev``: the operand nodes (a set, tuple or list; empty for a leaf);
* ``_op``: the op as a string (``''`` for a leaf; ``'+'``, ``'*'``, ``'**2'``, ``'tanh'``,
  ``'exp'``, ``'ReLU'``, ``'-'``, ``'/'``, ``'sigmoid'``, ``'log'``; others through ``ops=``);
* ``_backward()``: adds this node's contribution ``local · self.grad`` to each operand's
  ``grad``;
* optionally ``label`` (a name) and ``backward()`` (the learner's whole pass).

:func:`mirror` rebuilds the graph with chainrule's ``Value`` (same numbers, same labels), so
the engine gives the true local derivatives and gradients. :func:`record_learner_pass` runs the
learner's own pass (their ``backward()`` when they have one, else their ``_backward`` in
reverse topological order) with every ``_backward`` watched, and afterwards puts every
``grad`` back: looking changes no number. :func:`judge_pass` compares each ``_backward`` call
with the chain rule and names the first node where the learner's gradient departs.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .. import scalar_math
from ..graph import Node, observe_backward
from ..value import Value

PROTOCOL = ("data", "grad", "_prev", "_op", "_backward")
"""The attributes a learner's node must have (``label`` and ``backward`` are optional)."""

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
    """A learner's graph that can't be read or mirrored (names the node and the reason)."""


def is_learner_node(obj: Any) -> bool:
    """True for a node of a learner's own engine: it has ``data``, ``grad``, ``_prev`` and
    ``_op`` and is not one of chainrule's own nodes."""
    return not isinstance(obj, Node) and all(hasattr(obj, a) for a in ("data", "grad", "_prev", "_op"))


def learner_name(node: Any) -> str | None:
    """The learner's ``label`` for ``node`` when it has a non-empty one."""
    label = getattr(node, "label", None)
    return str(label) if isinstance(label, str) and label else None


def _operands(node: Any) -> list[Any]:
    prev = node._prev
    try:
        return list(prev)
    except TypeError:
        raise LearnerGraphError(f"{_describe(node)}: _prev must be a set, tuple or list of "
                                f"nodes, got {type(prev).__name__}") from None


def _describe(node: Any) -> str:
    name = learner_name(node)
    op = getattr(node, "_op", "")
    what = f"node {name!r}" if name else f"a node made by {op!r}" if op else "a leaf"
    return f"{what} (data={getattr(node, 'data', '?')!r})"


def check_protocol(node: Any) -> None:
    """Raise ``TypeError`` naming the first protocol attribute ``node`` lacks."""
    missing = [a for a in PROTOCOL if not hasattr(node, a)]
    if missing:
        raise TypeError(f"{type(node).__name__} object is not a micrograd-style node: it has "
                        f"no {', '.join(missing)} (chainrule reads data, grad, _prev, _op, "
                        "_backward and, if present, label and backward)")
    if not isinstance(node._op, str):
        raise TypeError(f"{_describe(node)}: _op must be a string such as '+' or 'tanh', got "
                        f"{type(node._op).__name__}")
    try:
        float(node.data)
    except (TypeError, ValueError):
        raise TypeError(f"{_describe(node)}: data must be a number, got "
                        f"{type(node.data).__name__}") from None


def _structure_keys(root: Any) -> dict[int, tuple[Any, ...]]:
    """A key per node that depends only on the graph's content (op, label, data and the
    operands' keys), so that ``_prev``'s set order, which changes from run to run, never
    changes what is drawn or traced."""
    keys: dict[int, tuple[Any, ...]] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in keys:
            continue
        operands = _operands(node)
        if expanded:
            keys[id(node)] = (not node._op, node._op, learner_name(node) or "", float(node.data),
                              tuple(sorted(keys[id(o)] for o in operands)))
        else:
            stack.append((node, True))
            stack.extend((o, False) for o in operands if id(o) not in keys)
    return keys


def learner_order(root: Any) -> list[Any]:
    """Every node ``root`` depends on, each after its operands (a post-order depth-first
    walk, operands in a content order that does not depend on set order), checked against the
    protocol."""
    check_protocol(root)
    keys = _structure_keys(root)
    order: list[Any] = []
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        check_protocol(node)
        stack.append((node, True))
        operands = sorted(_operands(node), key=lambda o: keys[id(o)])
        stack.extend((o, False) for o in reversed(operands) if id(o) not in seen)
    return order


@dataclass
class Mirror:
    """A learner's graph rebuilt on chainrule's ``Value``: ``engine[id(node)]`` is the engine
    node standing for the learner's ``node`` (same data, same label), ``operands[id(node)]``
    the learner's operands in the engine's operand order, and ``forward_errors`` the nodes
    whose ``data`` differs from what their op gives on their operands' data."""

    root: Value
    order: list[Any]
    engine: dict[int, Value]
    operands: dict[int, tuple[Any, ...]]
    forward_errors: list[tuple[Any, float, float]] = field(default_factory=list)

    def learner_of(self) -> dict[Value, Any]:
        """Engine node -> the learner's node."""
        return {self.engine[id(n)]: n for n in self.order}


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


def _close(a: float, b: float) -> bool:
    return a == b or (math.isfinite(a) and math.isfinite(b) and
                      math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12))


def mirror(root: Any, ops: Mapping[str, Callable[..., Any]] | None = None) -> Mirror:
    """Rebuild the learner's graph ending in ``root`` with chainrule's ``Value``.

    Each learner node becomes an engine node of the same op on the mirrored operands, with the
    learner's ``data`` and ``label``. An operand set of two for an op whose operand order
    matters (``-``, ``/``) is put in the order that reproduces the learner's ``data``; one
    operand for ``+`` or ``*`` means the node is ``a + a`` or ``a * a``. A node whose ``data``
    no order reproduces is listed in ``forward_errors`` (its forward is wrong) and keeps the
    learner's number, so everything drawn is what the learner's objects hold.
    """
    ops = dict(ops or {})
    order = learner_order(root)
    engine: dict[int, Value] = {}
    operands: dict[int, tuple[Any, ...]] = {}
    errors: list[tuple[Any, float, float]] = []
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        data = float(node.data)
        inputs = sorted(_operands(node), key=lambda o: position[id(o)])
        if not inputs:
            if node._op:
                raise LearnerGraphError(f"{_describe(node)} has the op {node._op!r} but no "
                                        "operands in _prev")
            engine[id(node)] = Value(data, label=learner_name(node))
            operands[id(node)] = ()
            continue
        function, arities = _op_function(node._op, len(inputs), ops)
        candidates = _orderings(inputs, arities, node)
        made = None
        for candidate in candidates:
            made = function(*(engine[id(o)] for o in candidate))
            if _close(float(made.data), data):
                break
        else:
            candidate = candidates[0]
            made = function(*(engine[id(o)] for o in candidate))
            errors.append((node, data, float(made.data)))
        if not isinstance(made, Value):
            raise LearnerGraphError(f"ops[{node._op!r}] must return a chainrule Value, got "
                                    f"{type(made).__name__}")
        made.data = data
        if learner_name(node):
            made.label = learner_name(node)
        engine[id(node)] = made
        operands[id(node)] = tuple(candidate)
    return Mirror(engine[id(root)], order, engine, operands, errors)


def _orderings(inputs: list[Any], arities: tuple[int, ...], node: Any) -> list[tuple[Any, ...]]:
    n = len(inputs)
    out: list[tuple[Any, ...]] = []
    for arity in arities:
        if arity == n:
            out.append(tuple(inputs))
            if n == 2:
                out.append((inputs[1], inputs[0]))
        elif arity == 2 and n == 1:
            out.append((inputs[0], inputs[0]))        # a + a: micrograd's _prev is the set {a}
    if not out:
        raise LearnerGraphError(f"{_describe(node)}: the op {node._op!r} takes "
                                f"{' or '.join(map(str, arities))} operand(s) but _prev has {n}")
    return out


# -- the learner's own pass, watched ----------------------------------------------------------
@dataclass
class BackwardCall:
    """One call of a learner's ``node._backward()``: ``upstream`` is ``node.grad`` when it
    ran, ``before``/``after`` each operand's ``grad`` around it (operands as in
    ``Mirror.operands``, each once), ``error`` what it raised."""

    node: Any
    upstream: float
    operands: tuple[Any, ...]
    before: tuple[float, ...]
    after: tuple[float, ...]
    error: BaseException | None = None

    @property
    def added(self) -> tuple[float, ...]:
        """What the call changed each operand's ``grad`` by."""
        return tuple(a - b for a, b in zip(self.after, self.before))


@dataclass
class LearnerPass:
    """The learner's pass from zero: the ``_backward`` calls in the order they ran, the
    final ``grad`` of every node (``grads[id(node)]``), whether the learner's own
    ``backward()`` drove it, and what the pass raised outside any ``_backward``."""

    calls: list[BackwardCall]
    grads: dict[int, float]
    own_backward: bool
    error: BaseException | None = None


def _number(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _once(nodes: Iterable[Any]) -> tuple[Any, ...]:
    """``nodes`` without repeats, by identity (a learner's ``__eq__`` may do anything)."""
    seen: dict[int, Any] = {}
    for node in nodes:
        seen.setdefault(id(node), node)
    return tuple(seen.values())


def record_learner_pass(root: Any, mirrored: Mirror, use_own_backward: bool | None = None
                        ) -> LearnerPass:
    """Run the learner's backward pass from ``root`` with every gradient first set to 0, and
    record every ``_backward`` call; afterwards every ``grad`` and ``_backward`` is as it was.

    ``use_own_backward``: ``True`` runs ``root.backward()`` (the learner's topological order
    and seed), ``False`` sets ``root.grad = 1`` and calls each node's ``_backward`` in reverse
    topological order (chainrule's), ``None`` (default) the first when ``root`` has a
    ``backward`` method.
    """
    order = mirrored.order
    own = callable(getattr(root, "backward", None)) if use_own_backward is None else use_own_backward
    saved = [(node, node.grad) for node in order]
    installed: list[tuple[Any, bool, Any]] = []
    calls: list[BackwardCall] = []
    error: BaseException | None = None

    def watch(node: Any, original: Callable[[], Any]) -> Callable[[], Any]:
        ops = _once(mirrored.operands[id(node)])

        def watched(*args: Any, **kwargs: Any) -> Any:
            before = tuple(_number(o.grad) for o in ops)
            upstream = _number(node.grad)
            raised: BaseException | None = None
            try:
                return original(*args, **kwargs)
            except BaseException as error:
                raised = error
                raise
            finally:
                calls.append(BackwardCall(node, upstream, ops, before,
                                          tuple(_number(o.grad) for o in ops), raised))
        return watched

    try:
        for node in order:
            node.grad = 0.0
        for node in order:
            had = "_backward" in getattr(node, "__dict__", {})
            original = node._backward
            try:
                node._backward = watch(node, original)
            except (AttributeError, TypeError):
                continue                      # __slots__ without _backward: called directly
            installed.append((node, had, original))
        try:
            if own:
                root.backward()
            else:
                root.grad = 1.0
                for node in reversed(order):
                    node._backward()
        except Exception as raised:           # the learner's bug: reported, not raised
            error = raised
        grads = {id(node): _number(node.grad) for node in order}
    finally:
        for node, had, original in installed:
            if had:
                node._backward = original
            else:
                del node._backward
        for node, grad in saved:
            node.grad = grad
    if error is not None and any(call.error is error for call in calls):
        error = None                          # already told by the call that raised it
    return LearnerPass(calls, grads, own, error)


# -- judging the pass ----------------------------------------------------------------------
@dataclass
class Finding:
    """What is wrong at one place of the learner's pass: the node, the mistake class (a key of
    :data:`autograd_core.checks.report.MISTAKES`) and the sentence that explains it."""

    node: Any
    mistake: str
    why: str


def engine_truth(mirrored: Mirror) -> tuple[dict[int, float], dict[int, dict[int, float]]]:
    """The engine's pass on the mirror: ``∂L/∂node`` per learner node, and per node the local
    derivative to each operand (summed over slots when an operand fills both, as in ``a*a``)."""
    edges, totals = observe_backward(mirrored.root)
    learner = mirrored.learner_of()
    grads = {id(n): float(totals.get(mirrored.engine[id(n)], 0.0)) for n in mirrored.order}
    locals_: dict[int, dict[int, float]] = {}
    for e in edges:
        node, operand = learner[e.node], learner[e.parent]
        per = locals_.setdefault(id(node), {})
        per[id(operand)] = per.get(id(operand), 0.0) + float(e.local)
    for node in mirrored.order:      # an op whose operands need no grad still has locals
        if id(node) not in locals_ and mirrored.operands[id(node)]:
            engine_node = mirrored.engine[id(node)]
            per = locals_.setdefault(id(node), {})
            for slot, local in zip(mirrored.operands[id(node)],
                                   engine_node.op.local_derivatives(engine_node)):
                per[id(slot)] = per.get(id(slot), 0.0) + float(local)
    return grads, locals_


def name_of(node: Any, names: Mapping[int, str]) -> str:
    """The node's name, in parentheses when it is a formula with operators (``(a*b).grad``)."""
    name = names.get(id(node)) or learner_name(node) or "?"
    return f"({name})" if any(c in name for c in "+-*/ ") else name


def learner_names(order: Iterable[Any], longest: int = 16) -> dict[int, str]:
    """A name per node: the learner's label; else the node's formula over its operands' names
    (``a*b``, ``tanh(n)``) while that stays within ``longest`` characters; else ``v1``,
    ``v2``, ... in topological order."""
    names: dict[int, str] = {}
    order = list(order)
    position = {id(n): i for i, n in enumerate(order)}
    for i, node in enumerate(order):
        name = learner_name(node)
        if name is None:
            operands = [names[id(o)] for o in sorted(_operands(node), key=lambda o: position[id(o)])]
            op = node._op
            if len(operands) == 2 and op in ("+", "*", "-", "/"):
                formula = f"{_wrap(operands[0])}{op}{_wrap(operands[1])}"
            elif len(operands) == 1 and op in ("+", "*"):
                formula = f"{_wrap(operands[0])}{op}{_wrap(operands[0])}"
            elif len(operands) == 1 and op.startswith("**"):
                formula = f"{_wrap(operands[0])}{op}"
            elif len(operands) == 1 and op:
                formula = f"{op}({operands[0]})"
            else:
                formula = ""
            name = formula if formula and len(formula) <= longest else f"v{i + 1}"
        names[id(node)] = name
    return names


def _wrap(name: str) -> str:
    return f"({name})" if any(c in name for c in "+-*/ ") else name


def judge_pass(mirrored: Mirror, recorded: LearnerPass, names: Mapping[int, str]
               ) -> list[Finding]:
    """Every place where the learner's pass departs from the chain rule, in the order the pass
    ran: a forward value that is wrong, a ``_backward`` that raised, ran before its node's
    gradient was complete (topological order), or added the wrong amount (a ``=`` where ``+=``
    belongs, a local derivative left out, a wrong sign or factor), and a node whose
    ``_backward`` never ran."""
    findings: list[Finding] = []
    for node, held, computed in mirrored.forward_errors:
        findings.append(Finding(node, "forward", f"{name_of(node, names)}.data is {held:g}, "
                                f"but {node._op!r} of its operands gives {computed:g}: the "
                                "forward pass of this op is wrong"))
    truth, locals_ = engine_truth(mirrored)
    called: set[int] = set()
    for call in recorded.calls:
        node = call.node
        name = name_of(node, names)
        if call.error is not None:
            findings.append(Finding(node, "raised", f"{name}._backward() raised "
                                    f"{type(call.error).__name__}: {call.error}"))
            continue
        first_time = id(node) not in called
        called.add(id(node))
        if not call.operands:
            continue
        if not first_time:
            findings.append(Finding(node, "order", f"{name}._backward() ran a second time: a "
                                    "node must be visited once (the topological sort needs a "
                                    "set of visited nodes)"))
            continue
        complete = truth[id(node)]
        if not _close(call.upstream, complete) and _close(recorded.grads[id(node)], complete):
            findings.append(Finding(node, "order", f"{name}._backward() ran when {name}.grad was "
                                    f"{call.upstream:g}, before every node that uses {name} had "
                                    f"passed its gradient back ({name}.grad ends at "
                                    f"{recorded.grads[id(node)]:g}): the nodes must be visited "
                                    "in reverse topological order"))
            continue
        slots = mirrored.operands[id(node)]
        for operand, before, added in zip(call.operands, call.before, call.added):
            local = locals_.get(id(node), {}).get(id(operand), 0.0)
            want = local * call.upstream
            if _close(added, want):
                continue
            finding = _wrong_addition(node, operand, names, call.upstream, local, before,
                                      added, want, sum(s is operand for s in slots))
            if finding.mistake == "wrong":
                finding = _slip(mirrored, node, operand, names, call.upstream, added) or finding
            findings.append(finding)
            break
    if recorded.error is not None:
        findings.append(Finding(mirrored.order[-1], "raised", f"backward() raised "
                                f"{type(recorded.error).__name__}: {recorded.error}"))
    for node in reversed(mirrored.order):
        if id(node) not in called and mirrored.operands[id(node)] and recorded.error is None:
            findings.append(Finding(node, "not_called", f"{name_of(node, names)}._backward() "
                                    "never ran: the topological order left it out, so nothing "
                                    "passed its gradient on to its operands"))
    return findings


def _slip(mirrored: Mirror, node: Any, operand: Any, names: Mapping[int, str], upstream: float,
          added: float) -> Finding | None:
    """A wrong addition that a classic slip explains: the two operands' local derivatives
    swapped (``a.grad += a.data * out.grad`` for ``*``), or a rule that needs the op's output
    given its input (``1 - x²`` for tanh's ``1 - t²``)."""
    engine_node = mirrored.engine[id(node)]
    op = engine_node.op
    if op is None or op.derivatives is None:
        return None
    slots = mirrored.operands[id(node)]
    data = [float(o.data) for o in slots]
    name, op_name = name_of(node, names), name_of(operand, names)
    try:
        rules = [rule(scalar_math, float(node.data), *data, **engine_node.params)
                 for rule in op.derivatives]
        if len(slots) == 2 and slots[0] is not slots[1]:
            k = 0 if slots[0] is operand else 1
            if not _close(rules[0], rules[1]) and _close(added, rules[1 - k] * upstream):
                return Finding(node, "swapped_locals", f"{name}._backward() gave {op_name} the "
                               f"local derivative of the other operand: for {node._op!r} each "
                               "operand has its own (for *, each gets the *other's* value)")
        if len(slots) == 1:
            as_input = op.derivatives[0](scalar_math, data[0], data[0], **engine_node.params)
            if not _close(as_input, rules[0]) and _close(added, as_input * upstream):
                return Finding(node, "swapped_output", f"{name}._backward() used the input "
                               f"{op_name}.data where the local derivative of {node._op!r} "
                               f"is written with the output {name}.data")
    except (ArithmeticError, ValueError, TypeError):
        return None
    return None


def _wrong_addition(node: Any, operand: Any, names: Mapping[int, str], upstream: float,
                    local: float, before: float, added: float, want: float, uses: int
                    ) -> Finding:
    name, op_name = name_of(node, names), name_of(operand, names)
    after = before + added
    says = (f"{name}._backward() changed {op_name}.grad by {added:g}; the chain rule adds "
            f"{name}.grad · ∂{name}/∂{op_name}")
    if uses == 2 and want != 0 and _close(added, want / 2):
        return Finding(node, "overwrite", f"{name} uses {op_name} twice ({name} = {op_name} "
                       f"{node._op} {op_name}), but {name}._backward() counted one use: the "
                       "second assignment to the same grad overwrote the first. Use += (the "
                       "contributions of the two uses add)")
    if before != 0 and _close(after, want):
        return Finding(node, "overwrite", f"{name}._backward() set {op_name}.grad to {after:g} "
                       f"and lost the {before:g} it already held: use += (a node used twice "
                       "gets a gradient from each use, and they add)")
    if added == 0 and want != 0:
        return Finding(node, "no_backward", f"{name}._backward() added nothing to {op_name}.grad: "
                       f"is the op's _backward assigned to its output (out._backward = "
                       "_backward), and does it add to every operand?")
    if not _close(local, 1.0) and _close(added, upstream):
        return Finding(node, "dropped_local", f"{says}: it passed {name}.grad on unchanged, "
                       f"without the local derivative ∂{name}/∂{op_name}")
    if want != 0 and _close(added, -want):
        return Finding(node, "sign", f"{says}: the sign is wrong")
    if want != 0 and added != 0 and math.isfinite(added) and _close(round(added / want, 6),
                                                                     round(added / want)):
        return Finding(node, "factor", f"{says}: a constant factor off")
    return Finding(node, "wrong", says)
