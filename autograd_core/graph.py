"""The graph machinery shared by ``Value`` and ``Tensor``: nodes, topological order, and the
one backward loop.

A node stores its ``data``, the op that made it (``_bound``, an :class:`~autograd_core.op.Bound`
record: the op, its parameters and its two local-derivative rules) and its one or two parents
(``_a``, ``_b``). :func:`backward` visits the nodes in reverse topological order and applies
the chain rule at each one, for each parent that requires grad:

    ∂L/∂parent += ∂L/∂node · ∂node/∂parent

:func:`backward_step` applies that same loop to one node (micrograd's ``node._backward()``).

For a ``Value`` the local derivative is a number; for a ``Tensor`` it is an array, or the
linear map of a vector-Jacobian product (``upstream * local`` applies it). Anything that wants
to watch the pass (the step-by-step trace, anomaly detection) passes an ``observer``: it is
called once per application of the chain rule with an :class:`Edge`.
"""
from __future__ import annotations

import os
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable

from ._state import changed_mode, current_mode


class Node:
    """Base of ``Value`` and ``Tensor``: what the graph machinery needs from a node.

    Subclasses provide ``_raw_math`` (the math namespace of their data), ``_graph_math`` (the
    namespace that records ops, for ``create_graph``), ``_seed`` (the root's starting
    gradient) and may hook ``_check_graph`` / ``_end_backward``.
    """

    __slots__ = ("data", "grad", "_bound", "_a", "_b", "requires_grad", "_label", "_scope")
    # ``_label`` and ``_scope`` are set only when a node has one: an empty slot costs nothing
    # to make, to walk for the garbage collector or to free, and most nodes have neither.

    _raw_math: Any
    _graph_math: Any
    _releases_grads = False      # tensors drop intermediate gradients once used (as PyTorch)
    _retains_grad = True
    _quiet_arithmetic = nullcontext   # tensors: IEEE results (0 · inf = nan) without warnings

    @property
    def parents(self) -> tuple[Any, ...]:
        """The nodes this one was computed from, in operand order (``()`` for a leaf)."""
        a, b = self._a, self._b
        return () if a is None else (a,) if b is None else (a, b)

    @property
    def _prev(self) -> set[Any]:
        """micrograd's name for the operands: a ``set`` (``set()`` for a leaf; ``{a}`` for
        ``a + a``). :attr:`parents` is the same in operand order, as a tuple."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """micrograd's name: the op's symbol as a string, ``''`` for a leaf.

        ``'+'``, ``'-'``, ``'*'``, ``'/'``, ``'tanh'``, ``'exp'``, ``'ReLU'``, ...: the
        :attr:`~autograd_core.op.Op.symbol` a graph shows. A power by a constant reads as
        micrograd writes it, exponent included (``x ** 2`` gives ``'**2'``, ``x ** -1``
        ``'**-1'``); by a Value that requires grad, ``'**'``. Read-only: the op is :attr:`op`.
        """
        bound = self._bound
        if bound is None:
            return ""
        op = bound.op
        b = self._b
        if op.name == "pow" and not b.requires_grad and getattr(b.data, "size", 1) == 1:
            exponent = b.data.item() if hasattr(b.data, "item") else b.data
            return f"**{exponent:g}"
        return op.symbol

    def backward_step(self) -> None:
        """Apply the chain rule at this one node: for each operand that requires grad,
        ``operand.grad += ∂self/∂operand · self.grad``.

        This is one step of :meth:`backward` (the same loop, run over this node alone), and
        micrograd's ``node._backward()``: set the output's ``grad`` to 1, then call it on every
        node in reverse topological order, and the leaves hold what ``backward()`` gives. It
        adds, so calling it twice adds twice. A leaf has no operands: nothing happens; nor
        for a node whose ``grad`` is ``None`` (a Tensor nothing has reached yet).
        """
        backward_step(self)

    _backward = backward_step
    """micrograd's name for :meth:`backward_step`."""

    @property
    def op(self) -> Any:
        """The :class:`~autograd_core.op.Op` that produced this node (``None`` for a leaf)."""
        return None if self._bound is None else self._bound.op

    @property
    def params(self) -> dict[str, Any]:
        """The op's non-differentiable parameters (``{"slope": 0.01}`` for leaky_relu)."""
        return {} if self._bound is None or not self._bound.params else dict(self._bound.params)

    @property
    def label(self) -> str | None:
        """The name shown in graphs and traces (``None`` when the node has none)."""
        return getattr(self, "_label", None)

    @label.setter
    def label(self, value: str | None) -> None:
        if value is None:
            if hasattr(self, "_label"):
                del self._label
        else:
            self._label = str(value)

    @property
    def scope(self) -> tuple[Any, ...]:
        """The module scopes (outermost first) active when this node was created."""
        call = getattr(self, "_scope", None)
        return () if call is None else call.modules

    @property
    def module_call(self) -> Any:
        """The :class:`~autograd_core.ModuleCall` during which this node was created (``None``
        outside every module): the innermost call; ``module_call.calls`` lists all of them."""
        return getattr(self, "_scope", None)

    @property
    def is_leaf(self) -> bool:
        """True for nodes not produced by an op: inputs, parameters and constants."""
        return self._bound is None

    def local_derivatives(self) -> tuple[Any, ...]:
        """``∂self/∂parent`` for each parent, at the current data (``()`` for a leaf)."""
        return () if self._bound is None else self._bound.op.local_derivatives(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickling and copying: a leaf as its data (and label, grad, flags); an op's result
        is refused with a reason, since it would drag its whole graph and rules along."""
        if self._bound is not None:
            raise TypeError(
                f"cannot pickle or copy a {type(self).__name__} made by an op "
                f"({self._bound.op.name}): it carries its graph. Use .detach() for its value, or "
                f"save the leaves (a model's state_dict())")
        return super().__reduce_ex__(protocol)

    def _check_graph(self, order: list[Any], observed: bool) -> None:
        """Hook: refuse a pass through ``order`` (tensors refuse a graph already walked)."""

    def _end_backward(self, order: list[Any], retain_graph: bool) -> None:
        """Hook run after the pass (tensors make each kept gradient their own array)."""


def topological_order(root: Node) -> list[Node]:
    """Every node ``root`` depends on, each after all of its operands; ``root`` is last.

    A depth-first walk that finishes a node's first operand, then its second, before the
    node itself (post-order, as micrograd's ``build_topo``). It is often, not always, the
    order the forward pass made the nodes in:

    >>> x, y = Value(1.0, label="x"), Value(2.0, label="y")
    >>> u = x * 2; v = y * 3; z = v + u
    >>> u.label, v.label, z.label = "u", "v", "z"
    >>> [n.label or f"{n.data:g}" for n in topological_order(z)]   # v's side first
    ['y', '3', 'v', 'x', '2', 'u', 'z']

    (Creation order would need a counter on every node and a sort: together about a tenth
    of the time of micrograd's demo step; see ``benchmarks/README.md``.) The walk keeps its
    own stack, so a chain of a million nodes needs no change to the recursion limit. Nodes
    hash by identity.
    """
    order = []
    reached = {root}
    path = [root]                          # the walk's current path from root
    while path:
        node = path[-1]
        a = node._a
        if a is not None and a not in reached:
            reached.add(a)
            path.append(a)
            continue
        b = node._b
        if b is not None and b not in reached:
            reached.add(b)
            path.append(b)
            continue
        order.append(path.pop())           # both operands are finished: so is the node
    return order


@dataclass(frozen=True)
class Edge:
    """One application of the chain rule, as :func:`backward` reports it to an observer.

    ``contribution = upstream · local`` is added to ``parent``'s gradient: ``before`` it was
    added and ``after`` (``before`` is ``None`` when the parent had no gradient yet this
    pass). ``local`` is ``∂node/∂parent`` (a number or an array), or ``None`` when the op's
    derivative is a vector-Jacobian product that is never formed as a matrix.
    """

    node: Any
    position: int
    parent: Any
    upstream: Any
    local: Any
    contribution: Any
    before: Any
    after: Any


Observer = Callable[[Edge], None]
_one_pass_at_a_time = threading.RLock()


def _new_lock_in_child() -> None:
    """After ``fork()`` the child has only the forking thread: a lock another thread held
    (mid-``backward``) would never be released there, so the child gets a fresh one."""
    global _one_pass_at_a_time
    _one_pass_at_a_time = threading.RLock()


if hasattr(os, "register_at_fork"):                # POSIX only; there is no fork elsewhere
    os.register_at_fork(after_in_child=_new_lock_in_child)

pre_pass_checks: list[Callable[[Node, list[Node]], None]] = []
"""Checks that :func:`backward` runs once per pass, ``check(root, order)``, before any gradient
moves: the armed misconception guards (see :mod:`autograd_core.guards`, which arms and disarms
them). Empty unless one is armed, so an unguarded pass pays one test of an empty list."""


leaf_guard: Any = None
"""The zero_grad guard for hand-written loops (:mod:`autograd_core.guards` installs it; ``None``
while guards are off or once it has warned). An unobserved pass calls ``leaf_guard.check(order)``
before any gradient moves, and ``leaf_guard.record(leaves)`` after it, with the leaves that
require grad."""


def backward(root: Node, gradient: Any = None, *, retain_graph: bool | None = None,
             create_graph: bool = False, observer: Observer | None = None) -> None:
    """Backpropagate ``gradient`` (∂L/∂root; 1 for a scalar when omitted) to every node that
    ``root`` depends on, reporting each step to ``observer`` if one is given.

    Leaves accumulate into ``.grad`` across calls; intermediate nodes start from nothing on
    every call. With ``create_graph`` the gradients are themselves graph nodes, so they can be
    differentiated again. One pass runs at a time, so threads that share leaves lose nothing.

    A pass with an ``observer`` (a trace, a check run on the side) is not counted by the
    zero_grad guard for hand-written loops: it neither checks the leaves nor becomes the pass
    the next one is compared with (see :mod:`autograd_core.guards`).
    """
    seed = root._seed(gradient, create_graph)
    order = topological_order(root)
    watch = _with_anomaly_check(observer)
    guard = leaf_guard if observer is None else None
    with _one_pass_at_a_time, root._quiet_arithmetic(), \
            changed_mode(grad_enabled=True) if create_graph else nullcontext():
        root._check_graph(order, observed=observer is not None)
        if pre_pass_checks and observer is None:   # armed misconception guards (guards.py);
            # an observed pass is a view (a trace): it runs none, so looking changes no flag
            for check in tuple(pre_pass_checks):
                check(root, order)
        if guard is not None:
            guard.check(order)                     # leaves changed by hand, gradients kept?
        leaves = []
        for node in order:
            if node._bound is not None:
                node.grad = None                   # intermediate gradients start from nothing
            elif node.requires_grad:
                leaves.append(node)                # the leaves this pass adds to
        root.grad = seed if root._bound is not None or root.grad is None else root.grad + seed
        # with create_graph a leaf's plain 0.0 counts as no gradient yet, so the gradient graph
        # gets no `0 + contribution` node
        fresh = [n for n in leaves if n.grad.__class__ is float
                 and n.grad == 0.0] if create_graph else ()
        for node in fresh:
            node.grad = None
        _backward_loop(order, root._graph_math if create_graph else root._raw_math, create_graph,
                       root._releases_grads, watch)
        for node in fresh:
            if node.grad is None:
                node.grad = 0.0
        root._end_backward(order, root._retain_graph_default or create_graph
                           if retain_graph is None else retain_graph)
        if guard is not None:
            guard.record(leaves)


def backward_step(node: Node, observer: Observer | None = None) -> None:
    """The chain rule at ``node`` alone: ``operand.grad += ∂node/∂operand · node.grad`` for each
    operand that requires grad (micrograd's ``node._backward()``; :meth:`Node.backward_step`).

    It runs the one loop of :func:`backward` over ``[node]``, so a step and a pass can never
    disagree; ``observer`` sees its :class:`Edge` records. Nothing happens at a leaf, or when
    ``node.grad`` is ``None``. It is not a pass: no gradient is reset and the guards are
    not consulted.
    """
    if node._bound is None or node.grad is None:
        return
    order = [node]
    with _one_pass_at_a_time, node._quiet_arithmetic():
        node._check_graph(order, observed=True)    # a tensor changed in place is refused
        _backward_loop(order, node._raw_math, False, False, _with_anomaly_check(observer))
        node._end_backward(list(node.parents), True)


def observe_backward(root: Node, gradient: Any = None) -> tuple[list[Edge], dict[Node, Any]]:
    """One backward pass from ``root`` as a view sees it, changing nothing.

    Every gradient of the graph starts at zero, each application of the chain rule
    (``∂L/∂parent += ∂L/∂node · ∂node/∂parent``) is recorded as an :class:`Edge`, and
    afterwards every ``.grad`` is what it was before the call: looking never changes the
    numbers, and the result is the same however many backward passes ran before.

    Returns the edges in pass order and ``totals``: each node's gradient at the end of the
    pass, ∂L/∂node, for every node that received one (the root holds the seed).
    """
    order = topological_order(root)
    edges: list[Edge] = []
    with _one_pass_at_a_time:
        saved = [(node, node.grad) for node in order]
        try:
            for node in order:
                if node._bound is None:
                    node.grad = None               # this pass's accumulators start empty
            backward(root, gradient, retain_graph=True, observer=edges.append)
            totals: dict[Node, Any] = {root: root.grad} if root.grad is not None else {}
        finally:
            for node, grad in saved:
                node.grad = grad
    for edge in edges:                             # the last value each one reached
        totals[edge.node] = edge.upstream
        totals[edge.parent] = edge.after
    return edges, totals


def _backward_loop(order: list[Node], m: Any, on_nodes: bool, release: bool,
                   watch: Observer | None) -> None:
    """The chain rule at every node, each after all the nodes that use it: for each operand
    that requires grad, ``∂L/∂operand += ∂L/∂node · ∂node/∂operand``. (The two operand slots
    are written out rather than looped over: a loop over them costs a third of the pass.)"""
    for node in reversed(order):
        bound = node._bound
        if bound is None:
            continue                                    # a leaf: its gradient is complete
        upstream = node.grad                            # ∂L/∂node, complete: its users are done
        a, b = node._a, node._b
        if on_nodes:
            out, x, y = node, a, b
        else:
            out, x, y = node.data, a.data, None if b is None else b.data
        if a.requires_grad:                             # the first operand
            local = bound.rules[0](m, out, x, y)        # ∂node/∂a, from the op's record
            contribution = upstream * local             # the chain rule
            before = a.grad
            a.grad = contribution if before is None else before + contribution
            if watch is not None:
                watch(Edge(node, 0, a, upstream, getattr(local, "shown", local),
                           contribution, before, a.grad))
        if b is not None and b.requires_grad:           # the second operand, the same way
            local = bound.rules[1](m, out, x, y)
            contribution = upstream * local
            before = b.grad
            b.grad = contribution if before is None else before + contribution
            if watch is not None:
                watch(Edge(node, 1, b, upstream, getattr(local, "shown", local),
                           contribution, before, b.grad))
        if release and not node._retains_grad:
            node.grad = None                            # used up: free it (as PyTorch does)


def _with_anomaly_check(observer: Observer | None) -> Observer | None:
    """``observer``, joined by the NaN check when ``detect_anomaly()`` is on."""
    if not current_mode()[2]:
        return observer
    from .anomaly import check_edge

    if observer is None:
        return check_edge
    return lambda edge: (observer(edge), check_edge(edge))
