"""A recorded backward pass, replayed with one step changed: the gradients a learner gets from
a specific slip (a local derivative left out, a path forgotten, the input used where the rule
needs the output).

:func:`record_pass` runs the engine's own pass with an observer and hands back its edges,
leaving every ``.grad`` as it was. :func:`replay` re-applies those edges,
``∂L/∂parent += ∂L/∂node · local``, with one edge's local derivative swapped, so each
alternative is the true chain rule except at the step the mistake is about.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .diagnose import number
from ..graph import Edge, backward, topological_order

MAX_EDGES_FOR_ALTERNATIVES = 80
"""Larger graphs get no slip-by-slip alternatives (each costs one replay of the pass)."""


@dataclass
class RecordedPass:
    """A backward pass as the engine ran it: the nodes, the edges in the order applied and
    each node's complete gradient ∂root/∂node."""

    root: Any
    order: list[Any]
    edges: list[Edge]
    grads: dict[Any, Any]
    seed: Any


def record_pass(root: Any) -> RecordedPass:
    """Run ``backward(root)`` with an observer and return what it did; every node's ``.grad``
    is restored afterwards, so checking a graph leaves it as the learner had it."""
    order = topological_order(root)
    saved = [node.grad for node in order]
    edges: list[Edge] = []
    try:
        for node in order:
            node.grad = None
        backward(root, retain_graph=True, observer=edges.append)
        seed = root._seed(None, False)
    finally:
        for node, grad in zip(order, saved):
            node.grad = grad
    grads: dict[Any, Any] = {root: seed}
    for edge in edges:
        grads[edge.parent] = edge.after
    return RecordedPass(root, order, edges, grads, seed)


def replay(recorded: RecordedPass, edge: Edge | None = None, local: Any = None) -> dict[Any, Any]:
    """The gradients the recorded pass gives with ``edge``'s local derivative replaced by
    ``local`` (``0`` drops the edge)."""
    grads: dict[Any, Any] = {recorded.root: recorded.seed}
    for e in recorded.edges:
        g = grads.get(e.node)
        if g is None:
            continue
        contribution = g * (local if e is edge else e.local)
        grads[e.parent] = contribution if e.parent not in grads else grads[e.parent] + contribution
    return grads


def uses(recorded: RecordedPass) -> dict[Any, list[Edge]]:
    """For each node, the edges that carry gradient into it (one per use), in pass order."""
    into: dict[Any, list[Edge]] = {}
    for e in recorded.edges:
        into.setdefault(e.parent, []).append(e)
    return into


def expression(node: Any, names: dict[Any, str], limit: int = 60) -> str:
    """The node as a formula over the names of the leaves (``tanh(w * x + b)``), or a short
    description when that would be longer than ``limit`` characters."""
    memo: dict[Any, str] = {}
    for n in topological_order(node):
        if n is not node and not n.is_leaf and (names.get(n) or n.label):
            memo[n] = names.get(n) or n.label       # a named intermediate stands for itself
            continue
        if n.is_leaf:
            memo[n] = names.get(n) or n.label or (number(float(n.data)) if np.size(n.data) == 1
                                                  else "c")
            continue
        op = n.op
        parts = [_operand(memo[p], p, op) for p in n.parents]
        memo[n] = op.formula(parts, params=n.params)
    text = memo[node]
    return text if len(text) <= limit else f"the {node.op.name} node"


def grouped(text: str, node: Any) -> str:
    """``text`` (the node's expression) in parentheses when it is a binary operation, so it
    can stand inside another formula."""
    return text if node.is_leaf or node.op.arity == 1 or node.label else f"({text})"


def _operand(text: str, node: Any, parent_op: Any) -> str:
    """Parenthesise a binary sub-expression inside an operator (not inside ``f(...)``)."""
    if node.is_leaf or node.op.arity == 1 or "($a)" in parent_op.text:
        return text
    return f"({text})"


def local_formula(edge: Edge, names: dict[Any, str]) -> str:
    """``∂(w * x)/∂w = x``: the edge's local derivative as the op's formula. Long operands
    are called ``u`` and ``v`` and spelled out after the formula."""
    node = edge.node
    parts, spelled = [], []
    for letter, p in zip("uv", node.parents):
        text = expression(p, names, 10**6)
        if len(text) > 12:
            spelled.append(f"{letter} = {expression(p, names)}")
            text = letter
        parts.append(text)
    out = node.op.formula(parts, params=node.params)
    out = f"({out})" if node.op.arity == 2 else out
    formula = (f"∂{out}/∂{parts[edge.position]} = "
               f"{node.op.derivative_formula(edge.position, parts, params=node.params)}")
    return formula + (f" (with {', '.join(spelled)})" if spelled else "")
