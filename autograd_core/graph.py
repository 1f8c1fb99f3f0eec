"""The graph machinery shared by ``Value`` and ``Tensor``: nodes, topological order, and the
one backward loop.

A node stores its ``data``, the op that made it (``_op``, an :class:`~autograd_core.op.Bound`
record: the op, its parameters and its two local-derivative rules) and its one or two parents
(``_a``, ``_b``). :func:`backward` visits the nodes in reverse topological order and applies
the chain rule at each one, for each parent that requires grad:

    ∂L/∂parent += ∂L/∂node · ∂node/∂parent

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

    __slots__ = ("data", "grad", "_op", "_a", "_b", "requires_grad", "_label", "_scope")
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
    def op(self) -> Any:
        """The :class:`~autograd_core.op.Op` that produced this node (``None`` for a leaf)."""
        return None if self._op is None else self._op.op

    @property
    def params(self) -> dict[str, Any]:
        """The op's non-differentiable parameters (``{"slope": 0.01}`` for leaky_relu)."""
        return {} if self._op is None or not self._op.params else dict(self._op.params)

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
        return self._op is None

    def local_derivatives(self) -> tuple[Any, ...]:
        """``∂self/∂parent`` for each parent, at the current data (``()`` for a leaf)."""
        return () if self._op is None else self._op.op.local_derivatives(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickling and copying: a leaf as its data (and label, grad, flags); an op's result
        is refused with a reason, since it would drag its whole graph and rules along."""
        if self._op is not None:
            raise TypeError(
                f"cannot pickle or copy a {type(self).__name__} made by an op "
                f"({self._op.op.name}): it carries its graph. Use .detach() for its value, or "
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


def backward(root: Node, gradient: Any = None, *, retain_graph: bool | None = None,
             create_graph: bool = False, observer: Observer | None = None) -> None:
    """Backpropagate ``gradient`` (∂L/∂root; 1 for a scalar when omitted) to every node that
    ``root`` depends on, reporting each step to ``observer`` if one is given.

    Leaves accumulate into ``.grad`` across calls; intermediate nodes start from nothing on
    every call. With ``create_graph`` the gradients are themselves graph nodes, so they can be
    differentiated again. One pass runs at a time, so threads that share leaves lose nothing.
    """
    seed = root._seed(gradient, create_graph)
    order = topological_order(root)
    watch = _with_anomaly_check(observer)
    with _one_pass_at_a_time, root._quiet_arithmetic(), \
            changed_mode(grad_enabled=True) if create_graph else nullcontext():
        root._check_graph(order, observed=observer is not None)
        if pre_pass_checks:                        # armed misconception guards (guards.py)
            for check in tuple(pre_pass_checks):
                check(root, order)
        for node in order:
            if node._op is not None:
                node.grad = None                   # intermediate gradients start from nothing
        root.grad = seed if root._op is not None or root.grad is None else root.grad + seed
        # with create_graph a leaf's plain 0.0 counts as no gradient yet, so the gradient graph
        # gets no `0 + contribution` node
        fresh = [n for n in order if n._op is None and n.grad.__class__ is float
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


def _backward_loop(order: list[Node], m: Any, on_nodes: bool, release: bool,
                   watch: Observer | None) -> None:
    """The chain rule at every node, each after all the nodes that use it: for each operand
    that requires grad, ``∂L/∂operand += ∂L/∂node · ∂node/∂operand``. (The two operand slots
    are written out rather than looped over: a loop over them costs a third of the pass.)"""
    for node in reversed(order):
        bound = node._op
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
