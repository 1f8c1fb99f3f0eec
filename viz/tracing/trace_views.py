"""What every trace shows, from its recorded steps: text, frames (one SVG per step on one
layout) and the HTML stepper, shared by the backward, forward and collapsed traces; and the
names and formulas they write.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..drawing.graph import Graph, node_names
from ..browser.stepper import (PAGE_HINT, TARGET_WORDS, Stepper, Steps, display_outputs,
                               fallback_html, new_id, notebook_outputs, page_html, render_frames,
                               save_text)
from ..drawing.style import NumberFormat, format_number, in_formula, latex_name, latex_partial


def _num(x: Any, fmt: NumberFormat, paren: bool = False) -> str:
    text = format_number(x, fmt)
    return f"({text})" if paren and text.startswith("-") else text


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
        """The trace as a :class:`viz.browser.stepper.Stepper`: the steps, as text too, on the layout
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
        :func:`viz.browser.stepper.notebook_outputs`): the last step as PNG (SVG where no PNG
        can be made), the steps as text with how to get the stepper, and the stepper itself as
        a JavaScript output."""
        stepper, uid = self.stepper(), new_id()
        return notebook_outputs([stepper], stepper.fragment(uid, static=False, script=False),
                                fallback_html([stepper]), uid)

    def _ipython_display_(self) -> None:
        display_outputs(self.notebook_outputs())

    def _repr_html_(self) -> str:
        return self.stepper().fragment()


def _names_for(order: Sequence[Any], fmt: NumberFormat) -> dict[Any, str]:
    return node_names(order, fmt)


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


def _d(num: str, den: str) -> str:
    """The total ``∂num/∂den``: the complete derivative of the output ``num`` with respect to a
    node (the only meaning this symbol has in a trace)."""
    return f"∂{in_formula(num)}/∂{in_formula(den)}"


def _index_of(vid: str | None, oid: str | None) -> int | None:
    if oid and oid.startswith("o"):
        return int(oid[1:])
    return None


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
