"""Forward mode and reverse mode side by side on one graph.

Forward mode (dual numbers) carries ``∂node/∂x`` from one input ``x`` up to the output: one
pass gives the derivative of every node with respect to that one input. Reverse mode
(backward) carries ``∂output/∂node`` down from the output: one pass gives the derivative of
the output with respect to every node. :func:`compare_modes` puts both steppers on one page,
over the same layout, with the number of passes each needs for the full gradient.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from .stepper import save_text, stepper_fragment
from .trace import BackwardTrace, ForwardTrace, trace_backward, trace_forward


class ModeComparison:
    """The two traces of one graph (:attr:`forward` with dual numbers, :attr:`backward`),
    the derivative each gives for ``wrt``, and their pass counts."""

    def __init__(self, forward: ForwardTrace, backward: BackwardTrace, wrt: Any,
                 inputs: list[Any]) -> None:
        self.forward, self.backward, self.wrt, self.inputs = forward, backward, wrt, inputs
        self.forward_derivative = forward.tangents[forward.root]
        self.reverse_derivative = wrt.grad

    @property
    def forward_passes(self) -> int:
        """Passes forward mode needs for the whole gradient: one per input."""
        return len(self.inputs)

    @property
    def reverse_passes(self) -> int:
        """Passes reverse mode needs for the whole gradient: one per output (here 1)."""
        return 1

    def _body(self) -> str:
        name = escape(self.forward.names[self.wrt])
        out = escape(self.forward.names[self.forward.root])
        summary = (
            f"<p>∂{out}/∂{name}: forward mode gives <b>{self.forward_derivative:.6g}</b>, reverse "
            f"mode gives <b>{self.reverse_derivative:.6g}</b>. For the gradient with respect to "
            f"all {len(self.inputs)} inputs, forward mode needs {self.forward_passes} passes "
            f"(one per input), reverse mode {self.reverse_passes}.</p>")
        column = ('<div style="flex:1 1 480px;min-width:0;overflow-x:auto"><h4>{title}</h4>{fragment}</div>')
        return (summary + '<div style="display:flex;gap:1.5em;flex-wrap:wrap">'
                + column.format(title=escape(self.forward.title),
                                fragment=stepper_fragment(self.forward.graph.svg(), self.forward._steps()))
                + column.format(title=escape(self.backward.title),
                                fragment=stepper_fragment(self.backward.graph.svg(), self.backward._steps()))
                + "</div>")

    def to_html(self) -> str:
        """One self-contained page (no network) with both steppers and the summary."""
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
                "<title>forward vs reverse mode</title>\n</head>\n"
                "<body style=\"font-family:Helvetica,Arial,sans-serif\">\n"
                "<h3>forward mode vs reverse mode</h3>\n" + self._body() + "\n</body>\n</html>\n")

    def save_html(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path``."""
        return save_text(path, self.to_html())

    def _repr_html_(self) -> str:
        return self._body()


def compare_modes(root: Any, wrt: Any, **drawing: Any) -> ModeComparison:
    """Trace ``root``'s graph in forward mode seeded at the leaf ``wrt`` (dual numbers) and in
    reverse mode (backward), on the same layout. After it, every leaf's ``.grad`` is what
    ``root.backward()`` gives; the forward tangent of ``root`` equals ``wrt.grad``.

    ``drawing`` takes the options of :func:`viz.draw_graph` (``rankdir``, ``show_local``, ...).
    """
    if getattr(wrt, "op", True) is not None or not getattr(wrt, "requires_grad", False):
        raise ValueError("wrt must be a leaf of the graph that requires grad (an input or parameter)")
    forward = trace_forward(root, wrt=wrt, **drawing)      # refuses a wrt outside the graph
    inputs = [s.node for s in forward.steps if s.kind == "leaf"]
    backward = trace_backward(root, **drawing)
    return ModeComparison(forward, backward, wrt, inputs)
