"""The chain rule one step at a time: :func:`trace_backward` and :func:`trace_forward`.

``trace_backward(root)`` runs backward exactly as the engine does (reverse topological
order; at each node ``parent.grad += local · node.grad`` for each operand in order) and
records every step: the node, its upstream gradient ∂L/∂node, and for each operand the local
derivative (formula from the op record and value), the product, and the running sum when
the operand receives gradient along several paths. ``trace_forward(root)`` records the
values appearing node by node; with ``wrt=``/``tangents=`` it also carries dual-number
tangents (forward-mode AD): ``ż = Σ ∂z/∂operand · operanḋ``.

Views: ``.steps``, ``.to_text()``, ``.to_markdown()``, ``.to_latex()``, ``.frames()`` (one SVG
per step, all restyling one layout), ``.to_html()`` / ``.save_html(path)`` (self-contained
stepper, also shown inline in Jupyter).
"""
from __future__ import annotations

from typing import Any, Mapping

from autograd_core import Dual, TangentStep, observe_forward, topological_order

from autograd_core import checks

from .backward_trace import BackwardTrace, record_backward
from .collapse import check_scopes, collapse_trace
from .learner_trace import trace_learner_backward
from .forward_trace import ForwardStep, ForwardTrace, TangentTerm, _seed
from ..drawing.graph import DEFAULT_MAX_NODES, draw_graph
from ..drawing.style import (DEFAULT_NUMBER_FORMAT, NumberFormat, format_number, latex_name,
                             validate_number_format)
from .trace_views import _copy, _formulas, _local_formulas, _names_for


def trace_backward(root: Any, gradient: Any = None, *, collapse: str | None = None,
                   rankdir: str = "LR", show_local: bool = False, hide_constants: bool = False,
                   number_format: NumberFormat = DEFAULT_NUMBER_FORMAT,
                   max_nodes: int = DEFAULT_MAX_NODES, title: str | None = None) -> Any:
    """Record one backward pass from ``root`` (∂root/∂root = ``gradient``, 1 by default),
    step by step, changing nothing.

    This is the engine's own pass, watched (:func:`autograd_core.observe_backward`): nodes in
    reverse topological order, and at each one, for each operand slot that requires grad,
    ``operand.grad += ∂L/∂node · ∂(node)/∂(slot)``. The pass starts every gradient at zero and
    afterwards every ``.grad`` is as it was: tracing never changes a number, and tracing
    twice, or after ``backward()``, shows the same steps. A leaf whose ``.grad`` holds
    something other than this pass's total (earlier passes accumulated into it) is named in
    a note of its own. Each view writes a total ``∂L/∂x``, a local derivative
    ``∂(x * w)/∂(1st operand)`` and a contribution differently. It works on a graph whose own
    backward has already run (tensor data is kept). The drawing options are those of
    :func:`viz.draw_graph` (``title``: a caption under the graph); the graph is laid out
    when a picture is first asked for, showing this pass's gradients, and ``trace.graph``
    is that drawing (saving it as SVG reuses the layout the stepper shows).

    ``collapse="neuron"``, ``"layer"`` or ``"module"`` groups the same recorded steps at the
    grain of the network and returns a :class:`viz.tracing.collapse.CollapsedTrace`: one step per
    neuron (``δ_j = f'(z_j) · Σ_k w_kj δ_k``, then ``∂L/∂w_ji = δ_j · a_i``, ``∂L/∂b_j = δ_j``),
    per layer (the notes' Jacobian form ``δ^ℓ = G(ℓ) W_{ℓ+1}ᵀ δ^{ℓ+1}``,
    ``∂L/∂W_ℓ = δ^ℓ a^{ℓ-1}ᵀ``, with the matrices when they are small) or per module scope,
    each step holding the scalar steps inside it. Nodes made outside any module (the loss)
    stay ordinary steps. A graph with no module scopes raises ``ValueError``.

    ``root`` may be a node of a learner's own micrograd-style engine (``data``, ``grad``,
    ``_prev``, ``_op``, ``_backward``): then the trace is of *their* pass, each ``_backward()``
    call beside the chain rule's addition, departures marked ✗
    (:func:`viz.tracing.learner_trace.trace_learner_backward`).
    """
    if checks.learner_engine.is_learner_node(root):
        if collapse is not None or gradient is not None:
            raise ValueError("a trace of your own engine's pass takes neither collapse= nor "
                             "gradient= (your backward() seeds the root's grad itself)")
        return trace_learner_backward(root, rankdir=rankdir, show_local=show_local,
                                      number_format=number_format, title=title)
    if not hasattr(root, "parents") or not hasattr(root, "grad"):
        raise TypeError(f"trace_backward expects a graph node (Value or Tensor, or a "
                        f"micrograd-style node), got {type(root).__name__}")
    if collapse is not None and collapse not in ("neuron", "layer", "module"):
        raise ValueError(f"collapse must be None, 'neuron', 'layer' or 'module'; got {collapse!r}")
    number_format = validate_number_format(number_format)
    if collapse is not None:
        check_scopes(root, collapse)          # before the pass: a refused trace changes no .grad
    order = topological_order(root)
    names = _names_for(order, number_format)
    steps, grads, held, output = record_backward(root, gradient, names)
    drawing = dict(rankdir=rankdir, show_grad=True, show_local=show_local,
                   hide_constants=hide_constants, max_nodes=max_nodes, number_format=number_format,
                   title=title, _grads=grads)
    scalar = BackwardTrace(root, steps, names, lambda: draw_graph(root, **drawing), number_format,
                           grads, held, output)
    if collapse is not None:
        return collapse_trace(scalar, order, collapse,
                              lambda: draw_graph(root, collapse=collapse, **drawing))
    return scalar


def trace_forward(root: Any, wrt: Any = None, tangents: Mapping[Any, Any] | None = None, *,
                  rankdir: str = "LR", show_local: bool = False, hide_constants: bool = False,
                  number_format: NumberFormat = DEFAULT_NUMBER_FORMAT,
                  max_nodes: int = DEFAULT_MAX_NODES) -> ForwardTrace:
    """Record the forward pass of ``root``'s graph node by node, in topological order.

    Each step shows the node's formula (from its op record), the operands' values
    substituted, and the result. With ``wrt`` (a leaf or a sequence of leaves, each seeded
    with tangent 1) or ``tangents`` (``{leaf: tangent}``) every node also carries a dual
    number's tangent, ``ż = Σ_i ∂z/∂a_i · ȧ_i`` in operand order: forward-mode AD along the
    seed direction, to compare with :func:`trace_backward` on the same layout. Constants
    have tangent 0 and are not steps of their own.
    """
    if not hasattr(root, "parents"):
        raise TypeError(f"trace_forward expects a graph node (Value or Tensor), got "
                        f"{type(root).__name__}")
    number_format = validate_number_format(number_format)
    order = topological_order(root)
    names = _names_for(order, number_format)
    seed = _seed(order, wrt, tangents)
    dual = seed is not None
    if dual and not all(isinstance(n.data, float) for n in order):
        raise TypeError("trace_forward with wrt=/tangents= evaluates the graph on dual numbers, "
                        "which are scalars: it needs a Value graph")
    steps: list[ForwardStep] = []
    duals: dict[Any, Any] = {}
    for node in order:
        if node.op is None and not node.requires_grad:
            if dual:
                duals[node] = Dual(node.data)              # a constant: tangent 0
            continue
        if node.op is None:
            t = seed.get(node, 0.0) if dual else None
            if dual:                                       # (a tensor's data is no Dual primal)
                duals[node] = Dual(node.data, t or 0.0)
            steps.append(ForwardStep(len(steps), "leaf", node, names[node], _copy(node.data),
                                     names[node], latex_name(names[node]),
                                     format_number(node.data, number_format), t))
            continue
        formula, formula_latex = _formulas(node, names)
        values = [format_number(p.data, number_format) for p in node.parents]
        if node.op.arity > 1:
            values = [f"({v})" if v.startswith("-") else v for v in values]
        substituted = node.op.formula(values, params=node.params)
        terms: tuple[TangentTerm, ...] = ()
        t = None
        if dual:
            seen: list[TangentStep] = []
            with observe_forward(seen.append):              # the engine's forward mode, observed
                duals[node] = node.op(*[duals[p] for p in node.parents], **node.params)
            step = seen[-1]
            t = step.result.tangent
            terms = tuple(TangentTerm(names[p], _local_formulas(node, k, names)[0], local,
                                      operand.tangent, local * operand.tangent, k)
                          for k, (p, operand, local) in enumerate(zip(node.parents, step.operands,
                                                                      step.locals))
                          if p.requires_grad)
        steps.append(ForwardStep(len(steps), "op", node, names[node], _copy(node.data), formula,
                                 formula_latex, substituted, t, terms))
    fmt = number_format
    third = (lambda n: "tangent " + format_number(duals[n].tangent if n in duals else 0.0, fmt)) \
        if dual else None
    drawing = dict(rankdir=rankdir, show_grad=False, show_local=show_local,
                   hide_constants=hide_constants, max_nodes=max_nodes, number_format=fmt,
                   _third_field=third)
    return ForwardTrace(root, steps, names, lambda: draw_graph(root, **drawing), number_format,
                        "dual" if dual else "values")
