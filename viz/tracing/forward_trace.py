"""The forward pass, recorded node by node: :class:`ForwardStep` (a value appearing, with its
dual-number tangent in forward mode), :class:`TangentTerm`, and :class:`ForwardTrace`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..browser.stepper import Frame, Steps
from ..drawing.graph import is_array_node
from ..drawing.style import NumberFormat, format_number, latex_name, markdown_escape
from .trace_views import _TraceViews, _index_of, _num, local_symbol, local_symbol_latex


@dataclass(frozen=True)
class TangentTerm:
    """One term ``local · tangent(operand)`` of a forward-mode (dual number) step."""

    parent_name: str
    local_formula: str
    local: Any
    tangent: Any
    product: Any
    index: int = 0
    """The operand slot (0 or 1): the local derivative is that slot's, ∂(x * x)/∂(1st operand)."""


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
                operands = step.formula.partition(" = ")[2]
                sym = " + ".join(f"{local_symbol(operands, t.index)}·d{t.parent_name}"
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
                    operands = s.formula_latex.partition(" = ")[2]
                    sym = " + ".join(rf"{local_symbol_latex(operands, t.index)}\,"
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
