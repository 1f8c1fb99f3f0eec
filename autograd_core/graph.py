"""The graph machinery shared by ``Value`` and ``Tensor``: nodes, topological order, backward.

A node stores its ``data``, the ``op`` that made it and its ``parents``. Backward visits the
nodes in reverse topological order and applies the chain rule at each one:

    parent.grad += ∂node/∂parent · node.grad     (for tensors: a vector-Jacobian product)

:func:`backward` is the whole engine; each node class says in ``_backprop`` how its
gradient reaches its parents.
"""
from __future__ import annotations

from contextlib import nullcontext
from itertools import count
from operator import attrgetter
from typing import Any

from ._state import set_grad_enabled, state


class Node:
    """Base of ``Value`` and ``Tensor``: what the graph machinery needs from a node.

    Subclasses provide ``parents``, ``_backprop`` (push ``self.grad`` to the parents),
    ``_accumulate``, ``_zero_grad`` (what a fresh gradient is), and the math namespaces
    their rules run on:
    ``_raw_math`` for their data and ``_graph_math`` recording ops (``create_graph``).
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_ctx", "_scope", "_serial")

    _raw_math: Any
    _graph_math: Any
    _retain_graph_default = True

    _parents: tuple[Any, ...]   # a slot on Tensor, a property built from two slots on Value

    @property
    def parents(self) -> tuple[Any, ...]:
        """The nodes this one was computed from, in operand order (``()`` for a leaf)."""
        return self._parents

    @property
    def op(self) -> Any:
        """The :class:`~autograd_core.op.Op` that produced this node (``None`` for a leaf)."""
        return self._op

    @property
    def params(self) -> dict[str, Any]:
        """The op's non-differentiable parameters (``{"slope": 0.01}`` for leaky_relu)."""
        return dict(self._ctx or {})

    @property
    def scope(self) -> tuple[Any, ...]:
        """The module scopes (outermost first) active when this node was created."""
        return self._scope or ()

    @property
    def is_leaf(self) -> bool:
        """True for nodes not produced by an op: inputs, parameters and constants."""
        return self._op is None

    def _backprop(self, create_graph: bool) -> None:
        """The chain rule at this node: add each parent's share of ``self.grad`` to it."""
        for parent, contribution in zip(self._parents, self._op.vjp(self, self.grad, create_graph)):
            if contribution is not None:
                parent._accumulate(contribution)

    def _accumulate(self, contribution: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _start_backward(self, order: list[Any]) -> None:
        """Hook run on the root before backward (tensors refuse a graph already freed)."""

    def _finish_backward(self, order: list[Any], retain_graph: bool) -> None:
        """Hook run on the root after backward (tensors free non-retained grads here)."""


def topological_order(root: Node) -> list[Node]:
    """Every node ``root`` depends on, each after all of its parents.

    A node is always created after its parents, so the nodes ``root`` reaches, sorted by
    their creation serial number, are in topological order: the order the forward pass
    computed them. Finding them is a plain graph search with no recursion, so a chain of a
    million nodes needs no change to the recursion limit. (Nodes hash by identity.)
    """
    reached = {root}
    stack = [root]
    while stack:
        for parent in stack.pop()._parents:
            if parent not in reached:
                reached.add(parent)
                stack.append(parent)
    return sorted(reached, key=_creation)


_creation = attrgetter("_serial")
new_serial = count().__next__
"""The next creation serial number: every node constructor takes one."""


def backward(root: Node, gradient: Any, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Backpropagate ``gradient`` (∂L/∂root) to every node ``root`` depends on.

    Leaves accumulate into ``.grad`` across calls; intermediate nodes start from zero on
    every call. With ``create_graph`` the gradients are themselves graph nodes.
    """
    order = topological_order(root)
    reset_intermediate_grads(order)
    root._accumulate(gradient)
    anomaly = state.anomaly
    # Raw gradients are plain floats/arrays and record nothing; create_graph records ops.
    with set_grad_enabled(True) if create_graph else nullcontext():
        for node in reversed(order):            # each node after everything that uses it
            if node._op is not None:
                node._backprop(create_graph)    # parent.grad += local derivative · node.grad
                if anomaly:
                    _check_parents(node)
    if retain_graph is None:
        retain_graph = root._retain_graph_default or create_graph
    root._finish_backward(order, retain_graph)


def reset_intermediate_grads(order: list[Node]) -> None:
    """Before a backward pass: every non-leaf gradient starts from zero (leaves keep theirs)."""
    if not order:
        return
    root = order[-1]
    root._start_backward(order)
    zero = root._zero_grad
    for node in order:
        if node._op is not None:
            node.grad = zero


def _check_parents(node: Node) -> None:
    from .anomaly import check_backward

    check_backward(node)
