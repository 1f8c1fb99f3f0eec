"""Reading a learner's own micrograd-style engine into plain data.

The protocol is micrograd's, and nothing else is read from the learner's objects:

* ``data``: the node's number;
* ``grad``: its gradient (0 when the learner's constructor makes it);
* ``_prev``: the operand nodes (a set, tuple or list; empty for a leaf);
* ``_op``: the op as a string (``''`` for a leaf; ``'+'``, ``'*'``, ``'**2'``, ``'tanh'``, ...);
* ``_backward()``: adds this node's contribution ``local · self.grad`` to each operand's ``grad``;
* optionally ``label`` (a name) and ``backward()`` (the learner's whole pass).

:func:`snapshot` turns the graph under a root into data (nodes in a topological order that does
not depend on ``_prev``'s set order); :func:`record_pass` runs the learner's backward pass with
every ``_backward`` watched and puts every ``grad`` back afterwards; :func:`engine_record` and
:func:`sort_record` do both on the fixed expressions of the stage checks.

This module uses the standard library only: ``chainrule check`` sends its source, as text, into
a student's kernel, where it records the student's engine as data (numbers, strings, indices)
that the teacher's kernel then judges (``viz/cli/grading``). Nothing of a student's objects
leaves the student's kernel but those numbers.
"""
from __future__ import annotations

import math
from typing import Any, Callable

PROTOCOL = ("data", "grad", "_prev", "_op", "_backward")
"""The attributes a learner's node must have (``label`` and ``backward`` are optional)."""

Builder = Callable[[Callable[[float, str], Any]], Any]


class NotAnswered(Exception):
    """A method the expression needs still returns ``None`` or ``...`` (its body is ``...``)."""


def is_unanswered(x: Any) -> bool:
    """What a method still being written returns: ``None`` (a body of ``...``), ``...`` or
    ``NotImplemented``. (The report module's own test, written again here, since this module
    imports nothing of the project: it runs as text in a student's kernel.)"""
    return x is None or x is Ellipsis or x is NotImplemented


def _made(x: Any) -> Any:
    if is_unanswered(x):
        raise NotAnswered
    return x


def _named(node: Any, label: str) -> Any:
    node = _made(node)
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


def _shared(v: Callable[[float, str], Any]) -> Any:
    e = _named(v(1.5, "a") * v(-2.0, "b"), "e")
    return _made(e + _made(e * v(4.0, "c")))


EXPRESSIONS: dict[str, tuple[tuple[str, ...], Builder]] = {
    "d = a*b + c": (("+", "*"), lambda v: _made(_made(v(2.0, "a") * v(-3.0, "b")) + v(10.0, "c"))),
    "L = (a*b + c)*f": (("+", "*"), lambda v: _made(
        _made(_made(v(2.0, "a") * v(-3.0, "b")) + v(10.0, "c")) * v(-2.0, "f"))),
    "b = a + a (a used twice)": (("+",), lambda v: (lambda a: _made(a + a))(v(3.0, "a"))),
    "y = e + e*c with e = a*b (e used twice)": (("+", "*"), _shared),
    "y = a*a + a (a used three times)": (("+", "*"), lambda v: (
        lambda a: _made(_made(a * a) + a))(v(-1.5, "a"))),
    "o = tanh(x1*w1 + x2*w2 + b)": (("+", "*", "tanh"), _neuron),
    "e = exp(a*b)": (("*", "exp"), lambda v: _made(_made(v(0.5, "a") * v(-1.2, "b")).exp())),
    "p = (a*b)**2": (("*", "**"), lambda v: _made(_made(v(1.5, "a") * v(-0.4, "b")) ** 2)),
}
"""The expressions the stage checks build with a learner's class: name -> (the ops they need,
builder). The neuron's numbers are the micrograd lecture's (its output is about 0.7071)."""


def _label(node: Any) -> str:
    label = getattr(node, "label", None)
    return label if isinstance(label, str) else ""


def _operands(node: Any) -> list[Any]:
    prev = node._prev
    try:
        return list(prev)
    except TypeError:
        raise TypeError(f"_prev must be a set, tuple or list of nodes, got "
                        f"{type(prev).__name__}") from None


def check_protocol(node: Any) -> None:
    """Raise ``TypeError`` naming the first thing of the protocol ``node`` lacks."""
    missing = [a for a in PROTOCOL if not hasattr(node, a)]
    if missing:
        raise TypeError(f"{type(node).__name__} object is not a micrograd-style node: it has "
                        f"no {', '.join(missing)} (chainrule reads data, grad, _prev, _op, "
                        "_backward and, if present, label and backward)")
    if not isinstance(node._op, str):
        raise TypeError(f"_op must be a string such as '+' or 'tanh', got "
                        f"{type(node._op).__name__}")
    try:
        float(node.data)
    except (TypeError, ValueError):
        raise TypeError(f"data must be a number, got {type(node.data).__name__}") from None


def order_of(root: Any) -> list[Any]:
    """Every node ``root`` depends on, each after its operands: a post-order depth-first walk
    whose operands go in an order of their content (op nodes first, then by op, label and
    data), so ``_prev``'s set order, which changes from run to run, never changes it."""
    check_protocol(root)
    keys: dict[int, tuple[Any, ...]] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:                                 # content keys, operands first
        node, expanded = stack.pop()
        if id(node) in keys:
            continue
        operands = _operands(node)
        if expanded:
            keys[id(node)] = (not node._op, node._op, _label(node), float(node.data),
                              tuple(sorted(keys[id(o)] for o in operands)))
        else:
            check_protocol(node)
            stack.append((node, True))
            stack.extend((o, False) for o in operands if id(o) not in keys)
    order: list[Any] = []
    seen: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        operands = sorted(_operands(node), key=lambda o: keys[id(o)])
        stack.extend((o, False) for o in reversed(operands) if id(o) not in seen)
    return order


def snapshot(root: Any, order: list[Any] | None = None) -> dict[str, Any]:
    """The graph under ``root`` as data: ``{"nodes": [{"data", "op", "label", "prev"}, ...]}``
    in :func:`order_of`'s order (the root last), ``prev`` being the operands' indices (each
    once, in that order)."""
    order = order_of(root) if order is None else order
    index = {id(n): i for i, n in enumerate(order)}
    return {"nodes": [{"data": float(n.data), "op": n._op, "label": _label(n),
                       "prev": sorted({index[id(o)] for o in _operands(n)})} for n in order]}


def _number(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def record_pass(root: Any, order: list[Any], use_own_backward: bool | None = None) -> dict[str, Any]:
    """Run the learner's backward pass from ``root`` with every ``grad`` first set to 0 and
    every ``_backward`` watched; afterwards every ``grad`` and ``_backward`` is as it was.

    ``use_own_backward``: ``True`` runs ``root.backward()`` (the learner's order and seed);
    ``False`` sets ``root.grad = 1`` and calls each node's ``_backward`` in reverse topological
    order; ``None`` (default) the first when ``root`` has a ``backward`` method.

    Returns ``{"own", "calls", "grads", "error", "unwatched"}``: per ``_backward`` call, in the
    order they ran, ``{"node", "upstream", "operands", "before", "after", "error"}`` (indices
    into ``order``; the operands' ``grad`` before and after the call); each node's final
    ``grad``; what the pass raised outside any ``_backward``; the nodes whose ``_backward``
    could not be watched (a ``__slots__`` class: their calls run but are not seen).
    """
    index = {id(n): i for i, n in enumerate(order)}
    own = callable(getattr(root, "backward", None)) if use_own_backward is None else use_own_backward
    saved = [(node, node.grad) for node in order]
    installed: list[tuple[Any, bool, Any]] = []
    unwatched: list[int] = []                 # nodes whose _backward could not be wrapped
    calls: list[dict[str, Any]] = []
    error: str | None = None

    def watch(node: Any, original: Callable[..., Any]) -> Callable[..., Any]:
        operands = [order[i] for i in sorted({index[id(o)] for o in _operands(node)})]

        def watched(*args: Any, **kwargs: Any) -> Any:
            before = [_number(o.grad) for o in operands]
            upstream = _number(node.grad)
            raised: BaseException | None = None
            try:
                return original(*args, **kwargs)
            except BaseException as exception:
                raised = exception
                raise
            finally:
                calls.append({"node": index[id(node)], "upstream": upstream,
                              "operands": [index[id(o)] for o in operands], "before": before,
                              "after": [_number(o.grad) for o in operands],
                              "error": None if raised is None else _error(raised)})
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
                unwatched.append(index[id(node)])   # __slots__ without _backward: runs unseen
                continue
            installed.append((node, had, original))
        try:
            if own:
                root.backward()
            else:
                root.grad = 1.0
                for node in reversed(order):
                    node._backward()
        except Exception as raised:           # the learner's bug: recorded, not raised
            error = _error(raised)
        grads = [_number(node.grad) for node in order]
    finally:
        for node, had, original in installed:
            if had:
                node._backward = original
            else:
                del node._backward
        for node, grad in saved:
            node.grad = grad
    if error is not None and any(call["error"] == error for call in calls):
        error = None                          # already told by the call that raised it
    return {"own": own, "calls": calls, "grads": grads, "error": error, "unwatched": unwatched}


def engine_record(cls: Any) -> dict[str, Any]:
    """A learner's class on every expression of :data:`EXPRESSIONS`, as data: per expression
    ``{"status": "built"|"unanswered"|"raised", "error", "graph", "passes"}``, ``passes``
    holding the pass in the learner's own order (``"own"``, when the class has ``backward``)
    and in chainrule's (``"engine_order"``). ``has_backward`` says whether the class has one."""
    has_backward = callable(getattr(cls, "backward", None))
    out: dict[str, Any] = {}
    for name, (_, build) in EXPRESSIONS.items():
        entry: dict[str, Any] = {"status": "built", "error": None}
        try:
            root = build(lambda data, label: _named(cls(data), label))
            if not _label(root):
                root = _named(root, name.split(" = ")[0])
            order = order_of(root)
            entry["graph"] = snapshot(root, order)
            entry["passes"] = {"engine_order": record_pass(root, order, False)}
            if has_backward:
                entry["passes"]["own"] = record_pass(root, order, True)
        except NotAnswered:
            entry = {"status": "unanswered", "error": None}
        except Exception as raised:
            entry = {"status": "raised", "error": _error(raised)}
        out[name] = entry
    return {"expressions": out, "has_backward": has_backward}


class _Node:
    """A minimal node (forward only): the graphs the sort check walks, and the shape every
    expression's graph must have."""

    def __init__(self, data: float, children: tuple[Any, ...] = (), op: str = "",
                 label: str = "") -> None:
        self.data, self.grad, self._prev, self._op, self.label = data, 0.0, set(children), op, label
        self._backward = lambda: None

    def __add__(self, other: Any) -> Any:
        return _Node(self.data + other.data, (self, other), "+")

    def __mul__(self, other: Any) -> Any:
        return _Node(self.data * other.data, (self, other), "*")

    def __pow__(self, k: float) -> Any:
        return _Node(self.data ** k, (self,), f"**{k}")

    def tanh(self) -> Any:
        return _Node(math.tanh(self.data), (self,), "tanh")

    def exp(self) -> Any:
        return _Node(math.exp(self.data), (self,), "exp")


def expected_graph(name: str) -> dict[str, Any]:
    """The graph expression ``name`` must have (built with :class:`_Node`), as a snapshot."""
    root = EXPRESSIONS[name][1](lambda data, label: _named(_Node(data), label))
    return snapshot(_named(root, name.split(" = ")[0]) if not _label(root) else root)


SORT_GRAPHS = [name for name, (ops, _) in EXPRESSIONS.items() if set(ops) <= {"+", "*"}]
"""The expressions a learner's topological sort is run on (a chain, a diamond, reuse)."""


def sort_record(sort: Callable[[Any], Any]) -> dict[str, Any]:
    """A learner's topological sort on each of :data:`SORT_GRAPHS` (built with a minimal node
    class of this module), as data: per graph ``{"graph", "order"|None, "status", "error"}``,
    ``order`` the indices (into the graph's nodes) of what the sort returned (``-1`` for an
    object not in the graph)."""
    out: dict[str, Any] = {}
    for name in SORT_GRAPHS:
        root = EXPRESSIONS[name][1](lambda data, label: _Node(data, label=label))
        root = _named(root, name.split(" = ")[0]) if not _label(root) else root
        order = order_of(root)
        index = {id(n): i for i, n in enumerate(order)}
        entry: dict[str, Any] = {"graph": snapshot(root, order), "order": None,
                                 "status": "built", "error": None}
        try:
            got = sort(root)
            if is_unanswered(got):
                entry["status"] = "unanswered"
            else:
                entry["order"] = [index.get(id(n), -1) for n in list(got)]
        except Exception as raised:
            entry["status"], entry["error"] = "raised", _error(raised)
        out[name] = entry
    return out
