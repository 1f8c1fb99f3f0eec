"""Backward at the grain of the network: ``trace_backward(root, collapse="neuron" | "layer" |
"module")``.

The steps are the engine's own pass, recorded once by :func:`viz.trace_backward` through the
observer of :func:`autograd_core.backward`; this module only groups them. Consecutive scalar
steps whose nodes belong to one module scope (the grouping :func:`viz.graph.node_groups` gives
``draw_graph(collapse=...)``) become one step, which keeps the scalar steps inside it (the
stepper opens and closes them). Every number a collapsed step prints is one the pass recorded:
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
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from autograd_core import is_zero, topological_order

from .graph import COLLAPSE_LEVELS, _scope_parameters, _scope_title, node_groups
from .stepper import Frame, Steps
from .style import NumberFormat, clean_text, format_number, latex_escape, markdown_escape
from .trace import BackwardStep, BackwardTrace, Contribution, _TraceViews

MAX_MATRIX = 8
"""Matrices up to this many rows and columns are printed with their numbers."""
MAX_VECTOR = 16
"""Vectors up to this length are printed with their numbers."""
MAX_SAMPLES = 4
"""A Tensor neuron step writes its recursion out for at most this many samples."""
MAX_LISTED = 12
"""A generic module step lists at most this many parameters by name."""

ELEMENTWISE_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "softplus")


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """One term of ``∂L/∂a_j = Σ_k w_kj δ_k``: ``product = factor · delta``.

    ``weight`` is the weight ``w_kj`` (a node; ``None`` when the consumer is not a neuron's
    weighted input, e.g. the loss); ``factor`` the local derivative the pass used (``w_kj``'s
    value), ``delta`` the consumer's upstream gradient (``δ_k``), ``product`` the contribution.
    """

    weight_name: str | None
    consumer: str
    factor: Any
    delta: Any
    product: Any


@dataclass(frozen=True)
class ParamGrad:
    """A parameter's gradient from one step: ``product = delta · input_value`` (a weight:
    ``∂L/∂w_ji = δ_j · a_i``; a bias: ``input_value`` 1), summed over samples for a batch.

    ``before``/``after`` are the parameter's gradient around this contribution, ``path`` the
    count of contributions it had in this pass, ``carried`` what it held from earlier passes.
    """

    param: Any
    name: str
    input_name: str | None
    input_value: Any
    delta: Any
    product: Any
    before: Any = None
    after: Any = None
    path: int = 1
    carried: Any = None


@dataclass(frozen=True)
class NeuronDetail:
    """One neuron's step: ``a = f(z)``, ``δ = f'(z) · ∂L/∂a``, its weights' and bias' gradients.

    Scalars for a scalar neuron; arrays over the batch (one entry per sample) for a unit of a
    Tensor ``Linear``. ``activation`` is the op's name or ``"linear"`` (then ``f' = 1``).
    """

    name: str
    activation: str
    fprime_formula: str
    z: Any
    a: Any
    dL_da: Any
    terms: tuple[Term, ...]
    fprime: Any
    delta: Any
    weights: tuple[ParamGrad, ...]
    bias: ParamGrad | None
    batch: int | None = None


@dataclass(frozen=True)
class LayerDetail:
    """A layer's step in Jacobian form (vectors for one sample of a scalar layer; a Tensor
    layer has one row per sample).

    kind ``"dense"`` (a scalar ``Layer``: activation included), ``"linear"`` (a Tensor
    ``Linear``: ``Z = A Wᵀ + b``) or ``"activation"`` (a Tensor elementwise activation).
    ``W_next``/``delta_next`` are the next layer's weights and δ that make ``∂L/∂a`` (scalar
    layers, when every unit feeds the same next neurons). Missing parts are ``None``.
    """

    kind: str
    name: str
    activation: str | None
    fprime_formula: str | None
    dL_da: Any = None
    W_next: Any = None
    W_next_name: str | None = None
    delta_next: Any = None
    z: Any = None
    fprime: Any = None
    delta: Any = None
    A_prev: Any = None
    A_prev_name: str | None = None
    W: Any = None
    W_name: str | None = None
    dW: Any = None
    b_name: str | None = None
    db: Any = None
    dA_prev: Any = None
    neurons: tuple[NeuronDetail, ...] = ()


@dataclass(frozen=True)
class ModuleDetail:
    """Any module's step: the gradient arriving at its outputs, its parameters' gradients,
    the gradient it sends to its inputs (``(name, value)`` pairs, in the pass's order)."""

    outputs: tuple[tuple[str, Any], ...]
    params: tuple[ParamGrad, ...]
    inputs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class CollapsedStep:
    """One step of a collapsed trace.

    ``kind``: ``"seed"``, ``"scalar"`` (a node outside any module: the loss), ``"neuron"``,
    ``"layer"`` or ``"module"``. ``inner`` holds the scalar steps it groups (their
    ``BackwardStep.index`` in the scalar trace). ``detail`` is a :class:`NeuronDetail`,
    :class:`LayerDetail`, :class:`ModuleDetail` or ``None`` (seed and scalar steps).
    """

    index: int
    kind: str
    name: str
    scope: Any
    inner: tuple[BackwardStep, ...]
    detail: Any = None
    shared: int = 1         # a Tensor layer's steps are shared by this many neuron steps


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
                     c.after, c.path, c.carried)


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
def _runs(steps: Sequence[BackwardStep], groups: dict[Any, Any]
          ) -> list[tuple[Any, list[BackwardStep]]]:
    """Consecutive steps whose nodes share a group (None: outside every module)."""
    runs: list[tuple[Any, list[BackwardStep]]] = []
    for s in steps:
        g = groups.get(s.node)
        if runs and g is not None and runs[-1][0] is g:
            runs[-1][1].append(s)
        else:
            runs.append((g, [s]))
    return runs


def _split(runs: list[tuple[Any, list[BackwardStep]]],
           starts: Callable[[Any, set[int], BackwardStep], bool]
           ) -> list[tuple[Any, list[BackwardStep]]]:
    """Split each run where ``starts(scope, seen, step)`` says a new call of the module
    begins (two calls of one neuron, one after the other, are two steps)."""
    out: list[tuple[Any, list[BackwardStep]]] = []
    for scope, run in runs:
        if scope is None:
            out.append((scope, run))
            continue
        seen: set[int] = set()
        current: list[BackwardStep] = []
        for s in run:
            if current and starts(scope, seen, s):
                out.append((scope, current))
                current = []
            elif not current:
                starts(scope, seen, s)
            current.append(s)
        out.append((scope, current))
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
    neuron_runs = _split(_runs(node_steps, an.neuron_groups),
                         lambda scope, seen, s: s.node in an.unit_names)
    for scope, run in neuron_runs:
        if scope is None or getattr(scope, "scope_kind", "module") != "neuron":
            continue
        detail = _scalar_neuron(an, scope, run)
        neuron_detail[run[0].index] = detail
        for s in run:
            neuron_of_step[s.index] = run[0].index

    groups = node_groups(order, collapse)
    runs = _runs(node_steps, groups)
    if collapse == "neuron":
        runs = _split(runs, lambda scope, seen, s: s.node in an.unit_names)
    else:   # a scalar layer called again: one of its neurons starts a second time
        scope_of = an.neuron_groups

        def again(scope: Any, seen: set[int], s: BackwardStep) -> bool:
            if neuron_of_step.get(s.index) != s.index:
                return False
            unit = id(scope_of.get(s.node))
            if unit in seen:
                seen.clear()
                seen.add(unit)
                return True
            seen.add(unit)
            return False
        runs = _split(runs, again)
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
# text
# ---------------------------------------------------------------------------------------------
class _Fmt:
    def __init__(self, fmt: NumberFormat) -> None:
        self.fmt = fmt

    def n(self, x: Any, paren: bool = False) -> str:
        text = format_number(float(x), self.fmt) if np.ndim(x) == 0 else self.vec(x)
        return f"({text})" if paren and text.startswith("-") else text

    def vec(self, v: Any) -> str:
        arr = np.asarray(v, dtype=float)
        if arr.ndim == 0:
            return self.n(arr)
        if arr.ndim == 1:
            return "[" + ", ".join(format_number(float(x), self.fmt) for x in arr) + "]"
        return "[" + ", ".join(self.vec(row) for row in arr) + "]"

    def block(self, label: str, m: Any, big_note: str = "") -> list[str]:
        """``label = numbers`` for a vector up to MAX_VECTOR or a matrix up to MAX_MATRIX
        square; else the shape only."""
        arr = np.asarray(m, dtype=float)
        shape = "×".join(str(d) for d in arr.shape)
        if arr.ndim <= 1 and arr.size <= MAX_VECTOR:
            return [f"{label} = {self.vec(arr)}"]
        if arr.ndim == 2 and max(arr.shape) <= MAX_MATRIX:
            rows = [self.vec(r) for r in arr]
            pad = " " * (len(label) + 3)
            if len(rows) == 1:
                return [f"{label} = [{rows[0]}]"]
            return [f"{label} = [{rows[0]}"] + [f"{pad} {r}" for r in rows[1:-1]] + \
                [f"{pad} {rows[-1]}]"]
        return [f"{label}: {shape}, too large to print (at most {MAX_MATRIX}×{MAX_MATRIX})"
                + (f"; {big_note}" if big_note else "")]


def _shape(x: Any) -> str:
    return "×".join(str(d) for d in np.shape(x)) or "1"


def _d(num: str, den: str) -> str:
    return f"∂{num}/∂{den}"


def _accumulation(f: _Fmt, g: ParamGrad) -> list[str]:
    lines = []
    if g.path > 1:
        lines.append(f"      {g.name}.grad = {f.n(g.before)} + {f.n(g.product, True)} = "
                     f"{f.n(g.after)}   (it is used more than once in this pass: contribution "
                     f"{g.path})")
    if g.carried is not None:
        lines.append(f"      {g.name}.grad was {f.n(g.carried)} before this pass; it "
                     f"accumulates to {f.n(g.after)}")
    return lines


def neuron_lines(f: _Fmt, L: str, d: NeuronDetail) -> list[str]:
    """A neuron step as text: the δ recursion with its numbers, then its parameters'
    gradients."""
    n = d.name
    a, z, dl = f"a({n})", f"z({n})", f"δ({n})"
    batch = d.batch is not None
    per = " (per sample n)" if batch else ""
    if d.activation == "linear":
        head = (f"neuron {n} (linear): a = z = b + Σ_i w_i·a_i, so {dl} = ∂{L}/∂z = ∂{L}/∂a"
                if not batch else
                f"unit {n} (linear, no activation after it): {dl} = ∂{L}/∂z(n) for each sample n")
    else:
        head = (f"neuron {n}: a = {d.activation}(z), z = b + Σ_i w_i·a_i; "
                f"{dl} = ∂{L}/∂z = {d.activation}'(z)·∂{L}/∂a") if not batch else (
                f"unit {n}: a = {d.activation}(z), z = Σ_i w_i·a_i + b per sample; "
                f"{dl} = {d.activation}'(z)·∂{L}/∂a")
    lines = [head]
    rows = range(min(d.batch, MAX_SAMPLES)) if batch else [None]

    def pick(x: Any, r: Any) -> Any:
        return x if r is None else np.asarray(x)[r]

    for r in rows:
        tag = "" if r is None else f"  sample {r}:"
        if r is not None:
            lines.append(tag)
        ind = "  " if r is None else "    "
        if d.terms:
            sym = " + ".join(f"{t.weight_name}·δ({t.consumer})" if t.weight_name else
                             f"∂{L}/∂{t.consumer}·∂{t.consumer}/∂{a}" for t in d.terms)
            nums = " + ".join(
                f"{f.n(t.factor if np.ndim(t.factor) == 0 else pick(t.factor, r), True)}"
                f"·{f.n(pick(t.delta, r), True)}" if t.weight_name else
                f"{f.n(pick(t.delta, r), True)}·"
                f"{f.n(t.factor if np.ndim(t.factor) == 0 else pick(t.factor, r), True)}"
                for t in d.terms)
            if d.activation == "linear" and not batch:
                lines.append(f"{ind}{dl} = ∂{L}/∂{a} = {sym}")
            else:
                lines.append(f"{ind}∂{L}/∂{a} = {sym}")
            lines.append(f"{ind}    = {nums} = {f.n(pick(d.dL_da, r))}")
        elif d.activation == "linear":
            lines.append(f"{ind}{dl} = ∂{L}/∂z = {f.n(pick(d.delta, r))}   (from the steps before)")
        else:
            lines.append(f"{ind}∂{L}/∂{a} = {f.n(pick(d.dL_da, r))}   (from the steps before)")
        if d.activation != "linear":
            fp = f"{d.activation}'(z) = {d.fprime_formula}" if d.fprime_formula != "1" else \
                f"{d.activation}'(z)"
            lines.append(f"{ind}{fp} at z = {f.n(pick(d.z, r))}: {f.n(pick(d.fprime, r))}")
            lines.append(f"{ind}{dl} = {d.activation}'(z)·∂{L}/∂{a} = {f.n(pick(d.fprime, r), True)}"
                         f"·{f.n(pick(d.dL_da, r), True)} = {f.n(pick(d.delta, r))}")
        elif batch and d.terms:
            lines.append(f"{ind}{dl} = {f.n(pick(d.delta, r))}")
    if batch and d.batch > MAX_SAMPLES:
        lines.append(f"  ... {d.batch - MAX_SAMPLES} more samples; {dl} over the batch: "
                     f"{f.n(d.delta)}")
    if d.weights or d.bias:
        lines.append(f"  the gradients of its weights and bias"
                     + (" (summed over the batch):" if batch else ":"))
    for g in d.weights:
        if batch:
            lines.append(f"    ∂{L}/∂{g.name} = Σ_n {dl}(n)·{g.input_name}(n) = "
                         + " + ".join(f"{f.n(dv, True)}·{f.n(av, True)}"
                                      for dv, av in list(zip(g.delta, g.input_value))[:MAX_SAMPLES])
                         + (" + ..." if d.batch > MAX_SAMPLES else "")
                         + f" = {f.n(g.product)}")
        else:
            lines.append(f"    ∂{L}/∂{g.name} = {dl}·{g.input_name} = {f.n(g.delta, True)}·"
                         f"{f.n(g.input_value, True)} = {f.n(g.product)}")
        lines.extend(_accumulation(f, g))
    if d.bias is not None:
        g = d.bias
        if batch:
            lines.append(f"    ∂{L}/∂{g.name} = Σ_n {dl}(n) = {f.n(g.product)}")
        else:
            lines.append(f"    ∂{L}/∂{g.name} = {dl} = {f.n(g.product)}")
        lines.extend(_accumulation(f, g))
    return lines


def layer_lines(f: _Fmt, L: str, d: LayerDetail) -> list[str]:
    """A layer step as text in the notes' Jacobian form, shapes first."""
    lines: list[str] = []
    big = "see collapse='neuron' for every number"
    if d.kind == "dense":
        n_out = len(d.delta)
        n_in = None if d.A_prev is None else len(d.A_prev)
        units = f"{n_out} neuron{'s' if n_out != 1 else ''}"
        if d.activation == "linear":
            lines.append(f"layer {d.name} ({units}, linear: a = z, so G = I): δ({d.name}) = "
                         f"∂{L}/∂a({d.name}); ∂{L}/∂W = δ·aᵀ, ∂{L}/∂b = δ")
        else:
            lines.append(f"layer {d.name} ({units}, {d.activation}): δ({d.name}) = "
                         f"G({d.name})·∂{L}/∂a({d.name}), G = diag({d.activation}'(z)); "
                         f"∂{L}/∂W = δ·aᵀ, ∂{L}/∂b = δ")
        if d.W_next is not None:
            k = d.W_next.shape[0]
            lines.append(f"  ∂{L}/∂a({d.name}) = W({d.W_next_name})ᵀ·δ({d.W_next_name})   "
                         f"({n_out}×{k} · {k} = {n_out})")
            lines += ["    " + x for x in f.block(f"W({d.W_next_name})", d.W_next, big)]
            lines += ["    " + x for x in f.block(f"δ({d.W_next_name})", d.delta_next)]
        else:
            lines.append(f"  ∂{L}/∂a({d.name}): the gradient from the steps before   ({n_out})")
        lines += ["    " + x for x in f.block(f"∂{L}/∂a({d.name})", d.dL_da)]
        if d.activation != "linear":
            lines += ["  " + x for x in f.block(f"z({d.name})", d.z)]
            lines += ["  " + x for x in f.block(
                f"G({d.name}) = diag({d.activation}'(z)), {d.activation}'(z) = "
                f"{d.fprime_formula}: diag", d.fprime)]
            lines += ["  " + x for x in f.block(
                f"δ({d.name}) = G({d.name})·∂{L}/∂a({d.name})   ({n_out}×{n_out} · {n_out})",
                d.delta)]
        else:
            lines += ["  " + x for x in f.block(f"δ({d.name}) = ∂{L}/∂a({d.name})", d.delta)]
        if d.dW is not None:
            lines += ["  " + x for x in f.block(f"a({d.A_prev_name})" if not d.A_prev_name.startswith(("a(", "(")) else d.A_prev_name, d.A_prev)]
            lines += ["  " + x for x in f.block(
                f"∂{L}/∂{d.W_name} = δ({d.name})·{d.A_prev_name}ᵀ   ({n_out}×1 · 1×{n_in} = "
                f"{n_out}×{n_in})", d.dW, big)]
        if d.db is not None:
            lines += ["  " + x for x in f.block(f"∂{L}/∂{d.b_name} = δ({d.name})", d.db)]
        carried = [g.name for n in d.neurons for g in (*n.weights, *((n.bias,) if n.bias else ()))
                   if g.carried is not None or g.path > 1]
        if carried:
            lines.append(f"  ({len(carried)} of these parameters already held a gradient before "
                         f"this contribution (an earlier pass, or another use in this one): their "
                         f".grad is that plus the numbers above; collapse='neuron' shows each)")
        return lines
    if d.kind == "activation":
        B, n = d.delta.shape
        lines.append(f"layer {d.name}: A = {d.activation}(Z) elementwise; δ = ∂{L}/∂Z = "
                     f"{d.activation}'(Z) ⊙ ∂{L}/∂A (the notes' G(ℓ) = diag({d.activation}'(z)) "
                     f"per sample; a row per sample)")
        lines += ["  " + x for x in f.block(f"∂{L}/∂A   ({B}×{n})", d.dL_da, big)]
        lines += ["  " + x for x in f.block(f"Z   ({B}×{n})", d.z, big)]
        lines += ["  " + x for x in f.block(f"{d.activation}'(Z) = {d.fprime_formula}", d.fprime, big)]
        lines += ["  " + x for x in f.block(f"δ = {d.activation}'(Z) ⊙ ∂{L}/∂A   ({B}×{n})",
                                            d.delta, big)]
        return lines
    B, n_out = d.delta.shape
    n_in = d.W.shape[1]
    lines.append(f"layer {d.name}: Z = A·Wᵀ + b, a row per sample (per sample z = W·a + b, as in "
                 f"the notes); δ = ∂{L}/∂Z")
    lines += ["  " + x for x in f.block(f"δ   ({B}×{n_out}, from the steps before)", d.delta, big)]
    lines += ["  " + x for x in f.block(f"A = {d.A_prev_name}   ({B}×{n_in})", d.A_prev, big)]
    if d.dW is not None:
        lines += ["  " + x for x in f.block(
            f"∂{L}/∂{d.W_name} = δᵀ·A = Σ_n δ(n)·a(n)ᵀ   ({n_out}×{B} · {B}×{n_in} = "
            f"{n_out}×{n_in})", d.dW, big)]
    if d.db is not None:
        lines += ["  " + x for x in f.block(f"∂{L}/∂{d.b_name} = Σ_n δ(n)   ({n_out})", d.db, big)]
    if d.dA_prev is not None:
        lines += ["  " + x for x in f.block(
            f"∂{L}/∂A = δ·W   ({B}×{n_out} · {n_out}×{n_in} = {B}×{n_in}; per sample "
            f"Wᵀ·δ(n), the notes' W_ℓᵀ δ^ℓ)", d.dA_prev, big)]
        lines += ["    " + x for x in f.block(f"W = {d.W_name}", d.W, big)]
    return lines


def module_lines(f: _Fmt, L: str, name: str, d: ModuleDetail) -> list[str]:
    lines = [f"module {name}: the gradient arriving at its output, its parameters' gradients, "
             f"the gradient it sends back"]
    for oname, g in d.outputs:
        lines.append(f"  in:  ∂{L}/∂{oname} = {f.n(g) if np.size(g) <= MAX_VECTOR else format_number(g, f.fmt)}"
                     f"   ({_shape(g)})")
    for g in d.params[:MAX_LISTED]:
        value = g.product
        lines += ["  " + x for x in f.block(f"∂{L}/∂{g.name}   ({_shape(value)})", value)]
        lines.extend(_accumulation(f, g))
    if len(d.params) > MAX_LISTED:
        lines.append(f"  ... and {len(d.params) - MAX_LISTED} more parameter gradients "
                     f"(collapse='neuron' or 'layer' shows them all)")
    for iname, g in d.inputs[:MAX_LISTED]:
        lines.append(f"  out: ∂{L}/∂{iname} += {f.n(g) if np.size(g) <= MAX_VECTOR else format_number(g, f.fmt)}"
                     f"   ({_shape(g)})")
    if len(d.inputs) > MAX_LISTED:
        lines.append(f"  ... and {len(d.inputs) - MAX_LISTED} more contributions to its inputs")
    return lines


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
        f, L = _Fmt(self.number_format), self.names[self.root]
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
        f, L = _Fmt(self.number_format), _tex(self.names[self.root])
        out: list[str] = []
        for step in self.steps:
            if step.kind in ("seed", "scalar"):
                one = BackwardTrace(self.scalar.root, [step.inner[0]], self.names, None,
                                    self.number_format, self.scalar._initial).to_latex()
                out.extend(x.rstrip(" \\") for x in one.split("\n")[1:-1])
                continue
            out.append(rf"&\text{{step {step.index}: {_tex_text(step.kind)} "
                       rf"{_tex_text(step.name)}}}")
            d = step.detail
            if step.kind == "neuron":
                out.extend(_neuron_latex(f, L, d))
            elif step.kind == "layer":
                out.extend(_layer_latex(f, L, d))
            else:
                for oname, g in d.outputs:
                    out.append(rf"\frac{{\partial {L}}}{{\partial {_tex(oname)}}} &= {_tex_num(f, g)}")
                for g in d.params[:MAX_LISTED]:
                    out.append(rf"\frac{{\partial {L}}}{{\partial {_tex(g.name)}}} &= "
                               rf"{_tex_num(f, g.product)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(out) + "\n\\end{aligned}"

    # -- frames ------------------------------------------------------------------------
    def _steps(self) -> Steps:
        """Collapsed frames on the collapsed drawing; each carries its scalar steps (the
        stepper's "open" walks them) as ``inner`` frames, in the scalar trace's numbering."""
        inner = self._scalar_steps()
        frames: list[Frame] = []
        reveal: dict[str, int] = {}
        start = {s.index: k for k, s in enumerate(self.scalar.steps)}
        position: dict[int, int] = {}
        for step in self.steps:
            first, last = start[step.inner[0].index], start[step.inner[-1].index]
            for i in range(first, last + 1):
                position.setdefault(i, step.index)
        for item, at in inner.reveal.items():
            reveal[item] = position.get(at, len(self.steps)) if at < len(inner.frames) \
                else len(self.steps)
        for step in self.steps:
            first, last = start[step.inner[0].index], start[step.inner[-1].index]
            spans = inner.frames[first:last + 1]
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
                                span=None if step.kind in ("seed", "scalar") else (first, last)))
        for k, fr in enumerate(inner.frames):
            fr.title = f"scalar step {k}: {fr.title.split(': ', 1)[-1]}"
            fr.targets = [t for t in fr.targets if t not in fr.active]   # inside one box
        return Steps(inner.base_texts, reveal, frames, inner=inner.frames,
                     inner_reveal=inner.reveal)

    def _scalar_steps(self) -> Steps:
        view = BackwardTrace(self.scalar.root, self.scalar.steps, self.names, self.graph,
                             self.number_format, self.scalar._initial)
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
def _tex_text(s: str) -> str:
    return latex_escape(clean_text(s))


def _tex(name: str) -> str:
    """A name for math mode: ``a(L2.n7)`` -> ``a_{\\mathrm{L2.n7}}``."""
    m = re.fullmatch(r"([aδz])\((.*)\)", name)
    if m:
        sym = {"a": "a", "z": "z", "δ": r"\delta"}[m.group(1)]
        return rf"{sym}_{{\mathrm{{{latex_escape(m.group(2))}}}}}"
    return rf"\mathrm{{{latex_escape(clean_text(name))}}}"


def _tex_num(f: _Fmt, x: Any) -> str:
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        return f.n(arr)
    if arr.ndim == 1 and arr.size <= MAX_VECTOR:
        return r"\begin{bmatrix}" + r" & ".join(f.n(v) for v in arr) + r"\end{bmatrix}"
    if arr.ndim == 2 and max(arr.shape) <= MAX_MATRIX:
        return (r"\begin{bmatrix}" + r" \\ ".join(" & ".join(f.n(v) for v in row) for row in arr)
                + r"\end{bmatrix}")
    return r"\text{(" + "×".join(map(str, arr.shape)).replace("×", r"$\times$") + ")}"


def _neuron_latex(f: _Fmt, L: str, d: NeuronDetail) -> list[str]:
    n = latex_escape(d.name)
    dl, a = rf"\delta_{{\mathrm{{{n}}}}}", rf"a_{{\mathrm{{{n}}}}}"
    lines = []
    first = 0 if d.batch is None else None
    pick = (lambda x: x) if first == 0 else (lambda x: np.asarray(x)[0] if np.ndim(x) else x)
    note = "" if d.batch is None else r"\quad\text{(sample 0)}"
    if d.terms:
        sym = " + ".join(
            (rf"{_tex(t.weight_name)}\,\delta_{{\mathrm{{{latex_escape(t.consumer)}}}}}"
             if t.weight_name else rf"\frac{{\partial {L}}}{{\partial {_tex(t.consumer)}}}"
             rf"\frac{{\partial {_tex(t.consumer)}}}{{\partial {a}}}") for t in d.terms)
        nums = " + ".join(rf"{f.n(t.factor, True)} \cdot {f.n(pick(t.delta), True)}"
                          for t in d.terms)
        lines.append(rf"\frac{{\partial {L}}}{{\partial {a}}} &= {sym} = {nums} = "
                     rf"{f.n(pick(d.dL_da))}{note}")
    else:
        lines.append(rf"\frac{{\partial {L}}}{{\partial {a}}} &= {f.n(pick(d.dL_da))}{note}")
    if d.activation != "linear":
        lines.append(rf"{dl} &= f'(z_{{\mathrm{{{n}}}}})\,\frac{{\partial {L}}}{{\partial {a}}} = "
                     rf"{f.n(pick(d.fprime), True)} \cdot {f.n(pick(d.dL_da), True)} = "
                     rf"{f.n(pick(d.delta))}\quad(f = \mathrm{{{latex_escape(d.activation)}}}, "
                     rf"z = {f.n(pick(d.z))}){note}")
    else:
        lines.append(rf"{dl} &= \frac{{\partial {L}}}{{\partial {a}}} = {f.n(pick(d.delta))}"
                     rf"\quad(\text{{linear}}){note}")
    for g in d.weights:
        if d.batch is None:
            lines.append(rf"\frac{{\partial {L}}}{{\partial {_tex(g.name)}}} &= {dl}\,"
                         rf"{_tex(g.input_name)} = {f.n(g.delta, True)} \cdot "
                         rf"{f.n(g.input_value, True)} = {f.n(g.product)}")
        else:
            lines.append(rf"\frac{{\partial {L}}}{{\partial {_tex(g.name)}}} &= \sum_n {dl}^{{(n)}}"
                         rf"\,a_i^{{(n)}} = {f.n(g.product)}")
    if d.bias is not None:
        lines.append(rf"\frac{{\partial {L}}}{{\partial {_tex(d.bias.name)}}} &= "
                     + (rf"{dl} = " if d.batch is None else rf"\sum_n {dl}^{{(n)}} = ")
                     + f.n(d.bias.product))
    return lines


def _layer_latex(f: _Fmt, L: str, d: LayerDetail) -> list[str]:
    n = latex_escape(d.name)
    lines = []
    if d.kind == "dense":
        if d.W_next is not None:
            lines.append(rf"\frac{{\partial {L}}}{{\partial a^{{\mathrm{{{n}}}}}}} &= "
                         rf"W_{{\mathrm{{{latex_escape(d.W_next_name)}}}}}^\top "
                         rf"\delta^{{\mathrm{{{latex_escape(d.W_next_name)}}}}} = "
                         rf"{_tex_num(f, d.W_next.T)} {_tex_num(f, d.delta_next)} = "
                         rf"{_tex_num(f, d.dL_da)}")
        else:
            lines.append(rf"\frac{{\partial {L}}}{{\partial a^{{\mathrm{{{n}}}}}}} &= "
                         rf"{_tex_num(f, d.dL_da)}")
        lines.append(rf"\delta^{{\mathrm{{{n}}}}} &= G({n})\,\frac{{\partial {L}}}"
                     rf"{{\partial a^{{\mathrm{{{n}}}}}}} = \operatorname{{diag}}"
                     rf"({_tex_num(f, d.fprime)})\,{_tex_num(f, d.dL_da)} = {_tex_num(f, d.delta)}")
        if d.dW is not None:
            lines.append(rf"\frac{{\partial {L}}}{{\partial W_{{\mathrm{{{n}}}}}}} &= "
                         rf"\delta^{{\mathrm{{{n}}}}}\,a^{{\top}} = {_tex_num(f, d.dW)}")
        if d.db is not None:
            lines.append(rf"\frac{{\partial {L}}}{{\partial b_{{\mathrm{{{n}}}}}}} &= "
                         rf"\delta^{{\mathrm{{{n}}}}} = {_tex_num(f, d.db)}")
    elif d.kind == "activation":
        lines.append(rf"\delta &= f'(Z) \odot \frac{{\partial {L}}}{{\partial A}} = "
                     rf"{_tex_num(f, d.fprime)} \odot {_tex_num(f, d.dL_da)} = {_tex_num(f, d.delta)}")
    else:
        if d.dW is not None:
            lines.append(rf"\frac{{\partial {L}}}{{\partial {_tex(d.W_name)}}} &= \delta^\top A = "
                         rf"{_tex_num(f, d.delta.T)} {_tex_num(f, d.A_prev)} = {_tex_num(f, d.dW)}")
        if d.db is not None:
            lines.append(rf"\frac{{\partial {L}}}{{\partial {_tex(d.b_name)}}} &= \sum_n \delta^{{(n)}}"
                         rf" = {_tex_num(f, d.db)}")
        if d.dA_prev is not None:
            lines.append(rf"\frac{{\partial {L}}}{{\partial A}} &= \delta\,W = "
                         rf"{_tex_num(f, d.dA_prev)}")
    return lines
