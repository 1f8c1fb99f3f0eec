"""One backward pass, recorded: its steps (:class:`BackwardStep`, :class:`Contribution`), the
notation its views write, and :class:`BackwardTrace` (text, Markdown, LaTeX, frames, stepper).

One symbol, one meaning, in every format: the total ``∂L/∂x`` (written only once complete),
the local derivative of a node with respect to one operand slot ``∂(x * w)/∂(1st operand)``,
a contribution ``∂L/∂node · local``, and the running sum ``x.grad = ...``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_core import Edge, is_zero, observe_backward, topological_order

from ..browser.stepper import Frame, Steps
from ..drawing.style import (NumberFormat, format_number, latex_escape, latex_name, latex_partial,
                             markdown_escape)
from .trace_views import (ORDINALS, _TraceViews, _copy, _d, _formulas, _index_of, _local_formulas,
                          _num, local_symbol, local_symbol_latex)


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




def record_backward(root: Any, gradient: Any, names: dict[Any, str]
                    ) -> tuple[list[BackwardStep], dict[Any, Any], dict[Any, Any], str]:
    """One pass from ``root`` observed (:func:`autograd_core.observe_backward`: from zero,
    changing nothing) and turned into steps: the seed, then one step per node in the order the
    pass reached it, each with its contributions. Returns the steps, each node's total
    ``grads``, the leaves whose ``.grad`` ``held`` something else, and the output's name."""
    order = topological_order(root)
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
    return steps, grads, held, output


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
