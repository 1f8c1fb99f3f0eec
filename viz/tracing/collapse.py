"""Backward at the grain of the network: ``trace_backward(root, collapse="neuron" | "layer" |
"module")``.

The steps are the engine's own pass, recorded once by :func:`viz.trace_backward` through the
observer of :func:`autograd_core.backward`; this module only groups them. The scalar steps
whose nodes one module call made (``node.module_call``, at the grain of the boxes
:func:`viz.drawing.graph.node_groups` gives ``draw_graph(collapse=...)``) become one step, placed where
the call's first step is; it keeps its scalar steps, in the pass's order and numbering (the
stepper opens and closes them). They need not be consecutive: the pass is depth-first, so it
finishes each layer-1 neuron between two steps of the first layer-2 neuron that uses it.
Every number a collapsed step prints is one the pass recorded:
an upstream gradient, a local derivative, a contribution, a gradient after the pass; a sum is
printed with its terms, and the total printed is the engine's sum, not a second computation.

Conventions (those of notes 004, with the gradient's sign): ``z = W a + b`` (``a`` the previous
layer's output), ``a = f(z)``; ``δ = ∂L/∂z``; ``f'`` is evaluated at the neuron's own ``z``;
``δ^ℓ = G(ℓ) W_{ℓ+1}ᵀ δ^{ℓ+1}`` with ``G(ℓ) = diag(f'(z^ℓ))``; ``∂L/∂W_ℓ = δ^ℓ a^{ℓ-1}ᵀ``,
``∂L/∂b_ℓ = δ^ℓ``. A Tensor batch has one sample per row (``Z = A Wᵀ + b``, as ``nn.Linear``), so
``∂L/∂W = δᵀ A = Σ_n δ^(n) a^(n)ᵀ``.

A step is recognised as a neuron (a scalar ``nn.Neuron``: ``f(b + Σ_i w_i·a_i)``), a scalar
layer, a Tensor ``Linear`` or an elementwise activation module only when the recorded edges
have exactly that structure; anything else is shown as a generic module step (gradients in,
gradients of its parameters, gradients out), so no step ever claims a formula its numbers do
not follow.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import numpy as np

from autograd_core import topological_order

from ..drawing.graph import COLLAPSE_LEVELS, _scope_parameters, _scope_title, node_groups
from ..browser.stepper import Frame, Steps
from ..drawing.style import latex_partial, markdown_escape
from .backward_trace import BackwardStep, BackwardTrace, Contribution
from .trace_views import _TraceViews

from .collapse_steps import (ELEMENTWISE_ACTIVATIONS, MAX_LISTED, CollapsedStep, LayerDetail,
                             ModuleDetail, NeuronDetail, ParamGrad, Term)
from .collapse_text import (Formatter, param_lhs_latex, layer_latex, layer_lines, module_lines,
                            neuron_latex, neuron_lines, tex_name, tex_number, tex_text)

# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------
def check_scopes(root: Any, collapse: str) -> None:
    """Raise ``ValueError`` unless ``root``'s graph has nodes made inside ``nn`` modules."""
    if collapse not in COLLAPSE_LEVELS:
        raise ValueError(f"collapse must be None, 'neuron', 'layer' or 'module'; got {collapse!r}")
    order = topological_order(root)
    if not node_groups(order, collapse):
        raise ValueError(
            f"collapse={collapse!r}: no node of this graph was made inside an nn module, so "
            f"there is no {collapse} to group the steps by (the graph was built outside any "
            f"module: nn.Module.__call__ records the scope, calling forward() directly or "
            f"plain Value/Tensor arithmetic does not). Use trace_backward(root) for the scalar "
            f"steps.")


# ---------------------------------------------------------------------------------------------
# analysis: the recorded steps -> neuron / layer / module details
# ---------------------------------------------------------------------------------------------
def _is_scalar(x: Any) -> bool:
    return isinstance(x, float)


class _Analysis:
    """What the grouping needs from the recorded pass: steps by node, the contributions each
    node received (in the pass's order), names."""

    def __init__(self, scalar: BackwardTrace, order: Sequence[Any]) -> None:
        self.scalar = scalar
        self.order = order
        self.names = scalar.names
        self.L = scalar.names[scalar.root]
        self.step_of: dict[Any, BackwardStep] = {}
        self.into: dict[Any, list[tuple[BackwardStep, Contribution]]] = {}
        for step in scalar.steps:
            if step.kind != "node":
                continue
            self.step_of[step.node] = step
            for c in step.contributions:
                self.into.setdefault(c.parent, []).append((step, c))
        self.consumers: dict[Any, list[Any]] = {n: [] for n in order}
        for node in order:
            for p in node.parents:
                self.consumers[p].append(node)
        self.neuron_groups = node_groups(order, "neuron")
        self.unit_names: dict[Any, str] = {}      # a unit's output node -> "L2.n7"
        self.deltas: dict[Any, tuple[str, Any]] = {}   # a neuron's z-chain node -> (name, δ)
        self._titles: dict[int, str] = {}
        self._kinds: dict[str, int] = {}

    def title(self, scope: Any) -> str:
        """The scope's label (``L2.n7``, ``0 (Linear)``); an unlabelled module is named by its
        class, numbered when the graph has several of that class (``MLP``, ``Block #2``)."""
        key = id(scope)
        if key not in self._titles:
            label = getattr(scope, "name", None) or getattr(scope, "label", None)
            if isinstance(label, str) and label:
                self._titles[key] = _scope_title(scope, 0)
            else:
                kind = type(scope).__name__
                self._kinds[kind] = self._kinds.get(kind, 0) + 1
                self._titles[key] = f"{kind} #{self._kinds[kind]}"
        return self._titles[key]

    def input_name(self, node: Any) -> str:
        if node in self.unit_names:
            return f"a({self.unit_names[node]})"
        return self.names[node]


def _contribution(step: BackwardStep, parent: Any) -> Contribution | None:
    for c in step.contributions:
        if c.parent is parent:
            return c
    return None


def _param_grad(c: Contribution, name: str, input_name: str | None, input_value: Any,
                delta: Any) -> ParamGrad:
    return ParamGrad(c.parent, name, input_name, input_value, delta, c.product, c.before,
                     c.after, c.path, c.paths)


def _fprime_formula(node: Any) -> str:
    return node.op.derivative_formula(0, ["z"], params=node.params)


def _scalar_neuron(an: _Analysis, scope: Any, run: list[BackwardStep]) -> NeuronDetail | None:
    """A scalar neuron's step, when the run is exactly ``f(b + Σ_i w_i·a_i)`` (else None)."""
    members = {s.node for s in run}
    out = run[0].node                                # the last node the call made
    if not _is_scalar(out.data) or not isinstance(run[0].upstream, float):
        return None
    params = _scope_parameters(scope)
    first = run[0]
    if out.op.arity == 1 and out.parents[0] in members and out.op.name in ELEMENTWISE_ACTIVATIONS:
        activation, z = out.op.name, out.parents[0]
        c = _contribution(first, z)
        if c is None or len(an.consumers[z]) != 1:
            return None
        fprime, delta, chain = c.local, c.product, run[1:]
        formula = _fprime_formula(out)
    else:
        activation, z, fprime, delta, chain, formula = "linear", out, None, first.upstream, run, "1"
    weights: list[ParamGrad] = []
    bias: ParamGrad | None = None
    deltas_here = []
    for s in chain:
        op = s.node.op.name
        if s.upstream != delta:                     # the z-chain passes δ on unchanged
            return None
        if op == "add":
            for c in s.contributions:
                if c.parent in members:
                    continue
                if id(c.parent) in params and c.parent.is_leaf and bias is None:
                    bias = _param_grad(c, an.names[c.parent], None, c.local, s.upstream)
                else:
                    return None
        elif op == "mul":
            a, b = s.node.parents
            weight = a if id(a) in params and a.is_leaf else b if id(b) in params and b.is_leaf else None
            if weight is None:
                return None
            other = b if weight is a else a
            for c in s.contributions:
                if c.parent is weight:
                    weights.append(_param_grad(c, an.names[weight], an.input_name(other), c.local,
                                               s.upstream))
        else:
            return None
        deltas_here.append(s.node)
    name = an.unit_names.get(out) or an.title(scope)
    for node in deltas_here:
        an.deltas[node] = (name, delta)
    terms = _terms(an, out, first.upstream)
    if terms is None:
        return None
    order = {id(p): k for k, p in enumerate(scope.parameters())} if hasattr(scope, "parameters") else {}
    weights.sort(key=lambda g: order.get(id(g.param), 0))
    return NeuronDetail(name, activation, formula, z.data, out.data, first.upstream, terms,
                        fprime, delta, tuple(weights), bias)


def _terms(an: _Analysis, out: Any, total: Any) -> tuple[Term, ...] | None:
    """The contributions ``out`` received, as terms ``w_kj · δ_k`` where the consumer is a
    recognised neuron's weighted input."""
    terms = []
    for step, c in an.into.get(out, []):
        consumer = step.node
        if consumer in an.deltas and consumer.op.name == "mul":
            cname, cdelta = an.deltas[consumer]
            weight = consumer.parents[1 - c.index]
            if step.upstream == cdelta:
                terms.append(Term(an.names[weight], cname, c.local, step.upstream, c.product))
                continue
        terms.append(Term(None, an.names[consumer], c.local, step.upstream, c.product))
    return tuple(terms)


def _scalar_layer(an: _Analysis, scope: Any, run: list[BackwardStep],
                  neurons: list[NeuronDetail | None]) -> LayerDetail | None:
    """A scalar layer from its neurons' steps (in index order)."""
    if not neurons or any(n is None for n in neurons):
        return None
    ns: list[NeuronDetail] = list(neurons)           # type: ignore[arg-type]
    acts = {n.activation for n in ns}
    if len(acts) != 1:
        return None
    W_next = delta_next = None
    W_next_name = None
    # the next layer's neurons in index order (the pass met them last first): row k of
    # W_next is neuron k's weights, as δ_next[k] is its δ
    ordered = [sorted(n.terms, key=lambda t: _index_in(t.consumer)) for n in ns]
    consumers = [tuple(t.consumer for t in terms) for terms in ordered]
    if ns[0].terms and all(t.weight_name for n in ns for t in n.terms) \
            and len(set(consumers)) == 1:
        W_next = np.array([[terms[k].factor for terms in ordered]
                           for k in range(len(ordered[0]))])
        delta_next = np.array([t.delta for t in ordered[0]])
        W_next_name = _layer_of(consumers[0])
    widths = {len(n.weights) for n in ns}
    inputs = [tuple(w.input_name for w in n.weights) for n in ns]
    dW = A_prev = A_name = None
    if len(widths) == 1 and len(set(inputs)) == 1 and widths != {0}:
        dW = np.array([[w.product for w in n.weights] for n in ns])
        A_prev = np.array([w.input_value for w in ns[0].weights])
        A_name = _layer_of(inputs[0])
    db = np.array([n.bias.product for n in ns]) if all(n.bias for n in ns) else None
    name = an.title(scope)
    return LayerDetail(
        "dense", name, ns[0].activation, ns[0].fprime_formula,
        dL_da=np.array([n.dL_da for n in ns]), W_next=W_next, W_next_name=W_next_name,
        delta_next=delta_next, z=np.array([n.z for n in ns]),
        fprime=np.array([1.0 if n.fprime is None else n.fprime for n in ns]),
        delta=np.array([n.delta for n in ns]), A_prev=A_prev, A_prev_name=A_name,
        W_name=f"W({name})", dW=dW, b_name=f"b({name})", db=db, neurons=tuple(ns))


def _layer_of(names: Sequence[str]) -> str:
    """``"a(L1)"`` for ``("a(L1.n1)", "a(L1.n2)")``, ``"L3"`` for ``("L3.n1",)``; else the list."""
    stripped = [re.sub(r"^a\((.*)\)$", r"\1", n) for n in names]
    prefixes = {re.sub(r"\.n\d+$", "", n) for n in stripped}
    wrapped = names and names[0].startswith("a(")
    if len(prefixes) == 1 and all(re.search(r"\.n\d+$", n) for n in stripped):
        p = prefixes.pop()
        return f"a({p})" if wrapped else p
    return "(" + ", ".join(names) + ")"


# -- Tensor layers ------------------------------------------------------------------------
def _as_rows(x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    return arr.reshape(1, -1) if arr.ndim == 1 else arr


def _tensor_linear(an: _Analysis, scope: Any, run: list[BackwardStep]) -> LayerDetail | None:
    """``Z = A Wᵀ + b`` as ``nn.Linear`` records it: permute(W), matmul, add(bias)."""
    nodes = [s.node for s in run]
    ops = [n.op.name for n in nodes]
    params = _scope_parameters(scope)
    add = matmul = perm = None
    if ops == ["add", "matmul", "permute"] or ops == ["matmul", "permute"]:
        if ops[0] == "add":
            add, matmul, perm = nodes
        else:
            matmul, perm = nodes
    else:
        return None
    W = perm.parents[0]
    if id(W) not in params or np.ndim(W.data) != 2 or matmul.parents[1] is not perm \
            or perm.params.get("axes") != (1, 0):
        return None
    steps = {s.node: s for s in run}
    if add is not None:
        if add.parents[0] is not matmul or id(add.parents[1]) not in params:
            return None
        delta = steps[add].upstream
        cb = _contribution(steps[add], add.parents[1])
        db = None if cb is None else cb.product
        b_name = an.names[add.parents[1]]
    else:
        delta, db, b_name = steps[matmul].upstream, None, None
    if np.ndim(delta) not in (1, 2):
        return None
    cw = _contribution(steps[perm], W)
    x = matmul.parents[0]
    cx = _contribution(steps[matmul], x)
    source = _tensor_layer_below(an, x)
    return LayerDetail(
        "linear", an.title(scope), None, None, delta=_as_rows(delta),
        A_prev=_as_rows(x.data), A_prev_name=f"a({source})" if source else an.names[x],
        W=np.asarray(W.data), W_name=an.names[W],
        dW=None if cw is None else cw.product, b_name=b_name, db=db,
        dA_prev=None if cx is None else _as_rows(cx.product))


def _tensor_layer_below(an: _Analysis, x: Any) -> str | None:
    """``"0"`` when ``x = f(A Wᵀ + b)`` is the activation of a Linear whose weight is
    ``0.weight``: its units are then named ``a(0[i])``."""
    if x.op is None or x.op.name not in ELEMENTWISE_ACTIVATIONS:
        return None
    z = x.parents[0]
    m = z if z.op is not None and z.op.name == "matmul" else (
        z.parents[0] if z.op is not None and z.op.name == "add" else None)
    if m is None or m.op is None or m.op.name != "matmul":
        return None
    perm = m.parents[1]
    if perm.op is None or perm.op.name != "permute" or not perm.parents[0].is_leaf:
        return None
    name = an.names[perm.parents[0]]
    return name.removesuffix(".weight") if name.endswith(".weight") else None


def _tensor_activation(an: _Analysis, scope: Any, run: list[BackwardStep]) -> LayerDetail | None:
    """``A = f(Z)`` elementwise: ``δ = f'(Z) ⊙ ∂L/∂A``."""
    if len(run) != 1:
        return None
    s = run[0]
    node = s.node
    if node.op.name not in ELEMENTWISE_ACTIVATIONS or len(s.contributions) != 1 \
            or np.ndim(node.data) not in (1, 2):
        return None
    c = s.contributions[0]
    if c.local is None:
        return None
    return LayerDetail("activation", an.title(scope), node.op.name, _fprime_formula(node),
                       dL_da=_as_rows(s.upstream), z=_as_rows(node.parents[0].data),
                       fprime=_as_rows(np.broadcast_to(c.local, np.shape(node.data))),
                       delta=_as_rows(c.product))


def _tensor_neurons(an: _Analysis, linear: LayerDetail, act: LayerDetail | None,
                    consumer: LayerDetail | None) -> list[NeuronDetail]:
    """The units of a Tensor ``Linear`` (with the activation after it) as neuron steps."""
    prefix = (linear.W_name or "").removesuffix("weight")
    out_features = linear.W.shape[0]
    B = linear.delta.shape[0]
    neurons = []
    for j in range(out_features):
        name = f"{prefix.rstrip('.')}[{j}]" if prefix else f"unit[{j}]"
        if act is not None:
            dL_da, fprime, delta, z = (act.dL_da[:, j], act.fprime[:, j], act.delta[:, j],
                                       act.z[:, j])
            a = None
        else:
            dL_da, fprime, delta, z = linear.delta[:, j], None, linear.delta[:, j], None
            a = None
        terms: tuple[Term, ...] = ()
        if consumer is not None and consumer.W is not None and consumer.W.shape[1] == out_features:
            cprefix = (consumer.W_name or "").removesuffix("weight")
            terms = tuple(Term(f"{consumer.W_name}[{k},{j}]", f"{cprefix.rstrip('.')}[{k}]",
                               consumer.W[k, j], consumer.delta[:, k],
                               consumer.W[k, j] * consumer.delta[:, k])
                          for k in range(consumer.W.shape[0]))
        weights = ()
        if linear.dW is not None:
            below = re.fullmatch(r"a\((.*)\)", linear.A_prev_name or "")
            weights = tuple(ParamGrad(None, f"{linear.W_name}[{j},{i}]",
                                      f"a({below.group(1)}[{i}])" if below else
                                      f"{linear.A_prev_name}[:,{i}]", linear.A_prev[:, i], delta,
                                      linear.dW[j, i])
                            for i in range(linear.W.shape[1]))
        bias = (ParamGrad(None, f"{linear.b_name}[{j}]", None, 1.0, delta, linear.db[j])
                if linear.db is not None else None)
        neurons.append(NeuronDetail(name, act.activation if act else "linear",
                                    act.fprime_formula if act else "1", z, a, dL_da, terms,
                                    fprime, delta, weights, bias, batch=B))
    return neurons


def _module_detail(an: _Analysis, scope: Any, run: list[BackwardStep]) -> ModuleDetail:
    members = {s.node for s in run}
    outputs = tuple((an.names[s.node], s.upstream) for s in run
                    if s.node is an.scalar.root
                    or any(c not in members for c in an.consumers[s.node]))
    params = _scope_parameters(scope)
    grads, inputs = [], []
    for s in run:
        for c in s.contributions:
            if c.parent in members:
                continue
            if c.parent.is_leaf and id(c.parent) in params:
                grads.append(_param_grad(c, an.names[c.parent], None, None, None))
            else:
                inputs.append((an.input_name(c.parent), c.product))
    return ModuleDetail(outputs, tuple(grads), tuple(inputs))


# ---------------------------------------------------------------------------------------------
# building the collapsed steps
# ---------------------------------------------------------------------------------------------
def _call_at(node: Any, level: int) -> Any:
    """The module call that made ``node``, at the grain ``level``: its innermost call whose
    module's ``scope_kind`` is at least that coarse (as :func:`viz.drawing.graph.node_groups`)."""
    call = node.module_call
    while call is not None:
        if COLLAPSE_LEVELS.get(getattr(call.module, "scope_kind", "module"), 2) >= level:
            return call
        call = call.outer
    return None


def _runs(steps: Sequence[BackwardStep], collapse: str) -> list[tuple[Any, list[BackwardStep]]]:
    """The steps grouped by the module call that made their nodes, as ``(module, steps)`` in
    the order of each call's first step (a step outside every module is a group of its own).

    A call's steps need not be consecutive: the pass visits the nodes in depth-first order, so
    it finishes a layer-1 neuron between two steps of the first layer-2 neuron that uses it.
    Each call is still one group, and two calls of one module (two samples) are two."""
    level = COLLAPSE_LEVELS[collapse]
    out: list[tuple[Any, list[BackwardStep]]] = []
    of_call: dict[int, list[BackwardStep]] = {}
    for s in steps:
        call = _call_at(s.node, level)
        if call is None:
            out.append((None, [s]))
        elif id(call) in of_call:
            of_call[id(call)].append(s)
        else:
            of_call[id(call)] = [s]
            out.append((call.module, of_call[id(call)]))
    return out


def collapse_trace(scalar: BackwardTrace, order: Sequence[Any], collapse: str,
                   drawing: Callable[[], Any]) -> CollapsedTrace:
    """Group ``scalar``'s recorded steps at the ``collapse`` grain (see the module doc)."""
    an = _Analysis(scalar, order)
    node_steps = [s for s in scalar.steps if s.kind == "node"]
    # names of the units' outputs (their a), then every scalar neuron's detail, in pass order
    for node, scope in an.neuron_groups.items():
        if getattr(scope, "scope_kind", "module") != "neuron" or node.is_leaf:
            continue
        if node is scalar.root or any(an.neuron_groups.get(c) is not scope
                                      for c in an.consumers[node]):
            an.unit_names[node] = an.title(scope)
    neuron_detail: dict[int, NeuronDetail | None] = {}     # first scalar step index -> detail
    neuron_of_step: dict[int, int] = {}
    for scope, run in _runs(node_steps, "neuron"):
        if scope is None or getattr(scope, "scope_kind", "module") != "neuron":
            continue
        detail = _scalar_neuron(an, scope, run)
        neuron_detail[run[0].index] = detail
        for s in run:
            neuron_of_step[s.index] = run[0].index

    runs = _runs(node_steps, collapse)
    out: list[CollapsedStep] = [CollapsedStep(0, "seed", scalar.steps[0].name, None,
                                              (scalar.steps[0],))]
    calls: dict[int, int] = {}
    tensor_layers: dict[int, LayerDetail] = {}            # run position -> Linear detail
    k = 0
    while k < len(runs):
        scope, run = runs[k]
        if scope is None:
            out.append(CollapsedStep(len(out), "scalar", run[0].name, None, tuple(run)))
            k += 1
            continue
        calls[id(scope)] = calls.get(id(scope), 0) + 1
        title = an.title(scope) + (f" (call {calls[id(scope)]})" if calls[id(scope)] > 1 else "")
        kind = getattr(scope, "scope_kind", "module")
        tensor = not _is_scalar(run[0].node.data)
        if tensor and kind == "layer" and collapse in ("neuron", "layer"):
            linear = _tensor_linear(an, scope, run)
            act = _tensor_activation(an, scope, run) if linear is None else None
            if linear is not None:
                tensor_layers[k] = linear
            if collapse == "neuron" and act is not None and k + 1 < len(runs) \
                    and runs[k + 1][0] is not None and runs[k + 1][1][0].node is run[0].node.parents[0]:
                nscope, nrun = runs[k + 1]
                nlinear = _tensor_linear(an, nscope, nrun)
                if nlinear is not None:
                    tensor_layers[k + 1] = nlinear
                    consumer = tensor_layers.get(k - 1)
                    inner = tuple(run + nrun)
                    neurons = _tensor_neurons(an, nlinear, act, consumer)
                    for n in neurons:
                        out.append(CollapsedStep(len(out), "neuron", n.name, nscope, inner, n,
                                                 shared=len(neurons)))
                    k += 2
                    continue
            if collapse == "neuron" and linear is not None:
                consumer = tensor_layers.get(k - 1) if k - 1 in tensor_layers else None
                neurons = _tensor_neurons(an, linear, None, consumer)
                for n in neurons:
                    out.append(CollapsedStep(len(out), "neuron", n.name, scope, tuple(run), n,
                                             shared=len(neurons)))
                k += 1
                continue
            detail = linear or act
            if detail is not None:
                out.append(CollapsedStep(len(out), "layer", title, scope, tuple(run), detail))
                k += 1
                continue
        if kind == "neuron" and collapse == "neuron" and neuron_of_step.get(run[0].index) \
                == run[0].index and neuron_detail.get(run[0].index) is not None \
                and all(neuron_of_step.get(s.index) == run[0].index for s in run):
            detail = neuron_detail[run[0].index]
            name = detail.name + (f" (call {calls[id(scope)]})" if calls[id(scope)] > 1 else "")
            out.append(CollapsedStep(len(out), "neuron", name, scope, tuple(run), detail))
            k += 1
            continue
        if kind == "layer" and not tensor:
            firsts = sorted({neuron_of_step[s.index] for s in run if s.index in neuron_of_step})
            parts = [neuron_detail.get(i) for i in firsts]
            if all(neuron_of_step.get(s.index) is not None for s in run):
                parts = sorted(parts, key=lambda d: _unit_index(d))
                detail = _scalar_layer(an, scope, run, parts)
                if detail is not None:
                    out.append(CollapsedStep(len(out), "layer", title, scope, tuple(run), detail))
                    k += 1
                    continue
        out.append(CollapsedStep(len(out), "module", title, scope, tuple(run),
                                 _module_detail(an, scope, run)))
        k += 1
    return CollapsedTrace(scalar, out, collapse, drawing)


def _index_in(name: str) -> int:
    m = re.search(r"(\d+)\D*$", name)
    return int(m.group(1)) if m else 0


def _unit_index(detail: NeuronDetail | None) -> int:
    if detail is None:
        return 0
    m = re.search(r"(\d+)$", detail.name)
    return int(m.group(1)) if m else 0


# ---------------------------------------------------------------------------------------------
# the trace
# ---------------------------------------------------------------------------------------------
class CollapsedTrace(_TraceViews):
    """A backward pass shown one neuron, layer or module at a time (see
    :func:`viz.trace_backward` with ``collapse=``).

    ``steps`` are :class:`CollapsedStep`; ``scalar`` is the ordinary trace of the same pass,
    whose steps each collapsed step holds in ``inner``.
    """

    def __init__(self, scalar: BackwardTrace, steps: list[CollapsedStep], collapse: str,
                 graph: Any) -> None:
        self.scalar = scalar
        self.steps = steps
        self.collapse = collapse
        self.root = scalar.root
        self.names = scalar.names
        self.number_format = scalar.number_format
        self._graph = graph
        self.title = (f"backward pass by {collapse}: ∂{self.names[self.root]}/∂v, one "
                      f"{collapse} at a time")

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return (f"<CollapsedTrace ({self.collapse}) of {self.names[self.root]}: "
                f"{len(self.steps)} steps, {len(self.scalar.steps)} scalar steps inside>")

    def conventions(self) -> str:
        """The notation the steps use, in one paragraph."""
        L = self.names[self.root]
        return (f"Notation (notes 004, with the gradient's sign): a neuron computes z = b + "
                f"Σ_i w_i·a_i and a = f(z); δ = ∂{L}/∂z; f' is evaluated at the neuron's own z. "
                f"Backprop: δ_j = f'(z_j)·Σ_k w_kj·δ_k over the neurons k that a_j feeds, "
                f"∂{L}/∂w_ji = δ_j·a_i, ∂{L}/∂b_j = δ_j; for a layer δ^ℓ = G(ℓ)·W_(ℓ+1)ᵀ·δ^(ℓ+1) "
                f"with G(ℓ) = diag(f'(z^ℓ)), and ∂{L}/∂W_ℓ = δ^ℓ·a^(ℓ-1)ᵀ. Step 0 is the seed; "
                f"each step after it groups the scalar steps of one {self.collapse}.")

    def _step_lines(self, step: CollapsedStep) -> list[str]:
        f, L = Formatter(self.number_format), self.names[self.root]
        if step.kind in ("seed", "scalar"):
            return self.scalar._step_lines(step.inner[0])
        d = step.detail
        if step.kind == "neuron":
            lines = neuron_lines(f, L, d)
            if step.name != d.name:
                lines[0] = lines[0].replace(f"neuron {d.name}", f"neuron {step.name}", 1)
        elif step.kind == "layer":
            lines = layer_lines(f, L, d)
        else:
            lines = module_lines(f, L, step.name, d)
        shared = (f"; the same {len(step.inner)} tensor steps compute all {step.shared} units of "
                  f"this layer" if step.shared > 1 else "")
        lines.append(f"  ({len(step.inner)} scalar step{'s' if len(step.inner) != 1 else ''} "
                     f"inside{shared})")
        return lines

    def to_text(self) -> str:
        """The conventions, then every step as plain text."""
        return self.conventions() + "\n" + super().to_text()

    def to_markdown(self) -> str:
        """A Markdown table: one row per step, its grain, its name and its equations."""
        rows = ["| step | kind | name | equations |", "|---:|---|---|---|"]
        for step in self.steps:
            eq = "<br>".join(markdown_escape(line) for line in self._step_lines(step))
            rows.append(f"| {step.index} | {step.kind} | {markdown_escape(step.name)} | {eq} |")
        return "\n".join(rows)

    def to_latex(self) -> str:
        r"""The steps as aligned equations (``\delta_j = f'(z_j) \sum_k w_{kj}\,\delta_k``, the
        layer form with ``\operatorname{diag}`` and ``^\top``), numbers substituted."""
        f, L = Formatter(self.number_format), tex_name(self.names[self.root])
        out: list[str] = []
        for step in self.steps:
            if step.kind in ("seed", "scalar"):
                one = self.scalar.restricted([step.inner[0]]).to_latex()
                out.extend(x.rstrip(" \\") for x in one.split("\n")[1:-1])
                continue
            out.append(rf"&\text{{step {step.index}: {tex_text(step.kind)} "
                       rf"{tex_text(step.name)}}}")
            d = step.detail
            if step.kind == "neuron":
                out.extend(neuron_latex(f, L, d))
            elif step.kind == "layer":
                out.extend(layer_latex(f, L, d))
            else:
                for oname, g in d.outputs:
                    out.append(rf"{latex_partial(L, tex_name(oname))} &= {tex_number(f, g)}")
                for g in d.params[:MAX_LISTED]:
                    out.append(rf"{param_lhs_latex(L, g)} &= "
                               rf"{tex_number(f, g.product)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(out) + "\n\\end{aligned}"

    # -- frames ------------------------------------------------------------------------
    def _steps(self) -> Steps:
        """Collapsed frames on the collapsed drawing; each carries its scalar steps (the
        stepper's "open" walks them) as ``inner`` frames, in the scalar trace's numbering."""
        inner = self._scalar_steps()
        frames: list[Frame] = []
        reveal: dict[str, int] = {}
        start = {s.index: k for k, s in enumerate(self.scalar.steps)}
        position: dict[int, int] = {}          # scalar frame -> the collapsed step holding it
        for step in self.steps:
            for s in step.inner:
                position.setdefault(start[s.index], step.index)
        for item, at in inner.reveal.items():
            reveal[item] = position.get(at, len(self.steps)) if at < len(inner.frames) \
                else len(self.steps)
        for step in self.steps:
            held = tuple(start[s.index] for s in step.inner)
            spans = [inner.frames[i] for i in held]
            active: list[str] = []
            targets: list[str] = []
            edges: list[str] = []
            texts: dict[str, str] = {}
            for fr in spans:
                active += [a for a in fr.active if a not in active]
                edges += [e for e in fr.edges if e not in edges]
                texts.update(fr.texts)
            for fr in spans:
                targets += [t for t in fr.targets if t not in active and t not in targets]
            title = (f"step {step.index}: {step.kind} {step.name}" if step.kind not in
                     ("seed", "scalar") else spans[0].title)
            frames.append(Frame(title=title, equation="\n".join(self._step_lines(step)),
                                active=active, targets=targets, edges=edges, texts=texts,
                                inside=None if step.kind in ("seed", "scalar") else held))
        for k, fr in enumerate(inner.frames):
            fr.title = f"scalar step {k}: {fr.title.split(': ', 1)[-1]}"
            fr.targets = [t for t in fr.targets if t not in fr.active]   # inside one box
        return Steps(inner.base_texts, reveal, frames, inner=inner.frames,
                     inner_reveal=inner.reveal)

    def _scalar_steps(self) -> Steps:
        view = self.scalar.restricted(self.scalar.steps, self.graph)
        steps = view._steps()
        # a collapsed box shows its output's gradient: fill it in when the step reaches it
        ids = self.graph.ids
        for k, s in enumerate(self.scalar.steps):
            gid = ids.get(s.node)
            if gid and gid.startswith("g") and s.kind == "node":
                for c in s.contributions:
                    pid = ids.get(c.parent)
                    if pid == gid:
                        steps.frames[k].texts.pop(f"{gid}:grad", None)
        return steps


# -- LaTeX ------------------------------------------------------------------------------
