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

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from autograd_core._state import set_grad_enabled, state
from autograd_core.graph import reset_intermediate_grads, topological_order
from autograd_core.value import Value

try:                                    # forward mode with dual numbers, when the engine has it
    from autograd_core.dual import Dual as _Dual
    from autograd_core.dual import _apply as _dual_apply
except ImportError:  # pragma: no cover - older engine
    _Dual = _dual_apply = None

from .graph import DEFAULT_MAX_NODES, Graph, draw_graph, is_array_node, node_names
from .stepper import Frame, Steps, render_frames, save_text, stepper_fragment, stepper_html
from .style import (DEFAULT_NUMBER_FORMAT, NumberFormat, format_number, latex_name,
                    markdown_escape, validate_number_format)


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contribution:
    """Gradient sent from one node to one operand: ``product = local · upstream``.

    ``before``/``after`` are the operand's gradient before and after adding ``product``;
    ``path`` counts the contributions this operand has received in this pass (1, 2, ...).
    """

    parent: Any
    parent_name: str
    index: int
    local_formula: str
    local_formula_latex: str
    local: Any
    product: Any
    before: Any
    after: Any
    path: int

    @property
    def accumulated(self) -> bool:
        """True when this adds to a gradient already there (several paths, or a leaf's
        gradient kept from an earlier backward)."""
        return self.path > 1 or (self.before is not None and not _all_zero(self.before))


@dataclass(frozen=True)
class BackwardStep:
    """One step of backward: ``kind`` is ``"seed"`` (∂L/∂L = gradient) or ``"node"``."""

    index: int
    kind: str
    node: Any
    name: str
    upstream: Any
    formula: str
    formula_latex: str
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True)
class TangentTerm:
    """One term ``local · tangent(operand)`` of a forward-mode (dual number) step."""

    parent_name: str
    local_formula: str
    local: Any
    tangent: Any
    product: Any


@dataclass(frozen=True)
class ForwardStep:
    """One node's value appearing: ``value = formula`` evaluated at the operands' values.

    In dual mode ``tangent`` is the node's tangent and ``terms`` its chain-rule terms.
    """

    index: int
    kind: str                 # "leaf" or "op"
    node: Any
    name: str
    value: Any
    formula: str
    formula_latex: str
    substituted: str
    tangent: Any = None
    terms: tuple[TangentTerm, ...] = ()


def _all_zero(x: Any) -> bool:
    try:
        return bool(np.all(np.asarray(x, dtype=float) == 0))
    except (TypeError, ValueError):
        return False


def _num(x: Any, fmt: NumberFormat, paren: bool = False) -> str:
    text = format_number(x, fmt)
    return f"({text})" if paren and text.startswith("-") else text


def _d(num: str, den: str) -> str:
    return f"∂{num}/∂{den}"


def _dl(num: str, den: str) -> str:
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


# ---------------------------------------------------------------------------------------------
# shared views
# ---------------------------------------------------------------------------------------------
class _TraceViews:
    """Frames and the HTML stepper from a graph layout and :class:`Steps`."""

    graph: Graph
    title: str

    steps: Sequence[Any]

    def _steps(self) -> Steps:  # pragma: no cover - abstract
        raise NotImplementedError

    def _step_lines(self, step: Any) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_text(self) -> str:
        """Every step as plain text, one block per step (backward: the node's formula, its
        upstream gradient, and per operand the local derivative, the product and the running
        sum; forward: each node's value, and its tangent in dual mode)."""
        out = []
        for step in self.steps:
            lines = self._step_lines(step)
            out.append(f"step {step.index}: " + lines[0])
            out.extend(lines[1:])
        return "\n".join(out)

    def frames(self) -> list[str]:
        """One SVG per step: the active node and edges highlighted, values/gradients filled
        in as far as computed. All frames restyle one Graphviz layout."""
        return render_frames(self.graph.svg(), self._steps())

    def stepper(self) -> "Stepper":
        """The trace as a :class:`viz.stepper.Stepper`: the steps, as text too, on the layout
        that reads best in a notebook column (:meth:`viz.Graph.for_width`; same node ids)."""
        from .stepper import Stepper  # (imported here: this class is the stepper's client)

        return Stepper(self.graph.for_width().svg(), self._steps(), title=self.title,
                       text=self.to_text(),
                       alt=f"{self.title}: the graph at its last step, {len(self.steps)} steps "
                           f"in all ({self.graph.alt_text()})")

    def to_html(self) -> str:
        """A self-contained HTML page (inline SVG, CSS, JS; no network) stepping through the
        trace: previous / next / play, a slider, arrow keys, the current step's equation.
        Without JavaScript it shows the last step as an image and every step as text."""
        from .stepper import PAGE_HINT, page_html

        return page_html(self.title, self.stepper().fragment(page=True, document_keys=True,
                                                                 hint=PAGE_HINT))

    def save_html(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path``."""
        return save_text(path, self.to_html())

    def notebook_outputs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The outputs a notebook shows for this trace (see
        :func:`viz.stepper.notebook_outputs`): the last step as PNG, the steps as text with
        how to get the stepper, and the stepper itself as a JavaScript output."""
        from .stepper import fallback_html, new_id, notebook_outputs

        stepper, uid = self.stepper(), new_id()
        return notebook_outputs([stepper], stepper.fragment(uid, static=False, script=False),
                                fallback_html([stepper]), uid)

    def _ipython_display_(self) -> None:
        from .stepper import display_outputs

        display_outputs(self.notebook_outputs())

    def _repr_html_(self) -> str:
        return self.stepper().fragment()


def _names_for(order: Sequence[Any], fmt: NumberFormat) -> dict[Any, str]:
    return node_names(order, fmt)


# ---------------------------------------------------------------------------------------------
# backward
# ---------------------------------------------------------------------------------------------
class BackwardTrace(_TraceViews):
    """The recorded steps of one backward pass through ``root``'s graph (see
    :func:`trace_backward`)."""

    def __init__(self, root: Any, steps: list[BackwardStep], names: dict[Any, str],
                 graph: Graph, number_format: NumberFormat, initial_grads: dict[Any, Any]) -> None:
        self.root = root
        self.steps = steps
        self.names = names
        self.graph = graph
        self.number_format = number_format
        self._initial = initial_grads
        self.title = f"backward pass: ∂{names[root]}/∂ every node"

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"<BackwardTrace of {self.names[self.root]}: {len(self.steps)} steps>"

    # -- text --------------------------------------------------------------------------
    def _step_lines(self, step: BackwardStep) -> list[str]:
        fmt, L = self.number_format, self.names[self.root]
        if step.kind == "seed":
            return [f"{_d(L, step.name)} = {_num(step.upstream, fmt)}   (seed: the gradient of "
                    "the output with respect to itself)"]
        lines = [f"{step.formula}    with {_d(L, step.name)} = {_num(step.upstream, fmt)}"]
        if not step.contributions:
            lines.append("  (no operand requires grad)")
        for c in step.contributions:
            if c.local is None:                       # a vector-Jacobian product op
                lines.append(f"  {_d(L, c.parent_name)} = {c.local_formula}   with g = "
                             f"{_d(L, step.name)}  = {_num(c.product, fmt)}")
                if c.accumulated:
                    lines.append(f"  {_d(L, c.parent_name)} = {_num(c.before, fmt)} + "
                                 f"{_num(c.product, fmt, True)} = {_num(c.after, fmt)}   "
                                 f"(sum over paths, contribution {c.path})")
                continue
            local = _num(c.local, fmt)
            local_eq = local if c.local_formula == local else f"{c.local_formula} = {local}"
            lines.append(f"  {_d(step.name, c.parent_name)} = {local_eq}")
            lines.append(f"  {_d(L, c.parent_name)} = {_d(L, step.name)} · "
                         f"{_d(step.name, c.parent_name)} = {_num(step.upstream, fmt)} · "
                         f"{_num(c.local, fmt, True)} = {_num(c.product, fmt)}")
            if c.accumulated:
                lines.append(f"  {_d(L, c.parent_name)} = {_num(c.before, fmt)} + "
                             f"{_num(c.product, fmt, True)} = {_num(c.after, fmt)}   "
                             f"(sum over paths, contribution {c.path})")
        return lines

    def to_markdown(self) -> str:
        """A Markdown table, one row per gradient contribution (the seed first)."""
        fmt, L = self.number_format, self.names[self.root]
        m = markdown_escape
        rows = [f"| step | node | {m(_d(L, 'node'))} | operand | local {m('∂node/∂operand')} "
                f"| product | {m(_d(L, 'operand'))} |",
                "|---:|---|---:|---|---|---:|---:|"]
        for step in self.steps:
            if step.kind == "seed":
                rows.append(f"| {step.index} | {m(step.name)} (seed) | {m(_num(step.upstream, fmt))}"
                            " | | | | |")
                continue
            head = f"| {step.index} | {m(step.formula)} | {m(_num(step.upstream, fmt))}"
            if not step.contributions:
                rows.append(head + " | (none) | | | |")
            for c in step.contributions:
                local = _num(c.local, fmt)
                local_eq = (f"vjp: {c.local_formula}" if c.local is None else local
                            if c.local_formula == local else f"{c.local_formula} = {local}")
                total = (f"{_num(c.before, fmt)} + {_num(c.product, fmt, True)} = "
                         f"{_num(c.after, fmt)}" if c.accumulated else _num(c.after, fmt))
                rows.append(f"{head} | {m(c.parent_name)} | {m(local_eq)} | "
                            f"{m(_num(c.product, fmt))} | {m(total)} |")
        return "\n".join(rows)

    def to_latex(self) -> str:
        r"""The steps as aligned equations with ``\partial``, numbers substituted, e.g.
        ``\frac{\partial L}{\partial x} &= \frac{\partial L}{\partial z} \cdot
        \frac{\partial z}{\partial x} = 0.5 \cdot 3 = 1.5``."""
        fmt = self.number_format
        L = latex_name(self.names[self.root])
        lines = []
        for step in self.steps:
            n = latex_name(step.name)
            if step.kind == "seed":
                lines.append(f"{_dl(L, n)} &= {_num(step.upstream, fmt)}")
                continue
            lines.append(rf"&\text{{step {step.index}: }} {step.formula_latex}")
            for c in step.contributions:
                p = latex_name(c.parent_name)
                if c.local is None:
                    lines.append(f"{_dl(L, p)} &= {c.local_formula_latex} = {_num(c.product, fmt)}")
                    continue
                local = _num(c.local, fmt)
                local_eq = (local if c.local_formula == local
                            else f"{c.local_formula_latex} = {local}")
                lines.append(f"{_dl(n, p)} &= {local_eq}")
                lines.append(f"{_dl(L, p)} &= {_dl(L, n)} \\cdot {_dl(n, p)} = "
                             f"{_num(step.upstream, fmt)} \\cdot {_num(c.local, fmt, True)} = "
                             f"{_num(c.product, fmt)}")
                if c.accumulated:
                    lines.append(f"{_dl(L, p)} &= {_num(c.before, fmt)} + "
                                 f"{_num(c.product, fmt, True)} = {_num(c.after, fmt)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    # -- frames ------------------------------------------------------------------------
    def _steps(self) -> Steps:
        fmt, ids, op_ids = self.number_format, self.graph.ids, self.graph.op_ids
        base: dict[str, str] = {}
        reveal: dict[str, int] = {}
        for node, vid in ids.items():
            if node.op is None and not node.requires_grad:
                continue                                   # constants carry no gradient
            if node.op is None and node in self._initial and not _all_zero(self._initial[node]):
                base[f"{vid}:grad"] = "grad " + format_number(self._initial[node], fmt)
            else:
                base[f"{vid}:grad"] = "grad ?"
            reveal[vid] = len(self.steps)                  # pending until it gets a gradient
        frames: list[Frame] = []
        for k, step in enumerate(self.steps):
            vid = ids.get(step.node)
            if step.kind == "seed":
                frame = Frame(title=f"step {k}: seed {_d(self.names[self.root], step.name)}",
                              equation="\n".join(self._step_lines(step)),
                              active=[vid] if vid else [],
                              texts={f"{vid}:grad": "grad " + format_number(step.upstream, fmt)})
                if vid:
                    reveal[vid] = min(reveal.get(vid, k), k)
                frames.append(frame)
                continue
            i = _index_of(vid, op_ids.get(step.node))
            oid = op_ids.get(step.node)
            frame = Frame(title=f"step {k}: through {step.formula}",
                          equation="\n".join(self._step_lines(step)),
                          active=[x for x in (vid, oid, f"e{i}" if i is not None else None) if x])
            for c in step.contributions:
                pid = ids.get(c.parent)
                if i is not None:
                    frame.edges.append(f"e{i}_{c.index}")
                if pid:
                    frame.targets.append(pid)
                    frame.texts[f"{pid}:grad"] = "grad " + format_number(c.after, fmt)
                    reveal[pid] = min(reveal.get(pid, k), k)
            for item in [oid] + ([f"e{i}"] if i is not None else []) + \
                    [f"e{i}_{c.index}" for c in step.contributions if i is not None]:
                if item:
                    reveal[item] = k
            frames.append(frame)
        return Steps(base, reveal, frames)


def _index_of(vid: str | None, oid: str | None) -> int | None:
    if oid and oid.startswith("o"):
        return int(oid[1:])
    return None


def trace_backward(root: Any, gradient: Any = 1.0, *, rankdir: str = "LR",
                   show_local: bool = False, hide_constants: bool = False,
                   number_format: NumberFormat = DEFAULT_NUMBER_FORMAT,
                   max_nodes: int = DEFAULT_MAX_NODES) -> BackwardTrace:
    """Run backward from ``root`` (∂root/∂root = ``gradient``) and record every step.

    Exactly the engine's pass: intermediate gradients start from zero, leaves accumulate;
    nodes are visited in reverse topological order, and at each one, for each operand in
    order that requires grad, ``operand.grad += local · node.grad`` with
    ``local = ∂node/∂operand`` from the op record. Afterwards every ``.grad`` equals what
    ``root.backward(gradient)`` gives (intermediate tensor gradients are kept, as with
    ``retain_grad``). The drawing options are those of :func:`viz.draw_graph`.
    """
    if not hasattr(root, "parents") or not hasattr(root, "grad"):
        raise TypeError(f"trace_backward expects a graph node (Value or Tensor), got "
                        f"{type(root).__name__}")
    number_format = validate_number_format(number_format)
    order = topological_order(root)
    names = _names_for(order, number_format)
    initial = {n: _copy(n.grad) for n in order if n.op is None}

    reset_intermediate_grads(order)      # as backward does (and refuses a freed tensor graph)
    if is_array_node(root):
        root._accumulate(np.broadcast_to(np.asarray(gradient, dtype=float), np.shape(root.data))
                         .copy())
    else:
        gradient = float(getattr(gradient, "data", gradient))
        root._accumulate(gradient)
    steps: list[BackwardStep] = [BackwardStep(0, "seed", root, names[root], _copy(root.grad),
                                              names[root], latex_name(names[root]), ())]
    paths: dict[Any, int] = {}
    with set_grad_enabled(False):
        for node in reversed(order):
            if node.op is None:
                continue
            if not isinstance(node, Value) or not node.op.elementwise:
                contributions = _tensor_step(node, names, paths)
            else:
                contributions = _scalar_step(node, names, paths)
            if state.anomaly:
                from autograd_core.anomaly import check_backward
                check_backward(node)
            formula, formula_latex = _formulas(node, names)
            steps.append(BackwardStep(len(steps), "node", node, names[node], _copy(node.grad),
                                      formula, formula_latex, tuple(contributions)))
    graph = draw_graph(root, rankdir=rankdir, show_grad=True, show_local=show_local,
                       hide_constants=hide_constants, max_nodes=max_nodes,
                       number_format=number_format)
    return BackwardTrace(root, steps, names, graph, number_format, initial)


def _copy(x: Any) -> Any:
    return x.copy() if isinstance(x, np.ndarray) else x


def _formulas(node: Any, names: dict[Any, str]) -> tuple[str, str]:
    op, params = node.op, node.params
    operands = [names[p] for p in node.parents]
    text = f"{names[node]} = {op.formula(operands, **params)}"
    latex = (f"{latex_name(names[node])} = "
             f"{op.formula([latex_name(n) for n in operands], latex=True, **params)}")
    return text, latex


def _local_formulas(node: Any, k: int, names: dict[Any, str]) -> tuple[str, str]:
    op, params = node.op, node.params
    operands = [names[p] for p in node.parents]
    return (op.derivative_formula(k, operands, **params),
            op.derivative_formula(k, [latex_name(n) for n in operands], latex=True, **params))


def _scalar_step(node: Any, names: dict[Any, str], paths: dict[Any, int]) -> list[Contribution]:
    """A scalar node: the engine's own ``_backprop`` does ``parent.grad += local · grad``;
    the same products and running sums, in the same order, are recorded for display."""
    upstream = node.grad
    running: dict[Any, Any] = {}
    contributions = []
    for k, (parent, local) in enumerate(zip(node.parents, node.local_derivatives())):
        if not parent.requires_grad:
            continue
        product = local * upstream
        before = running.get(parent, parent.grad)
        running[parent] = before + product
        paths[parent] = paths.get(parent, 0) + 1
        text, latex = _local_formulas(node, k, names)
        contributions.append(Contribution(parent, names[parent], k, text, latex, local, product,
                                          before, running[parent], paths[parent]))
    node._backprop(False)
    return contributions


def _tensor_step(node: Any, names: dict[Any, str], paths: dict[Any, int]) -> list[Contribution]:
    """A tensor (or vector-Jacobian) node: the engine's own ``_backprop`` updates the
    gradients; the contributions are recomputed for display."""
    upstream = _copy(node.grad)
    shown = node.op.vjp(node, upstream)
    locals_ = (node.op.local_derivatives(node) if node.op.elementwise
               else (None,) * len(node.parents))
    running = {p: _copy(p.grad) for p in node.parents}
    node._backprop(False, release=False)   # keep the gradient: the frames show it
    contributions = []
    for k, (parent, product) in enumerate(zip(node.parents, shown)):
        if product is None or not parent.requires_grad:
            continue
        product = _reduce_to(product, np.shape(parent.data))
        before = running[parent]
        after = before + product if before is not None else product
        running[parent] = after
        paths[parent] = paths.get(parent, 0) + 1
        text, latex = _local_formulas(node, k, names)
        contributions.append(Contribution(parent, names[parent], k, text, latex, locals_[k],
                                          product, before, after, paths[parent]))
    return contributions


def _reduce_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast gradient back to ``shape`` (for display of tensor contributions)."""
    g = np.asarray(g, dtype=float)
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g if shape else float(g)


# ---------------------------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------------------------
class ForwardTrace(_TraceViews):
    """The forward pass node by node (see :func:`trace_forward`); ``mode`` is ``"values"``
    or ``"dual"`` (values with forward-mode tangents)."""

    def __init__(self, root: Any, steps: list[ForwardStep], names: dict[Any, str], graph: Graph,
                 number_format: NumberFormat, mode: str) -> None:
        self.root, self.steps, self.names, self.graph = root, steps, names, graph
        self.number_format, self.mode = number_format, mode
        self.tangents = {s.node: s.tangent for s in steps} if mode == "dual" else {}
        self.title = ("forward pass with dual numbers (forward-mode AD)" if mode == "dual"
                      else "forward pass: values node by node")

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"<ForwardTrace ({self.mode}) of {self.names[self.root]}: {len(self.steps)} steps>"

    def _step_lines(self, step: ForwardStep) -> list[str]:
        fmt = self.number_format
        if step.kind == "leaf":
            lines = [f"{step.name} = {_num(step.value, fmt)}   (leaf)"]
        else:
            lines = [f"{step.formula} = {step.substituted} = {_num(step.value, fmt)}"]
        if self.mode == "dual":
            if step.kind == "leaf":
                lines.append(f"  d{step.name} = {_num(step.tangent, fmt)}   (seed tangent)")
            else:
                sym = " + ".join(f"{_d(step.name, t.parent_name)}·d{t.parent_name}"
                                 for t in step.terms) or "0"
                num = " + ".join(f"{_num(t.local, fmt, True)}·{_num(t.tangent, fmt, True)}"
                                 for t in step.terms) or "0"
                lines.append(f"  d{step.name} = {sym} = {num} = {_num(step.tangent, fmt)}")
        return lines

    def to_markdown(self) -> str:
        """A Markdown table: step, node, formula, numbers substituted, value (, tangent)."""
        fmt, m = self.number_format, markdown_escape
        dual = self.mode == "dual"
        rows = ["| step | node | formula | with numbers | value |" + (" tangent |" if dual else ""),
                "|---:|---|---|---|---:|" + ("---:|" if dual else "")]
        for s in self.steps:
            formula = "(leaf)" if s.kind == "leaf" else s.formula
            row = (f"| {s.index} | {m(s.name)} | {m(formula)} | {m(s.substituted)} | "
                   f"{m(_num(s.value, fmt))} |")
            if dual:
                row += f" {m(_num(s.tangent, fmt))} |"
            rows.append(row)
        return "\n".join(rows)

    def to_latex(self) -> str:
        """Aligned equations: each value with its operands' numbers substituted (and the
        tangent ``\\dot{z} = \\sum \\partial z/\\partial a \\, \\dot{a}`` in dual mode)."""
        fmt = self.number_format
        lines = []
        for s in self.steps:
            n = latex_name(s.name)
            if s.kind == "leaf":
                lines.append(f"{n} &= {_num(s.value, fmt)}")
            else:
                rhs = s.formula_latex.split(" = ", 1)[1]
                lines.append(f"{n} &= {rhs} = {_num(s.value, fmt)}")
            if self.mode == "dual":
                if s.kind == "leaf" or not s.terms:
                    lines.append(rf"\dot{{{n}}} &= {_num(s.tangent, fmt)}")
                else:
                    sym = " + ".join(rf"{_dl(n, latex_name(t.parent_name))}\,"
                                     rf"\dot{{{latex_name(t.parent_name)}}}" for t in s.terms)
                    num = " + ".join(rf"{_num(t.local, fmt, True)} \cdot {_num(t.tangent, fmt, True)}"
                                     for t in s.terms)
                    lines.append(rf"\dot{{{n}}} &= {sym} = {num} = {_num(s.tangent, fmt)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _steps(self) -> Steps:
        fmt, ids, op_ids = self.number_format, self.graph.ids, self.graph.op_ids
        base: dict[str, str] = {}
        reveal: dict[str, int] = {}
        by_node = {s.node: s for s in self.steps}
        for node, vid in ids.items():
            if node in by_node:
                base[f"{vid}:data"] = "data ?"
                if self.mode == "dual":
                    base[f"{vid}:grad"] = "tangent ?"
        frames = []
        for k, s in enumerate(self.steps):
            vid, oid = ids.get(s.node), op_ids.get(s.node)
            i = _index_of(vid, oid)
            frame = Frame(title=f"step {k}: {s.name}", equation="\n".join(self._step_lines(s)))
            if vid:
                frame.active.append(vid)
                reveal[vid] = k
                frame.texts[f"{vid}:data"] = "data " + format_number(s.value, fmt)
                if self.mode == "dual":
                    frame.texts[f"{vid}:grad"] = "tangent " + format_number(s.tangent, fmt)
            if oid:
                frame.active.append(oid)
                reveal[oid] = k
            if i is not None:
                frame.active.append(f"e{i}")
                reveal[f"e{i}"] = k
                for j, parent in enumerate(s.node.parents):
                    frame.edges.append(f"e{i}_{j}")
                    reveal[f"e{i}_{j}"] = k
                    if ids.get(parent):
                        frame.targets.append(ids[parent])
            frames.append(frame)
        return Steps(base, reveal, frames)


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
    steps: list[ForwardStep] = []
    tangent: dict[Any, Any] = {}
    for node in order:
        if node.op is None and not node.requires_grad:
            tangent[node] = 0.0
            continue
        if node.op is None:
            t = seed.get(node, 0.0) if dual else None
            tangent[node] = t
            steps.append(ForwardStep(len(steps), "leaf", node, names[node], _copy(node.data),
                                     names[node], latex_name(names[node]),
                                     format_number(node.data, number_format), t))
            continue
        formula, formula_latex = _formulas(node, names)
        values = [format_number(p.data, number_format) for p in node.parents]
        if node.op.arity > 1:
            values = [f"({v})" if v.startswith("-") else v for v in values]
        substituted = node.op.formula(values,
                                      **node.params)
        terms: list[TangentTerm] = []
        t = None
        if dual:
            t = 0.0
            locals_ = (node.op.local_derivatives(node) if node.op.elementwise
                       else (None,) * node.op.arity)
            for k, (parent, local) in enumerate(zip(node.parents, locals_)):
                if not parent.requires_grad:
                    continue
                if local is None:
                    raise TypeError(f"forward mode through op {node.op.name!r} (a vector-"
                                    "Jacobian product op) is not supported by trace_forward")
                product = local * tangent[parent]
                t = t + product
                terms.append(TangentTerm(names[parent], _local_formulas(node, k, names)[0], local,
                                         tangent[parent], product))
            if _dual_apply is not None and isinstance(node, Value):
                # the engine's own forward mode (autograd_core.Dual) on the same op record
                t = _dual_apply(node.op, *[_Dual(p.data, tangent[p]) for p in node.parents],
                                **node.params).tangent
            tangent[node] = t
        steps.append(ForwardStep(len(steps), "op", node, names[node], _copy(node.data), formula,
                                 formula_latex, substituted, t, tuple(terms)))
    fmt = number_format
    third = (lambda n: "tangent " + format_number(tangent.get(n, 0.0), fmt)) if dual else None
    graph = draw_graph(root, rankdir=rankdir, show_grad=False, show_local=show_local,
                       hide_constants=hide_constants, max_nodes=max_nodes, number_format=fmt,
                       _third_field=third)
    return ForwardTrace(root, steps, names, graph, number_format, "dual" if dual else "values")


def _seed(order: Sequence[Any], wrt: Any, tangents: Mapping[Any, Any] | None
          ) -> dict[Any, Any] | None:
    if wrt is None and tangents is None:
        return None
    if wrt is not None and tangents is not None:
        raise ValueError("give wrt= (leaves seeded with tangent 1) or tangents= "
                         "({leaf: tangent}), not both")
    in_graph = set(order)
    if tangents is None:
        leaves: Iterable[Any] = wrt if isinstance(wrt, (list, tuple)) else (wrt,)
        tangents = {leaf: 1.0 for leaf in leaves}
    seed = {}
    for leaf, value in tangents.items():
        if leaf not in in_graph or leaf.op is not None or not leaf.requires_grad:
            raise ValueError(f"tangents are seeded on leaves of this graph that require grad; "
                             f"{leaf!r} is not one")
        seed[leaf] = float(value) if not is_array_node(leaf) else np.asarray(value, dtype=float)
    return seed
