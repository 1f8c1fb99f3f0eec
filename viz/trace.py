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

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from autograd_core import (Dual, Edge, TangentStep, is_zero, observe_backward, observe_forward,
                           topological_order)

from .graph import DEFAULT_MAX_NODES, Graph, draw_graph, is_array_node, node_names
from .stepper import (PAGE_HINT, TARGET_WORDS, Frame, Stepper, Steps, display_outputs, fallback_html, new_id,
                      notebook_outputs, page_html, render_frames, save_text)
from .style import (DEFAULT_NUMBER_FORMAT, NumberFormat, format_number, in_formula, latex_escape,
                    latex_name, latex_partial, markdown_escape, validate_number_format)


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contribution:
    """What one node sends one operand slot in the pass: ``product = upstream · local``.

    The trace's pass starts every gradient at zero, so ``before``/``after`` are the operand's
    ``.grad`` accumulator around this addition in that pass (``before`` is ``None`` for its
    first); ``path`` numbers the operand's contributions (1, 2, ...) and ``paths`` counts them:
    after the last one (:attr:`complete`), ``after`` is the total ∂L/∂operand.
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
    paths: int = 1

    @property
    def accumulated(self) -> bool:
        """True when this adds to a gradient from another path of this same pass."""
        return self.path > 1

    @property
    def complete(self) -> bool:
        """True for the operand's last contribution: ``after`` is then ∂L/∂operand."""
        return self.path == self.paths


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


def _num(x: Any, fmt: NumberFormat, paren: bool = False) -> str:
    text = format_number(x, fmt)
    return f"({text})" if paren and text.startswith("-") else text


def _d(num: str, den: str) -> str:
    """The total ``∂num/∂den``: the complete derivative of the output ``num`` with respect to a
    node (the only meaning this symbol has in a trace)."""
    return f"∂{in_formula(num)}/∂{in_formula(den)}"


ORDINALS = ("1st", "2nd")


def local_symbol(formula: str, index: int) -> str:
    """The local derivative of a node with respect to one operand slot, written with the
    node's own formula: ``∂(x * x)/∂(1st operand)``. It differs from a total ``∂y/∂x`` by
    naming the slot, so ``y = x * x`` has two locals (one per slot) and one total."""
    wrapped = formula if re.fullmatch(r"\w+\([^()]*\)", formula) else f"({formula})"
    return f"∂{wrapped}/∂({ORDINALS[index]} operand)"


def local_symbol_latex(formula_latex: str, index: int) -> str:
    r""":func:`local_symbol` in LaTeX: ``\frac{\partial (x \cdot x)}{\partial (\text{1st operand})}``."""
    return latex_partial(f"({formula_latex})", rf"(\text{{{ORDINALS[index]} operand}})")


def accumulator_line(name: str, c: Contribution, L: str, fmt: NumberFormat) -> str:
    """The operand's ``.grad`` after a contribution, as a true equation in the trace's pass
    (which starts at zero): ``a.grad = 1 + 4 = 5 = ∂z/∂a`` once the last one is in."""
    value = _num(c.after, fmt)
    text = f"{name}.grad = "
    if c.before is not None and c.accumulated:
        text += f"{_num(c.before, fmt)} + {_num(c.product, fmt, True)} = "
    text += value
    if c.complete:
        text += f" = {_d(L, name)}"
        if c.paths > 1:
            text += f"   (complete: the sum of its {c.paths} contributions)"
    else:
        text += f"   ({c.path} of its {c.paths} contributions so far)"
    return text


def _local_eq(formula: str, local: Any, fmt: NumberFormat, shown: str | None = None) -> str:
    """``formula = value`` for a local derivative, or the value alone when the formula is
    that number (``1`` for ``+``; a constant operand ``(-3)`` for ``x * (-3)``)."""
    value = _num(local, fmt)
    if formula in (value, f"({value})"):
        return value
    return f"{formula if shown is None else shown} = {value}"


def held_sentence(name: str, held: str, computed: str) -> str:
    """What a trace says of a leaf whose ``.grad`` holds something other than this pass's
    total (earlier passes added to it): the trace shows one pass and changes nothing."""
    return (f"note: {name}.grad holds {held}, not this pass's {computed}: earlier backward "
            f"passes added to it (zero the gradients between passes). The trace shows one pass "
            f"from zero and leaves every .grad as it was.")


# ---------------------------------------------------------------------------------------------
# shared views
# ---------------------------------------------------------------------------------------------
class _TraceViews:
    """Frames and the HTML stepper from a graph layout and :class:`Steps`."""

    title: str
    _graph: Any            # a Graph, or a function that lays it out when first needed
    _target_words = TARGET_WORDS     # what the stepper's legend calls the purple outline

    steps: Sequence[Any]

    def _steps(self) -> Steps:  # pragma: no cover - abstract
        raise NotImplementedError

    def _step_lines(self, step: Any) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def graph(self) -> Graph:
        """The drawing the frames and the stepper restyle (laid out on first use, so a
        text-only trace of a large graph never runs Graphviz)."""
        if not isinstance(self._graph, Graph):
            self._graph = self._graph()
        return self._graph

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

    def stepper(self) -> Stepper:
        """The trace as a :class:`viz.stepper.Stepper`: the steps, as text too, on the layout
        that reads best in a notebook column (:meth:`viz.Graph.for_width`; same node ids)."""
        last = len(self.steps) - 1
        return Stepper(self.graph.for_width().svg(), self._steps(), title=self.title,
                       text=self.to_text(), target_words=self._target_words,
                       alt=f"{self.title}: the graph at step {last}, the last of steps 0 to "
                           f"{last} ({self.graph.alt_text()})")

    def to_html(self) -> str:
        """A self-contained HTML page (inline SVG, CSS, JS; no network) stepping through the
        trace: previous / next / play, a slider, arrow keys, the current step's equation.
        Without JavaScript it shows the last step as an image and every step as text."""
        return page_html(self.title, self.stepper().fragment(page=True, document_keys=True,
                                                                 hint=PAGE_HINT))

    def save_html(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path``."""
        return save_text(path, self.to_html())

    def notebook_outputs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The outputs a notebook shows for this trace (see
        :func:`viz.stepper.notebook_outputs`): the last step as PNG, the steps as text with
        how to get the stepper, and the stepper itself as a JavaScript output."""
        stepper, uid = self.stepper(), new_id()
        return notebook_outputs([stepper], stepper.fragment(uid, static=False, script=False),
                                fallback_html([stepper]), uid)

    def _ipython_display_(self) -> None:
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
    :func:`trace_backward`).

    ``grads`` maps each node to its gradient at the end of the pass (∂L/∂node); ``held``
    maps each leaf whose ``.grad`` held something else when traced (earlier passes) to that
    value. ``output`` is the name the totals are written with: the root's, or ``L`` when a
    ``gradient`` was given (then the totals are those of a loss L with ∂L/∂root = gradient).
    """

    def __init__(self, root: Any, steps: list[BackwardStep], names: dict[Any, str],
                 graph: Any, number_format: NumberFormat, grads: dict[Any, Any],
                 held: dict[Any, Any], output: str | None = None) -> None:
        self.root = root
        self.steps = steps
        self.names = names
        self._graph = graph
        self.number_format = number_format
        self.grads = grads
        self.held = held
        self.output = output or names[root]
        self.title = f"backward pass: {_d(self.output, 'v')} for every node v"

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"<BackwardTrace of {self.names[self.root]}: {len(self.steps)} steps>"

    def restricted(self, steps: list[BackwardStep], graph: Any = None) -> BackwardTrace:
        """The same pass with only ``steps`` (and ``graph`` as its drawing): the views of a
        part of it, as a collapsed trace shows its scalar steps."""
        return BackwardTrace(self.root, steps, self.names, graph, self.number_format,
                             self.grads, self.held, self.output)

    def held_notes(self) -> list[str]:
        """One sentence per leaf whose ``.grad`` holds something other than this pass's total."""
        fmt = self.number_format
        return [held_sentence(self.names[leaf], _num(value, fmt), _num(self.grads.get(leaf, 0.0), fmt))
                for leaf, value in self.held.items()]

    # -- text --------------------------------------------------------------------------
    def _step_lines(self, step: BackwardStep) -> list[str]:
        fmt, L = self.number_format, self.output
        if step.kind == "seed":
            seed = (f"{_d(L, step.name)} = {_num(step.upstream, fmt)}   (the seed: the output's "
                    "gradient with respect to itself)" if L == step.name else
                    f"{_d(L, step.name)} = {_num(step.upstream, fmt)}   (the seed: the gradient "
                    "passed to backward)")
            return [seed, *("  " + note for note in self.held_notes())]
        lines = [f"{step.formula}    with {_d(L, step.name)} = {_num(step.upstream, fmt)}"]
        if not step.contributions:
            lines.append("  (no operand requires grad)")
        operands = step.formula.partition(" = ")[2]
        for c in step.contributions:
            slot = f"  {c.parent_name} ({ORDINALS[c.index]} operand):"
            if c.local is None:                       # a vector-Jacobian product op
                lines.append(f"{slot}  vector-Jacobian product {c.local_formula}, with g = "
                             f"{_d(L, step.name)}")
                lines.append(f"    contribution = {_num(c.product, fmt)}")
            else:
                sym = local_symbol(operands, c.index)
                lines.append(f"{slot}  {sym} = {_local_eq(c.local_formula, c.local, fmt)}")
                lines.append(f"    contribution: {_d(L, step.name)} · {sym} = "
                             f"{_num(step.upstream, fmt)} · {_num(c.local, fmt, True)} = "
                             f"{_num(c.product, fmt)}")
            lines.append("    " + accumulator_line(c.parent_name, c, L, fmt))
        return lines

    def to_markdown(self) -> str:
        """A Markdown table, one row per contribution (the seed first): the node, ∂L/∂node,
        the operand slot, the local derivative for that slot, the contribution and the
        operand's ``.grad`` after it (marked ``= ∂L/∂operand`` once complete)."""
        fmt, L = self.number_format, self.output
        m = markdown_escape
        rows = [f"| step | node | {m(_d(L, 'node'))} | operand | local {m('∂(node)/∂(operand slot)')} "
                f"| contribution | operand.grad after |",
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
                local_eq = (f"vjp: {c.local_formula}" if c.local is None else
                            _local_eq(c.local_formula, c.local, fmt))
                product = (_num(c.product, fmt) if c.local is None else
                           f"{_num(step.upstream, fmt)} · {_num(c.local, fmt, True)} = "
                           f"{_num(c.product, fmt)}")
                total = (f"{_num(c.before, fmt)} + {_num(c.product, fmt, True)} = "
                         f"{_num(c.after, fmt)}" if c.accumulated else _num(c.after, fmt))
                total += f" = {_d(L, c.parent_name)}" if c.complete else \
                    f" ({c.path} of {c.paths} so far)"
                rows.append(f"{head} | {m(c.parent_name)} ({ORDINALS[c.index]}) | {m(local_eq)} | "
                            f"{m(product)} | {m(total)} |")
        notes = [m(note) for note in self.held_notes()]
        return "\n".join(rows + ([""] + notes if notes else []))

    def to_latex(self) -> str:
        r"""The steps as aligned equations with ``\partial``, numbers substituted: per operand
        slot the local derivative ``\frac{\partial (x \cdot w)}{\partial (\text{1st operand})}``,
        the contribution ``\frac{\partial L}{\partial z} \cdot (\text{local}) = 0.5 \cdot 3``,
        and the accumulator ``\texttt{x.grad}``, equal to ``\frac{\partial L}{\partial x}`` once
        complete."""
        fmt = self.number_format
        L = latex_name(self.output)
        lines = []
        for step in self.steps:
            n = latex_name(step.name)
            if step.kind == "seed":
                lines.append(f"{latex_partial(L, n)} &= {_num(step.upstream, fmt)}")
                lines.extend(rf"&\text{{{note}}}" for note in self.held_notes())
                continue
            lines.append(rf"&\text{{step {step.index}: }} {step.formula_latex}")
            operands = step.formula_latex.partition(" = ")[2]
            for c in step.contributions:
                p = latex_name(c.parent_name)
                grad = rf"\texttt{{{latex_escape(c.parent_name)}.grad}}"
                if c.local is None:
                    lines.append(rf"\text{{contribution to }} {p} &= {c.local_formula_latex} "
                                 f"= {_num(c.product, fmt)}")
                else:
                    sym = local_symbol_latex(operands, c.index)
                    local_eq = _local_eq(c.local_formula, c.local, fmt, c.local_formula_latex)
                    lines.append(f"{sym} &= {local_eq}")
                    lines.append(rf"\text{{contribution}} &= {latex_partial(L, n)} \cdot {sym} = "
                                 f"{_num(step.upstream, fmt)} \\cdot {_num(c.local, fmt, True)} = "
                                 f"{_num(c.product, fmt)}")
                total = (f"{_num(c.before, fmt)} + {_num(c.product, fmt, True)} = "
                         if c.accumulated else "") + _num(c.after, fmt)
                if c.complete:
                    total += f" = {latex_partial(L, p)}"
                else:
                    total += rf" \quad \text{{({c.path} of {c.paths} contributions so far)}}"
                lines.append(f"{grad} &= {total}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    # -- frames ------------------------------------------------------------------------
    def _steps(self) -> Steps:
        fmt, ids, op_ids = self.number_format, self.graph.ids, self.graph.op_ids
        base: dict[str, str] = {}
        reveal: dict[str, int] = {}
        for node, vid in ids.items():
            if node.op is None and not node.requires_grad:
                continue                                   # constants carry no gradient
            base[f"{vid}:grad"] = "grad ?"
            reveal[vid] = len(self.steps)                  # pending until it gets a gradient
        frames: list[Frame] = []
        for k, step in enumerate(self.steps):
            vid = ids.get(step.node)
            if step.kind == "seed":
                frame = Frame(title=f"step {k}: seed {_d(self.output, step.name)}",
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
                    # a partial sum says so: "grad" alone is the total ∂L/∂value
                    frame.texts[f"{pid}:grad"] = ("grad " if c.complete else "grad so far ") + \
                        format_number(c.after, fmt)
                    reveal[pid] = min(reveal.get(pid, k), k)
            operand_edges = [f"e{i}_{j}" for j in range(len(step.node.parents))] if i is not None else []
            for item in [oid] + ([f"e{i}"] if i is not None else []) + operand_edges:
                if item:
                    reveal[item] = k
            for parent in step.node.parents:      # a constant appears with the op that uses it
                pid = ids.get(parent)
                if pid and parent.op is None and not parent.requires_grad:
                    reveal[pid] = min(reveal.get(pid, k), k)
            frames.append(frame)
        return Steps(base, reveal, frames)


def _index_of(vid: str | None, oid: str | None) -> int | None:
    if oid and oid.startswith("o"):
        return int(oid[1:])
    return None


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
    grain of the network and returns a :class:`viz.collapse.CollapsedTrace`: one step per
    neuron (``δ_j = f'(z_j) · Σ_k w_kj δ_k``, then ``∂L/∂w_ji = δ_j · a_i``, ``∂L/∂b_j = δ_j``),
    per layer (the notes' Jacobian form ``δ^ℓ = G(ℓ) W_{ℓ+1}ᵀ δ^{ℓ+1}``,
    ``∂L/∂W_ℓ = δ^ℓ a^{ℓ-1}ᵀ``, with the matrices when they are small) or per module scope,
    each step holding the scalar steps inside it. Nodes made outside any module (the loss)
    stay ordinary steps. A graph with no module scopes raises ``ValueError``.
    """
    if not hasattr(root, "parents") or not hasattr(root, "grad"):
        raise TypeError(f"trace_backward expects a graph node (Value or Tensor), got "
                        f"{type(root).__name__}")
    if collapse is not None and collapse not in ("neuron", "layer", "module"):
        raise ValueError(f"collapse must be None, 'neuron', 'layer' or 'module'; got {collapse!r}")
    number_format = validate_number_format(number_format)
    if collapse is not None:
        from .collapse import check_scopes
        check_scopes(root, collapse)          # before the pass: a refused trace changes no .grad
    order = topological_order(root)
    names = _names_for(order, number_format)
    output = names[root] if gradient is None else "L"
    edges, totals = observe_backward(root, gradient)
    grads = {node: _copy(g) for node, g in totals.items()}
    held = {n: _copy(n.grad) for n in order
            if n.is_leaf and n.requires_grad and n is not root and _differs(n.grad, grads.get(n))}
    counts: dict[Any, int] = {}
    for edge in edges:
        counts[edge.parent] = counts.get(edge.parent, 0) + 1
    steps = [BackwardStep(0, "seed", root, names[root], _copy(_seed_of(root, edges, totals)),
                          names[root], latex_name(names[root]), ())]
    paths: dict[Any, int] = {}
    by_node: dict[Any, list[Contribution]] = {}
    for edge in edges:
        parent = edge.parent
        paths[parent] = paths.get(parent, 0) + 1
        text, latex = _local_formulas(edge.node, edge.position, names)
        contributions = by_node.get(edge.node)
        if contributions is None:
            contributions = by_node[edge.node] = []
            formula, formula_latex = _formulas(edge.node, names)
            steps.append(BackwardStep(len(steps), "node", edge.node, names[edge.node],
                                      _copy(edge.upstream), formula, formula_latex, ()))
        contributions.append(Contribution(
            parent, names[parent], edge.position, text, latex, _copy(edge.local),
            _copy(edge.contribution), _copy(edge.before), _copy(edge.after), paths[parent],
            counts[parent]))
    steps = [s if s.kind == "seed" else BackwardStep(s.index, s.kind, s.node, s.name, s.upstream,
                                                      s.formula, s.formula_latex,
                                                      tuple(by_node[s.node]))
             for s in steps]
    drawing = dict(rankdir=rankdir, show_grad=True, show_local=show_local,
                   hide_constants=hide_constants, max_nodes=max_nodes, number_format=number_format,
                   title=title, _grads=grads)
    scalar = BackwardTrace(root, steps, names, lambda: draw_graph(root, **drawing), number_format,
                           grads, held, output)
    if collapse is not None:
        from .collapse import collapse_trace
        return collapse_trace(scalar, order, collapse,
                              lambda: draw_graph(root, collapse=collapse, **drawing))
    return scalar


def _differs(held: Any, computed: Any) -> bool:
    """True when a leaf's ``.grad`` is neither empty nor this pass's total."""
    if held is None or is_zero(held):
        return False
    if computed is None:
        return True
    held = getattr(held, "data", held)
    computed = getattr(computed, "data", computed)
    try:
        return not np.array_equal(np.asarray(held, dtype=float), np.asarray(computed, dtype=float))
    except (TypeError, ValueError):
        return True


def _seed_of(root: Any, edges: list[Edge], totals: dict[Any, Any]) -> Any:
    """∂L/∂root as the pass started: the upstream of the root's own step (for a leaf root,
    what the pass gave it)."""
    for edge in edges:
        if edge.node is root:
            return edge.upstream
    return totals.get(root)


def _copy(x: Any) -> Any:
    return x.copy() if isinstance(x, np.ndarray) else x


def _formulas(node: Any, names: dict[Any, str]) -> tuple[str, str]:
    op, params = node.op, node.params
    operands = [in_formula(names[p]) for p in node.parents]
    text = f"{names[node]} = {op.formula(operands, params=params)}"
    latex = (f"{latex_name(names[node])} = "
             f"{op.formula([latex_name(n) for n in operands], latex=True, params=params)}")
    return text, latex


def _local_formulas(node: Any, k: int, names: dict[Any, str]) -> tuple[str, str]:
    op, params = node.op, node.params
    operands = [in_formula(names[p]) for p in node.parents]
    return (op.derivative_formula(k, operands, params=params),
            op.derivative_formula(k, [latex_name(n) for n in operands], latex=True, params=params))


# ---------------------------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------------------------
class ForwardTrace(_TraceViews):
    """The forward pass node by node (see :func:`trace_forward`); ``mode`` is ``"values"``
    or ``"dual"`` (values with forward-mode tangents)."""

    _target_words = "read by this step"

    def __init__(self, root: Any, steps: list[ForwardStep], names: dict[Any, str], graph: Any,
                 number_format: NumberFormat, mode: str) -> None:
        self.root, self.steps, self.names, self._graph = root, steps, names, graph
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
                    sym = " + ".join(rf"{latex_partial(n, latex_name(t.parent_name))}\,"
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
                                      operand.tangent, local * operand.tangent)
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
